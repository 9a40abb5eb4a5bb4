import { Duration } from 'cdk8s';
import { invalid } from '../errors';
import { ServicePort } from '../service/service-port';
import { IMeshService, ServiceVersion } from '../service/workload';
import { RetryPolicy } from '../traffic/resilience';
import { StringMatch } from '../traffic/routing';

/** How a gateway route matches the request path. */
export class PathMatch {
  /** Paths starting with `prefix` (whole segments, as both Istio and the Gateway API match). */
  public static prefix(prefix: string): PathMatch {
    return new PathMatch('PREFIX', prefix);
  }
  /** Exactly `path`. */
  public static exact(path: string): PathMatch {
    return new PathMatch('EXACT', path);
  }
  /** Paths matching the RE2 regular expression `pattern` (whole path). */
  public static regex(pattern: string): PathMatch {
    return new PathMatch('REGEX', pattern);
  }

  /** `PREFIX`, `EXACT` or `REGEX`. */
  public readonly kind: string;
  /** The path or pattern. */
  public readonly value: string;

  private constructor(kind: string, value: string) {
    if (typeof value !== 'string' || value === '') invalid('PathMatch', kind.toLowerCase(), value, 'must be a non-empty string');
    if (kind !== 'REGEX' && !value.startsWith('/')) invalid('PathMatch', kind.toLowerCase(), value, "must start with '/'");
    if (kind !== 'REGEX' && /\s/.test(value)) invalid('PathMatch', kind.toLowerCase(), value, 'must not contain whitespace');
    this.kind = kind;
    this.value = value;
  }
}

/** Cross-origin resource sharing for a route (Istio `corsPolicy`, Gateway API `CORS` filter). */
export interface CorsPolicy {
  /** Allowed origins, e.g. `https://shop.example.com` (or `*`). */
  readonly allowOrigins: string[];
  /**
   * Allowed methods, uppercase.
   * @default - GET, POST and HEAD (the CORS-safelisted methods)
   */
  readonly allowMethods?: string[];
  /**
   * Allowed request headers.
   * @default - none beyond the safelisted ones
   */
  readonly allowHeaders?: string[];
  /**
   * Response headers the browser may read.
   * @default - none
   */
  readonly exposeHeaders?: string[];
  /**
   * How long the browser may cache a preflight response (whole seconds).
   * @default Duration.seconds(5)
   */
  readonly maxAge?: Duration;
  /**
   * Whether credentials (cookies, authorization headers) may be sent.
   * @default false
   */
  readonly allowCredentials?: boolean;
}

/** An HTTP redirect answered by the gateway itself. */
export interface HttpRedirect {
  /**
   * The host to redirect to.
   * @default - the request's host
   */
  readonly host?: string;
  /**
   * The path to redirect to.
   * @default - the request's path
   */
  readonly path?: string;
  /**
   * The scheme, `http` or `https`.
   * @default - the request's scheme
   */
  readonly scheme?: string;
  /**
   * The status code: 301, 302, 303, 307 or 308.
   * @default 301
   */
  readonly statusCode?: number;
}

/** A route through a gateway: requests for `host` and `path` go to a meshed service (or are redirected). */
export interface GatewayRouteOptions {
  /**
   * The service the requests go to. Exactly one of `to` and `redirect`.
   * @default - none (then `redirect` is required)
   */
  readonly to?: IMeshService;
  /**
   * The host the route serves: one of the listeners' hosts, or a name a wildcard listener host covers.
   * @default - every host of the gateway's HTTP and HTTPS listeners
   */
  readonly host?: string;
  /**
   * The path match.
   * @default PathMatch.prefix('/')
   */
  readonly path?: PathMatch;
  /**
   * Request headers that must match (names are lowercased).
   * @default - any headers
   */
  readonly headers?: { [name: string]: StringMatch };
  /**
   * Replaces the matched path prefix (prefix match) or the whole path (exact match) before forwarding.
   * @default - the path is forwarded unchanged
   */
  readonly rewrite?: string;
  /**
   * The target port: a port the service exposes.
   * @default - the service's only HTTP port (its only port for TLS passthrough)
   */
  readonly port?: ServicePort;
  /**
   * Send every request to this version of the service (a version of a MeshedService).
   * @default - the service's own split: its `httpRoutes` (e.g. a CanaryRelease's weights), read at synth time
   */
  readonly version?: ServiceVersion;
  /**
   * Request timeout.
   * @default - none
   */
  readonly timeout?: Duration;
  /**
   * Retries (Istio API only: the Gateway API standard channel has no retries).
   * @default - Istio's default retry policy
   */
  readonly retries?: RetryPolicy;
  /**
   * CORS policy.
   * @default - none
   */
  readonly cors?: CorsPolicy;
  /**
   * Answer with a redirect instead of forwarding. Exactly one of `to` and `redirect`.
   * @default - none
   */
  readonly redirect?: HttpRedirect;
}
