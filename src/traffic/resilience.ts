import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { checkInteger, checkPercent, compact } from '../validation';
import { istioDuration, millisOf } from './duration';
import { ServicePort } from '../service/service-port';
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

/** Retries of a route (VirtualService `http[].retries`). */
export interface RetryPolicy {
  /** Number of retries (not counting the first try); 0 disables retries. */
  readonly attempts: number;
  /**
   * Timeout of each try; at most the route timeout.
   * @default - the route timeout
   */
  readonly perTryTimeout?: Duration;
  /**
   * Conditions on which to retry.
   * @default - Istio's default: connect-failure, refused-stream, unavailable, cancelled, retriable-status-codes
   */
  readonly retryOn?: RetryOn[];
  /**
   * HTTP status codes to retry on (adds `retriable-status-codes`).
   * @default - none
   */
  readonly retriableStatusCodes?: number[];
}

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
   * Request timeout.
   * @default - no timeout (Istio's default)
   */
  readonly timeout?: Duration;
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
  return r.timeout !== undefined || r.retries !== undefined || r.fault !== undefined || r.mirror !== undefined;
}

/**
 * Validates resilience settings of `self` (a service with `ports`) and returns the VirtualService route fields.
 * @internal
 */
export function renderResilience(scope: Construct, r: RouteResilience, self: IMeshService): any {
  if (!hasResilience(r)) return {};
  if (!self.ports.some(p => p.isHttp)) {
    const set = ['timeout', 'retries', 'fault', 'mirror'].filter(k => (r as any)[k] !== undefined).join(', ');
    invalid(scope, set, 'set', `is HTTP-only, but ports ${self.ports.map(p => `${p.name}/${p.port}`).join(', ')} do not speak HTTP; use an HTTP, HTTP2, gRPC or gRPC-Web port`);
  }
  const out: any = {};
  let timeoutMs: number | undefined;
  if (r.timeout !== undefined) {
    timeoutMs = millisOf(scope, 'timeout', r.timeout);
    out.timeout = istioDuration(scope, 'timeout', r.timeout);
  }
  if (r.retries) {
    const rt = r.retries;
    checkInteger(scope, 'retries.attempts', rt.attempts, 0, 2147483647);
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
      perTryTimeout = istioDuration(scope, 'retries.perTryTimeout', rt.perTryTimeout);
    }
    const codes = [...new Set(rt.retriableStatusCodes ?? [])].sort((a, b) => a - b).map(String);
    out.retries = compact({
      attempts: rt.attempts,
      perTryTimeout,
      retryOn: retryOn.length ? [...retryOn, ...codes].join(',') : undefined,
    });
  }
  if (r.fault) {
    const f = r.fault;
    if (!f.delay && !f.abort) invalid(scope, 'fault', f, 'must set delay, abort or both');
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
