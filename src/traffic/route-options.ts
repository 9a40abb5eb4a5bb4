import { Construct } from 'constructs';
import { invalid } from '../errors';
import { checkCorsPolicy, CorsPolicy } from '../gateway/routes';
import { ServicePort } from '../service/service-port';
import { checkRegex, compact } from '../validation';
import { istioDuration } from './duration';
import { HeaderRules, renderHeaderRules } from './http-headers';


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

/**
 * Checks a CORS policy with the same rules as gateway routes (`checkCorsPolicy`) and renders VirtualService
 * `corsPolicy`: `*` as the regex `.*`, an origin with a wildcard host (`https://*.example.com`) as a regex in which
 * `*` stands for one or more DNS labels, every other origin exactly.
 * @internal
 */
export function renderCorsPolicy(scope: Construct, field: string, c: CorsPolicy): any {
  checkCorsPolicy(scope, field, c);
  const sorted = (l?: string[]) => (l && l.length ? [...new Set(l)].sort() : undefined);
  const origin = (o: string) => {
    if (o === '*') return { regex: '.*' };
    if (!o.includes('*')) return { exact: o };
    const regex = o.replace(/[.]/g, '\\.').replace('*', '[-a-z0-9]+(\\.[-a-z0-9]+)*');
    checkRegex(scope, `${field}.allowOrigins`, regex);
    return { regex };
  };
  return compact({
    allowOrigins: [...new Set(c.allowOrigins)].sort().map(origin),
    allowMethods: sorted(c.allowMethods),
    allowHeaders: sorted(c.allowHeaders),
    exposeHeaders: sorted(c.exposeHeaders),
    maxAge: c.maxAge === undefined ? undefined : istioDuration(scope, `${field}.maxAge`, c.maxAge),
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
