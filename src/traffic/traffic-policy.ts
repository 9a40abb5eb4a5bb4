import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { ServicePort } from '../service/service-port';
import { checkInteger, checkPercent, compact } from '../validation';
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

/** Traffic policy settings that apply to a whole service or to one of its ports. */
export interface TrafficPolicySettings {
  /**
   * The load balancing algorithm.
   * @default - Istio's default (LEAST_REQUEST)
   */
  readonly loadBalancer?: LoadBalancer;
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
   * Settings that override the service-level ones for single ports.
   * @default - none
   */
  readonly portSettings?: PortTrafficPolicy[];
}

/**
 * Renders a TrafficPolicy for a service with `ports`. Throws for HTTP-only settings on services or ports that do
 * not speak HTTP, and for ports the service does not expose.
 * @internal
 */
export function renderTrafficPolicy(scope: Construct, policy: TrafficPolicy, ports: ServicePort[]): any {
  const anyHttp = ports.some(p => p.isHttp);
  const top = renderSettings(scope, 'trafficPolicy', policy, anyHttp, ports.map(p => p.name).join(', '));
  top.tls = { mode: (policy.tls ?? UpstreamTls.istioMutual()).mode };
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
    const rendered = renderSettings(scope, field, s, port.isHttp, `${port.name}/${port.port}`);
    if (s.tls) rendered.tls = { mode: s.tls.mode };
    return { port: { number: port.port }, ...rendered };
  }).sort((a, b) => a.port.number - b.port.number);
  return compact({ ...top, portLevelSettings: portLevel });
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
  return compact({
    loadBalancer: s.loadBalancer?._render(),
    connectionPool,
    outlierDetection,
  });
}
