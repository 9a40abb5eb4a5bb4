import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { ServicePort } from '../service/service-port';
import { checkInteger, checkLabels, checkPercent, compact } from '../validation';
import { istioDuration, optionalDuration } from './duration';

/** int32 fields of the DestinationRule schema. */
const INT32_MAX = 2147483647;
/** HTTP header names (RFC 9110 tokens); Envoy matches them lowercase. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
/** Cookie names (RFC 6265 tokens). */
const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * How a client proxy picks an endpoint of the service (DestinationRule `trafficPolicy.loadBalancer`).
 */
export class LoadBalancer {
  /** Round robin over healthy endpoints. */
  public static roundRobin(): LoadBalancer {
    return new LoadBalancer('roundRobin', { simple: 'ROUND_ROBIN' }, false);
  }
  /** Least requests (Envoy's power of two choices): Istio's default. */
  public static leastRequest(): LoadBalancer {
    return new LoadBalancer('leastRequest', { simple: 'LEAST_REQUEST' }, false);
  }
  /** A random healthy endpoint. */
  public static random(): LoadBalancer {
    return new LoadBalancer('random', { simple: 'RANDOM' }, false);
  }
  /**
   * Session affinity on an HTTP request header (HTTP ports only).
   * @param headerName the header, e.g. `x-user-id` (matched case-insensitively; written lowercase)
   */
  public static consistentHashHeader(headerName: string): LoadBalancer {
    const name = String(headerName).toLowerCase();
    if (!HEADER_NAME.test(name)) invalid('LoadBalancer', 'consistentHashHeader', headerName, 'must be an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-)');
    return new LoadBalancer('consistentHashHeader', { consistentHash: { httpHeaderName: name } }, true);
  }
  /**
   * Session affinity on an HTTP cookie (HTTP ports only); the proxy sets the cookie when it is missing.
   * @param name the cookie name
   * @param ttl the cookie lifetime; `Duration.seconds(0)` makes a session cookie
   * @param path the cookie path
   */
  public static consistentHashCookie(name: string, ttl: Duration, path?: string): LoadBalancer {
    if (!COOKIE_NAME.test(String(name))) invalid('LoadBalancer', 'consistentHashCookie name', name, 'must be a cookie name (letters, digits and !#$%&\'*+.^_`|~-)');
    if (path !== undefined && !path.startsWith('/')) invalid('LoadBalancer', 'consistentHashCookie path', path, "must start with '/'");
    const ms = ttl instanceof Duration ? ttl.toMilliseconds({ integral: false }) : NaN;
    const ttlString = ms === 0 ? '0s' : istioDuration('LoadBalancer', 'consistentHashCookie ttl', ttl);
    return new LoadBalancer('consistentHashCookie', { consistentHash: { httpCookie: compact({ name, ttl: ttlString, path }) } }, true);
  }
  /** Session affinity on the client's source IP address. */
  public static consistentHashSourceIp(): LoadBalancer {
    return new LoadBalancer('consistentHashSourceIp', { consistentHash: { useSourceIp: true } }, false);
  }

  /** The variant, e.g. `roundRobin` or `consistentHashCookie`. */
  public readonly kind: string;
  /** Whether the policy only works on HTTP ports (header and cookie hashing). */
  public readonly httpOnly: boolean;
  private readonly spec: any;

  private constructor(kind: string, spec: any, httpOnly: boolean) {
    this.kind = kind;
    this.spec = spec;
    this.httpOnly = httpOnly;
  }

  /** The `loadBalancer` JSON. @internal */
  public _render(): any {
    return JSON.parse(JSON.stringify(this.spec));
  }
}

/**
 * How client proxies secure connections to the service (DestinationRule `trafficPolicy.tls`).
 */
export class UpstreamTls {
  /** Istio mutual TLS with the workload certificates (the default, written explicitly). */
  public static istioMutual(): UpstreamTls {
    return new UpstreamTls('ISTIO_MUTUAL');
  }
  /**
   * Plain text: opts out of mutual TLS towards this service (e.g. for a port that is not served by a sidecar).
   * The server side must accept plain text (PeerAuthentication PERMISSIVE or DISABLE).
   */
  public static disabledAllowPlaintext(): UpstreamTls {
    return new UpstreamTls('DISABLE');
  }

  /** The Istio TLS mode: `ISTIO_MUTUAL` or `DISABLE`. */
  public readonly mode: string;

  private constructor(mode: string) {
    this.mode = mode;
  }
}

/** TCP connection pool settings (both TCP and HTTP ports). */
export interface TcpConnectionPool {
  /**
   * Maximum number of connections to one destination host.
   * @default - unlimited (2^32-1)
   */
  readonly maxConnections?: number;
  /**
   * TCP connect timeout.
   * @default 10s (Istio's default)
   */
  readonly connectTimeout?: Duration;
}

/** HTTP connection pool settings (HTTP ports only). */
export interface HttpConnectionPool {
  /**
   * Maximum number of requests waiting for a connection.
   * @default - unlimited (2^32-1)
   */
  readonly http1MaxPendingRequests?: number;
  /**
   * Maximum number of active requests to a destination.
   * @default - unlimited (2^32-1)
   */
  readonly http2MaxRequests?: number;
  /**
   * Maximum number of requests per connection; 1 disables keep-alive.
   * @default - unlimited
   */
  readonly maxRequestsPerConnection?: number;
  /**
   * Maximum number of outstanding retries to all hosts of the service.
   * @default - unlimited (2^32-1)
   */
  readonly maxRetries?: number;
  /**
   * Idle timeout of upstream connections.
   * @default 1h (Envoy's default)
   */
  readonly idleTimeout?: Duration;
}

/** Connection pool settings (DestinationRule `connectionPool`). */
export interface ConnectionPool {
  /**
   * TCP settings.
   * @default - Istio's defaults
   */
  readonly tcp?: TcpConnectionPool;
  /**
   * HTTP settings (only for services or ports that speak HTTP).
   * @default - Istio's defaults
   */
  readonly http?: HttpConnectionPool;
}

/** Circuit breaking: ejection of failing endpoints (DestinationRule `outlierDetection`). */
export interface OutlierDetection {
  /**
   * Consecutive 5xx errors (or connection failures on TCP ports) before an endpoint is ejected; 0 disables.
   * @default 5
   */
  readonly consecutive5xxErrors?: number;
  /**
   * Consecutive 502/503/504 errors before an endpoint is ejected; 0 disables.
   * @default - disabled
   */
  readonly consecutiveGatewayErrors?: number;
  /**
   * Time between ejection sweeps.
   * @default 10s
   */
  readonly interval?: Duration;
  /**
   * Minimum ejection time (multiplied by the number of ejections).
   * @default 30s
   */
  readonly baseEjectionTime?: Duration;
  /**
   * Maximum percentage of endpoints that may be ejected.
   * @default 10
   */
  readonly maxEjectionPercent?: number;
  /**
   * Outlier detection is active only while this percentage of endpoints is healthy.
   * @default 0
   */
  readonly minHealthPercent?: number;
}

/** A locality failover rule: when the endpoints of `from` are unhealthy, traffic goes to `to`. */
export interface LocalityFailover {
  /** The region the client is in, e.g. `us-east`. */
  readonly from: string;
  /** The region traffic fails over to, e.g. `us-west`. */
  readonly to: string;
}

/** A locality weighted distribution rule: clients in `from` send traffic to the localities of `to` by weight. */
export interface LocalityDistribution {
  /**
   * The client locality: `region`, `region/zone` or `region/zone/subzone`; `*` may end it (e.g. `us-west/zone1/*`).
   */
  readonly from: string;
  /** Upstream localities (same form as `from`) and their weights; the weights add up to 100. */
  readonly to: { [locality: string]: number };
}

/** Locality regions, zones and subzones: no '/', no whitespace; `*` alone as the last part. */
const LOCALITY_PART = /^[^/\s*]+$/;

function checkLocality(scope: string, field: string, locality: string, parts: number) {
  const ok = typeof locality === 'string' && locality.length > 0 && locality.split('/').every((p, i, all) =>
    LOCALITY_PART.test(p) || (p === '*' && i === all.length - 1 && i > 0)) && locality.split('/').length <= parts;
  if (!ok) {
    invalid(scope, field, locality, parts === 1
      ? "must be a region name (no '/', '*' or whitespace)"
      : "must be a locality 'region', 'region/zone' or 'region/zone/subzone' (a trailing '/*' matches every zone or subzone)");
  }
}

/**
 * Locality load balancing (DestinationRule `loadBalancer.localityLbSetting`), as Istio's "Locality failover" and
 * "Locality weighted distribution" tasks show. Failover needs outlier detection on the same policy (Envoy only moves
 * traffic away from endpoints it has ejected); the library checks that it is set.
 */
export class LocalityLoadBalancing {
  /**
   * Region failover: when every endpoint of the client's region is unhealthy, traffic goes to the `to` region of
   * the rule whose `from` is the client's region (Istio's default is the closest locality otherwise).
   */
  public static failover(rules: LocalityFailover[]): LocalityLoadBalancing {
    const where = 'LocalityLoadBalancing.failover';
    if (!Array.isArray(rules) || rules.length === 0) invalid(where, 'rules', rules, 'must list at least one { from, to } region pair');
    const seen = new Set<string>();
    for (const [i, r] of rules.entries()) {
      checkLocality(where, `rules[${i}].from`, r?.from, 1);
      checkLocality(where, `rules[${i}].to`, r?.to, 1);
      if (r.from === r.to) invalid(where, `rules[${i}].to`, r.to, 'must differ from `from`');
      if (seen.has(r.from)) invalid(where, `rules[${i}].from`, r.from, 'must appear once: a region fails over to one region');
      seen.add(r.from);
    }
    return new LocalityLoadBalancing('failover', { failover: rules.map(r => ({ from: r.from, to: r.to })) });
  }
  /**
   * Priority failover by endpoint labels, e.g. `['topology.istio.io/network', 'topology.kubernetes.io/region',
   * 'topology.kubernetes.io/zone']`: endpoints that share more leading labels with the client are preferred. An
   * entry `key=value` (e.g. `topology.istio.io/network=network1`) prefers endpoints with that value instead of the
   * client's own.
   * @param labels the label keys (or `key=value`), most important first
   */
  public static failoverPriority(labels: string[]): LocalityLoadBalancing {
    const where = 'LocalityLoadBalancing.failoverPriority';
    if (!Array.isArray(labels) || labels.length === 0) invalid(where, 'labels', labels, 'must list at least one label key');
    const keys: string[] = [];
    for (const l of labels) {
      if (typeof l !== 'string') invalid(where, 'labels', l, "must be label keys or 'key=value'");
      const eq = l.indexOf('=');
      const [key, value] = eq < 0 ? [l, 'x'] : [l.slice(0, eq), l.slice(eq + 1)];
      checkLabels(where, 'labels', { [key]: value });
      keys.push(key);
    }
    if (new Set(keys).size !== keys.length) invalid(where, 'labels', labels, 'must not repeat a label');
    return new LocalityLoadBalancing('failoverPriority', { failoverPriority: [...labels] });
  }
  /**
   * Weighted distribution: clients in each `from` locality send traffic to the `to` localities by weight (the
   * weights of a rule add up to 100). Outlier detection is not required.
   */
  public static distribute(rules: LocalityDistribution[]): LocalityLoadBalancing {
    const where = 'LocalityLoadBalancing.distribute';
    if (!Array.isArray(rules) || rules.length === 0) invalid(where, 'rules', rules, 'must list at least one { from, to } rule');
    const seen = new Set<string>();
    const out = rules.map((r, i) => {
      checkLocality(where, `rules[${i}].from`, r?.from, 3);
      if (seen.has(r.from)) invalid(where, `rules[${i}].from`, r.from, 'must appear once');
      seen.add(r.from);
      const to = r.to ?? {};
      const keys = Object.keys(to).sort();
      if (keys.length === 0) invalid(where, `rules[${i}].to`, to, 'must name at least one locality');
      let sum = 0;
      const sorted: { [k: string]: number } = {};
      for (const k of keys) {
        checkLocality(where, `rules[${i}].to`, k, 3);
        checkInteger(where, `rules[${i}].to['${k}']`, to[k], 0, 100);
        sum += to[k];
        sorted[k] = to[k];
      }
      if (sum !== 100) invalid(where, `rules[${i}].to`, `weights adding up to ${sum}`, 'weights must add up to 100');
      return { from: r.from, to: sorted };
    });
    return new LocalityLoadBalancing('distribute', { distribute: out });
  }
  /** Turns locality load balancing off for this service or port (Istio enables it by default). */
  public static disabled(): LocalityLoadBalancing {
    return new LocalityLoadBalancing('disabled', { enabled: false });
  }

  /** The variant: `failover`, `failoverPriority`, `distribute` or `disabled`. */
  public readonly kind: string;
  private readonly spec: any;

  private constructor(kind: string, spec: any) {
    this.kind = kind;
    this.spec = spec;
  }

  /** Whether the variant needs outlier detection to work (failover, failoverPriority). */
  public get needsOutlierDetection(): boolean {
    return this.kind === 'failover' || this.kind === 'failoverPriority';
  }

  /** The `localityLbSetting` JSON. @internal */
  public _render(): any {
    return JSON.parse(JSON.stringify(this.spec));
  }
}

/** Traffic policy settings that apply to a whole service, one of its ports or one of its versions (subsets). */
export interface TrafficPolicySettings {
  /**
   * The load balancing algorithm.
   * @default - Istio's default (LEAST_REQUEST)
   */
  readonly loadBalancer?: LoadBalancer;
  /**
   * Locality load balancing: failover between regions, failover by label priority, or weighted distribution.
   * Failover needs `outlierDetection` (on this policy or inherited from the service's).
   * @default - Istio's default (locality-aware, failover to the closest locality when outlier detection is set)
   */
  readonly locality?: LocalityLoadBalancing;
  /**
   * Connection pool limits.
   * @default - Istio's defaults
   */
  readonly connectionPool?: ConnectionPool;
  /**
   * Outlier detection (ejection of failing endpoints).
   * @default - none
   */
  readonly outlierDetection?: OutlierDetection;
  /**
   * TLS towards the service. At service level it is always written; at port level only when set.
   * @default UpstreamTls.istioMutual()
   */
  readonly tls?: UpstreamTls;
}

/** Traffic policy settings for one port of the service. */
export interface PortTrafficPolicy extends TrafficPolicySettings {
  /** The port (one the service exposes). */
  readonly port: ServicePort;
}

/** The client-side traffic policy of a service (DestinationRule `trafficPolicy`). */
export interface TrafficPolicy extends TrafficPolicySettings {
  /**
   * Settings that override the service-level ones for single ports. Only the settings given are overridden: the
   * others are inherited from the service level (Istio itself replaces the whole policy of a port that has an entry,
   * so the library writes the merged policy into each entry). Connection pool and outlier detection settings merge
   * field by field.
   * @default - none
   */
  readonly portSettings?: PortTrafficPolicy[];
}

/**
 * Renders a TrafficPolicy for a service with `ports`. Throws for HTTP-only settings on services or ports that do
 * not speak HTTP, for ports the service does not expose, and for locality failover without outlier detection.
 *
 * Each `portLevelSettings` entry carries the whole effective policy of its port (service level merged with the
 * port's overrides): Istio applies a port-level entry instead of the service-level policy, not on top of it.
 * @internal
 */
export function renderTrafficPolicy(scope: Construct, policy: TrafficPolicy, ports: ServicePort[]): any {
  const anyHttp = ports.some(p => p.isHttp);
  const top = renderSettings(scope, 'trafficPolicy', policy, anyHttp, ports.map(p => p.name).join(', '));
  top.tls = { mode: (policy.tls ?? UpstreamTls.istioMutual()).mode };
  checkLocalityNeedsOutlier(scope, 'trafficPolicy', top);
  const seen = new Set<number>();
  const portLevel = (policy.portSettings ?? []).map((s, i) => {
    const field = `trafficPolicy.portSettings[${i}]`;
    const port = ports.find(p => s.port && p.port === s.port.port && p.name === s.port.name);
    if (!port) {
      invalid(scope, `${field}.port`, s.port ? `${s.port.name}/${s.port.port}` : s.port,
        `must be a port the service exposes: ${ports.map(p => `${p.name}/${p.port}`).join(', ')}`);
    }
    if (seen.has(port.port)) invalid(scope, `${field}.port`, port.port, 'must appear once in portSettings');
    seen.add(port.port);
    const own = renderSettings(scope, field, s, port.isHttp, `${port.name}/${port.port}`);
    if (s.tls) own.tls = { mode: s.tls.mode };
    const merged = mergeSettings(top, own);
    checkLocalityNeedsOutlier(scope, field, merged);
    return { port: { number: port.port }, ...merged };
  }).sort((a, b) => a.port.number - b.port.number);
  return compact({ ...top, portLevelSettings: portLevel });
}

/**
 * Renders the traffic policy of one subset (version). Istio overrides the service's policy with each field the
 * subset sets, as a whole, and a port-level entry of the service with each of them too; so the subset policy holds:
 * - the fields it sets, each merged over the service-level field (a subset that only sets a connection pool limit
 *   keeps the service's other pool limits, its outlier detection and its TLS);
 * - for every port with service-level port settings, a complete port-level entry: that port's merged policy with
 *   the subset's settings on top (Istio replaces a port's policy with the subset's port-level entry).
 * @internal
 */
export function renderSubsetTrafficPolicy(
  scope: Construct, field: string, settings: TrafficPolicySettings, service: TrafficPolicy, ports: ServicePort[]): any {
  const anyHttp = ports.some(p => p.isHttp);
  const { portLevelSettings, ...top } = renderTrafficPolicy(scope, service, ports);
  const own = renderSettings(scope, field, settings, anyHttp, ports.map(p => p.name).join(', '));
  if (settings.tls) own.tls = { mode: settings.tls.mode };
  const effective = mergeSettings(top, own);
  checkLocalityNeedsOutlier(scope, field, effective);
  const out: any = {};
  for (const k of Object.keys(own)) out[k] = effective[k];
  const portLevel = ((portLevelSettings ?? []) as any[]).map(({ port, ...entry }) => {
    const merged = mergeSettings(entry, own);
    checkLocalityNeedsOutlier(scope, `${field} (port ${port.number})`, merged);
    return { port, ...merged };
  });
  return compact({ ...out, portLevelSettings: Object.keys(own).length ? portLevel : undefined });
}

/** Rendered service-level settings with a port's (or subset's) rendered overrides on top. */
function mergeSettings(base: any, over: any): any {
  const lbAlgo = (lb: any) => (lb ? compact({ simple: lb.simple, consistentHash: lb.consistentHash }) : {});
  const algo = Object.keys(lbAlgo(over.loadBalancer)).length ? lbAlgo(over.loadBalancer) : lbAlgo(base.loadBalancer);
  const loadBalancer = compact({ ...algo, localityLbSetting: over.loadBalancer?.localityLbSetting ?? base.loadBalancer?.localityLbSetting });
  const pool = compact({
    tcp: compact({ ...base.connectionPool?.tcp, ...over.connectionPool?.tcp }),
    http: compact({ ...base.connectionPool?.http, ...over.connectionPool?.http }),
  });
  return compact({
    loadBalancer,
    connectionPool: pool,
    outlierDetection: compact({ ...base.outlierDetection, ...over.outlierDetection }),
    tls: over.tls ?? base.tls,
  });
}

function checkLocalityNeedsOutlier(scope: Construct, field: string, rendered: any) {
  const l = rendered.loadBalancer?.localityLbSetting;
  if ((l?.failover || l?.failoverPriority) && !rendered.outlierDetection) {
    invalid(scope, `${field}.locality`, l.failover ? 'failover' : 'failoverPriority',
      'needs outlierDetection (e.g. { consecutive5xxErrors: 5 }) on the same policy or the service: Envoy only fails over from endpoints it has ejected');
  }
}

function renderSettings(scope: Construct, field: string, s: TrafficPolicySettings, http: boolean, portsText: string): any {
  const httpOnly = (what: string) =>
    invalid(scope, `${field}.${what}`, 'set', `is HTTP-only, but ${portsText} ${portsText.includes(',') ? 'do' : 'does'} not speak HTTP; use an HTTP, HTTP2, gRPC or gRPC-Web port`);
  if (s.loadBalancer !== undefined && !(s.loadBalancer instanceof LoadBalancer)) {
    invalid(scope, `${field}.loadBalancer`, s.loadBalancer, 'must be made with LoadBalancer.roundRobin(), leastRequest(), random() or consistentHash...()');
  }
  if (s.loadBalancer?.httpOnly && !http) httpOnly(`loadBalancer (${s.loadBalancer.kind})`);
  const cp = s.connectionPool;
  let connectionPool: any;
  if (cp) {
    if (cp.http && !http) httpOnly('connectionPool.http');
    const i32 = (f: string, v: number | undefined, min = 0) => { checkInteger(scope, `${field}.connectionPool.${f}`, v, min, INT32_MAX); return v; };
    connectionPool = compact({
      tcp: cp.tcp ? compact({
        maxConnections: i32('tcp.maxConnections', cp.tcp.maxConnections, 1),
        connectTimeout: optionalDuration(scope, `${field}.connectionPool.tcp.connectTimeout`, cp.tcp.connectTimeout),
      }) : undefined,
      http: cp.http ? compact({
        http1MaxPendingRequests: i32('http.http1MaxPendingRequests', cp.http.http1MaxPendingRequests, 1),
        http2MaxRequests: i32('http.http2MaxRequests', cp.http.http2MaxRequests, 1),
        maxRequestsPerConnection: i32('http.maxRequestsPerConnection', cp.http.maxRequestsPerConnection),
        maxRetries: i32('http.maxRetries', cp.http.maxRetries),
        idleTimeout: optionalDuration(scope, `${field}.connectionPool.http.idleTimeout`, cp.http.idleTimeout),
      }) : undefined,
    });
  }
  const od = s.outlierDetection;
  let outlierDetection: any;
  if (od) {
    checkInteger(scope, `${field}.outlierDetection.consecutive5xxErrors`, od.consecutive5xxErrors, 0, INT32_MAX);
    checkInteger(scope, `${field}.outlierDetection.consecutiveGatewayErrors`, od.consecutiveGatewayErrors, 0, INT32_MAX);
    if (od.consecutiveGatewayErrors !== undefined && !http) httpOnly('outlierDetection.consecutiveGatewayErrors');
    checkPercent(scope, `${field}.outlierDetection.maxEjectionPercent`, od.maxEjectionPercent);
    checkInteger(scope, `${field}.outlierDetection.maxEjectionPercent`, od.maxEjectionPercent, 0, 100);
    checkPercent(scope, `${field}.outlierDetection.minHealthPercent`, od.minHealthPercent);
    checkInteger(scope, `${field}.outlierDetection.minHealthPercent`, od.minHealthPercent, 0, 100);
    outlierDetection = compact({
      consecutive5xxErrors: od.consecutive5xxErrors,
      consecutiveGatewayErrors: od.consecutiveGatewayErrors,
      interval: optionalDuration(scope, `${field}.outlierDetection.interval`, od.interval),
      baseEjectionTime: optionalDuration(scope, `${field}.outlierDetection.baseEjectionTime`, od.baseEjectionTime),
      maxEjectionPercent: od.maxEjectionPercent,
      minHealthPercent: od.minHealthPercent,
    });
  }
  if (s.locality !== undefined && !(s.locality instanceof LocalityLoadBalancing)) {
    invalid(scope, `${field}.locality`, s.locality, 'must be made with LocalityLoadBalancing.failover(), failoverPriority(), distribute() or disabled()');
  }
  const loadBalancer = compact({ ...s.loadBalancer?._render(), localityLbSetting: s.locality?._render() });
  return compact({
    loadBalancer,
    connectionPool,
    outlierDetection,
  });
}
