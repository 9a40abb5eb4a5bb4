/**
 * Istio annotation checks against Istio's catalogue (assets/istio-catalogue.json, generated from istio/api 1.30.3 by
 * projenrc/istio-catalogue.ts): IST0107, IST0108, IST0125, IST0135, and IST0136 when asked for. The rules are those of
 * Istio 1.30.3's annotations.K8sAnalyzer and maturity.AlphaAnalyzer. @internal
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { packageRoot } from '../../control-plane/crds';
import { Entry, Model, stringMap } from '../model';

/** One annotation (or label) of Istio's catalogue. */
export interface CatalogueItem {
  readonly name: string;
  readonly featureStatus: string;
  readonly deprecated: boolean;
  readonly hidden: boolean;
  /** The kinds it belongs on (`Pod`, `Service`, `Namespace`, ...; `Any` for every kind). */
  readonly resources: readonly string[];
}

/** Istio's annotation and label catalogue. */
export interface IstioCatalogue {
  readonly version: string;
  readonly annotations: readonly CatalogueItem[];
  readonly labels: readonly CatalogueItem[];
}

/** Reads the generated catalogue; a clear error when the package was built without it. */
export function loadIstioCatalogue(): IstioCatalogue {
  const file = path.join(packageRoot(__dirname), 'assets', 'istio-catalogue.json');
  if (!fs.existsSync(file)) {
    throw new Error(`cdk8s-mesh: ${file} is missing; run \`npx projen istio-catalogue\` to generate Istio's annotation catalogue`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as IstioCatalogue;
}

/** Annotations Istio sets itself and never reports (Istio 1.30.3 maturity.AlwaysIgnoredAnnotations). */
const ALWAYS_IGNORED = new Set(['sidecar.istio.io/status', 'gateway.istio.io/controller-version', 'istio.io/rev']);
/** Annotations the CNI plugin sets by default on pods without istio-init: not reported as alpha. */
const CNI_DEFAULTS = new Set(['sidecar.istio.io/interceptionMode', 'traffic.sidecar.istio.io/includeInboundPorts',
  'traffic.sidecar.istio.io/excludeInboundPorts', 'traffic.sidecar.istio.io/includeOutboundIPRanges']);
const INJECT = 'sidecar.istio.io/inject';

/** Whether an annotation is in Istio's namespace: its prefix ends with `istio.io`, or `kubernetes.io/ingress.class`. */
export function isIstioAnnotation(name: string): boolean {
  return name === 'kubernetes.io/ingress.class' || name.split('/')[0].endsWith('istio.io');
}

// ---- value checks (Istio 1.30.3 pkg/kube/inject validate.go AnnotationValidation), written from its rules
const PORT = /^\d+$/;
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;
const INTERFACE = /^[a-zA-Z][a-zA-Z0-9_.-]*$/;

function port(v: string): string | undefined {
  const t = v.trim();
  return PORT.test(t) && Number(t) <= 65535 ? undefined : `failed parsing port '${v}'`;
}
function portList(v: string): string | undefined {
  const t = v.trim();
  if (!t) return undefined;
  for (const p of t.split(',')) {
    const e = port(p);
    if (e) return e;
  }
  return undefined;
}
function cidr(v: string): boolean {
  const m = /^([^/]+)\/(\d+)$/.exec(v);
  if (!m) return false;
  const bits = Number(m[2]);
  const ip = m[1];
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return bits <= 32 && ip.split('.').every(o => Number(o) <= 255 && !/^0\d/.test(o));
  return ip.includes(':') && /^[0-9a-fA-F:.]+$/.test(ip) && bits <= 128;
}
function cidrList(v: string): string | undefined {
  if (!v) return undefined;
  const bad = v.split(',').find(c => !cidr(c));
  return bad === undefined ? undefined : `failed parsing cidr '${bad}'`;
}
function interfaces(v: string): string | undefined {
  if (!v) return undefined;
  for (const raw of v.split(',')) {
    const i = raw.trim();
    if (!i) return 'empty interface name';
    if (i.length > 15) return `interface name "${i}" too long (max 15 chars)`;
    if (!INTERFACE.test(i)) return `interface name "${i}" contains invalid characters`;
  }
  return undefined;
}
const uint32 = (v: string) => (/^\d+$/.test(v) && Number(v) <= 4294967295 ? undefined : `'${v}' is not an unsigned 32-bit integer`);
const bool = (v: string) => (['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v) ? undefined : `'${v}' is not a boolean`);
const quantity = (v: string) => (QUANTITY.test(v) ? undefined : `'${v}' is not a resource quantity`);

const VALIDATORS: Record<string, (v: string) => string | undefined> = {
  'sidecar.istio.io/interceptionMode': v => (['REDIRECT', 'TPROXY', 'NONE'].includes(v) ? undefined : `interceptionMode invalid, use REDIRECT,TPROXY,NONE: ${v}`),
  'status.sidecar.istio.io/port': port,
  'readiness.status.sidecar.istio.io/initialDelaySeconds': uint32,
  'readiness.status.sidecar.istio.io/periodSeconds': uint32,
  'readiness.status.sidecar.istio.io/failureThreshold': uint32,
  'traffic.sidecar.istio.io/includeOutboundIPRanges': v => (v === '*' ? undefined : cidrList(v)),
  'traffic.sidecar.istio.io/excludeOutboundIPRanges': cidrList,
  'traffic.sidecar.istio.io/includeInboundPorts': v => (v === '*' ? undefined : portList(v)),
  'traffic.sidecar.istio.io/excludeInboundPorts': portList,
  'traffic.sidecar.istio.io/excludeOutboundPorts': portList,
  'traffic.sidecar.istio.io/excludeInterfaces': interfaces,
  'traffic.sidecar.istio.io/kubevirtInterfaces': interfaces,
  'istio.io/reroute-virtual-interfaces': interfaces,
  'prometheus.istio.io/merge-metrics': bool,
  'proxy.istio.io/config': v => {
    try {
      const parsed = YAML.parse(v);
      return parsed === null || parsed === undefined || (typeof parsed === 'object' && !Array.isArray(parsed)) ? undefined : 'not a ProxyConfig mapping';
    } catch (e: any) {
      return `failed to parse proxy config: ${String(e?.message ?? e).split('\n')[0]}`;
    }
  },
  'sidecar.istio.io/proxyCPU': quantity,
  'sidecar.istio.io/proxyMemory': quantity,
  'sidecar.istio.io/proxyCPULimit': quantity,
  'sidecar.istio.io/proxyMemoryLimit': quantity,
};

/** The annotations of an object checked as `kind` (what Istio checks: Namespace, Service, Pod, Deployment). */
interface Target { readonly entry: Entry; readonly kind: string; readonly where: string; readonly metadata: any; readonly podSpec?: any }

function targets(m: Model): Target[] {
  const out: Target[] = [];
  for (const kind of ['Namespace', 'Service', 'Pod', 'Deployment']) {
    for (const e of m.ofKind(kind)) out.push({ entry: e, kind, where: '', metadata: e.obj.metadata, podSpec: kind === 'Pod' ? e.obj.spec : undefined });
  }
  // Beyond Istio (which sees pod templates only once pods exist): workload pod templates are checked as Pods.
  for (const w of m.workloads) {
    if (w.isPod) continue;
    out.push({ entry: w.entry, kind: 'Pod', where: ' (pod template)', metadata: w.podMetadata, podSpec: w.podSpec });
  }
  return out;
}

export function analyzeAnnotations(m: Model, options: { alpha?: boolean } = {}): void {
  const annotationsOf = (t: Target) => stringMap(t.metadata?.annotations);
  const all = targets(m).filter(t => Object.keys(annotationsOf(t)).some(isIstioAnnotation));
  if (all.length === 0) return; // no Istio annotation: the catalogue is not even read
  const catalogue = loadIstioCatalogue();
  const byName = new Map(catalogue.annotations.map(a => [a.name, a]));
  for (const t of all) {
    const annotations = annotationsOf(t);
    const labels = stringMap(t.metadata?.labels);
    for (const name of Object.keys(annotations).sort()) {
      if (!isIstioAnnotation(name) || ALWAYS_IGNORED.has(name)) continue;
      const def = byName.get(name);
      if (!def) {
        m.report('IST0108', t.entry, `Unknown annotation: ${name}${t.where}. It is not in Istio ${catalogue.version}'s annotation catalogue: check the spelling, or remove it.`);
        continue;
      }
      if (options.alpha && def.featureStatus === 'Alpha') {
        const cniDefault = t.kind === 'Pod' && CNI_DEFAULTS.has(name) && !((t.podSpec?.initContainers ?? []) as any[]).some(c => c?.name === 'istio-init');
        if (!cniDefault) m.report('IST0136', t.entry, `${name}${t.where} is an alpha annotation of Istio ${catalogue.version}: it may change or go away in a later release.`);
      }
      if (def.deprecated && !(name === INJECT && labels[INJECT] !== undefined)) {
        const extra = name === INJECT ? ' in favor of the "sidecar.istio.io/inject" label' : '';
        m.report('IST0135', t.entry, `The annotation ${name}${t.where} is deprecated${extra} and may not work in future Istio versions.`);
      }
      if (def.resources.includes('Any')) continue;
      if (!def.resources.includes(t.kind)) {
        m.report('IST0107', t.entry, `Misplaced annotation: ${name}${t.where} can only be applied to ${def.resources.join(', ')}, not to a ${t.kind}. Move it there.`);
        continue;
      }
      const problem = VALIDATORS[name]?.(annotations[name]);
      if (problem) {
        m.report('IST0125', t.entry, `Invalid annotation ${name}${t.where}: ${problem}.`);
      }
    }
  }
}
