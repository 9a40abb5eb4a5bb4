import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { checkInteger, checkPercent, compact } from '../validation';
import { istioDuration, millisOf } from './duration';
import { RequestMatch } from './request-match';
import { PortProtocol, ServicePort } from '../service/service-port';
import { checkMeshService, IMeshService } from '../service/workload';

/**
 * Conditions on which the client proxy retries a request: Envoy's `x-envoy-retry-on` and `x-envoy-retry-grpc-on`
 * policies, as Istio's `retries.retryOn` accepts them.
 */
export enum RetryOn {
  /** Any 5xx response, or a connect failure / reset / refused stream. */
  FIVE_XX = '5xx',
  /** 502, 503 or 504 responses, and connect failures. */
  GATEWAY_ERROR = 'gateway-error',
  /** The upstream did not respond at all (disconnect, reset, read timeout). */
  RESET = 'reset',
  /** The upstream reset before the request was sent. */
  RESET_BEFORE_REQUEST = 'reset-before-request',
  /** A connection to the upstream could not be made. */
  CONNECT_FAILURE = 'connect-failure',
  /** Envoy's own rate limiter refused the request. */
  ENVOY_RATELIMITED = 'envoy-ratelimited',
  /** A retriable 4xx response (currently 409). */
  RETRIABLE_4XX = 'retriable-4xx',
  /** The upstream refused the HTTP/2 stream (REFUSED_STREAM). */
  REFUSED_STREAM = 'refused-stream',
  /** The status codes given in `retriableStatusCodes` (added automatically when they are set). */
  RETRIABLE_STATUS_CODES = 'retriable-status-codes',
  /** Responses carrying a header listed in `x-envoy-retriable-header-names`. */
  RETRIABLE_HEADERS = 'retriable-headers',
  /** An HTTP/3 connection failed after it was established. */
  HTTP3_POST_CONNECT_FAILURE = 'http3-post-connect-failure',
  /** gRPC status CANCELLED. */
  CANCELLED = 'cancelled',
  /** gRPC status DEADLINE_EXCEEDED. */
  DEADLINE_EXCEEDED = 'deadline-exceeded',
  /** gRPC status INTERNAL. */
  INTERNAL = 'internal',
  /** gRPC status RESOURCE_EXHAUSTED. */
  RESOURCE_EXHAUSTED = 'resource-exhausted',
  /** gRPC status UNAVAILABLE. */
  UNAVAILABLE = 'unavailable',
}

/** Retries of a route (VirtualService `http[].retries`); every field of Istio's HTTPRetry. */
export interface RetryPolicy {
  /**
   * Number of retries (not counting the first try); 0 disables retries (then no other field may be set, as
   * Istio's validation requires).
   */
  readonly attempts: number;
  /**
   * Timeout of each try; at most the route timeout. On gRPC ports it applies only with `grpcTimeout` (a per-try
   * timeout would cut streams just like a route timeout).
   * @default - the route timeout
   */
  readonly perTryTimeout?: Duration;
  /**
   * The base interval of Envoy's exponential back-off between retries (jittered, capped at 10 times the base).
   * @default 25ms (Envoy's default)
   */
  readonly backoff?: Duration;
  /**
   * Retry in other localities when the local one fails (Envoy's `previous_priorities` retry priority).
   * @default false
   */
  readonly retryRemoteLocalities?: boolean;
  /**
   * Whether retries avoid the hosts already tried. Istio turns this on by default; `false` allows retrying the
   * same endpoint.
   * @default true (Istio's default)
   */
  readonly retryIgnorePreviousHosts?: boolean;
  /**
   * Conditions on which to retry.
   * @default - Istio's default: connect-failure, refused-stream, unavailable, cancelled, retriable-status-codes
   */
  readonly retryOn?: RetryOn[];
  /**
   * HTTP status codes to retry on, 100-599 (adds `retriable-status-codes`). Codes Istio knows by name (Go's
   * net/http list: 429, 503...) are written into `retryOn`, where Istio reads them as status codes; other codes
   * (520, 522, 599...) would be read as unknown policy names and rejected, so they are given to Envoy in the
   * `x-envoy-retriable-status-codes` request header the route sets, which Envoy's router reads with
   * `retriable-status-codes`.
   * @default - none
   */
  readonly retriableStatusCodes?: number[];
}

/**
 * The status codes Istio's `retryOn` parser reads as codes: those Go's `net/http.StatusText` names (Istio 1.30,
 * pilot/pkg/networking/core/route/retry/retry.go `parseRetryOn`, and pkg/config/validation `validateHTTPRetry`).
 * Any other number is taken for a policy name: the webhook rejects it and Envoy would never retry on it.
 */
const ISTIO_NAMED_STATUS_CODES = new Set<number>([
  100, 101, 102, 103,
  200, 201, 202, 203, 204, 205, 206, 207, 208, 226,
  300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418,
  421, 422, 423, 424, 425, 426, 428, 429, 431, 451,
  500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** Envoy's router header for extra retriable status codes (read together with `retriable-status-codes`). @internal */
export const ENVOY_RETRIABLE_STATUS_CODES_HEADER = 'x-envoy-retriable-status-codes';

/** A delay injected into a share of requests. */
export interface FaultDelay {
  /** The delay. */
  readonly fixedDelay: Duration;
  /** Share of requests delayed, 0-100 (fractions allowed). */
  readonly percentage: number;
}

/** An error returned instead of forwarding a share of requests. */
export interface FaultAbort {
  /** The HTTP status returned (200-599). */
  readonly httpStatus: number;
  /** Share of requests aborted, 0-100 (fractions allowed). */
  readonly percentage: number;
}

/** Fault injection (VirtualService `http[].fault`), for testing resilience. */
export interface FaultInjection {
  /**
   * Inject the fault only into requests that match, e.g. `RequestMatch.headerExact('end-user', 'jason')` (Istio's
   * fault-injection task): each route of the service gets a copy for the matching requests, with the fault, placed
   * before it, so matched requests still go where the route sends them. Give several conditions with
   * `RequestMatch.all(...)`. The copies are named `<route>-fault`: a progressive CanaryRelease's controller (Argo
   * Rollouts) manages only its own route, so matched requests keep the starting weights there.
   * @default - every request
   */
  readonly match?: RequestMatch;
  /**
   * Delay requests.
   * @default - no delay
   */
  readonly delay?: FaultDelay;
  /**
   * Abort requests.
   * @default - no abort
   */
  readonly abort?: FaultAbort;
}

/** Traffic mirroring (shadowing) to another meshed service; responses from the mirror are discarded. */
export interface MirrorPolicy {
  /** The service that receives the copies (in the same mesh; not the service itself). */
  readonly service: IMeshService;
  /**
   * Share of requests mirrored, 0-100 (fractions allowed).
   * @default 100
   */
  readonly percentage?: number;
  /**
   * The port of the mirror service. Required when the mirror service has more than one port.
   * @default - the mirror service's only port
   */
  readonly port?: ServicePort;
}

/**
 * Resilience settings of the routes to a service (VirtualService `http[]`). HTTP-only: a service with no HTTP port
 * cannot have them. They apply to every HTTP route of the service, including routes that a CanaryRelease sets.
 */
export interface RouteResilience {
  /**
   * Request timeout on the service's HTTP and HTTP/2 ports, but NOT on gRPC and gRPC-Web ports: a gRPC stream may
   * last for hours and a route timeout would cut it. Set `grpcTimeout` for gRPC ports.
   * @default - no timeout (Istio's default)
   */
  readonly timeout?: Duration;
  /**
   * Request timeout on the service's gRPC ports (`ServicePort.grpc`, `ServicePort.grpcWeb`): an explicit opt-in,
   * for services whose gRPC methods are all unary or whose streams end sooner. It also lets `retries.perTryTimeout`
   * apply there.
   * @default - no timeout on gRPC ports (streams are never cut)
   */
  readonly grpcTimeout?: Duration;
  /**
   * Retries.
   * @default - Istio's default retry policy (2 attempts)
   */
  readonly retries?: RetryPolicy;
  /**
   * Fault injection.
   * @default - none
   */
  readonly fault?: FaultInjection;
  /**
   * Mirroring of requests to another meshed service.
   * @default - none
   */
  readonly mirror?: MirrorPolicy;
}

const KNOWN_RETRY_ON: string[] = Object.values(RetryOn);

/** Whether any resilience setting is given. @internal */
export function hasResilience(r: RouteResilience): boolean {
  return r.timeout !== undefined || r.grpcTimeout !== undefined || r.retries !== undefined || r.fault !== undefined || r.mirror !== undefined;
}

/** The RouteResilience fields of a props object (e.g. MeshedServiceProps). @internal */
export function pickRouteResilience(r: RouteResilience): RouteResilience {
  return { timeout: r.timeout, grpcTimeout: r.grpcTimeout, retries: r.retries, fault: r.fault, mirror: r.mirror };
}

/** Whether a port carries gRPC, whose streams a route timeout would cut. @internal */
export function isGrpcPort(port: ServicePort): boolean {
  return port.protocol === PortProtocol.GRPC || port.protocol === PortProtocol.GRPC_WEB;
}

/**
 * The resilience fields of the routes of one port: on gRPC ports the route timeout is `grpcTimeout` (none unless
 * given), and the per-try timeout only applies with it; other ports use `timeout`. `rendered` comes from
 * `renderResilience`.
 * @internal
 */
export function resilienceForPort(scope: Construct, r: RouteResilience, rendered: any, port: ServicePort | undefined): any {
  if (!port || !isGrpcPort(port)) return rendered;
  const out = { ...rendered };
  delete out.timeout;
  if (r.grpcTimeout !== undefined) out.timeout = istioDuration(scope, 'grpcTimeout', r.grpcTimeout);
  if (out.retries && r.grpcTimeout === undefined) {
    const { perTryTimeout: _dropped, ...rest } = out.retries;
    out.retries = rest;
  }
  return out;
}

/**
 * Validates resilience settings of `self` (a service with `ports`) and returns the VirtualService route fields.
 * `grpcAware` (MeshedService): `timeout` must reach a non-gRPC port and `grpcTimeout` a gRPC port; the caller then
 * applies `resilienceForPort` per port.
 * @internal
 */
export function renderResilience(scope: Construct, r: RouteResilience, self: IMeshService, grpcAware = false): any {
  if (!hasResilience(r)) return {};
  if (!self.ports.some(p => p.isHttp)) {
    const set = ['timeout', 'retries', 'fault', 'mirror'].filter(k => (r as any)[k] !== undefined).join(', ');
    invalid(scope, set, 'set', `is HTTP-only, but ports ${self.ports.map(p => `${p.name}/${p.port}`).join(', ')} do not speak HTTP; use an HTTP, HTTP2, gRPC or gRPC-Web port`);
  }
  const out: any = {};
  let timeoutMs: number | undefined;
  const httpPorts = self.ports.filter(p => p.isHttp);
  const grpcPorts = httpPorts.filter(isGrpcPort);
  if (r.timeout !== undefined) {
    timeoutMs = millisOf(scope, 'timeout', r.timeout);
    out.timeout = istioDuration(scope, 'timeout', r.timeout);
    if (grpcAware && grpcPorts.length === httpPorts.length) {
      invalid(scope, 'timeout', r.timeout.toHumanString(),
        `does not apply to gRPC ports (${grpcPorts.map(p => `${p.name}/${p.port}`).join(', ')}): a route timeout would cut streams; set grpcTimeout to time out gRPC calls`);
    }
  }
  let grpcTimeoutMs: number | undefined;
  if (r.grpcTimeout !== undefined) {
    grpcTimeoutMs = millisOf(scope, 'grpcTimeout', r.grpcTimeout);
    istioDuration(scope, 'grpcTimeout', r.grpcTimeout);
    if (grpcAware && grpcPorts.length === 0) {
      invalid(scope, 'grpcTimeout', r.grpcTimeout.toHumanString(), `applies to gRPC ports only, and ${httpPorts.map(p => `${p.name}/${p.port}`).join(', ')} are not gRPC: use timeout`);
    }
  }
  if (r.retries) {
    const rt = r.retries;
    checkInteger(scope, 'retries.attempts', rt.attempts, 0, 2147483647);
    if (rt.attempts === 0) {
      const extra = ['perTryTimeout', 'retryOn', 'retriableStatusCodes', 'backoff', 'retryRemoteLocalities', 'retryIgnorePreviousHosts']
        .filter(k => (rt as any)[k] !== undefined && !(Array.isArray((rt as any)[k]) && (rt as any)[k].length === 0));
      if (extra.length) invalid(scope, 'retries', extra.join(', '), 'must not be set when attempts is 0 (retries disabled): Istio rejects such a policy');
    }
    const retryOn: string[] = [];
    for (const c of rt.retryOn ?? []) {
      if (!KNOWN_RETRY_ON.includes(c)) invalid(scope, 'retries.retryOn', c, `must be one of ${KNOWN_RETRY_ON.join(', ')}`);
      if (!retryOn.includes(c)) retryOn.push(c);
    }
    for (const code of rt.retriableStatusCodes ?? []) checkInteger(scope, 'retries.retriableStatusCodes', code, 100, 599);
    if (rt.retriableStatusCodes?.length && !retryOn.includes(RetryOn.RETRIABLE_STATUS_CODES)) retryOn.push(RetryOn.RETRIABLE_STATUS_CODES);
    let perTryTimeout: string | undefined;
    if (rt.perTryTimeout !== undefined) {
      const ms = millisOf(scope, 'retries.perTryTimeout', rt.perTryTimeout);
      if (timeoutMs !== undefined && ms > timeoutMs) {
        invalid(scope, 'retries.perTryTimeout', rt.perTryTimeout.toHumanString(), `must not be longer than the route timeout (${r.timeout!.toHumanString()})`);
      }
      if (grpcTimeoutMs !== undefined && ms > grpcTimeoutMs) {
        invalid(scope, 'retries.perTryTimeout', rt.perTryTimeout.toHumanString(), `must not be longer than grpcTimeout (${r.grpcTimeout!.toHumanString()})`);
      }
      perTryTimeout = istioDuration(scope, 'retries.perTryTimeout', rt.perTryTimeout);
      if (grpcAware && grpcTimeoutMs === undefined && grpcPorts.length === httpPorts.length) {
        invalid(scope, 'retries.perTryTimeout', rt.perTryTimeout.toHumanString(),
          `does not apply to gRPC ports (${grpcPorts.map(p => `${p.name}/${p.port}`).join(', ')}) without grpcTimeout: a per-try timeout would cut streams; set grpcTimeout to time out gRPC calls`);
      }
    }
    for (const k of ['retryRemoteLocalities', 'retryIgnorePreviousHosts'] as const) {
      if (rt[k] !== undefined && typeof rt[k] !== 'boolean') invalid(scope, `retries.${k}`, rt[k], 'must be true or false');
    }
    const codes = [...new Set(rt.retriableStatusCodes ?? [])].sort((a, b) => a - b);
    const named = codes.filter(c => ISTIO_NAMED_STATUS_CODES.has(c)).map(String);
    const unnamed = codes.filter(c => !ISTIO_NAMED_STATUS_CODES.has(c)).map(String);
    out.retries = compact({
      attempts: rt.attempts,
      perTryTimeout,
      retryOn: retryOn.length ? [...retryOn, ...named].join(',') : undefined,
      backoff: rt.backoff === undefined ? undefined : istioDuration(scope, 'retries.backoff', rt.backoff),
      retryRemoteLocalities: rt.retryRemoteLocalities,
      retryIgnorePreviousHosts: rt.retryIgnorePreviousHosts,
    });
    // Envoy's router applies the route's request headers before it builds the retry state, which adds the codes of
    // this header to the route's retriable status codes and then strips it (envoy source/common/router/router.cc,
    // retry_state_impl.cc): the upstream never sees it.
    if (unnamed.length) out.headers = { request: { set: { [ENVOY_RETRIABLE_STATUS_CODES_HEADER]: unnamed.join(',') } } };
  }
  if (r.fault) {
    const f = r.fault;
    if (!f.delay && !f.abort) invalid(scope, 'fault', f, 'must set delay, abort or both');
    if (f.match !== undefined && !(f.match instanceof RequestMatch)) invalid(scope, 'fault.match', f.match, 'must be a RequestMatch (RequestMatch.all(...) for several conditions)');
    const fault: any = {};
    if (f.delay) {
      checkPercent(scope, 'fault.delay.percentage', f.delay.percentage);
      if (f.delay.percentage === undefined) invalid(scope, 'fault.delay.percentage', undefined, 'must be a percentage from 0 to 100');
      fault.delay = { fixedDelay: istioDuration(scope, 'fault.delay.fixedDelay', f.delay.fixedDelay), percentage: { value: f.delay.percentage } };
    }
    if (f.abort) {
      checkInteger(scope, 'fault.abort.httpStatus', f.abort.httpStatus, 200, 599);
      checkPercent(scope, 'fault.abort.percentage', f.abort.percentage);
      if (f.abort.percentage === undefined) invalid(scope, 'fault.abort.percentage', undefined, 'must be a percentage from 0 to 100');
      fault.abort = { httpStatus: f.abort.httpStatus, percentage: { value: f.abort.percentage } };
    }
    out.fault = fault;
  }
  if (r.mirror) {
    const m = r.mirror;
    const target = m.service;
    checkMeshService(scope, 'mirror.service', target);
    if (target === self || target.host === self.host) invalid(scope, 'mirror.service', target.host, 'must be another service: a service cannot mirror to itself');
    if (target.namespace.mesh.trustDomain !== self.namespace.mesh.trustDomain) {
      invalid(scope, 'mirror.service', target.host,
        `must be in the same mesh (trust domain '${self.namespace.mesh.trustDomain}'), not in trust domain '${target.namespace.mesh.trustDomain}'`);
    }
    checkPercent(scope, 'mirror.percentage', m.percentage);
    let port: ServicePort | undefined;
    if (m.port) {
      port = target.ports.find(p => p.port === m.port!.port && p.name === m.port!.name);
      if (!port) invalid(scope, 'mirror.port', `${m.port.name}/${m.port.port}`, `must be a port of ${target.host}: ${target.ports.map(p => `${p.name}/${p.port}`).join(', ')}`);
    } else if (target.ports.length > 1) {
      invalid(scope, 'mirror.port', undefined, `must be set: ${target.host} has several ports (${target.ports.map(p => `${p.name}/${p.port}`).join(', ')})`);
    }
    if (port && !port.isHttp) invalid(scope, 'mirror.port', `${port.name}/${port.port}`, 'must be an HTTP port: mirroring is HTTP-only');
    if (!port && target.ports.length === 1 && !target.ports[0].isHttp) {
      invalid(scope, 'mirror.service', target.host, 'must have an HTTP port: mirroring is HTTP-only');
    }
    out.mirror = compact({ host: target.host, port: port ? { number: port.port } : undefined });
    out.mirrorPercentage = { value: m.percentage ?? 100 };
  }
  return out;
}
