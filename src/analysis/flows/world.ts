/**
 * The flow analysis' view of the input, built once in linear time: pods (workload templates) with their identity
 * and whether they are meshed, namespace labels, the mesh config, and the policies indexed by namespace and label.
 * @internal
 */
import * as YAML from 'yaml';
import { CLUSTER_DOMAIN, DEFAULT_TRUST_DOMAIN, IstioAnnotations, IstioLabels, IstioPorts } from '../../mesh/constants';
import { arr, Entry, Model, stringMap, text } from '../model';
import { labelsSelector, parseLabelSelector, Selector, SelectorIndex } from './selectors';
import { FlowAnalysisOptions } from './types';

/** The container name of Istio's proxy (injection template). */
export const PROXY_CONTAINER = 'istio-proxy';
/** The pod label Istio puts on the pods of a Gateway API gateway it deploys. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
/** Policies with this annotation set to "true" are evaluated but not enforced (Istio 1.30.3). */
export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';
/** The label every namespace carries (Kubernetes 1.22+). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** Kinds of the Gateway API routes and their group. */
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

/** A pod (or the pods of one workload template). */
export interface Pod {
  readonly entry: Entry;
  readonly ns: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  /** Has a proxy: injected at synth time (istio-proxy container) or by the webhook (namespace label). */
  readonly meshed: boolean;
  /** An Istio gateway (the proxy is the workload): not scoped by Sidecars. */
  readonly gateway: boolean;
  /** The control plane revision ('' for the default one). */
  readonly revision: string;
  /** Named container ports. */
  readonly namedPorts: ReadonlyMap<string, number>;
  /** The istio-proxy container's CA_ADDR, when injected at synth time. */
  readonly caAddress?: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** No proxy, in the ambient mesh (`istio.io/dataplane-mode: ambient` on the pod or its namespace): ztunnel carries it. */
  readonly ambient?: boolean;
  /** Its injected proxy speaks HBONE (ISTIO_META_ENABLE_HBONE=true): it can reach ambient pods and waypoints. */
  readonly hbone?: boolean;
}

/** A NetworkPolicy, parsed. */
export interface NetPol {
  readonly entry: Entry;
  readonly ingress: boolean;
  readonly egress: boolean;
}

/** A selector-scoped Istio policy (AuthorizationPolicy, PeerAuthentication, Sidecar). */
export interface Scoped {
  readonly entry: Entry;
  readonly selector: Selector;
}

/** A telemetry extension provider of the mesh config. */
export interface Provider {
  readonly name: string;
  readonly type: string;
  readonly host: string;
  readonly port: number;
}

/** The parts of the mesh config the flows need. */
export interface MeshConfig {
  readonly entry?: Entry;
  readonly trustDomain: string;
  readonly outboundPolicy: string;
  readonly providers: readonly Provider[];
}

/** extensionProviders entries that are telemetry sinks with a service and port (Istio 1.30 MeshConfig). */
const TELEMETRY_PROVIDERS = ['zipkin', 'lightstep', 'datadog', 'skywalking', 'opencensus', 'opentelemetry', 'envoyOtelAls', 'envoyHttpAls', 'envoyTcpAls'];

export class World {
  public readonly pods: Pod[] = [];
  public readonly podsByEntry = new Map<Entry, Pod[]>();
  public readonly nsLabels = new Map<string, Record<string, string>>();
  public readonly netpols = new SelectorIndex<NetPol>();
  public readonly authz = new SelectorIndex<Scoped>();
  /** AuthorizationPolicies with targetRefs (Gateway kinds), by namespace. */
  public readonly authzTargeted = new Map<string, Scoped[]>();
  public readonly peerAuth = new SelectorIndex<Scoped>();
  public readonly peerAuthDefault = new Map<string, Entry>();
  public readonly sidecars = new SelectorIndex<Scoped>();
  public readonly sidecarDefault = new Map<string, Entry>();
  public readonly meshConfigs = new Map<string, MeshConfig>();
  public readonly trustDomain: string;
  public readonly scraperNamespace: string;
  public readonly scraperLabels?: Readonly<Record<string, string>>;
  public readonly scrapeAnnotatedPods: boolean;

  constructor(public readonly m: Model, options: FlowAnalysisOptions) {
    for (const n of m.ofKind('Namespace')) this.nsLabels.set(n.name, { ...stringMap(n.obj.metadata?.labels), [NAMESPACE_NAME_LABEL]: n.name });
    for (const w of m.workloads) this.addPod(w.entry, w.podMetadata, w.podSpec, w.labels);
    for (const r of m.ofKind('Rollout')) {
      // Argo Rollouts: spec.workloadRef borrows a Deployment's (or ReplicaSet's) pod template
      const ref = r.obj.spec?.workloadRef;
      if (!ref || r.obj.spec?.template || !r.ns) continue;
      const target = m.get(text(ref.kind ?? 'Deployment'), r.ns, text(ref.name));
      const t = target?.obj.spec?.template;
      if (t && typeof t === 'object') this.addPod(r, t.metadata ?? {}, t.spec ?? {}, stringMap(t.metadata?.labels));
    }
    for (const np of m.ofKind('NetworkPolicy')) {
      const spec = np.obj.spec ?? {};
      const types = arr(spec.policyTypes).map(text);
      const explicit = types.length > 0;
      // without policyTypes, Kubernetes defaults to Ingress, plus Egress when the policy has egress rules
      // (pkg/apis/networking/v1 SetDefaults_NetworkPolicy: len(Spec.Egress) != 0; `egress: []` has none)
      this.netpols.add(np.ns!, parseLabelSelector(spec.podSelector), {
        entry: np,
        ingress: explicit ? types.includes('Ingress') : true,
        egress: explicit ? types.includes('Egress') : arr(spec.egress).length > 0,
      });
    }
    for (const ap of m.ofKind('AuthorizationPolicy')) {
      if (text(ap.obj.metadata?.annotations?.[DRY_RUN_ANNOTATION]).toLowerCase() === 'true') continue;
      const spec = ap.obj.spec ?? {};
      const targets = [...arr(spec.targetRefs), ...(spec.targetRef ? [spec.targetRef] : [])];
      const scoped = { entry: ap, selector: labelsSelector(spec.selector?.matchLabels) };
      if (targets.length) {
        const l = this.authzTargeted.get(ap.ns!) ?? [];
        l.push(scoped);
        this.authzTargeted.set(ap.ns!, l);
      } else {
        this.authz.add(ap.ns!, scoped.selector, scoped);
      }
    }
    for (const pa of m.ofKind('PeerAuthentication')) {
      const sel = labelsSelector(pa.obj.spec?.selector?.matchLabels);
      if (Object.keys(sel.labels).length === 0) {
        if (!this.peerAuthDefault.has(pa.ns!)) this.peerAuthDefault.set(pa.ns!, pa);
      } else {
        this.peerAuth.add(pa.ns!, sel, { entry: pa, selector: sel });
      }
    }
    for (const sc of m.ofKind('Sidecar')) {
      const sel = labelsSelector(sc.obj.spec?.workloadSelector?.labels);
      if (Object.keys(sel.labels).length === 0) {
        if (!this.sidecarDefault.has(sc.ns!)) this.sidecarDefault.set(sc.ns!, sc);
      } else {
        this.sidecars.add(sc.ns!, sel, { entry: sc, selector: sel });
      }
    }
    for (const cm of m.ofKind('ConfigMap')) {
      if (cm.ns !== m.rootNamespace || !(cm.name === 'istio' || cm.name.startsWith('istio-'))) continue;
      const parsed = parseMeshConfig(cm, options.trustDomain);
      if (parsed) this.meshConfigs.set(cm.name === 'istio' ? '' : cm.name.slice('istio-'.length), parsed);
    }
    this.trustDomain = options.trustDomain ?? this.meshConfigs.get('')?.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    this.scraperNamespace = options.scraperNamespace ?? 'monitoring';
    this.scrapeAnnotatedPods = options.scrapeAnnotatedPods === true;
    this.scraperLabels = options.scraperLabels;
  }

  private addPod(entry: Entry, meta: any, spec: any, labels: Record<string, string>): void {
    const ns = entry.ns!;
    const containers = arr(spec?.containers);
    const inits = arr(spec?.initContainers);
    // ztunnel's container is also named istio-proxy (Istio 1.30.3 ztunnel chart, args `proxy ztunnel`): a node
    // agent, not an Envoy in front of a workload
    const ztunnel = (c: any) => arr(c?.args).map(text).includes('ztunnel');
    const proxy = containers.find((c: any) => c?.name === PROXY_CONTAINER && !ztunnel(c))
      ?? inits.find((c: any) => c?.name === PROXY_CONTAINER && c?.restartPolicy === 'Always');
    const annotations = stringMap(meta?.annotations);
    const nsl = this.namespaceLabels(ns);
    const injectFlag = labels[IstioLabels.INJECT] ?? annotations[IstioAnnotations.INJECT];
    let meshed = proxy !== undefined;
    if (!meshed && injectFlag !== 'false') {
      meshed = nsl[IstioLabels.INJECTION] === 'enabled' || (nsl[IstioLabels.REV] !== undefined && nsl[IstioLabels.INJECTION] !== 'disabled')
        || injectFlag === 'true' || labels[IstioLabels.REV] !== undefined;
    }
    const args = arr(proxy?.args).map(text);
    const templates = annotations[IstioAnnotations.TEMPLATES] ?? '';
    const gateway = meshed && (args.includes('router') || templates.split(',').includes('gateway') || labels[GATEWAY_NAME_LABEL] !== undefined);
    const namedPorts = new Map<string, number>();
    for (const c of [...inits, ...containers]) {
      for (const p of arr(c?.ports)) if (typeof p?.name === 'string' && typeof p?.containerPort === 'number') namedPorts.set(p.name, p.containerPort);
    }
    const caEnv = arr(proxy?.env).find((e: any) => e?.name === 'CA_ADDR' && typeof e?.value === 'string');
    const rev = labels[IstioLabels.REV] ?? annotations[IstioLabels.REV] ?? nsl[IstioLabels.REV] ?? '';
    // ambient (Istio 1.30.3): a pod without a proxy whose label, else its namespace's, says dataplane-mode ambient
    const ambient = !meshed && (labels[IstioLabels.DATAPLANE_MODE] ?? nsl[IstioLabels.DATAPLANE_MODE]) === 'ambient';
    const hbone = arr(proxy?.env).some((e: any) => e?.name === 'ISTIO_META_ENABLE_HBONE' && text(e?.value) === 'true');
    const pod: Pod = {
      entry,
      ns,
      name: entry.name,
      labels,
      meshed,
      gateway,
      namedPorts,
      annotations,
      serviceAccount: text(spec?.serviceAccountName || spec?.serviceAccount || 'default'),
      revision: rev === 'default' ? '' : rev,
      ...(caEnv ? { caAddress: caEnv.value } : {}),
      ...(ambient ? { ambient } : {}),
      ...(hbone ? { hbone } : {}),
    };
    this.pods.push(pod);
    const l = this.podsByEntry.get(entry) ?? [];
    l.push(pod);
    this.podsByEntry.set(entry, l);
  }

  /** A namespace's labels (with the implicit `kubernetes.io/metadata.name`). */
  public namespaceLabels(ns: string): Record<string, string> {
    let l = this.nsLabels.get(ns);
    if (!l) this.nsLabels.set(ns, l = { [NAMESPACE_NAME_LABEL]: ns });
    return l;
  }

  /** The mesh config of a revision (falls back to the default one). */
  public meshConfig(revision: string): MeshConfig {
    return this.meshConfigs.get(revision) ?? this.meshConfigs.get('') ?? { trustDomain: this.trustDomain, outboundPolicy: 'ALLOW_ANY', providers: [] };
  }

  public principal(ns: string, sa: string): string {
    return `${this.trustDomain}/ns/${ns}/sa/${sa}`;
  }

  /** The istiod Service of a revision, in the root namespace. */
  public istiodService(revision: string): Entry | undefined {
    const root = this.m.rootNamespace;
    return (revision ? this.m.get('Service', root, `istiod-${revision}`) : undefined) ?? this.m.get('Service', root, 'istiod');
  }

  /** The Pods behind a Service (its selector's workloads). */
  public podsOf(svc: Entry): Pod[] {
    return this.m.workloadsOf(svc).flatMap(w => this.podsByEntry.get(w.entry) ?? []).filter(p => selectorOk(svc, p));
  }
}

function selectorOk(svc: Entry, p: Pod): boolean {
  return Object.entries(stringMap(svc.obj.spec?.selector)).every(([k, v]) => p.labels[k] === v);
}

function parseMeshConfig(cm: Entry, trustDomain: string | undefined): MeshConfig | undefined {
  const raw = cm.obj.data?.mesh;
  if (typeof raw !== 'string') return undefined;
  let mesh: any;
  try {
    mesh = YAML.parse(raw);
  } catch {
    return undefined;
  }
  if (mesh === null || typeof mesh !== 'object') mesh = {};
  const providers: Provider[] = [];
  for (const p of arr(mesh.extensionProviders)) {
    for (const type of TELEMETRY_PROVIDERS) {
      const cfg = p?.[type];
      if (!cfg || typeof cfg.service !== 'string' || cfg.port === undefined) continue;
      const port = Number(cfg.port);
      if (!Number.isInteger(port)) continue;
      // "[<Namespace>/]<Hostname>" (MeshConfig.ExtensionProvider), the host taken as written: istiod looks it up by
      // exact registry host and completes no short name (Istio 1.30.3 pilot/pkg/model/telemetry_logging.go
      // LookupCluster), so `<svc>.<ns>.svc` or `<ns>/<svc>` is no Service here either
      const slash = cfg.service.indexOf('/');
      const host = slash < 0 ? cfg.service : cfg.service.slice(slash + 1);
      providers.push({ name: text(p?.name), type, host, port });
    }
  }
  return {
    entry: cm,
    trustDomain: trustDomain ?? (typeof mesh.trustDomain === 'string' ? mesh.trustDomain : DEFAULT_TRUST_DOMAIN),
    outboundPolicy: text(mesh.outboundTrafficPolicy?.mode || 'ALLOW_ANY'),
    providers,
  };
}

/**
 * A host as written in an Istio object or env var, as an FQDN: the model's resolution (short names, `name.ns` of
 * known Services), and `name.ns.svc` completed even when the Service is not in the input.
 */
export function fqdnOf(m: Model, host: string, ns: string): string {
  const h = m.resolveHost(host, ns);
  const parts = h.split('.');
  return parts.length === 3 && parts[2] === 'svc' ? m.serviceHost(parts[0], parts[1]) : h;
}

/** `name.ns.svc.<domain>` -> [name, ns], else undefined. */
export function splitServiceHost(host: string, domain: string = CLUSTER_DOMAIN): [string, string] | undefined {
  const suffix = `.svc.${domain}`;
  if (!host.endsWith(suffix)) return undefined;
  const parts = host.slice(0, -suffix.length).split('.');
  return parts.length === 2 ? [parts[0], parts[1]] : undefined;
}

export const ISTIOD_PORT = IstioPorts.XDS_TLS;

/** Pod ports the sidecar's iptables rules never redirect inbound (istio-iptables: status, health, Envoy metrics). */
const UNCAPTURED_INBOUND: ReadonlySet<number> = new Set([IstioPorts.STATUS, IstioPorts.HEALTH, IstioPorts.ENVOY_PROMETHEUS]);

function portsAnnotation(pod: Pod, key: string): string[] {
  return (pod.annotations[key] ?? '').split(',').map(x => x.trim()).filter(Boolean);
}

/** Whether inbound traffic to a pod port bypasses its proxy (then PeerAuthentication and AuthorizationPolicy do not apply). */
export function bypassesInbound(pod: Pod, port: number): boolean {
  if (UNCAPTURED_INBOUND.has(port)) return true;
  const excluded = portsAnnotation(pod, IstioAnnotations.EXCLUDE_INBOUND_PORTS);
  return excluded.includes('*') || excluded.includes(String(port));
}

/** Whether a pod's outbound traffic to a port bypasses its proxy (`excludeOutboundPorts`): plaintext, no Sidecar scope. */
export function bypassesOutbound(pod: Pod, port: number): boolean {
  return portsAnnotation(pod, IstioAnnotations.EXCLUDE_OUTBOUND_PORTS).includes(String(port));
}
