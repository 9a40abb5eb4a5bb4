/**
 * The object index the analyzers share, built once per analysis in linear time: objects by kind, by
 * kind/namespace/name, Services and ServiceEntries by host, workloads (pods and pod templates) by label.
 * @internal
 */
import { Finding, FindingLevel, FindingSource, ObjectRef } from './finding';
import { entryOf } from './registry';
import { CLUSTER_DOMAIN, DEFAULT_ROOT_NAMESPACE } from '../mesh/constants';

/** Kinds without a namespace. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'StorageClass', 'PriorityClass',
  'IngressClass', 'GatewayClass', 'APIService', 'ClusterIssuer', 'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding', 'RuntimeClass', 'CSIDriver',
]);

/** Kinds whose spec.template is a pod template. */
const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'Rollout']);

/** One input object. */
export interface Entry {
  readonly obj: any;
  readonly kind: string;
  readonly ns: string | undefined;
  readonly name: string;
  readonly ref: ObjectRef;
  readonly source?: FindingSource;
}

/**
 * Where an object is visible: `'*'` (every namespace) or the set of namespaces. Istio objects read `spec.exportTo`,
 * Services the `networking.istio.io/exportTo` annotation (comma-separated); `.` is the object's own namespace and
 * `~` no namespace at all (Istio 1.30.3, istio-api annotations.yaml and networking/v1 exportTo).
 */
export type Visibility = '*' | ReadonlySet<string>;

/** The Service annotation that limits where a Service is visible (Istio 1.30.3). */
export const EXPORT_TO_ANNOTATION = 'networking.istio.io/exportTo';

/** The visibility an object declares, from its exportTo field (or annotation for a Service). */
export function visibilityOf(obj: any, ns: string): Visibility {
  let list: string[];
  if (obj?.kind === 'Service') {
    const anno = obj?.metadata?.annotations?.[EXPORT_TO_ANNOTATION];
    list = typeof anno === 'string' ? anno.split(',').map(x => x.trim()).filter(Boolean) : [];
  } else {
    list = arr(obj?.spec?.exportTo).filter((x: any) => typeof x === 'string');
  }
  if (list.length === 0 || list.includes('*')) return '*';
  return new Set(list.filter(x => x !== '~').map(x => (x === '.' ? ns : x)));
}

/**
 * The namespaces from which a referring object (VirtualService, DestinationRule) looks its hosts up, the way
 * `istioctl analyze` 1.30.3 does (util.GetDestinationHost): its own exportTo namespaces, or its own namespace when
 * it has no exportTo; `'*'` when it is exported everywhere explicitly (only hosts visible everywhere are found).
 */
export function lookupNamespaces(obj: any, ns: string): Visibility {
  const list = arr(obj?.spec?.exportTo).filter((x: any) => typeof x === 'string');
  if (list.length === 0) return new Set([ns]);
  if (list.includes('*')) return '*';
  return new Set(list.map((x: string) => (x === '.' ? ns : x)));
}

/** Whether an object with visibility `v` is seen from one of the namespaces `from`. */
export function visibleFrom(v: Visibility, from: Visibility | undefined): boolean {
  if (v === '*' || from === undefined) return true;
  if (from === '*') return false;
  for (const n of from) if (v.has(n)) return true;
  return false;
}

/** A pod or a pod template of a workload. */
export interface Workload {
  readonly entry: Entry;
  readonly ns: string;
  readonly labels: Record<string, string>;
  readonly podSpec: any;
  readonly podMetadata: any;
  /** true for a bare Pod, false for a template. */
  readonly isPod: boolean;
}

/** Options the index needs. */
export interface ModelOptions {
  readonly defaultNamespace: string;
  readonly rootNamespace: string;
  readonly clusterDomain: string;
  readonly existing: readonly ObjectRef[];
  /** The time certificates are judged at (IST0161); the current time when undefined. */
  readonly now?: Date;
  /** Report alpha annotations (IST0136), which istioctl analyze leaves out of its default set. */
  readonly alphaAnnotations?: boolean;
}

export const DEFAULT_MODEL_OPTIONS: ModelOptions = {
  defaultNamespace: 'default',
  rootNamespace: DEFAULT_ROOT_NAMESPACE,
  clusterDomain: CLUSTER_DOMAIN,
  existing: [],
};

/** Input document: an object and where it came from. */
export interface InputDocument {
  readonly object: any;
  readonly source?: FindingSource;
}

function isRecord(x: any): x is Record<string, any> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** A string map (labels, selectors), keeping only string values. */
/**
 * A value as text, for names and identifiers read from arbitrary YAML: never throws (String() throws on an object
 * whose `toString` key is not a function, which YAML can express). @internal
 */
export function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v !== 'object') return String(v);
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}

export function stringMap(x: any): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(x)) return out;
  for (const [k, v] of Object.entries(x)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  }
  return out;
}

/** An array, or [] when the value is not one. */
export function arr(x: any): any[] {
  return Array.isArray(x) ? x : [];
}

/** Canonical JSON (sorted keys) for comparing values. */
export function canonical(x: any): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (isRecord(x)) return `{${Object.keys(x).sort().map(k => `${JSON.stringify(k)}:${canonical(x[k])}`).join(',')}}`;
  return JSON.stringify(x) ?? 'null';
}

export class Model {
  public readonly entries: Entry[] = [];
  public readonly findings: Finding[] = [];
  private readonly byKind = new Map<string, Entry[]>();
  private readonly byKindNs = new Map<string, Map<string, Entry[]>>();
  private readonly byKey = new Map<string, Entry>();
  private readonly existingKeys = new Set<string>();
  /** FQDN -> Service entry. */
  private readonly servicesByHost = new Map<string, Entry>();
  /** Exact ServiceEntry hosts -> entries; wildcard hosts listed apart. */
  private readonly seByHost = new Map<string, Entry[]>();
  private readonly seWildcards: Array<{ host: string; entry: Entry }> = [];
  public readonly workloads: Workload[] = [];
  /** `ns\0k=v` -> workloads; and `k=v` -> workloads across namespaces. */
  private readonly labelIndex = new Map<string, Workload[]>();
  private readonly nsWorkloads = new Map<string, Workload[]>();
  /** Namespaces that exist: Namespace objects and namespaces holding objects. */
  public readonly namespaces = new Set<string>();
  /** Services selecting each workload (computed once). */
  private readonly servicesOfWorkload = new Map<Workload, Entry[]>();
  private readonly workloadsOfService = new Map<Entry, Workload[]>();
  /** exportTo of objects, parsed on first use. */
  private readonly visibility = new Map<Entry, Visibility>();

  constructor(docs: readonly InputDocument[], public readonly options: ModelOptions) {
    for (const doc of docs) {
      const o = doc.object;
      if (!isRecord(o) || typeof o.kind !== 'string') continue;
      const name = text(o.metadata?.name ?? '');
      const clusterScoped = CLUSTER_SCOPED.has(o.kind);
      const ns = clusterScoped ? undefined : text(o.metadata?.namespace ?? options.defaultNamespace);
      const ref: ObjectRef = ns === undefined ? { kind: o.kind, name } : { kind: o.kind, namespace: ns, name };
      const entry: Entry = { obj: o, kind: o.kind, ns, name, ref, source: doc.source };
      this.entries.push(entry);
      let list = this.byKind.get(o.kind);
      if (!list) this.byKind.set(o.kind, list = []);
      list.push(entry);
      this.byKey.set(key(o.kind, ns, name), entry);
      if (ns !== undefined) this.namespaces.add(ns);
      if (o.kind === 'Namespace') this.namespaces.add(name);
      this.indexWorkload(entry);
    }
    for (const r of options.existing) {
      this.existingKeys.add(key(r.kind, r.namespace, r.name));
      if (r.namespace) this.namespaces.add(r.namespace);
      if (r.kind === 'Namespace') this.namespaces.add(r.name);
    }
    for (const svc of this.ofKind('Service')) this.servicesByHost.set(this.serviceHost(svc.name, svc.ns!), svc);
    for (const se of this.ofKind('ServiceEntry')) {
      for (const h of arr(se.obj.spec?.hosts)) {
        if (typeof h !== 'string') continue;
        if (h.startsWith('*')) {this.seWildcards.push({ host: h, entry: se });} else {
          const l = this.seByHost.get(h) ?? [];
          l.push(se);
          this.seByHost.set(h, l);
        }
      }
    }
    for (const svc of this.ofKind('Service')) {
      const selector = stringMap(svc.obj.spec?.selector);
      if (Object.keys(selector).length === 0) continue; // a Service without selector selects nothing
      const selected = this.select(svc.ns!, selector);
      this.workloadsOfService.set(svc, selected);
      for (const w of selected) {
        const l = this.servicesOfWorkload.get(w) ?? [];
        l.push(svc);
        this.servicesOfWorkload.set(w, l);
      }
    }
  }

  private indexWorkload(entry: Entry): void {
    const o = entry.obj;
    let template: any;
    let isPod = false;
    if (entry.kind === 'Pod') {
      template = o;
      isPod = true;
    } else if (TEMPLATE_KINDS.has(entry.kind)) {
      template = o.spec?.template;
    } else if (entry.kind === 'CronJob') {
      template = o.spec?.jobTemplate?.spec?.template;
    }
    if (!isRecord(template) || entry.ns === undefined) return;
    const w: Workload = {
      entry,
      ns: entry.ns,
      isPod,
      labels: stringMap(template.metadata?.labels),
      podSpec: isRecord(template.spec) ? template.spec : {},
      podMetadata: isRecord(template.metadata) ? template.metadata : {},
    };
    this.workloads.push(w);
    const l = this.nsWorkloads.get(w.ns) ?? [];
    l.push(w);
    this.nsWorkloads.set(w.ns, l);
    for (const [k, v] of Object.entries(w.labels)) {
      for (const idx of [`${w.ns}\0${k}=${v}`, `\0\0${k}=${v}`]) {
        const list = this.labelIndex.get(idx) ?? [];
        list.push(w);
        this.labelIndex.set(idx, list);
      }
    }
  }

  /** Objects of a kind, in input order. */
  /** Entries of a kind grouped by namespace (computed once per model). */
  public ofKindByNamespace(kind: string): Map<string, Entry[]> {
    let byNs = this.byKindNs.get(kind);
    if (!byNs) {
      byNs = new Map();
      for (const e of this.ofKind(kind)) {
        const l = byNs.get(e.ns ?? '') ?? [];
        l.push(e);
        byNs.set(e.ns ?? '', l);
      }
      this.byKindNs.set(kind, byNs);
    }
    return byNs;
  }

  public ofKind(kind: string): Entry[] {
    return this.byKind.get(kind) ?? [];
  }

  public get(kind: string, ns: string | undefined, name: string): Entry | undefined {
    return this.byKey.get(key(kind, ns, name));
  }

  /** Whether an object exists in the input or was declared as existing elsewhere. */
  public exists(kind: string, ns: string | undefined, name: string): boolean {
    return this.byKey.has(key(kind, ns, name)) || this.existingKeys.has(key(kind, ns, name));
  }

  /**
   * Workloads matching a label selector: in one namespace, or in all when ns is undefined. An empty selector
   * selects every workload of the namespace. Uses the label index: cost is the smallest candidate set.
   */
  public select(ns: string | undefined, selector: Record<string, string>): Workload[] {
    const pairs = Object.entries(selector);
    if (pairs.length === 0) return ns === undefined ? this.workloads : this.nsWorkloads.get(ns) ?? [];
    let best: Workload[] | undefined;
    for (const [k, v] of pairs) {
      const c = this.labelIndex.get(ns === undefined ? `\0\0${k}=${v}` : `${ns}\0${k}=${v}`) ?? [];
      if (!best || c.length < best.length) best = c;
      if (best.length === 0) return [];
    }
    return best!.filter(w => pairs.every(([k, v]) => w.labels[k] === v));
  }

  public servicesSelecting(w: Workload): Entry[] {
    return this.servicesOfWorkload.get(w) ?? [];
  }

  public workloadsOf(service: Entry): Workload[] {
    return this.workloadsOfService.get(service) ?? [];
  }

  /** `name.ns.svc.cluster.local`. */
  public serviceHost(name: string, ns: string): string {
    return `${name}.${ns}.svc.${this.options.clusterDomain}`;
  }

  /**
   * A host as written in an Istio object, resolved: a short name (no dot) is a Service in the object's namespace;
   * `name.ns` and `name.ns.svc` are completed to the cluster-local FQDN when such a Service exists (the Kubernetes
   * DNS search path); anything else is taken as written.
   */
  public resolveHost(host: string, ns: string): string {
    if (host.includes('*')) return host;
    if (!host.includes('.')) return this.serviceHost(host, ns);
    const parts = host.split('.');
    if (parts.length === 2 || (parts.length === 3 && parts[2] === 'svc')) {
      const fqdn = this.serviceHost(parts[0], parts[1]);
      if (this.servicesByHost.has(fqdn) || this.existingKeys.has(key('Service', parts[1], parts[0]))) return fqdn;
    }
    return host;
  }

  /**
   * The Service a resolved host names, if it is in the input (and visible from `from`, when given: see
   * lookupNamespaces).
   */
  public serviceFor(fqdn: string, from?: Visibility): Entry | undefined {
    const svc = this.servicesByHost.get(fqdn);
    return svc && this.visible(svc, from) ? svc : undefined;
  }

  /**
   * ServiceEntries declaring a resolved (non-wildcard) host, directly or through a wildcard host; only those visible
   * from `from` when it is given.
   */
  public serviceEntriesFor(host: string, from?: Visibility): Entry[] {
    const exact = (this.seByHost.get(host) ?? []).filter(e => this.visible(e, from));
    const wild = this.seWildcards.filter(w => hostMatches(w.host, host) && this.visible(w.entry, from)).map(w => w.entry);
    return wild.length ? [...exact, ...wild] : exact;
  }

  /** Whether an object's exportTo makes it visible from the namespaces `from` (always, when `from` is undefined). */
  public visible(entry: Entry, from: Visibility | undefined): boolean {
    if (from === undefined) return true;
    let v = this.visibility.get(entry);
    if (v === undefined) this.visibility.set(entry, v = visibilityOf(entry.obj, entry.ns ?? ''));
    return visibleFrom(v, from);
  }

  /**
   * Whether a resolved host is known: a Service, a ServiceEntry host or a declared existing Service; only hosts
   * visible from `from` count when it is given.
   */
  public hostExists(fqdn: string, from?: Visibility): boolean {
    if (this.serviceFor(fqdn, from) || this.serviceEntriesFor(fqdn, from).length > 0) return true;
    const suffix = `.svc.${this.options.clusterDomain}`;
    if (fqdn.endsWith(suffix)) {
      const [name, ns] = fqdn.slice(0, -suffix.length).split('.');
      return this.existingKeys.has(key('Service', ns, name)) || this.existingKeys.has(key('ServiceEntry', ns, name));
    }
    return false;
  }

  /** Whether any Service or ServiceEntry host (visible from `from`, when given) lies within a wildcard host. */
  public wildcardHostExists(host: string, from?: Visibility): boolean {
    for (const [h, svc] of this.servicesByHost) if (hostMatches(host, h) && this.visible(svc, from)) return true;
    for (const [h, ses] of this.seByHost) if (hostsIntersect(host, h) && ses.some(e => this.visible(e, from))) return true;
    return this.seWildcards.some(w => hostsIntersect(host, w.host) && this.visible(w.entry, from));
  }

  /** Adds a finding; level and name come from the catalogue. */
  public report(code: string, entry: Entry, message: string): void {
    const e = entryOf(code);
    this.findings.push({
      code,
      name: e.name,
      level: e.level,
      object: entry.ref,
      message,
      ...(entry.source ? { source: entry.source } : {}),
    });
  }

  public get rootNamespace(): string {
    return this.options.rootNamespace;
  }
}

function key(kind: string, ns: string | undefined, name: string): string {
  return `${kind}\0${ns ?? ''}\0${name}`;
}

/** Whether a concrete host matches a pattern (`*`, `*.example.com` or exact). */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

/** Whether two host patterns can match a common host. */
export function hostsIntersect(a: string, b: string): boolean {
  if (a === '*' || b === '*') return true;
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw && bw) return a.slice(1).endsWith(b.slice(1)) || b.slice(1).endsWith(a.slice(1));
  if (aw) return hostMatches(a, b);
  if (bw) return hostMatches(b, a);
  return a === b;
}

/** `namespace/name` or `name` (in the default namespace) as [ns, name]. */
export function splitRef(ref: string, defaultNs: string): [string, string] {
  const i = ref.indexOf('/');
  return i < 0 ? [defaultNs, ref] : [ref.slice(0, i), ref.slice(i + 1)];
}

/** The level of a code, for analyzers that need it. */
export function levelOf(code: string): FindingLevel {
  return entryOf(code).level;
}
