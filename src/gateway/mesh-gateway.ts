import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import {
  DEFAULT_INGRESS_NAME, DEFAULT_INGRESS_NAMESPACE, GATEWAY_API_GROUP, GATEWAY_API_VERSION, GATEWAY_NAME_LABEL,
  ISTIO_GATEWAY_CLASS, REFERENCE_GRANT_VERSION, SERVICE_TYPE_ANNOTATION, EARLY_HEADER_MUTATION, EARLY_HEADER_MUTATION_TYPE,
  HTTP_CONNECTION_MANAGER, HTTP_CONNECTION_MANAGER_TYPE,
} from './constants';
import {
  BackendRefOf, checkGatewayApiOrder, checkGatewayTimeout, GATEWAY_ROUTING_TO_ISTIO, GatewayRule, gatewayRouteRules, renderIstioRules,
  renderK8sGrpcRules, renderK8sHttpRules, segmentPrefix,
} from './gateway-rules';
import { createGatewayWorkload, GatewayServiceType, GatewayWorkloadObjects, GatewayWorkloadOptions, gatewaySelector, resolveGatewayPlacement } from './gateway-workload';
import { checkRouteInputs, GatewayRouteOptions, PathMatch } from './routes';
import { BoundTls, GatewayTls } from '../certificates/gateway-tls';
import { invalid } from '../errors';
import { IstioLabels, MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { IMesh } from '../mesh/mesh';
import { IMeshNamespace } from '../mesh/namespace';
import { RoutingApi } from '../mesh/routing-api';
import { MeshModel } from '../model/mesh-model';
import { MeshedService } from '../service/meshed-service';
import { PortProtocol, ServicePort } from '../service/service-port';
import { checkMeshService, FlowKind, IMeshService, IMeshWorkload } from '../service/workload';
import { gatewayApiDuration } from '../traffic/duration';
import { checkHeaderOperationName, renderHeaderRules } from '../traffic/http-headers';
import { renderResilience } from '../traffic/resilience';
import { renderCorsPolicy } from '../traffic/route-options';
import { StringMatch } from '../traffic/routing';
import { checkDnsLabel, checkHeaderValue, checkPort, checkRegex, compact } from '../validation';

// the enum lives in a leaf module (the mesh's routing choice uses it too); exported here as before
export { RoutingApi };

/** A route of a gateway as declared: what the mesh diagram and other readers of the model see. */
export interface GatewayRouteInfo {
  /** The hosts the route serves. */
  readonly hosts: string[];
  /** The path match, e.g. `prefix /`. */
  readonly path: string;
  /** The service it routes to (undefined for a redirect). */
  readonly service?: IMeshService;
  /** The service port it routes to. */
  readonly port?: number;
  /** Whether the route redirects instead of routing. */
  readonly redirect: boolean;
}


/** Who deploys the gateway's pods and Service when the Gateway API is used. */
export enum GatewayDeployment {
  /**
   * This library synthesizes the workload (Deployment injected at synth time, Service, HPA...); with the Gateway API
   * the Gateway is linked to that Service through `spec.addresses` (Istio's "manual deployment").
   */
  SYNTH_TIME = 'SYNTH_TIME',
  /**
   * Istio's gateway controller deploys `<name>-istio` (Deployment, Service, ServiceAccount) for the Gateway API
   * Gateway (automated deployment). Gateway API only; the pods are then not in Git.
   */
  ISTIO_AUTOMATED = 'ISTIO_AUTOMATED',
}

/** One listener: a port, the hosts it serves and its TLS. */
export interface GatewayListener {
  /** The port (on the gateway's Service and pods). */
  readonly port: number;
  /**
   * Hostnames served: DNS names, wildcards such as `*.example.com`, or `*` (any host; not with certManager TLS).
   */
  readonly hosts: string[];
  /**
   * TLS. Without it the listener speaks plain HTTP.
   * @default - plain HTTP
   */
  readonly tls?: GatewayTls;
  /**
   * Answer every plain-HTTP request with a 301 redirect to HTTPS (HTTP listeners only).
   * @default false
   */
  readonly httpsRedirect?: boolean;
  /**
   * The listener (and Service port) name, `http-...`/`https-...`/`tls-...` so Istio reads the protocol.
   * @default - `<protocol>-<port>`
   */
  readonly name?: string;
}

/** Properties of a MeshGateway. */
export interface MeshGatewayProps extends GatewayWorkloadOptions {
  /**
   * The mesh. Required unless `namespace` is given.
   * @default - the namespace's mesh
   */
  readonly mesh?: IMesh;
  /**
   * The gateway's namespace. Istio recommends a namespace of its own for gateways (its TLS Secrets live there and
   * nowhere else). The namespace must exist before the gateway is applied: declare it in the app as a plain
   * Namespace (not a `ZeroTrustNamespace`, which refuses gateways: its default deny would cut them off from their
   * load balancer), or, when it is created
   * nowhere else and the chart is delivered by `ArgoCdDelivery`, set `createNamespace: true` on that delivery (Argo
   * CD's `CreateNamespace=true` sync option). `MeshNamespace.fromName` only refers to a namespace; it creates nothing.
   * @default - `istio-ingress` (referred to, not created)
   */
  readonly namespace?: IMeshNamespace;
  /**
   * The gateway name: ServiceAccount, Deployment, Service, `app` label; the `istio` selector label is the name
   * without its `istio-` prefix.
   * @default 'istio-ingressgateway'
   */
  readonly name?: string;
  /**
   * Shorthand for the common case: these hosts on port 443 with `tls` (and port 80 redirecting to HTTPS), or on
   * port 80 without `tls`.
   * @default - only `listeners`
   */
  readonly hosts?: string[];
  /**
   * TLS of the `hosts` shorthand.
   * @default - plain HTTP on port 80
   */
  readonly tls?: GatewayTls;
  /**
   * Listeners (more can be added with `addListener`).
   * @default - the `hosts` shorthand only
   */
  readonly listeners?: GatewayListener[];
  /**
   * Which API configures listeners and routes.
   * @default RoutingApi.ISTIO
   */
  readonly routingApi?: RoutingApi;
  /**
   * Who deploys the gateway (Gateway API only).
   * @default GatewayDeployment.SYNTH_TIME
   */
  readonly deployment?: GatewayDeployment;
  /**
   * Request headers that carry facts the mesh trusts (e.g. `x-region`, set by a service inside the mesh), which a
   * client could otherwise forge: the gateway removes them from every request before it routes it (an EnvoyFilter
   * with Envoy's early header mutation, applied before route selection, in both routing APIs). A service route that
   * matches such a header does not hold at the gateway (ingress follows the service's other rules); a route's
   * `headerChanges` may set the header for the upstream.
   * @default - none: client headers reach routing and services as sent
   */
  readonly trustedHeaders?: string[];
}

type Protocol = 'HTTP' | 'HTTPS' | 'TLS';

interface ListenerState {
  readonly name: string;
  readonly port: number;
  readonly hosts: string[];
  readonly protocol: Protocol;
  readonly tls?: GatewayTls;
  readonly bound?: BoundTls;
  readonly httpsRedirect: boolean;
}

interface RouteState {
  readonly hosts: string[];
  readonly options: GatewayRouteOptions;
  readonly path: PathMatch;
  /** Header matches, names lowercase, as VirtualService JSON. */
  readonly headers: { [name: string]: any };
  readonly port?: ServicePort;
  readonly tlsRoute: boolean;
  readonly grpc: boolean;
  readonly seq: number;
}

const HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/** Whether `host` is a valid DNS name or `*.` wildcard (and `*` when `star`). @internal */
export function isGatewayHost(host: string, star: boolean): boolean {
  if (typeof host !== 'string') return false;
  if (host === '*') return star;
  return host.length <= 253 && HOST.test(host);
}

/** Whether the listener host `l` serves the route host `h`. @internal */
export function hostCovers(l: string, h: string): boolean {
  if (l === '*' || l === h) return true;
  if (l.startsWith('*.')) return h !== l && h.endsWith(l.slice(1)) && !h.slice(0, h.length - l.length + 1).includes('*');
  return false;
}

function hostSlug(host: string): string {
  return host === '*' ? 'any' : host.replace(/^\*\./, 'wildcard.');
}

/**
 * How traffic enters the mesh: the gateway workload as Istio's gateway chart renders it (injected at synth time
 * with the gateway template), its listeners with typed TLS, and typed routes to meshed services, rendered with
 * Istio's API or the Kubernetes Gateway API.
 *
 * Each `route()` records the gateway as an allowed caller of the target (`service.allowFrom(gateway, { ports })`),
 * and follows the target's own routing (`service.httpRoutes`, e.g. a CanaryRelease's weights), read at synth time.
 */
export class MeshGateway extends Construct implements IMeshWorkload {
  /** The gateway name. */
  public readonly name: string;
  /** The namespace. */
  public readonly namespace: IMeshNamespace;
  /** The mesh. */
  public readonly mesh: IMesh;
  /** The gateway pods' service account. */
  public readonly serviceAccountName: string;
  /** The SPIFFE principal of the gateway pods. */
  public readonly principal: string;
  /** Labels that select the gateway pods (`istio: <name without istio->`, `app: <name>`). */
  public readonly podSelector: { [key: string]: string };
  /** The routing API. */
  public readonly routingApi: RoutingApi;
  /** The gateway's Service host, `<name>.<namespace>.svc.<cluster domain>`. */
  public readonly serviceHost: string;
  /** The Istio Gateway or Gateway API Gateway object. */
  public readonly gateway: ApiObject;
  /** The gateway's Deployment (undefined with ISTIO_AUTOMATED). */
  public readonly deployment?: ApiObject;
  /** The gateway's Service (undefined with ISTIO_AUTOMATED). */
  public readonly service?: ApiObject;

  private readonly labels: { [key: string]: string };
  private readonly listeners: ListenerState[] = [];
  private readonly routes: RouteState[] = [];
  private readonly routeObjects = new Map<string, ApiObject>();
  private readonly grants = new Map<string, ApiObject>();
  private readonly deploymentMode: GatewayDeployment;
  private readonly workload?: GatewayWorkloadObjects;
  private redirectRoute?: ApiObject;
  /** Request headers removed from client requests before routing (lowercase, sorted). */
  private readonly trustedHeaders: string[];
  /** The EnvoyFilter that removes the trusted headers, when there are any. */
  public readonly trustedHeadersFilter?: ApiObject;

  constructor(scope: Construct, id: string, props: MeshGatewayProps) {
    super(scope, id);
    const p = props ?? ({} as MeshGatewayProps);
    const placement = resolveGatewayPlacement(this, p, { namespace: DEFAULT_INGRESS_NAMESPACE, name: DEFAULT_INGRESS_NAME });
    this.namespace = placement.namespace;
    this.mesh = placement.mesh;
    const name = placement.name;
    this.name = name;
    this.routingApi = p.routingApi ?? RoutingApi.ISTIO;
    if (!Object.values(RoutingApi).includes(this.routingApi)) invalid(this, 'routingApi', this.routingApi, `must be one of ${Object.values(RoutingApi).join(', ')}`);
    this.deploymentMode = p.deployment ?? GatewayDeployment.SYNTH_TIME;
    if (!Object.values(GatewayDeployment).includes(this.deploymentMode)) invalid(this, 'deployment', this.deploymentMode, `must be one of ${Object.values(GatewayDeployment).join(', ')}`);
    if (this.deploymentMode === GatewayDeployment.ISTIO_AUTOMATED && this.routingApi !== RoutingApi.GATEWAY_API) {
      invalid(this, 'deployment', this.deploymentMode, 'ISTIO_AUTOMATED needs routingApi GATEWAY_API: only Gateway API Gateways are deployed by Istio');
    }
    const automated = this.deploymentMode === GatewayDeployment.ISTIO_AUTOMATED;
    // Istio's automated deployment names everything `<gateway>-<class>` and selects pods by the gateway-name label
    const workloadName = automated ? `${name}-${ISTIO_GATEWAY_CLASS}` : name;
    this.serviceAccountName = workloadName;
    this.principal = this.mesh.principalFor(this.namespace.name, workloadName);
    this.podSelector = automated
      ? { [GATEWAY_NAME_LABEL]: name }
      : gatewaySelector(name);
    this.serviceHost = `${workloadName}.${this.namespace.name}.svc.${this.mesh.clusterDomain}`;
    this.labels = { [IstioLabels.APP]: name, [MANAGED_BY_LABEL]: MANAGED_BY };

    if (p.tls !== undefined && !p.hosts) invalid(this, 'tls', p.tls.kind, 'needs `hosts` (or give listeners with their own tls)');
    if (p.hosts) {
      if (p.tls) {
        this.addListener({ port: 443, hosts: p.hosts, tls: p.tls });
        if (p.tls.terminates) this.addListener({ port: 80, hosts: p.hosts, httpsRedirect: true });
      } else {
        this.addListener({ port: 80, hosts: p.hosts });
      }
    }
    for (const l of p.listeners ?? []) this.addListener(l);

    if (automated) {
      const workloadOptions = [p.serviceAnnotations, p.minReplicas, p.maxReplicas, p.resources, p.proxy, p.targetCpuUtilization];
      if (workloadOptions.some(x => x !== undefined)) {
        invalid(this, 'deployment', this.deploymentMode, 'Istio deploys the gateway: serviceAnnotations, replicas, resources and proxy options need GatewayDeployment.SYNTH_TIME');
      }
    } else {
      this.workload = createGatewayWorkload(this, {
        name,
        namespace: this.namespace.name,
        mesh: this.mesh,
        selector: this.podSelector,
        labels: this.labels,
        serviceType: p.serviceType ?? GatewayServiceType.LOAD_BALANCER,
        ports: () => this.servicePorts(),
        options: p,
      });
      this.deployment = this.workload.deployment;
      this.service = this.workload.service;
    }
    const serviceType = p.serviceType;
    this.gateway = this.routingApi === RoutingApi.ISTIO
      ? new ApiObject(this, 'Gateway', {
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: this.meta(name),
        spec: Lazy.any({ produce: () => this.renderIstioGateway() }),
      } as any)
      : new ApiObject(this, 'Gateway', {
        apiVersion: GATEWAY_API_VERSION,
        kind: 'Gateway',
        metadata: compact({
          ...this.meta(name),
          annotations: automated && serviceType ? { [SERVICE_TYPE_ANNOTATION]: serviceType } : undefined,
        }),
        spec: Lazy.any({ produce: () => this.renderK8sGateway() }),
      } as any);
    const trusted = new Set<string>();
    for (const h of p.trustedHeaders ?? []) trusted.add(checkHeaderOperationName(this, 'trustedHeaders', h));
    this.trustedHeaders = [...trusted].sort();
    if (this.trustedHeaders.length) this.trustedHeadersFilter = this.renderTrustedHeadersFilter();
    // the gateway is a workload of the mesh: its routes are edges from it (declared in route())
    MeshModel.of(this).declareWorkload(this);
    MeshModel.of(this).declareGateway({ workload: this, automated, egress: false });
  }

  /** Adds a listener. Listeners on one port must agree on the protocol, and on the TLS of a host they share. */
  /** The routes declared so far, in declaration order (hosts, path, target service and port, or a redirect). */
  public get routeTable(): GatewayRouteInfo[] {
    return this.routes.map(r => ({
      hosts: [...r.hosts],
      path: r.path ? `${r.path.kind.toLowerCase()} ${r.path.value}` : 'any',
      service: r.options.to,
      port: r.port?.port,
      redirect: r.options.redirect !== undefined,
    }));
  }

  public addListener(listener: GatewayListener): void {
    const i = this.listeners.length;
    const field = `listeners[${i}]`;
    if (!listener) invalid(this, field, listener, 'must be a listener');
    checkPort(this, `${field}.port`, listener.port);
    if (!Array.isArray(listener.hosts) || listener.hosts.length === 0) invalid(this, `${field}.hosts`, listener.hosts, 'must list at least one host');
    for (const h of listener.hosts) {
      if (!isGatewayHost(h, true)) invalid(this, `${field}.hosts`, h, "must be a DNS name (shop.example.com), a wildcard (*.example.com) or '*'");
    }
    const hosts = [...new Set(listener.hosts)].sort();
    const tls = listener.tls;
    if (tls !== undefined && !(tls instanceof GatewayTls)) invalid(this, `${field}.tls`, tls, 'must be made with GatewayTls.certManager(), secret(), mutual() or passthrough()');
    const protocol: Protocol = !tls ? 'HTTP' : tls.terminates ? 'HTTPS' : 'TLS';
    if (listener.httpsRedirect && protocol !== 'HTTP') invalid(this, `${field}.httpsRedirect`, true, 'applies to plain HTTP listeners only');
    if (this.routingApi === RoutingApi.GATEWAY_API && tls?._istioOnly()) {
      invalid(this, `${field}.tls`, tls._istioOnly(), `is not expressible with the Gateway API standard channel: ${GATEWAY_ROUTING_TO_ISTIO}`);
    }
    const sameName = this.listeners.filter(l => l.protocol === protocol && l.port === listener.port).length;
    const name = listener.name ?? `${protocol.toLowerCase()}-${listener.port}${sameName ? `-${sameName + 1}` : ''}`;
    checkDnsLabel(this, `${field}.name`, name);
    if (name.length > 15) invalid(this, `${field}.name`, name, 'must be at most 15 characters (it names a Service port)');
    if (this.listeners.some(l => l.name === name)) invalid(this, `${field}.name`, name, 'must be unique among the listeners');
    for (const other of this.listeners.filter(l => l.port === listener.port)) {
      if (other.protocol !== protocol) {
        invalid(this, `${field}.tls`, `${protocol} on port ${listener.port}`,
          `conflicts with listener '${other.name}' (${other.protocol}) on the same port: listeners sharing a port must use the same protocol and TLS mode`);
      }
      const shared = hosts.filter(h => other.hosts.includes(h));
      if (shared.length && (other.tls?._key() !== tls?._key() || other.httpsRedirect !== !!listener.httpsRedirect)) {
        invalid(this, `${field}.tls`, shared.join(', '), `conflicts with listener '${other.name}' on port ${listener.port}: one host on one port has one TLS setting`);
      }
    }
    const bound = tls?._bind(this, `${field}.tls`, { name: `${this.name}-${name}`, namespace: this.namespace.name, hosts, labels: this.labels });
    this.listeners.push({ name, port: listener.port, hosts, protocol, tls, bound, httpsRedirect: !!listener.httpsRedirect });
    if (listener.httpsRedirect && this.routingApi === RoutingApi.GATEWAY_API) this.ensureRedirectRoute();
  }

  /**
   * Routes requests for a host and path to a meshed service (or answers with a redirect). Records the gateway as an
   * allowed caller of the service on the target port. Routes are ordered most specific first (exact paths, then
   * longer prefixes, then regexes; more header matches first), the Gateway API's precedence, in both APIs.
   */
  public route(options: GatewayRouteOptions): void {
    const field = `routes[${this.routes.length}]`;
    const o = options ?? ({} as GatewayRouteOptions);
    if ((o.to === undefined) === (o.redirect === undefined)) invalid(this, `${field}.to`, o.to ? 'to and redirect' : undefined, 'exactly one of `to` and `redirect` must be given');
    const path = o.path ?? PathMatch.prefix('/');
    if (!(path instanceof PathMatch)) invalid(this, `${field}.path`, path, "must be PathMatch.prefix('/...'), exact(...) or regex(...)");
    // hosts: the given one must be served by a listener (IST0132), default every host of the HTTP(S) listeners
    let hosts: string[];
    if (o.host !== undefined) {
      if (!isGatewayHost(o.host, false)) invalid(this, `${field}.host`, o.host, "must be a DNS name (shop.example.com) or a wildcard (*.example.com); '*' is for listeners");
      if (!this.listeners.some(l => l.hosts.some(lh => hostCovers(lh, o.host!)))) {
        invalid(this, `${field}.host`, o.host, `is not served by any listener of the gateway (IST0132): listeners serve ${this.listeners.flatMap(l => l.hosts).join(', ') || 'nothing'}`);
      }
      hosts = [o.host];
    } else {
      hosts = [...new Set(this.listeners.filter(l => l.protocol !== 'TLS').flatMap(l => l.hosts))].sort();
      if (hosts.length === 0) invalid(this, `${field}.host`, undefined, 'must be given: the gateway has no HTTP or HTTPS listener (add one first)');
    }
    const serving = this.listeners.filter(l => hosts.some(h => l.hosts.some(lh => hostCovers(lh, h))));
    const tlsRoute = serving.some(l => l.protocol === 'TLS');
    if (tlsRoute && serving.some(l => l.protocol !== 'TLS' && l.hosts.some(lh => hosts.includes(lh)))) {
      invalid(this, `${field}.host`, hosts.join(', '), 'is served by both a TLS passthrough listener and an HTTP(S) listener: give the route a host of one kind');
    }
    let port: ServicePort | undefined;
    let grpc = false;
    if (o.to) {
      const to = o.to;
      checkMeshService(this, `${field}.to`, to);
      const show = to.ports.map(q => `${q.name}/${q.port}`).join(', ');
      if (o.port) {
        port = to.ports.find(q => q.port === o.port!.port && q.name === o.port!.name);
        if (!port) invalid(this, `${field}.port`, `${o.port.name}/${o.port.port}`, `must be a port ${to.host} exposes: ${show}`);
      } else {
        const candidates = tlsRoute ? to.ports : to.ports.filter(q => q.isHttp);
        if (candidates.length !== 1) invalid(this, `${field}.port`, undefined, `must be given: ${to.host} has ${candidates.length === 0 ? 'no' : 'several'} ${tlsRoute ? '' : 'HTTP '}ports (${show})`);
        port = candidates[0];
      }
      if (!tlsRoute && !port.isHttp) invalid(this, `${field}.port`, `${port.name}/${port.port}`, 'must be an HTTP, HTTP2, gRPC or gRPC-Web port for an HTTP route (TCP and TLS need a TLS passthrough listener)');
      grpc = port.protocol === PortProtocol.GRPC;
      if (o.version !== undefined) {
        if (!MeshedService.isMeshedService(to) || !to.findVersion(o.version.name)) {
          invalid(this, `${field}.version`, o.version?.name ?? o.version, `must be a version of ${to.host}`);
        }
      }
    }
    if (tlsRoute) {
      const extra = ['headers', 'headerChanges', 'rewrite', 'timeout', 'retries', 'cors', 'redirect'].filter(k => (o as any)[k] !== undefined);
      if (extra.length || o.path !== undefined) invalid(this, `${field}`, [...extra, ...(o.path ? ['path'] : [])].join(', '), 'TLS passthrough routes match the SNI host only: drop HTTP settings');
    }
    if (grpc && (path.kind !== 'PREFIX' || path.value !== '/')) invalid(this, `${field}.path`, path.value, "must be PathMatch.prefix('/') for a gRPC port: gRPC routes match every method");
    const headers: { [name: string]: any } = {};
    for (const k of Object.keys(o.headers ?? {})) {
      if (!HEADER_NAME.test(k)) invalid(this, `${field}.headers`, k, 'must be HTTP header names');
      const m = o.headers![k];
      if (!(m instanceof StringMatch)) invalid(this, `${field}.headers['${k}']`, m, 'must be a StringMatch');
      if (m.kind === 'regex') checkRegex(this, `${field}.headers['${k}']`, m.value);
      else checkHeaderValue(this, `${field}.headers['${k}']`, m.value, { allowEmpty: true });
      if (k.toLowerCase() in headers) invalid(this, `${field}.headers`, k, 'must be given once (header names are case-insensitive)');
      headers[k.toLowerCase()] = m._render();
    }
    if (o.headerChanges !== undefined) renderHeaderRules(this, `${field}.headerChanges`, o.headerChanges);
    if (o.rewrite !== undefined) {
      if (typeof o.rewrite !== 'string' || !o.rewrite.startsWith('/')) invalid(this, `${field}.rewrite`, o.rewrite, "must be a path starting with '/'");
      if (path.kind === 'REGEX') invalid(this, `${field}.rewrite`, o.rewrite, 'needs a prefix or exact path match');
      if (o.redirect) invalid(this, `${field}.rewrite`, o.rewrite, 'does not apply to a redirect');
    }
    for (const k of ['timeout', 'retries'] as const) {
      if (o.redirect && o[k] !== undefined) invalid(this, `${field}.${k}`, 'set', 'does not apply to a redirect: the gateway answers it and forwards nothing');
    }
    if (o.timeout !== undefined) checkGatewayTimeout(this, `${field}.timeout`, o.timeout, port);
    if (o.retries !== undefined && this.routingApi === RoutingApi.GATEWAY_API) {
      invalid(this, `${field}.retries`, o.retries, `are not in the Gateway API standard channel: ${GATEWAY_ROUTING_TO_ISTIO}, or drop retries`);
    }
    if (o.retries !== undefined || o.timeout !== undefined) {
      // validated with the service resilience rules (retries within timeout...)
      renderResilience(this, { timeout: o.timeout, retries: o.retries }, { ports: port ? [port] : [ServicePort.http(80)] } as any);
    }
    if (grpc && this.routingApi === RoutingApi.GATEWAY_API && (o.cors || o.rewrite)) {
      invalid(this, `${field}`, o.cors ? 'cors' : 'rewrite', `a GRPCRoute cannot express: ${GATEWAY_ROUTING_TO_ISTIO}`);
    }
    checkRouteInputs(this, field, o);
    if (o.cors) renderCorsPolicy(this, `${field}.cors`, o.cors);
    // one route per host, path and header match: a second one would never be reached (or, with the Gateway API,
    // conflict), whichever was meant
    const kind = tlsRoute ? 'TLS' : grpc ? 'GRPC' : 'HTTP';
    const matchKey = (p: PathMatch, h: { [name: string]: any }) =>
      JSON.stringify([p.kind, p.kind === 'PREFIX' ? segmentPrefix(p.value) : p.value, Object.keys(h).sort().map(k => [k, h[k]])]);
    const key = matchKey(path, headers);
    for (const other of this.routes) {
      const shared = hosts.filter(h => other.hosts.includes(h));
      if (!shared.length || (other.tlsRoute ? 'TLS' : other.grpc ? 'GRPC' : 'HTTP') !== kind || matchKey(other.path, other.headers) !== key) continue;
      invalid(this, `${field}.path`, `${shared.join(', ')} ${path.kind.toLowerCase()} ${path.value}`,
        `duplicates routes[${other.seq}] (same host, path and header match): the second route would never be reached; merge them or make the matches differ`);
    }

    const state: RouteState = { hosts, options: o, path, headers, port, tlsRoute, grpc, seq: this.routes.length };
    this.routes.push(state);
    if (o.to) {
      o.to.allowFrom(this, { ports: [port!], kind: FlowKind.GATEWAY_ROUTE });
      this.prepareBackends(o.to);
    }
    for (const h of hosts) this.ensureRouteObject(h, tlsRoute ? 'TLS' : grpc ? 'GRPC' : 'HTTP');
  }

  /**
   * The VirtualServices of this gateway (Istio routing API) with a route to `service`, by host; none with the
   * Gateway API. Read-only: for a controller that must shift the gateway's share of the service's traffic too (Argo
   * Rollouts' `trafficRouting.istio.virtualServices`).
   */
  public virtualServicesFor(service: IMeshService): ApiObject[] {
    if (this.routingApi !== RoutingApi.ISTIO) return [];
    const hosts = [...new Set(this.routes.filter(r => r.options.to === service).flatMap(r => r.hosts))].sort();
    return hosts.map(h => this.routeObjects.get(h)).filter((o): o is ApiObject => o !== undefined);
  }

  /**
   * The EnvoyFilter that removes the trusted headers from every request the gateway receives, before the route is
   * chosen: Envoy's HTTP connection manager applies its early header mutations before route selection (a route's
   * `headers.request.remove` would apply only after the route was chosen on the forged value).
   */
  private renderTrustedHeadersFilter(): ApiObject {
    return new ApiObject(this, 'EnvoyFilter-trusted-headers', {
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'EnvoyFilter',
      metadata: this.meta(`${this.name}-trusted-headers`),
      spec: {
        workloadSelector: { labels: { ...this.podSelector } },
        configPatches: [{
          applyTo: 'NETWORK_FILTER',
          match: { context: 'GATEWAY', listener: { filterChain: { filter: { name: HTTP_CONNECTION_MANAGER } } } },
          patch: {
            operation: 'MERGE',
            value: {
              typed_config: {
                '@type': HTTP_CONNECTION_MANAGER_TYPE,
                'early_header_mutation_extensions': [{
                  name: EARLY_HEADER_MUTATION,
                  typed_config: { '@type': EARLY_HEADER_MUTATION_TYPE, 'mutations': this.trustedHeaders.map(h => ({ remove: h })) },
                }],
              },
            },
          },
        }],
      },
    } as any);
  }

  private meta(name: string, namespace = this.namespace.name) {
    return { name, namespace, labels: { ...this.labels } };
  }

  private servicePorts(): Array<{ name: string; port: number }> {
    const seen = new Map<number, string>();
    for (const l of this.listeners) if (!seen.has(l.port)) seen.set(l.port, l.name);
    return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([port, name]) => ({ name, port }));
  }

  // ---------------------------------------------------------------- resolution (shared by both APIs)

  /** The rules of one route: the target's own route table adapted for the gateway (gateway-rules.ts). */
  private resolve(r: RouteState, index: number): GatewayRule[] {
    const o = r.options;
    return gatewayRouteRules(this, {
      field: `routes[${index}]`,
      path: r.path,
      headers: r.headers,
      to: o.to,
      meshed: MeshedService.isMeshedService(o.to) ? o.to : undefined,
      port: r.port,
      version: o.version,
      redirect: o.redirect ? compact({
        authority: o.redirect.host,
        uri: o.redirect.path,
        scheme: o.redirect.scheme,
        redirectCode: o.redirect.statusCode ?? 301,
      }) : undefined,
      rewrite: o.rewrite,
      timeout: o.timeout,
      retries: o.retries,
      cors: o.cors,
      headerChanges: o.headerChanges,
      trustedHeaders: this.trustedHeaders,
    });
  }

  /**
   * Every rule of a host: routes most specific first (exact paths, then longer prefixes, then regexes; more header
   * matches first), and within a route the target's rules in the target's own order (the order the mesh applies).
   */
  private rulesFor(host: string, kind: 'HTTP' | 'GRPC' | 'TLS'): GatewayRule[] {
    const rank = (r: RouteState) => (r.path.kind === 'EXACT' ? 0 : r.path.kind === 'PREFIX' ? 1 : 2);
    return this.routes
      .filter(r => r.hosts.includes(host) && (r.tlsRoute ? 'TLS' : r.grpc ? 'GRPC' : 'HTTP') === kind)
      .sort((a, b) => rank(a) - rank(b)
        || (a.path.kind === 'PREFIX' && b.path.kind === 'PREFIX' ? segmentPrefix(b.path.value).length - segmentPrefix(a.path.value).length : 0)
        || Object.keys(b.headers).length - Object.keys(a.headers).length
        || a.seq - b.seq)
      .flatMap(r => this.resolve(r, r.seq));
  }

  // ---------------------------------------------------------------- objects per host

  private ensureRouteObject(host: string, kind: 'HTTP' | 'GRPC' | 'TLS') {
    const istio = this.routingApi === RoutingApi.ISTIO;
    const key = istio ? host : `${kind}:${host}`;
    if (this.routeObjects.has(key)) return;
    const name = `${this.name}-${hostSlug(host)}`;
    let obj: ApiObject;
    if (istio) {
      obj = new ApiObject(this, `VirtualService-${host}`, {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: this.meta(name),
        spec: Lazy.any({ produce: () => this.renderVirtualService(host) }),
      } as any);
    } else {
      const k8sKind = kind === 'TLS' ? 'TLSRoute' : kind === 'GRPC' ? 'GRPCRoute' : 'HTTPRoute';
      obj = new ApiObject(this, `${k8sKind}-${host}`, {
        apiVersion: GATEWAY_API_VERSION,
        kind: k8sKind,
        metadata: this.meta(name),
        spec: Lazy.any({ produce: () => this.renderK8sRoute(host, kind) }),
      } as any);
    }
    this.routeObjects.set(key, obj);
  }

  // ---------------------------------------------------------------- Istio API

  private renderIstioGateway(): any {
    return {
      selector: { ...this.podSelector },
      servers: this.listeners.map(l => compact({
        port: { number: l.port, name: l.name, protocol: l.protocol },
        hosts: [...l.hosts],
        tls: l.httpsRedirect ? { httpsRedirect: true } : l.bound ? compact({
          mode: l.bound.mode,
          credentialName: l.bound.credentialName,
          minProtocolVersion: l.bound.minProtocolVersion,
          cipherSuites: l.bound.cipherSuites,
        }) : undefined,
      })),
    };
  }

  private renderVirtualService(host: string): any {
    const http = renderIstioRules(this.rulesFor(host, 'HTTP').concat(this.rulesFor(host, 'GRPC')));
    const tls = this.tlsRoutesFor(host).map(r => ({
      match: [{ sniHosts: [host], port: this.listeners.find(l => l.protocol === 'TLS' && l.hosts.some(lh => hostCovers(lh, host)))!.port }],
      route: this.tlsSplit(r).map(d => compact({
        destination: compact({ host: r.options.to!.host, subset: d.subset, port: { number: r.port!.port } }),
        weight: d.weight,
      })),
    }));
    return compact({ hosts: [host], gateways: [this.name], http: http.length ? http : undefined, tls: tls.length ? tls : undefined });
  }

  /**
   * Where a TLS passthrough route's connections go: the fixed version, else the service's own layer-4 split of the
   * port (`replaceTcpRoutes`, e.g. a TCP canary), else the Service.
   */
  private tlsSplit(r: RouteState): Array<{ subset?: string; weight?: number }> {
    const to = r.options.to!;
    if (r.options.version) return [{ subset: r.options.version.subsetName }];
    const rule = MeshedService.isMeshedService(to) ? to.tcpRoutes.find(t => t.port.port === r.port!.port) : undefined;
    if (!rule) return [{}];
    return rule.destinations.map(d => ({ subset: d.version.subsetName, weight: rule.destinations.length > 1 ? d.weight ?? 0 : undefined }));
  }

  /** TLS passthrough routes of a host (connections, not requests: the service's HTTP routes do not apply). */
  private tlsRoutesFor(host: string): RouteState[] {
    return this.routes.filter(r => r.tlsRoute && r.hosts.includes(host));
  }

  // ---------------------------------------------------------------- Gateway API

  private k8sListenerName(l: ListenerState, host: string): string {
    return l.hosts.length === 1 ? l.name : `${l.name}-${hostSlug(host)}`;
  }

  private renderK8sGateway(): any {
    const listeners: any[] = [];
    for (const l of this.listeners) {
      for (const h of l.hosts) {
        listeners.push(compact({
          name: this.k8sListenerName(l, h),
          hostname: h === '*' ? undefined : h,
          port: l.port,
          protocol: l.protocol,
          tls: l.bound ? (l.bound.mode === 'PASSTHROUGH'
            ? { mode: 'Passthrough' }
            : { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: l.bound.credentialName }] }) : undefined,
          // routes live next to the gateway (least privilege: no other namespace can attach routes)
          allowedRoutes: { namespaces: { from: 'Same' } },
        }));
      }
    }
    const automated = this.deploymentMode === GatewayDeployment.ISTIO_AUTOMATED;
    return compact({
      gatewayClassName: ISTIO_GATEWAY_CLASS,
      // manual deployment: the Gateway is linked to the synthesized Service through its hostname
      addresses: automated ? undefined : [{ type: 'Hostname', value: this.serviceHost }],
      listeners,
    });
  }

  /** Gateway API: the HTTP-to-HTTPS redirect is an HTTPRoute on the redirecting listeners. */
  private ensureRedirectRoute() {
    if (this.redirectRoute) return;
    this.redirectRoute = new ApiObject(this, 'HTTPRoute-https-redirect', {
      apiVersion: GATEWAY_API_VERSION,
      kind: 'HTTPRoute',
      metadata: this.meta(`${this.name}-https-redirect`),
      spec: Lazy.any({
        produce: () => ({
          parentRefs: this.listeners.filter(l => l.httpsRedirect).flatMap(l => l.hosts.map(h => ({
            group: GATEWAY_API_GROUP, kind: 'Gateway', name: this.name, sectionName: this.k8sListenerName(l, h),
          }))),
          rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
        }),
      }),
    } as any);
  }

  private sections(host: string, protocols: Protocol[]): any[] {
    const out: any[] = [];
    for (const l of this.listeners) {
      if (l.httpsRedirect || !protocols.includes(l.protocol)) continue;
      for (const lh of l.hosts) {
        if (hostCovers(lh, host)) out.push({ group: GATEWAY_API_GROUP, kind: 'Gateway', name: this.name, sectionName: this.k8sListenerName(l, lh) });
      }
    }
    return out;
  }

  private renderK8sRoute(host: string, kind: 'HTTP' | 'GRPC' | 'TLS'): any {
    const parentRefs = this.sections(host, kind === 'TLS' ? ['TLS'] : ['HTTP', 'HTTPS']);
    const hostnames = [host];
    if (kind === 'TLS') {
      return {
        parentRefs,
        hostnames,
        rules: this.tlsRoutesFor(host).map(r => ({
          backendRefs: this.tlsSplit(r).map(d => compact({ ...this.backendRef(r.options.to!, d.subset, r.port!.port), weight: d.weight })),
        })),
      };
    }
    const rules = this.rulesFor(host, kind);
    checkGatewayApiOrder(this, host, rules, kind === 'GRPC', GATEWAY_ROUTING_TO_ISTIO);
    const ref: BackendRefOf = (rule, d, weight) => {
      const service = rule.services.get(d.host);
      if (!service) invalid(this, 'routes', d.host, 'is not a service the route knows');
      const port = d.port?.number ?? (service.ports.length === 1 ? service.ports[0].port : undefined);
      if (port === undefined) invalid(this, 'routes', d.host, 'needs a port: the service has several');
      return compact({ ...this.backendRef(service, d.subset, port), weight });
    };
    return {
      parentRefs,
      hostnames,
      rules: kind === 'GRPC' ? renderK8sGrpcRules(this, rules, ref, GATEWAY_ROUTING_TO_ISTIO)
        : renderK8sHttpRules(this, rules, ref, d => gatewayApiDuration(this, 'timeout', d), GATEWAY_ROUTING_TO_ISTIO),
    };
  }

  private backendRef(service: IMeshService, subset: string | undefined, port: number): any {
    const ns = service.namespace.name;
    let name = service.name;
    if (subset !== undefined) {
      const version = MeshedService.isMeshedService(service) ? service.versions.find(v => v.subsetName === subset) : undefined;
      if (!version) {
        invalid(this, 'routes', `${service.host} subset ${subset}`,
          `is not a version of a MeshedService (e.g. a controller's subset): the Gateway API routes to per-version Services; ${GATEWAY_ROUTING_TO_ISTIO}`);
      }
      // the service owns its per-version backend Services (in its own chart); asking creates them
      name = (service as MeshedService).versionBackend(version);
    }
    return compact({
      group: '',
      kind: 'Service',
      name,
      namespace: ns === this.namespace.name ? undefined : ns,
      port,
    });
  }

  /**
   * Gateway API: routes name Services, not subsets, so each version of a routed MeshedService gets a Service of its
   * own (`<service>-<subset>`, selecting `{app, version}`, as Istio's Bookinfo does for the Gateway API); versions
   * added later (a CanaryRelease) get theirs when they are added. Services in other namespaces are granted to the
   * gateway's routes with a ReferenceGrant there.
   */
  private prepareBackends(to: IMeshService) {
    if (this.routingApi !== RoutingApi.GATEWAY_API) return;
    // the route's backends, and the service the target mirrors to (a RequestMirror filter names it too)
    const mirror = MeshedService.isMeshedService(to) ? to.resilience.mirror?.service : undefined;
    for (const ns of [to.namespace.name, ...(mirror ? [mirror.namespace.name] : [])]) {
      if (ns === this.namespace.name || this.grants.has(ns)) continue;
      this.grants.set(ns, new ApiObject(this, `ReferenceGrant-${ns}`, {
        apiVersion: REFERENCE_GRANT_VERSION,
        kind: 'ReferenceGrant',
        metadata: this.meta(`${this.namespace.name}-${this.name}`, ns),
        spec: Lazy.any({ produce: () => this.renderGrant(ns) }),
      } as any));
    }
    // Gateway API routes name Services, not subsets: the service creates a backend Service per version, now and
    // for versions added later (a CanaryRelease), in its own chart and namespace
    if (MeshedService.isMeshedService(to) && to.versions.length) to.versionBackend(to.versions[0]);
  }

  private renderGrant(ns: string): any {
    const names = new Set<string>();
    const kinds = new Set<string>();
    for (const r of this.routes) {
      const to = r.options.to;
      if (!to) continue;
      const kind = r.tlsRoute ? 'TLSRoute' : r.grpc ? 'GRPCRoute' : 'HTTPRoute';
      const mirror = MeshedService.isMeshedService(to) && !r.tlsRoute ? to.resilience.mirror?.service : undefined;
      if (mirror?.namespace.name === ns) {
        names.add(mirror.name);
        kinds.add(kind);
      }
      if (to.namespace.name !== ns) continue;
      kinds.add(kind);
      names.add(to.name);
      if (MeshedService.isMeshedService(to)) for (const v of to.versions) names.add(`${to.name}-${v.subsetName}`);
    }
    return {
      from: [...kinds].sort().map(kind => ({ group: GATEWAY_API_GROUP, kind, namespace: this.namespace.name })),
      to: [...names].sort().map(name => ({ group: '', kind: 'Service', name })),
    };
  }
}
