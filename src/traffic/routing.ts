import { invalid } from '../errors';
import type { ServiceVersion } from '../service/workload';
import { checkHeaderValue, checkInteger, checkPath, isDnsSubdomain } from '../validation';
import { HeaderRules } from './http-headers';

/** How a request attribute is compared (VirtualService StringMatch). */
export class StringMatch {
  /** Equal to `value`. */
  public static exact(value: string): StringMatch {
    return new StringMatch('exact', value);
  }
  /** Starts with `value`. */
  public static prefix(value: string): StringMatch {
    return new StringMatch('prefix', value);
  }
  /** Matches the RE2 regular expression `pattern` (the whole value). */
  public static regex(pattern: string): StringMatch {
    return new StringMatch('regex', pattern);
  }

  /** `exact`, `prefix` or `regex`. */
  public readonly kind: string;
  /** The value or pattern. */
  public readonly value: string;

  private constructor(kind: string, value: string) {
    if (typeof value !== 'string') invalid('StringMatch', kind, value, 'must be a string');
    this.kind = kind;
    this.value = value;
  }

  /** @internal */
  public _render(): any {
    return { [this.kind]: this.value };
  }
}

/**
 * Conditions on a request; all given conditions must hold (one VirtualService `http[].match[]` entry).
 */
export interface HttpRequestMatch {
  /**
   * The request path.
   * @default - any path
   */
  readonly uri?: StringMatch;
  /**
   * Request headers (names lowercase).
   * @default - any headers
   */
  readonly headers?: { [name: string]: StringMatch };
  /**
   * Query parameters.
   * @default - any query
   */
  readonly queryParams?: { [name: string]: StringMatch };
  /**
   * The HTTP method.
   * @default - any method
   */
  readonly method?: StringMatch;
  /**
   * Headers that must be absent or not match.
   * @default - none
   */
  readonly withoutHeaders?: { [name: string]: StringMatch };
  /**
   * Labels of the calling workload's pods (meshed callers only).
   * @default - any caller
   */
  readonly sourceLabels?: { [key: string]: string };
  /**
   * Namespace of the calling workload (meshed callers only).
   * @default - any namespace
   */
  readonly sourceNamespace?: string;
}

/** A share of a route's traffic sent to one version of the service. */
export interface WeightedDestination {
  /** The version (as returned by `MeshedService.addVersion` or found in `MeshedService.versions`). */
  readonly version: ServiceVersion;
  /**
   * Share of the route's traffic, 0-100. The weights of a route must add up to 100.
   * @default 100
   */
  readonly weight?: number;
  /**
   * Header changes for the requests sent to this destination and their responses (VirtualService
   * `route[].headers`), e.g. a `set-cookie` that pins a user to the version that answered.
   * @default - none
   */
  readonly headers?: HeaderRules;
}

/**
 * One HTTP route of a service: requests that match go to the given versions. The service's resilience settings
 * (timeout, retries, fault, mirror) are added to every route when the VirtualService is rendered.
 */
export interface HttpRouteRule {
  /**
   * A name for the route (shows up in Envoy stats and access logs).
   * @default - none
   */
  readonly name?: string;
  /**
   * Request conditions; the route applies when any of them matches. A route without matches catches every
   * request, so it must be the last one.
   * @default - every request
   */
  readonly matches?: HttpRequestMatch[];
  /**
   * Where the traffic goes.
   * @default - every version, as the Kubernetes Service balances (no subset)
   */
  readonly destinations?: WeightedDestination[];
  /**
   * Mirror (shadow) a share of this route's requests to a version of the service (a dark launch): `weight` is the
   * mirrored percentage (fractions allowed); the mirror's responses are discarded. Rendered next to the service's
   * own `mirror` setting (both as `mirrors` when the service has one).
   * @default - no mirror to a version
   */
  readonly mirror?: WeightedDestination;
  /**
   * Header changes for this route's requests and responses, on top of the service's `headers` (a header changed
   * by both is an error).
   * @default - none
   */
  readonly headers?: HeaderRules;
  /**
   * Answer or redirect instead of forwarding (`RouteAction.directResponse(...)`, `RouteAction.redirect(...)`).
   * Exclusive with `destinations`, `mirror` and `rewrite`.
   * @default - forward to `destinations`
   */
  readonly action?: RouteAction;
  /**
   * Rewrite the path or authority of forwarded requests.
   * @default - none
   */
  readonly rewrite?: RouteRewrite;
}

/** Options of a redirect answered by the client's proxy (VirtualService `http[].redirect`). */
export interface RouteRedirectOptions {
  /**
   * The path to redirect to (replaces the whole path).
   * @default - the request's path
   */
  readonly uri?: string;
  /**
   * The host (authority) to redirect to, e.g. `reviews.example.com` (a DNS name, optionally with `:port`).
   * @default - the request's host
   */
  readonly authority?: string;
  /**
   * The scheme, `http` or `https`.
   * @default - the request's scheme
   */
  readonly scheme?: string;
  /**
   * The port to redirect to.
   * @default - the request's port
   */
  readonly port?: number;
  /**
   * The status code: 301, 302, 303, 307 or 308.
   * @default 301
   */
  readonly redirectCode?: number;
}

const AUTHORITY = /^([^:]+)(:(\d{1,5}))?$/;

/**
 * What a route does instead of forwarding: answer directly, or redirect (VirtualService `directResponse`,
 * `redirect`). A route with an action has no destinations; the service's timeout, retries, fault and mirror do not
 * apply to it (Istio rejects a fault next to a redirect or a direct response).
 */
export class RouteAction {
  /**
   * Answer with `status` (200-599) and an optional text body, without calling the service, e.g. a maintenance
   * page or a `404` for a retired path.
   */
  public static directResponse(status: number, body?: string): RouteAction {
    checkInteger('RouteAction.directResponse', 'status', status, 200, 599);
    if (body !== undefined) {
      if (typeof body !== 'string') invalid('RouteAction.directResponse', 'body', body, 'must be a string');
      if (Buffer.byteLength(body, 'utf8') > 100 * 1024) invalid('RouteAction.directResponse', 'body', `${body.length} characters`, 'must be at most 100 KiB (larger bodies slow the control plane down; Istio warns above 100 KiB)');
    }
    return new RouteAction('directResponse', { status, ...(body !== undefined ? { body: { string: body } } : {}) });
  }
  /** Redirect the caller (3xx with a `Location` header). At least one of uri, authority, scheme and port. */
  public static redirect(options: RouteRedirectOptions): RouteAction {
    const where = 'RouteAction.redirect';
    const o = options ?? {};
    if (o.uri === undefined && o.authority === undefined && o.scheme === undefined && o.port === undefined) {
      invalid(where, 'options', o, 'must set uri, authority, scheme or port');
    }
    if (o.uri !== undefined) checkPath(where, 'uri', o.uri);
    if (o.authority !== undefined) {
      checkHeaderValue(where, 'authority', o.authority);
      const m = AUTHORITY.exec(o.authority);
      if (!m || !isDnsSubdomain(m[1]) || (m[3] !== undefined && !(Number(m[3]) >= 1 && Number(m[3]) <= 65535))) {
        invalid(where, 'authority', o.authority, "must be a DNS name, optionally with ':port' (lowercase letters, digits, '-' and '.')");
      }
    }
    if (o.scheme !== undefined && o.scheme !== 'http' && o.scheme !== 'https') invalid(where, 'scheme', o.scheme, "must be 'http' or 'https'");
    if (o.port !== undefined) checkInteger(where, 'port', o.port, 1, 65535);
    if (o.redirectCode !== undefined && ![301, 302, 303, 307, 308].includes(o.redirectCode)) {
      invalid(where, 'redirectCode', o.redirectCode, 'must be 301, 302, 303, 307 or 308');
    }
    const spec: any = {};
    for (const k of ['uri', 'authority', 'scheme', 'port', 'redirectCode'] as const) if (o[k] !== undefined) spec[k] = o[k];
    return new RouteAction('redirect', spec);
  }

  /** `directResponse` or `redirect`. */
  public readonly kind: string;
  private readonly spec: any;

  private constructor(kind: string, spec: any) {
    this.kind = kind;
    this.spec = spec;
  }

  /** The VirtualService route fields. @internal */
  public _render(): any {
    return { [this.kind]: JSON.parse(JSON.stringify(this.spec)) };
  }
}

/** Rewrites of a forwarded request (VirtualService `http[].rewrite`). */
export interface RouteRewrite {
  /**
   * Replaces the matched path prefix (for a `uri` prefix match) or the whole path.
   * @default - the path is forwarded unchanged
   */
  readonly uri?: string;
  /**
   * Replaces the Host/Authority header.
   * @default - unchanged
   */
  readonly authority?: string;
}

/** Renders a map of StringMatch. @internal */
export function renderMatchMap(m: { [name: string]: StringMatch } | undefined, lower: boolean): any {
  if (!m) return undefined;
  const out: any = {};
  for (const k of Object.keys(m).sort()) out[lower ? k.toLowerCase() : k] = m[k]._render();
  return out;
}
