import { ApiObject, App, IResolver, resolve, ResolutionContext } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { invalid } from '../errors';
import { collectorClashMessage, collectorDestinationClash } from '../security/external-host';
import type { ExternalService } from '../security/external-service';
import type { ServicePort } from '../service/service-port';
import { FlowKind, IMeshService, IMeshWorkload, MeshConnection } from '../service/workload';

/**
 * An egress gateway's promise to carry traffic to an external host: the workloads that call the host send it to the
 * gateway (`<serviceHost>:<port>`), never directly to the outside. @internal
 */
export interface EgressRoute {
  /** The egress gateway workload. */
  readonly gateway: IMeshWorkload;
  /** The gateway's Service host. */
  readonly serviceHost: string;
  /** The external destination it serves. */
  readonly external: ExternalService;
  /** The port the gateway's pods listen on for this host. */
  readonly gatewayPort: number;
}

/** A telemetry collector every proxy must reach (tracing spans, OpenTelemetry access logs). @internal */
export interface CollectorEndpoint {
  /** The provider name in the mesh config. */
  readonly provider: string;
  /** The collector's fully qualified host: `<svc>.<ns>.svc.<domain>` in the cluster, the DNS name outside it. */
  readonly host: string;
  /** The collector's namespace (for a collector outside the cluster, where its ServiceEntry is: the root namespace). */
  readonly namespace?: string;
  /** The port. */
  readonly port: number;
  /** Whether the collector is outside the cluster (reached through a ServiceEntry, out of the cluster). */
  readonly external?: boolean;
  /** The ServiceEntry port protocol the proxies speak to it (`GRPC`, `HTTP`). */
  readonly protocol?: string;
  /**
   * Whether the proxies originate TLS to it (a collector outside the cluster that only accepts TLS): a
   * DestinationRule in the root namespace sets tls mode SIMPLE on its port.
   */
  readonly originateTls?: boolean;
  /** A collector outside the cluster: its address blocks (sorted, unique), which NetworkPolicy egress allows. */
  readonly addresses?: readonly string[];
  /** A collector outside the cluster reached at any address: the named opt-out of `addresses`. */
  readonly allowAnyAddress?: boolean;
  /** The mesh root namespace of the control plane that declares it. */
  readonly rootNamespace: string;
}

/** A metrics scraper that must reach the proxies' metrics ports. @internal */
export interface ScraperEndpoint {
  /** The scraper's namespace. */
  readonly namespace: string;
  /** Its pod labels (empty: every pod of the namespace). */
  readonly podLabels: { [key: string]: string };
  /** Who declared it (a construct path), for messages. */
  readonly declaredBy: string;
}

/** A gateway of the mesh: who deploys it, and which way its traffic flows. @internal */
export interface GatewayInfo {
  /** The gateway workload. */
  readonly workload: IMeshWorkload;
  /** Whether istiod's gateway deployment controller deploys it (GatewayDeployment.ISTIO_AUTOMATED). */
  readonly automated: boolean;
  /** Whether it is an egress gateway (else an ingress gateway). */
  readonly egress: boolean;
}

/** A namespace whose workloads run in ambient mode (no sidecars): its mesh's control plane installs ztunnel. @internal */
export interface AmbientNamespaceInfo {
  /** The namespace. */
  readonly name: string;
  /** The mesh's root namespace and revision (which control plane serves it). */
  readonly rootNamespace: string;
  readonly revision?: string;
}

/** A waypoint: the layer-7 proxy (Gateway of class istio-waypoint) of an ambient namespace. @internal */
export interface WaypointInfo {
  /** Its namespace. */
  readonly namespace: string;
  /** The Gateway's name (also the ServiceAccount istiod deploys it with). */
  readonly name: string;
  /** Its SPIFFE principal (without `spiffe://`). */
  readonly principal: string;
  /** The pod labels of its Deployment (istiod's gateway deployment controller labels pods with the Gateway name). */
  readonly podLabels: { [key: string]: string };
  /** The mesh's root namespace and revision. */
  readonly rootNamespace: string;
  readonly revision?: string;
}

/** A fact, as delivered to subscribers. @internal */
export type MeshFact =
  | { readonly type: 'workload'; readonly workload: IMeshWorkload }
  | { readonly type: 'gateway'; readonly gateway: GatewayInfo }
  | { readonly type: 'service'; readonly service: IMeshService }
  | { readonly type: 'edge'; readonly edge: MeshConnection }
  | { readonly type: 'external'; readonly source: IMeshWorkload; readonly external: ExternalService }
  | { readonly type: 'egress-route'; readonly route: EgressRoute }
  | { readonly type: 'collector'; readonly collector: CollectorEndpoint }
  | { readonly type: 'scraper'; readonly scraper: ScraperEndpoint }
  | { readonly type: 'ambient-namespace'; readonly namespace: AmbientNamespaceInfo }
  | { readonly type: 'layer7'; readonly namespace: string; readonly service?: IMeshService; readonly reason: string }
  | { readonly type: 'waypoint'; readonly waypoint: WaypointInfo; readonly service?: IMeshService };

/** A subscriber to the model's facts. @internal */
export type MeshFactListener = (fact: MeshFact) => void;

/**
 * A synth-time rewrite of objects as they are written: gets the object and its JSON (metadata rendered, spec maybe
 * still lazy), returns the new JSON or undefined for no change. @internal
 */
export type ObjectTransform = (obj: ApiObject, json: any, synthesis: number) => any | undefined;

/**
 * Applies the model's object transforms while cdk8s resolves each object (cdk8s resolvers are its documented hook
 * for rewriting values at synth time): once per object, at the top level, never from a validation hook. Transforms
 * registered for one object get its fully resolved JSON (lazy specs produced; the object's JSON patches apply after).
 */
/**
 * Marks the model's object-transform resolver, so code that renders upstream data without resolving it
 * (`UpstreamCrd`) can tell it from a user's resolver. The model's transforms rewrite whole objects' metadata and the
 * objects they target (raw objects to inject); they do not see an UpstreamCrd's spec.
 * @internal
 */
export const OBJECT_TRANSFORM_RESOLVER = Symbol.for('cdk8s-mesh.object-transform-resolver');

class ObjectTransformResolver implements IResolver {
  public readonly [OBJECT_TRANSFORM_RESOLVER] = true;
  /**
   * Which pass over the objects this is: it advances when an object is written a second time (a new synthesis, or the
   * analyzer's read before the writing), so transforms can keep what they derived from the whole app for one pass.
   */
  public synthesis = 0;
  /** Reads that must not count as writing an object (a transform reading other objects). */
  public quiet = 0;
  private seen = new WeakSet<ApiObject>();
  private readonly produced = new WeakSet<object>();
  private readonly resolving = new WeakSet<object>();
  constructor(private readonly all: ObjectTransform[], private readonly perObject: Map<ApiObject, ObjectTransform[]>) {}

  public resolve(context: ResolutionContext): void {
    const value = context.value;
    if (context.key.length !== 0 || !value || typeof value !== 'object' || this.produced.has(value) || this.resolving.has(value)) return;
    // cdk8s also resolves an object's metadata alone from the top (key []): only whole objects are transformed
    if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') return;
    if (this.quiet === 0) {
      if (this.seen.has(context.obj)) {
        this.synthesis++;
        this.seen = new WeakSet();
      }
      this.seen.add(context.obj);
    }
    let json = value;
    let changed = false;
    const own = this.perObject.get(context.obj) ?? [];
    if (own.length) {
      this.resolving.add(value);
      try {
        json = resolve([], value, context.obj);
      } finally {
        this.resolving.delete(value);
      }
      changed = true;
      for (const t of own) json = t(context.obj, json, this.synthesis) ?? json;
    }
    for (const t of this.all) {
      const next = t(context.obj, json, this.synthesis);
      if (next !== undefined) {
        json = next;
        changed = true;
      }
    }
    if (!changed) return;
    this.produced.add(json);
    context.replaceValue(json);
  }
}

const MODEL_ID = 'cdk8s-mesh.model';

/**
 * The app's mesh model: every fact a construct declares, in one place, when it is declared.
 *
 * Facts: workloads and their identities, services (ports, versions), edges (calls, gateway routes, mirrored copies),
 * external destinations, egress routes through egress gateways, and the infrastructure endpoints the proxies need
 * (telemetry collectors, metrics scrapers; istiod and the CA are mesh settings on `Mesh`).
 *
 * Constructs that render policy and routes subscribe (`subscribe`): a new subscriber first receives every fact
 * declared so far, then each new one as it is declared. Subscribers create their API objects when a fact needs one
 * (push) and render the objects' specs lazily from the model, so facts declared later still reach the output.
 * Derived facts are computed here, once: when a service mirrors to another, every caller of the first (declared
 * before or after) gets a MIRROR edge to the second.
 *
 * There is one model per construct tree (a child of the root, found with `MeshModel.of(scope)`); it holds no API
 * objects. @internal
 */
export class MeshModel extends Construct {
  /** The model of the tree `scope` belongs to (created on first use). */
  public static of(scope: IConstruct): MeshModel {
    const root = scope.node.root;
    const found = root.node.tryFindChild(MODEL_ID);
    if (found) return found as MeshModel;
    return new MeshModel(root as Construct, MODEL_ID);
  }

  private readonly facts: MeshFact[] = [];
  private readonly listeners: MeshFactListener[] = [];
  private readonly claims = new Map<string, string>();
  private readonly servicesByNs = new Map<string, IMeshService[]>();
  private readonly workloadsByNs = new Map<string, IMeshWorkload[]>();
  private readonly inbound = new Map<IMeshService, MeshConnection[]>();
  private readonly outbound = new Map<IMeshWorkload, MeshConnection[]>();
  private readonly externalsOf = new Map<IMeshWorkload, ExternalService[]>();
  private readonly egressByHost = new Map<string, EgressRoute[]>();
  private readonly mirrorsOf = new Map<IMeshService, Array<{ target: IMeshService; port: ServicePort }>>();
  private readonly _collectors: CollectorEndpoint[] = [];
  private readonly _scrapers: ScraperEndpoint[] = [];
  private metricsNeeded = false;
  private readonly ambient = new Map<string, AmbientNamespaceInfo>();
  private readonly layer7 = new Map<string, Set<IMeshService | undefined>>();
  private readonly waypointOfService = new Map<IMeshService, WaypointInfo>();
  private readonly waypointOfNamespace = new Map<string, WaypointInfo>();
  private readonly routeBackends = new Map<IMeshService, string[]>();
  private readonly transforms: ObjectTransform[] = [];
  private readonly objectTransforms = new Map<ApiObject, ObjectTransform[]>();
  private transformResolver?: ObjectTransformResolver;
  private defaultScraper?: ScraperEndpoint;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
  }

  // ------------------------------------------------------------------ claims

  /**
   * Claims a unique name (`kind` + `key`) for `scope`; throws a MeshValidationError naming `field` and `value` when
   * another construct has it (`allowed(otherPath)` says what is allowed).
   */
  public claim(scope: IConstruct, kind: string, key: string, field: string, value: string, allowed: (other: string) => string): void {
    const k = `${kind}\0${key}`;
    const other = this.claims.get(k);
    if (other !== undefined && other !== scope.node.path) invalid(scope as Construct, field, value, allowed(other));
    this.claims.set(k, scope.node.path);
  }

  /**
   * Whether `scope` is the first to claim `key` of `kind`, or claimed it before: the one object the key stands for
   * (e.g. a root namespace's ServiceEntry for a collector host) is created by that scope, and later claimants share it.
   */
  public claimFirst(scope: IConstruct, kind: string, key: string): boolean {
    const k = `${kind}\0${key}`;
    const other = this.claims.get(k);
    if (other === undefined) this.claims.set(k, scope.node.path);
    return other === undefined || other === scope.node.path;
  }

  // ------------------------------------------------------------------ declarations

  /** Declares a workload (a service, a gateway, a brought-in workload). Names are unique per namespace. */
  public declareWorkload(w: IMeshWorkload): void {
    this.claim(w, 'workload', `${w.namespace.name}/${w.name}`, 'name', w.name, other => `must be unique in namespace '${w.namespace.name}': ${other} already uses it`);
    push(this.workloadsByNs, w.namespace.name, w);
    this.emit({ type: 'workload', workload: w });
  }

  /**
   * Declares that a workload (declared first) is a gateway: namespaces that cannot host one refuse it, and the
   * control plane grants istiod's gateway deployment controller its rights only when a gateway it deploys exists.
   */
  public declareGateway(g: GatewayInfo): void {
    this.emit({ type: 'gateway', gateway: g });
  }

  /** Declares a service (it must have been declared as a workload first). */
  public declareService(s: IMeshService): void {
    push(this.servicesByNs, s.namespace.name, s);
    this.emit({ type: 'service', service: s });
  }

  /** Declares an edge: `edge.source` may call `edge.target`. */
  public declareEdge(edge: MeshConnection): void {
    push(this.inbound, edge.target, edge);
    push(this.outbound, edge.source, edge);
    this.emit({ type: 'edge', edge });
    if ((edge.kind ?? FlowKind.CALL) !== FlowKind.MIRROR) {
      for (const m of this.mirrorsOf.get(edge.target) ?? []) this.declareMirrorEdge(edge, m.target, m.port);
    }
  }

  /** Declares that requests to `from` are mirrored to `to` on `port`: every caller of `from` also calls `to`. */
  public declareMirror(from: IMeshService, to: IMeshService, port: ServicePort): void {
    push(this.mirrorsOf, from, { target: to, port });
    for (const e of [...(this.inbound.get(from) ?? [])]) {
      if ((e.kind ?? FlowKind.CALL) !== FlowKind.MIRROR) this.declareMirrorEdge(e, to, port);
    }
  }

  /**
   * Declares that `source` calls a destination outside the mesh. Refused when a telemetry collector of the
   * workload's mesh on the same host cannot share it (`collectorDestinationClash`: another protocol on its port,
   * another TLS setting, two DestinationRules for the host).
   */
  public declareExternal(source: IMeshWorkload, external: ExternalService): void {
    const list = this.externalsOf.get(source) ?? [];
    if (list.includes(external)) return;
    for (const c of this.collectorsOf(source.mesh.rootNamespace)) {
      if (!c.external) continue;
      const clash = collectorDestinationClash(c, external);
      if (clash) {
        invalid(source, 'connectsToExternal', `${external.host}:${external.port}`,
          collectorClashMessage(clash, c, { ...external, caller: source.node.path }));
      }
    }
    list.push(external);
    this.externalsOf.set(source, list);
    this.emit({ type: 'external', source, external });
  }

  /** Declares that an egress gateway carries the mesh's traffic to an external host. */
  public declareEgressRoute(route: EgressRoute): void {
    push(this.egressByHost, route.external.host, route);
    this.emit({ type: 'egress-route', route });
  }

  /**
   * Declares a telemetry collector every proxy of the mesh must reach. The same collector declared again is one fact;
   * two revisions of the control plane in one root namespace may each name a different collector with one provider
   * name (each revision has its own mesh config): both are facts.
   */
  public declareCollector(c: CollectorEndpoint): void {
    const key = (x: CollectorEndpoint) => JSON.stringify([x.rootNamespace, x.provider, x.host, x.namespace, x.port, x.external,
      x.protocol, x.originateTls, x.addresses, x.allowAnyAddress]);
    if (this._collectors.some(x => key(x) === key(c))) return;
    this._collectors.push(c);
    this.emit({ type: 'collector', collector: c });
  }

  /** Declares a metrics scraper that must reach every proxy's metrics ports. */
  public declareScraper(s: ScraperEndpoint): void {
    const key = JSON.stringify([s.namespace, sortedEntries(s.podLabels)]);
    if (this._scrapers.some(x => JSON.stringify([x.namespace, sortedEntries(x.podLabels)]) === key)) return;
    this._scrapers.push(s);
    this.emit({ type: 'scraper', scraper: s });
  }

  /**
   * Declares that metrics are consumed (alerts, dashboards, analysis): a scraper must reach the proxies. When no
   * scraper is declared explicitly by synth time, `defaultScraper` is used.
   */
  public declareMetricsNeeded(defaultScraper: ScraperEndpoint): void {
    if (this.metricsNeeded) return;
    this.metricsNeeded = true;
    this.defaultScraper = defaultScraper;
    this.emit({ type: 'scraper', scraper: defaultScraper });
  }

  /** Declares that a namespace runs in ambient mode (once per namespace). */
  public declareAmbientNamespace(ns: AmbientNamespaceInfo): void {
    if (this.ambient.has(ns.name)) return;
    this.ambient.set(ns.name, ns);
    this.emit({ type: 'ambient-namespace', namespace: ns });
  }

  /**
   * Declares that a service (or, without one, every workload of a namespace) needs layer-7 processing: HTTP routes,
   * retries, faults, mirroring, HTTP authorization or tokens. In an ambient namespace this is what brings a waypoint.
   * Once per service (or namespace); `reason` names the first feature, for the diagram and messages.
   */
  public declareLayer7(namespace: string, service: IMeshService | undefined, reason: string): void {
    const set = this.layer7.get(namespace) ?? new Set<IMeshService | undefined>();
    if (set.has(service)) return;
    set.add(service);
    this.layer7.set(namespace, set);
    this.emit({ type: 'layer7', namespace, service, reason });
  }

  /**
   * Declares a host a service's own routes send the service's traffic to, besides the service's own host (a
   * per-version backend Service of Gateway API mesh routes): every caller's proxy must know that host too (it is in
   * their Sidecar's egress hosts). Read at synth time.
   */
  public declareRouteBackend(service: IMeshService, host: string): void {
    const hosts = this.routeBackends.get(service) ?? [];
    if (!hosts.includes(host)) hosts.push(host);
    this.routeBackends.set(service, hosts);
  }

  /** Declares that a service (or, without one, a whole namespace) sends its traffic through a waypoint. */
  public declareWaypoint(waypoint: WaypointInfo, service?: IMeshService): void {
    if (service ? this.waypointOfService.has(service) : this.waypointOfNamespace.has(waypoint.namespace)) return;
    if (service) this.waypointOfService.set(service, waypoint);
    else this.waypointOfNamespace.set(waypoint.namespace, waypoint);
    this.emit({ type: 'waypoint', waypoint, service });
  }

  // ------------------------------------------------------------------ synth-time object transforms

  /**
   * Rewrites objects as they are written (e.g. Argo CD sync waves on every object of a delivered chart, whenever and
   * by whomever the object was created). Registered with the App's resolvers on first use.
   */
  public addObjectTransform(transform: ObjectTransform, forObject?: ApiObject): void {
    if (!this.transformResolver) {
      const app = this.node.root;
      if (!(app instanceof App)) invalid(this, 'root', app.node.path, 'must be a cdk8s App for synth-time object transforms');
      this.transformResolver = new ObjectTransformResolver(this.transforms, this.objectTransforms);
      // first in line: it sees each object before the built-in resolvers descend into it
      (app as App).resolvers.unshift(this.transformResolver);
    }
    if (forObject) {
      const list = this.objectTransforms.get(forObject) ?? [];
      list.push(transform);
      this.objectTransforms.set(forObject, list);
    } else {
      this.transforms.push(transform);
    }
  }

  /**
   * The current pass over the objects (see `addObjectTransform`): what a Lazy value rendered during a pass can key the
   * app-wide facts it derives on. 0 before any transform is registered.
   */
  public get synthesisPass(): number {
    return this.transformResolver?.synthesis ?? 0;
  }

  /**
   * Runs `read`, which renders other objects (e.g. to index the CRDs of a chart), without it counting as writing them:
   * the synthesis pass transforms see does not advance.
   */
  public quietly<T>(read: () => T): T {
    const r = this.transformResolver;
    if (r) r.quiet++;
    try {
      return read();
    } finally {
      if (r) r.quiet--;
    }
  }

  // ------------------------------------------------------------------ subscriptions

  /** Receives every fact declared so far, then each new one. */
  public subscribe(listener: MeshFactListener): void {
    for (const f of [...this.facts]) listener(f);
    this.listeners.push(listener);
  }

  // ------------------------------------------------------------------ queries (read at synth time)

  /** The services of a namespace, in declaration order. */
  public servicesIn(namespace: string): readonly IMeshService[] {
    return this.servicesByNs.get(namespace) ?? [];
  }

  /** The workloads of a namespace (services included), in declaration order. */
  public workloadsIn(namespace: string): readonly IMeshWorkload[] {
    return this.workloadsByNs.get(namespace) ?? [];
  }

  /** Every namespace that has a workload. */
  public get namespaces(): string[] {
    return [...this.workloadsByNs.keys()].sort();
  }

  /** Who may call a service (declared and derived edges), in declaration order. */
  public inboundOf(s: IMeshService): readonly MeshConnection[] {
    return this.inbound.get(s) ?? [];
  }

  /** What a workload calls (declared and derived edges), in declaration order. */
  public outboundOf(w: IMeshWorkload): readonly MeshConnection[] {
    return this.outbound.get(w) ?? [];
  }

  /** Every external destination of every workload (`connectsToExternal`), in declaration order per workload. */
  public externalDestinations(): ReadonlyArray<{ readonly source: IMeshWorkload; readonly external: ExternalService }> {
    return [...this.externalsOf.entries()].flatMap(([source, list]) => list.map(external => ({ source, external })));
  }

  /** The external destinations a workload calls. */
  public externalsOfWorkload(w: IMeshWorkload): readonly ExternalService[] {
    return this.externalsOf.get(w) ?? [];
  }

  /** The egress gateway serving an external host on its port, if any. */
  public egressRouteFor(external: ExternalService): EgressRoute | undefined {
    return (this.egressByHost.get(external.host) ?? []).find(r => r.external.port === external.port);
  }

  /** The telemetry collectors of the mesh whose root namespace is given. */
  public collectorsOf(rootNamespace: string): readonly CollectorEndpoint[] {
    return this._collectors.filter(c => c.rootNamespace === rootNamespace);
  }

  /**
   * The in-cluster telemetry collectors (of every control plane) that are this service: their host is the service's
   * and their namespace its namespace. Every proxy sends them spans and logs.
   */
  public collectorsAt(s: IMeshService): readonly CollectorEndpoint[] {
    return this._collectors.filter(c => !c.external && c.host === s.host && c.namespace === s.namespace.name);
  }

  /** The metrics scrapers: the declared ones, else the default one when metrics are needed. */
  public get scrapers(): readonly ScraperEndpoint[] {
    const explicit = this._scrapers;
    if (explicit.length) return explicit;
    return this.defaultScraper ? [this.defaultScraper] : [];
  }

  /** Whether a namespace runs in ambient mode. */
  public isAmbientNamespace(namespace: string): boolean {
    return this.ambient.has(namespace);
  }

  /** The hosts a service's own routes send its traffic to besides its own (`declareRouteBackend`). */
  public routeBackendsOf(s: IMeshService): readonly string[] {
    return this.routeBackends.get(s) ?? [];
  }

  /** The waypoint a service's traffic goes through (its own, else its namespace's), if any. */
  public waypointOf(s: IMeshService): WaypointInfo | undefined {
    return this.waypointOfService.get(s) ?? this.waypointOfNamespace.get(s.namespace.name);
  }

  // ------------------------------------------------------------------ internals

  /**
   * The copy of `origin`'s requests that the mirror target receives: the same caller, and the same HTTP methods and
   * paths as the original call may use (a caller limited to GET /api/* must not reach the mirror with anything else).
   */
  private declareMirrorEdge(origin: MeshConnection, target: IMeshService, port: ServicePort) {
    const source = origin.source;
    const methods = [...origin.methods];
    const paths = [...origin.paths];
    const key = JSON.stringify([methods, paths]);
    const exists = (this.inbound.get(target) ?? []).some(e => e.source === source && e.kind === FlowKind.MIRROR && e.ports.includes(port)
      && JSON.stringify([e.methods, e.paths]) === key);
    if (exists) return;
    this.declareEdge({ source, target, ports: [port], allPorts: false, methods, paths, kind: FlowKind.MIRROR });
  }

  private emit(fact: MeshFact) {
    this.facts.push(fact);
    for (const l of [...this.listeners]) l(fact);
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V) {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function sortedEntries(o: { [key: string]: string }): string[][] {
  return Object.keys(o).sort().map(k => [k, o[k]]);
}
