import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { ServicePort } from '../service/service-port';
import { IMeshService, ServiceVersion } from '../service/workload';
import { HeaderRules } from '../traffic/http-headers';
import { RetryPolicy } from '../traffic/resilience';
import { StringMatch } from '../traffic/routing';
import { checkDnsSubdomain, checkDurationMillis, checkHeaderValue, checkPath, checkRegex } from '../validation';

/** How a gateway route matches the request path. */
export class PathMatch {
  /**
   * Paths starting with `prefix`, whole segments in both routing APIs: `/api` matches `/api`, `/api/` and `/api/x`,
   * not `/apiary` (a trailing '/' is ignored; Istio's VirtualService gets `exact: /api` and `prefix: /api/`, the
   * Gateway API a PathPrefix). Prefixes are RFC 3986 paths (no spaces, control characters, '?', '#', '\\' or dot
   * segments, which the proxy normalizes away).
   */
  public static prefix(prefix: string): PathMatch {
    return new PathMatch('PREFIX', prefix);
  }
  /** Exactly `path`. Paths are RFC 3986 (no spaces, control characters, '?', '#', '\\' or dot segments). */
  public static exact(path: string): PathMatch {
    return new PathMatch('EXACT', path);
  }
  /**
   * Paths matching the RE2 regular expression `pattern` (whole path), as Envoy compiles it: RE2 syntax, repeat
   * counts at most 1000, a program within Istio's `re2.max_program_size.error_level`.
   */
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
    if (kind === 'REGEX') checkRegex('PathMatch', 'regex', value);
    else checkPath('PathMatch', kind.toLowerCase(), value);
    this.kind = kind;
    this.value = value;
  }
}

/** Cross-origin resource sharing for a route (Istio `corsPolicy`, Gateway API `CORS` filter). */
export interface CorsPolicy {
  /**
   * Allowed origins, e.g. `https://shop.example.com` (or `*`). `*` (and `http(s)://*`) cannot be combined with
   * `allowCredentials`: the proxy would answer any site's credentialed request.
   */
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
   * How long the browser may cache a preflight response (whole seconds, at most 24 hours).
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
   * Replaces the matched path prefix (prefix match, whole segments: `/api` rewritten to `/` makes `/api/x` into
   * `/x` and `/api` into `/`, the Gateway API's ReplacePrefixMatch) or the whole path (exact match) before
   * forwarding.
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
   * Request timeout at the gateway, replacing the service's `timeout` (HTTP ports only: a route timeout would cut
   * gRPC streams; the service's `grpcTimeout` applies to gRPC ports).
   * @default - the service's timeout for the port (none unless the service sets one)
   */
  readonly timeout?: Duration;
  /**
   * Retries at the gateway, replacing the service's `retries` (Istio API only: the Gateway API standard channel has
   * no retries).
   * @default - the service's retries, written explicitly; Istio's default retry policy when the service sets none
   */
  readonly retries?: RetryPolicy;
  /**
   * CORS policy (origins such as `https://*.example.com` match any subdomain). Not together with the service's
   * own `cors`, which applies at the gateway too.
   * @default - the service's CORS policy, if any
   */
  readonly cors?: CorsPolicy;
  /**
   * Answer with a redirect instead of forwarding. Exactly one of `to` and `redirect`.
   * @default - none
   */
  readonly redirect?: HttpRedirect;
  /**
   * Header changes at the gateway (requests before they are forwarded, responses before they are returned), on top
   * of the service's own `headers`, e.g. `{ request: { set: { 'x-region': 'eu' } }, response: { remove: ['server'] } }`.
   * Applied after the route is chosen: to keep clients from forging a header that routes, list it in the
   * gateway's `trustedHeaders`.
   * @default - none
   */
  readonly headerChanges?: HeaderRules;
}

const HTTP_METHODS = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'];
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ORIGIN = /^https?:\/\/((\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*|\*)(:\d{1,5})?$/;
/** Browsers cap how long they cache a preflight (Firefox at 24 hours, Chromium at 2). */
const MAX_CORS_MAX_AGE_SECONDS = 86_400;

/**
 * Checks a route's CORS policy: origins `*` or `http(s)://host[:port]` (lowercase, a leading `*.` allowed), never
 * a wildcard origin together with credentials, header-safe values, methods and header names, a max age of whole
 * seconds up to 24 hours.
 * @internal
 */
export function checkCorsPolicy(scope: Construct, field: string, c: CorsPolicy): void {
  if (!c || !Array.isArray(c.allowOrigins) || c.allowOrigins.length === 0) invalid(scope, `${field}.allowOrigins`, c?.allowOrigins, 'must list at least one origin');
  for (const origin of c.allowOrigins) {
    checkHeaderValue(scope, `${field}.allowOrigins`, origin);
    if (origin !== '*' && !ORIGIN.test(origin)) invalid(scope, `${field}.allowOrigins`, origin, "must be '*' or 'http(s)://host[:port]' (lowercase; a leading '*.' in the host is allowed)");
    const port = /:(\d+)$/.exec(origin.replace(/^https?:\/\//, ''));
    if (port && (Number(port[1]) < 1 || Number(port[1]) > 65535)) invalid(scope, `${field}.allowOrigins`, origin, 'must have a port from 1 to 65535');
  }
  if (c.allowCredentials !== undefined && typeof c.allowCredentials !== 'boolean') invalid(scope, `${field}.allowCredentials`, c.allowCredentials, 'must be true or false');
  if (c.allowCredentials) {
    const any = c.allowOrigins.filter(o => o === '*' || /^https?:\/\/\*(:\d+)?$/.test(o));
    if (any.length) {
      invalid(scope, `${field}.allowOrigins`, any[0], 'must not be a wildcard origin when allowCredentials is true: the proxy would answer every site\'s credentialed requests (cookies, authorization); list the origins');
    }
  }
  for (const m of c.allowMethods ?? []) {
    if (!HTTP_METHODS.includes(m) && m !== '*') invalid(scope, `${field}.allowMethods`, m, `must be one of ${HTTP_METHODS.join(', ')} or '*'`);
  }
  for (const [f, list] of [['allowHeaders', c.allowHeaders], ['exposeHeaders', c.exposeHeaders]] as const) {
    for (const h of list ?? []) if (typeof h !== 'string' || !HEADER_TOKEN.test(h)) invalid(scope, `${field}.${f}`, h, 'must be HTTP header names');
  }
  if (c.maxAge !== undefined) {
    const secs = c.maxAge instanceof Duration ? c.maxAge.toSeconds({ integral: false }) : NaN;
    if (!Number.isInteger(secs) || secs < 1 || secs > MAX_CORS_MAX_AGE_SECONDS) {
      invalid(scope, `${field}.maxAge`, c.maxAge instanceof Duration ? c.maxAge.toHumanString() : c.maxAge, `must be whole seconds from 1 to ${MAX_CORS_MAX_AGE_SECONDS} (24 hours)`);
    }
  }
}

/**
 * Checks the strings of a gateway route that reach Envoy: the rewrite (an RFC 3986 path, no dot segments), the
 * redirect (host, path, scheme, status), the CORS policy and the timeout (1 ms to 10 years).
 * @internal
 */
export function checkRouteInputs(scope: Construct, field: string, o: GatewayRouteOptions): void {
  if (o.rewrite !== undefined) checkPath(scope, `${field}.rewrite`, o.rewrite);
  if (o.redirect !== undefined) {
    const r = o.redirect;
    if (r.host !== undefined) checkDnsSubdomain(scope, `${field}.redirect.host`, r.host);
    if (r.path !== undefined) checkPath(scope, `${field}.redirect.path`, r.path);
    if (r.scheme !== undefined && r.scheme !== 'http' && r.scheme !== 'https') invalid(scope, `${field}.redirect.scheme`, r.scheme, "must be 'http' or 'https'");
    if (r.statusCode !== undefined && ![301, 302, 303, 307, 308].includes(r.statusCode)) invalid(scope, `${field}.redirect.statusCode`, r.statusCode, 'must be 301, 302, 303, 307 or 308');
  }
  if (o.cors !== undefined) checkCorsPolicy(scope, `${field}.cors`, o.cors);
  if (o.timeout !== undefined) {
    const ms = o.timeout instanceof Duration ? o.timeout.toMilliseconds({ integral: false }) : NaN;
    checkDurationMillis(scope, `${field}.timeout`, ms);
  }
}
