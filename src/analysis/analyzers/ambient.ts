/**
 * Configuration that has no effect on ambient workloads (pods without a sidecar, whose traffic ztunnel carries at
 * layer 4 and, for services that use one, a waypoint at layer 7). Istio 1.30.3 reports a Sidecar there (IST0167,
 * sidecar.ts); it has no codes for the rest, so these are cdk8s-mesh's own:
 *
 * - MESH005: `sidecar.istio.io/*` annotations on an ambient pod (no sidecar reads them);
 * - MESH006: an EnvoyFilter whose workloadSelector selects only ambient workloads (no Envoy runs in their pods: a
 *   waypoint is configured through `targetRefs`);
 * - MESH007: an AuthorizationPolicy that selects ambient workloads (`selector`, enforced by ztunnel, layer 4 only)
 *   with HTTP fields: an ALLOW rule with them never matches, a DENY rule denies more than written.
 *
 * Ambient as Istio 1.30.3 decides it (pkg/config/analysis/analyzers/util/in_mesh.go, istio.io/dataplane-mode): a pod
 * labelled `istio.io/dataplane-mode: ambient`, or annotated `ambient.istio.io/redirection: enabled`, or in a
 * Namespace labelled ambient without an injection label; never a pod with an `istio-proxy` container or labelled
 * `istio.io/dataplane-mode: none`. A workload uses a waypoint when it, a Service selecting it, or its Namespace
 * carries `istio.io/use-waypoint` (other than `none`). @internal
 */
import { httpFieldsOf } from '../authz-fields';
import { arr, Entry, Model, stringMap, Workload } from '../model';

const DATAPLANE_MODE = 'istio.io/dataplane-mode';
const REDIRECTION = 'ambient.istio.io/redirection';
const USE_WAYPOINT = 'istio.io/use-waypoint';
const SIDECAR_ANNOTATION_PREFIX = 'sidecar.istio.io/';
/** Opting a pod out of injection is harmless (and common) in ambient namespaces. */
const HARMLESS_SIDECAR_ANNOTATIONS = new Set(['sidecar.istio.io/inject']);

function namespaceLabels(m: Model, ns: string): Record<string, string> {
  return stringMap(m.get('Namespace', undefined, ns)?.obj.metadata?.labels);
}

/** Whether a workload runs in ambient mode (Istio 1.30.3's rules, see above). */
export function isAmbientWorkload(m: Model, w: Workload): boolean {
  if (arr(w.podSpec?.containers).some((c: any) => c?.name === 'istio-proxy')) return false;
  const mode = w.labels[DATAPLANE_MODE];
  if (mode === 'none') return false;
  if (mode === 'ambient' || stringMap(w.podMetadata?.annotations)[REDIRECTION] === 'enabled') return true;
  const ns = namespaceLabels(m, w.ns);
  if (ns['istio-injection'] === 'enabled' || ns['istio.io/rev']) return false;
  return ns[DATAPLANE_MODE] === 'ambient';
}

/** The waypoint a workload's traffic goes through (pod, Service or Namespace label), if any. */
function waypointOf(m: Model, w: Workload): string | undefined {
  const named = (v: string | undefined) => (v && v !== 'none' ? v : undefined);
  const own = named(w.labels[USE_WAYPOINT]);
  if (own) return own;
  for (const s of m.servicesSelecting(w)) {
    const v = named(stringMap(s.obj.metadata?.labels)[USE_WAYPOINT]);
    if (v) return v;
  }
  return named(namespaceLabels(m, w.ns)[USE_WAYPOINT]);
}

function targeted(e: Entry): boolean {
  return Boolean(e.obj.spec?.targetRef) || arr(e.obj.spec?.targetRefs).length > 0;
}

/** MESH005: sidecar annotations on ambient pods. */
function checkSidecarAnnotations(m: Model): void {
  for (const w of m.workloads) {
    const keys = Object.keys(stringMap(w.podMetadata?.annotations))
      .filter(k => k.startsWith(SIDECAR_ANNOTATION_PREFIX) && !HARMLESS_SIDECAR_ANNOTATIONS.has(k)).sort();
    if (keys.length === 0 || !isAmbientWorkload(m, w)) continue;
    m.report('MESH005', w.entry, `${w.isPod ? 'Pod' : 'The pods of'} ${w.entry.kind} ${w.entry.name} run in ambient mode (no sidecar), so their annotations ${keys.join(', ')} have no effect. Remove them; configure ztunnel or the waypoint instead.`);
  }
}

/** MESH006: EnvoyFilters that select only ambient workloads. */
function checkEnvoyFilters(m: Model): void {
  for (const ef of m.ofKind('EnvoyFilter')) {
    if (targeted(ef)) continue;
    const sel = stringMap(ef.obj.spec?.workloadSelector?.labels);
    if (Object.keys(sel).length === 0) continue; // namespace- or mesh-wide: it still configures gateways and waypoints
    const selected = m.select(ef.ns, sel);
    if (selected.length === 0 || !selected.every(w => isAmbientWorkload(m, w))) continue;
    const names = selected.map(w => w.entry.name).sort().join(', ');
    const waypoints = [...new Set(selected.map(w => waypointOf(m, w)).filter((x): x is string => x !== undefined))].sort();
    const fix = waypoints.length
      ? `Their layer-7 traffic goes through waypoint ${waypoints.join(', ')}: target it with targetRefs instead of a workload selector.`
      : 'No waypoint serves them either: give them one (istio.io/use-waypoint) and target it with targetRefs.';
    m.report('MESH006', ef, `EnvoyFilter ${ef.name} selects only ambient workloads (${names}), whose pods run no Envoy proxy, so it has no effect. ${fix}`);
  }
}

/** MESH007: layer-7 AuthorizationPolicy rules on ambient workloads (enforced by ztunnel, layer 4 only). */
function checkLayer7Policies(m: Model): void {
  for (const ap of m.ofKind('AuthorizationPolicy')) {
    if (targeted(ap)) continue;
    const sel = stringMap(ap.obj.spec?.selector?.matchLabels);
    if (Object.keys(sel).length === 0 && ap.ns === m.rootNamespace) continue; // mesh-wide: too broad to judge
    const ambient = m.select(ap.ns, sel).filter(w => isAmbientWorkload(m, w));
    if (ambient.length === 0) continue;
    const names = ambient.map(w => w.entry.name).sort().join(', ');
    const waypoints = [...new Set(ambient.map(w => waypointOf(m, w)).filter((x): x is string => x !== undefined))].sort();
    const action = ap.obj.spec?.action ?? 'ALLOW';
    const effect = action === 'DENY' ? 'ztunnel drops the HTTP conditions, so the rule denies more than written'
      : 'ztunnel cannot match them, so the rule never allows anything';
    const fix = waypoints.length
      ? `Attach the HTTP rules to waypoint ${waypoints.join(', ')} (targetRefs to the Service or the Gateway) and keep layer-4 rules on the pods.`
      : 'No waypoint serves them: give them one (istio.io/use-waypoint) and attach the HTTP rules to it with targetRefs.';
    arr(ap.obj.spec?.rules).forEach((rule: any, i: number) => {
      const fields = httpFieldsOf(rule);
      if (fields.length === 0) return;
      m.report('MESH007', ap, `Rule #${i} uses HTTP fields (${fields.join(', ')}) but selects ambient workloads (${names}), where ztunnel enforces it at layer 4: ${effect}. ${fix}`);
    });
  }
}

export function analyzeAmbient(m: Model): void {
  checkSidecarAnnotations(m);
  checkEnvoyFilters(m);
  checkLayer7Policies(m);
}
