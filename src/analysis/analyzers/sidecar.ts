/**
 * Sidecar and Telemetry selector checks: IST0101 (selector), IST0110, IST0111 for Sidecars; IST0101, IST0159,
 * IST0160 for Telemetries. The two follow the same rule: at most one selector-less resource per namespace, and no
 * workload selected by two. @internal
 */
import * as YAML from 'yaml';
import { arr, Entry, Model, stringMap, Workload } from '../model';

interface Codes {
  readonly conflicting: string;
  readonly multipleDefault: string;
  readonly selectorOf: (e: Entry) => Record<string, string>;
  readonly targeted: (e: Entry) => boolean;
  /** Namespaces where selector-less resources are not compared (Sidecars in ambient namespaces: IST0167 instead). */
  readonly skipDefaults?: (ns: string) => boolean;
}

function checkSelectors(m: Model, kind: string, codes: Codes): void {
  const defaults = new Map<string, Entry[]>();
  const selecting = new Map<Workload, Entry[]>();
  for (const r of m.ofKind(kind)) {
    if (codes.targeted(r)) continue;
    const sel = codes.selectorOf(r);
    if (Object.keys(sel).length === 0) {
      const l = defaults.get(r.ns!) ?? [];
      l.push(r);
      defaults.set(r.ns!, l);
      continue;
    }
    const selected = m.select(r.ns, sel);
    if (selected.length === 0) {
      m.report('IST0101', r, `Referenced selector not found: "${Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',')}". No workload in namespace ${r.ns} carries these labels; fix the selector.`);
    }
    for (const w of selected) {
      const l = selecting.get(w) ?? [];
      l.push(r);
      selecting.set(w, l);
    }
  }
  for (const [ns, list] of defaults) {
    if (list.length < 2 || codes.skipDefaults?.(ns)) continue;
    for (const r of list) {
      m.report(codes.multipleDefault, r, `The ${kind}s ${list.filter(o => o !== r).map(o => o.name).join(', ')} in namespace ${ns} have no workload selector either; only one ${kind} without selector per namespace takes effect. Merge them.`);
    }
  }
  const reported = new Set<string>();
  for (const [w, list] of selecting) {
    if (list.length < 2) continue;
    for (const r of list) {
      const others = list.filter(o => o !== r).map(o => o.name).sort().join(', ');
      const k = `${r.ns}/${r.name}\0${others}`;
      if (reported.has(k)) continue;
      reported.add(k);
      m.report(codes.conflicting, r, `The ${kind}s ${others} in namespace ${r.ns} also select workload ${w.entry.kind} ${w.entry.name}; which one applies is undefined. Make the selectors disjoint.`);
    }
  }
}

/** A Namespace of the input in ambient mode (Istio 1.30.3 util.NamespaceInAmbientMode). */
function ambientNamespace(m: Model, ns: string): boolean {
  const labels = stringMap(m.get('Namespace', undefined, ns)?.obj.metadata?.labels);
  if (labels['istio-injection'] === 'enabled' || labels['istio.io/rev']) return false;
  return labels['istio.io/dataplane-mode'] === 'ambient';
}

/**
 * IST0167: a Sidecar has no effect on ambient workloads (no sidecar): selector-less in an ambient namespace, or
 * selecting a pod redirected by ambient (`ambient.istio.io/redirection: enabled`), as Istio 1.30.3 sidecar.SelectorAnalyzer.
 */
function checkAmbient(m: Model): void {
  for (const sc of m.ofKind('Sidecar')) {
    const sel = stringMap(sc.obj.spec?.workloadSelector?.labels);
    if (Object.keys(sel).length === 0) {
      if (ambientNamespace(m, sc.ns!)) m.report('IST0167', sc, `Ineffective policy: namespace ${sc.ns} is in ambient mode, the policy has no impact. Configure the waypoint or ztunnel instead.`);
      continue;
    }
    const ambientPod = m.select(sc.ns, sel).find(w => w.isPod && stringMap(w.podMetadata.annotations)['ambient.istio.io/redirection'] === 'enabled');
    if (ambientPod) m.report('IST0167', sc, `Ineffective policy: selected workload ${ambientPod.entry.name} is in ambient mode, the policy has no impact.`);
  }
}

export function analyzeSidecars(m: Model): void {
  checkAmbient(m);
  checkSelectors(m, 'Sidecar', {
    skipDefaults: ns => ambientNamespace(m, ns),
    conflicting: 'IST0110',
    multipleDefault: 'IST0111',
    selectorOf: e => stringMap(e.obj.spec?.workloadSelector?.labels),
    targeted: () => false,
  });
}

export function analyzeTelemetries(m: Model): void {
  checkSelectors(m, 'Telemetry', {
    conflicting: 'IST0159',
    multipleDefault: 'IST0160',
    selectorOf: e => stringMap(e.obj.spec?.selector?.matchLabels),
    targeted: e => Boolean(e.obj.spec?.targetRef) || arr(e.obj.spec?.targetRefs).length > 0,
  });
  // IST0157: an entry without providers uses the mesh's defaultProviders; when there are none it is ignored.
  const defaults = defaultProviders(m);
  for (const t of m.ofKind('Telemetry')) {
    for (const section of ['tracing', 'metrics', 'accessLogging']) {
      arr(t.obj.spec?.[section]).forEach((entry: any, i: number) => {
        if (arr(entry?.providers).length > 0 || entry?.disabled === true) return;
        if (arr(defaults[section]).length > 0) return;
        m.report('IST0157', t, `Telemetry ${section}[${i}] names no providers and the mesh config has no defaultProviders.${section}, so it is ignored. Name a provider (e.g. an extensionProvider of the mesh config) or set defaultProviders.`);
      });
    }
  }
}

/**
 * meshConfig.defaultProviders: from the `istio` ConfigMap in the root namespace when the input has it, else Istio's
 * default (metrics: prometheus; no tracing or access log provider).
 */
function defaultProviders(m: Model): Record<string, any> {
  const cm = m.get('ConfigMap', m.rootNamespace, 'istio');
  const fallback = { metrics: ['prometheus'] };
  if (!cm || typeof cm.obj.data?.mesh !== 'string') return fallback;
  try {
    const mesh = YAML.parse(cm.obj.data.mesh);
    return { ...fallback, ...(mesh?.defaultProviders ?? {}) };
  } catch {
    return fallback;
  }
}
