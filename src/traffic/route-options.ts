import { Construct } from 'constructs';
import { invalid } from '../errors';
import type { CorsPolicy } from '../gateway/routes';
import { ServicePort } from '../service/service-port';
import { checkHeaderValue, checkRegex, compact } from '../validation';
import { istioDuration } from './duration';
import { HeaderRules, renderHeaderRules } from './http-headers';

/** Origins: `*`, or `http(s)://host[:port]` where the host may start with `*.`. */
const ORIGIN = /^(\*|https?:\/\/(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:\d{1,5})?)$/;
/** The methods Istio's CORS validation accepts (Go's net/http method names). */
const CORS_METHODS = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'];
/** RFC 7230 tokens. */
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Route settings of a meshed service that apply to every HTTP route to it (its VirtualService), next to the
 * resilience settings: header manipulation and CORS.
 */
export interface MeshRouteOptions {
  /**
   * Header changes on every route to the service (requests before they are forwarded, responses before they are
   * returned), e.g. `{ request: { set: { 'x-team': 'books' } }, response: { remove: ['server'] } }`.
   * @default - none
   */
  readonly headers?: HeaderRules;
  /**
   * A CORS policy answered by the calling proxy, for browsers that call the service through the mesh (the same
   * type as gateway routes' `cors`).
   * @default - none (the service's own CORS handling, if any)
   */
  readonly cors?: CorsPolicy;
}

/** Whether any route option is given. @internal */
export function hasRouteOptions(o: MeshRouteOptions): boolean {
  return o.headers !== undefined || o.cors !== undefined;
}

/** Checks a CORS policy and renders VirtualService `corsPolicy`. @internal */
export function renderCorsPolicy(scope: Construct | string, field: string, c: CorsPolicy): any {
  if (!c || !Array.isArray(c.allowOrigins) || c.allowOrigins.length === 0) {
    invalid(scope, `${field}.allowOrigins`, c?.allowOrigins, "must list at least one origin ('https://shop.example.com' or '*')");
  }
  for (const o of c.allowOrigins) {
    checkHeaderValue(scope, `${field}.allowOrigins`, o);
    if (!ORIGIN.test(o)) invalid(scope, `${field}.allowOrigins`, o, "must be '*' or 'http(s)://host[:port]' (lowercase; the host may start with '*.')");
  }
  for (const m of c.allowMethods ?? []) {
    if (!CORS_METHODS.includes(m) && m !== '*') invalid(scope, `${field}.allowMethods`, m, `must be one of ${CORS_METHODS.join(', ')} or '*'`);
  }
  for (const [k, list] of [['allowHeaders', c.allowHeaders], ['exposeHeaders', c.exposeHeaders]] as const) {
    for (const h of list ?? []) if (h !== '*' && !HEADER_TOKEN.test(h)) invalid(scope, `${field}.${k}`, h, "must be HTTP header names (RFC 7230 tokens) or '*'");
  }
  let maxAge: string | undefined;
  if (c.maxAge !== undefined) {
    const s = c.maxAge.toSeconds({ integral: false });
    if (!Number.isInteger(s) || s < 1) invalid(scope, `${field}.maxAge`, c.maxAge.toHumanString(), 'must be whole seconds, at least 1 (Istio keeps seconds only)');
    maxAge = istioDuration(scope, `${field}.maxAge`, c.maxAge);
  }
  if (c.allowCredentials !== undefined && typeof c.allowCredentials !== 'boolean') invalid(scope, `${field}.allowCredentials`, c.allowCredentials, 'must be true or false');
  if (c.allowCredentials && c.allowOrigins.includes('*')) {
    invalid(scope, `${field}.allowOrigins`, '*', 'must list the origins when allowCredentials is true (browsers refuse credentials for any origin)');
  }
  const sorted = (l?: string[]) => (l && l.length ? [...new Set(l)].sort() : undefined);
  const origin = (o: string) => {
    if (o === '*') return { regex: '.*' };
    if (!o.includes('*')) return { exact: o };
    const regex = o.replace(/[.]/g, '\\.').replace('*\\.', '[^/.]+\\.'); // https://*.example.com: one label
    checkRegex(scope, `${field}.allowOrigins`, regex);
    return { regex };
  };
  return compact({
    allowOrigins: [...new Set(c.allowOrigins)].sort().map(origin),
    allowMethods: sorted(c.allowMethods),
    allowHeaders: sorted(c.allowHeaders),
    exposeHeaders: sorted(c.exposeHeaders),
    maxAge,
    allowCredentials: c.allowCredentials,
  });
}

/**
 * Checks the route options and renders their VirtualService fields; with `ports`, checks that the service has an
 * HTTP port (routes, and so headers and CORS, are HTTP-only).
 * @internal
 */
export function renderRouteOptions(scope: Construct, o: MeshRouteOptions, ports?: ServicePort[]): { headers?: any; corsPolicy?: any } {
  if (ports && hasRouteOptions(o) && !ports.some(p => p.isHttp)) {
    const set = (['headers', 'cors'] as const).filter(k => o[k] !== undefined).join(', ');
    invalid(scope, set, 'set', `is HTTP-only, but ports ${ports.map(p => `${p.name}/${p.port}`).join(', ')} do not speak HTTP; use an HTTP, HTTP2, gRPC or gRPC-Web port`);
  }
  return compact({
    headers: renderHeaderRules(scope, 'headers', o.headers),
    corsPolicy: o.cors === undefined ? undefined : renderCorsPolicy(scope, 'cors', o.cors),
  });
}
