/**
 * The route model of a gateway, shared by both routing APIs: a gateway route to a meshed service takes the
 * service's own route table (the rules the service's VirtualService is rendered from, by the same renderer) and
 * adapts it for an entry point. Pure functions; the MeshGateway owns the objects.
 * @internal
 */
import { Construct } from 'constructs';
import { CorsPolicy, PathMatch } from './routes';
import { invalid } from '../errors';
import type { MeshedService } from '../service/meshed-service';
import { ServicePort } from '../service/service-port';
import type { IMeshService } from '../service/workload';
import { istioDuration, millisOf } from '../traffic/duration';
import { HeaderRules, mergeHeaderRules, renderHeaderRules } from '../traffic/http-headers';
import { renderMeshHttpRoutes } from '../traffic/mesh-routes';
import { ENVOY_RETRIABLE_STATUS_CODES_HEADER, isGrpcPort, renderResilience, RetryPolicy } from '../traffic/resilience';
import { renderCorsPolicy } from '../traffic/route-options';
import { checkRegex, compact } from '../validation';

/**
 * A path condition. `SEGMENT` is a gateway `PathMatch.prefix` (whole path segments, the Gateway API's PathPrefix);
 * `RAW_PREFIX` is a service route's `StringMatch.prefix` (characters, Istio's `uri.prefix`).
 * @internal
 */
export interface GatewayPath {
  readonly kind: 'SEGMENT' | 'EXACT' | 'REGEX' | 'RAW_PREFIX';
  readonly value: string;
}

/** One condition of a rule (the rule applies when any of them holds); matches as VirtualService JSON. @internal */
export interface GatewayCondition {
  readonly path: GatewayPath;
  readonly headers: { [name: string]: any };
  readonly queryParams: { [name: string]: any };
  readonly method?: any;
}

/** A rule of a gateway route, as both APIs render it. @internal */
export interface GatewayRule {
  /** Conditions (OR); never empty. */
  readonly conditions: GatewayCondition[];
  /** The VirtualService `http[]` fields besides `match` and `name`. */
  readonly body: any;
  /** The CORS policy as given (the Gateway API's CORS filter takes origins as they are). */
  readonly cors?: CorsPolicy;
  /** Who rewrites the path: the gateway route (segment semantics) or the service's rule (Istio semantics). */
  readonly rewriteBy?: 'gateway' | 'service';
  /** The services the rule's destinations and mirrors name, by host. */
  readonly services: Map<string, IMeshService>;
  /** The target port. */
  readonly port?: ServicePort;
  /** Where the rule comes from, for messages. */
  readonly origin: string;
  /** The service route's name (Envoy stats, access logs, and what Argo Rollouts shifts). */
  readonly name?: string;
}

/** What a gateway route says, as the rule builder reads it. @internal */
export interface GatewayRouteInput {
  readonly field: string;
  readonly path: PathMatch;
  /** Header matches of the route, names lowercase. */
  readonly headers: { [name: string]: any };
  readonly to?: IMeshService;
  /** `to` when it is a MeshedService (whose own route table the gateway takes); the caller knows the class. */
  readonly meshed?: MeshedService;
  readonly port?: ServicePort;
  readonly version?: { readonly name: string; readonly subsetName: string };
  readonly redirect?: any;
  readonly rewrite?: string;
  readonly timeout?: any;
  readonly retries?: RetryPolicy;
  readonly cors?: CorsPolicy;
  readonly headerChanges?: HeaderRules;
  /** Request headers the gateway removes from client requests before routing. */
  readonly trustedHeaders: string[];
}

/** The gateway path condition of a PathMatch: prefixes are whole segments (a trailing '/' is ignored). @internal */
export function gatewayPath(p: PathMatch): GatewayPath {
  if (p.kind === 'PREFIX') return { kind: 'SEGMENT', value: segmentPrefix(p.value) };
  return { kind: p.kind as 'EXACT' | 'REGEX', value: p.value };
}

/** A segment prefix without its trailing '/' (`/` stays `/`). @internal */
export function segmentPrefix(v: string): string {
  const t = v.replace(/\/+$/, '');
  return t === '' ? '/' : t;
}

/**
 * The rules of one gateway route: for a MeshedService, its own route table rendered by the mesh renderer (its
 * matches, weights, mirrors, timeout, retries, fault, headers, CORS, rewrites and actions), adapted for an entry
 * point: conditions that cannot hold for traffic from outside (the caller's `sourceLabels` or `sourceNamespace`, a
 * header the gateway strips) are dropped with their rule instead of becoming a catch-all; the gateway route's path
 * and headers are added to every condition; the route's own options apply on top.
 * @internal
 */
export function gatewayRouteRules(scope: Construct, r: GatewayRouteInput): GatewayRule[] {
  const base: GatewayCondition = { path: gatewayPath(r.path), headers: { ...r.headers }, queryParams: {} };
  const services = new Map<string, IMeshService>();
  if (r.redirect) {
    return [finish(scope, r, { conditions: [base], body: { redirect: r.redirect }, services, origin: r.field }, undefined)];
  }
  const to = r.to!;
  const port = r.port!;
  services.set(to.host, to);
  const meshed = r.meshed;
  if (meshed === undefined || meshed !== to) {
    const body = { route: [{ destination: { host: to.host, port: { number: port.port } } }] };
    return [finish(scope, r, { conditions: [base], body, services, port, origin: r.field }, undefined)];
  }
  const ctx = meshed._routeContext();
  const mirrorTarget = ctx.resilience.mirror?.service;
  if (mirrorTarget) services.set(mirrorTarget.host, mirrorTarget);
  const version = r.version ? meshed.versions.find(v => v.subsetName === r.version!.subsetName) : undefined;
  const rules = version ? [{ destinations: [{ version }] }] : meshed.httpRoutes;
  const rendered = renderMeshHttpRoutes(ctx, rules);
  const multiPort = meshed.ports.length > 1;
  const trusted = new Set(r.trustedHeaders.map(h => h.toLowerCase()));
  const out: GatewayRule[] = [];
  for (const entry of rendered) {
    const { match, name, ...body } = entry;
    const origin = `${to.host}${name ? ` route '${name}'` : ''}`;
    let matches: any[] | undefined = match;
    if (multiPort) {
      // the service renders each rule once per HTTP port: take the target port's, without the port condition
      if (!matches?.every((m: any) => m.port === port.port)) continue;
      matches = matches.map(({ port: _p, ...m }: any) => m).filter((m: any) => Object.keys(m).length > 0);
      if (matches.length === 0) matches = undefined;
    }
    let conditions: GatewayCondition[];
    if (!matches) {
      conditions = [base];
    } else {
      // traffic from outside never comes from a meshed workload, and never carries a header the gateway strips:
      // such a condition cannot hold here, so it is dropped (never widened into a catch-all)
      const hold = matches.filter((m: any) => m.sourceLabels === undefined && m.sourceNamespace === undefined
        && !Object.keys(m.headers ?? {}).some(h => trusted.has(h)));
      if (hold.length === 0) continue;
      conditions = hold.map((m: any) => condition(scope, r, base, m, origin));
    }
    for (const d of body.route ?? []) d.destination = { ...d.destination, port: { number: port.port } };
    if (body.mirror?.subset !== undefined) body.mirror = { ...body.mirror, port: { number: port.port } };
    for (const m of body.mirrors ?? []) if (m.destination.subset !== undefined) m.destination = { ...m.destination, port: { number: port.port } };
    const rewriteBy = body.rewrite?.uri !== undefined ? 'service' : undefined;
    out.push(finish(scope, r, { conditions, body, services, port, origin, rewriteBy, cors: ctx.options.cors, name }, ctx.options.cors));
  }
  if (out.length === 0) {
    invalid(scope, `${r.field}.to`, to.host,
      'has no route that can hold for traffic from outside the mesh (every rule matches the caller\'s sourceLabels, sourceNamespace or a header the gateway strips): add a rule without them, or route to a fixed `version`');
  }
  return out;
}

/** A condition: the service's match within the gateway route's path and headers. */
function condition(scope: Construct, r: GatewayRouteInput, base: GatewayCondition, m: any, origin: string): GatewayCondition {
  if (m.withoutHeaders && Object.keys(m.withoutHeaders).length) {
    invalid(scope, 'routes', origin, 'has a route with withoutHeaders, which a gateway route cannot express in both APIs: route to a fixed `version` instead');
  }
  let path = base.path;
  if (m.uri) {
    if (!(base.path.kind === 'SEGMENT' && base.path.value === '/')) {
      invalid(scope, 'routes', origin, 'has a route matching the URI, which conflicts with the gateway route\'s path: route to a fixed `version` or use path prefix /');
    }
    path = m.uri.exact !== undefined ? { kind: 'EXACT', value: m.uri.exact } : m.uri.prefix !== undefined ? { kind: 'RAW_PREFIX', value: m.uri.prefix } : { kind: 'REGEX', value: m.uri.regex };
  }
  const headers = { ...base.headers };
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (k in headers) invalid(scope, `${r.field}.headers`, k, `is matched both by the gateway route and by ${origin}: a request header is matched in one place`);
    headers[k] = v;
  }
  return { path, headers: sortObject(headers), queryParams: sortObject({ ...m.queryParams }), method: m.method };
}

/** The gateway route's own options on top of a rule. */
function finish(scope: Construct, r: GatewayRouteInput, rule: GatewayRule, serviceCors: CorsPolicy | undefined): GatewayRule {
  const body = rule.body;
  const forwards = body.route !== undefined;
  if (forwards && r.timeout !== undefined) body.timeout = istioDuration(scope, `${r.field}.timeout`, r.timeout);
  if (forwards && r.retries !== undefined) {
    const rendered = renderResilience(scope, { retries: r.retries, timeout: r.timeout }, { ports: [r.port!] } as any);
    body.retries = rendered.retries;
    const set = body.headers?.request?.set;
    if (set) delete set[ENVOY_RETRIABLE_STATUS_CODES_HEADER];
    body.headers = mergeHeaderRules(scope, `${r.field}.retries`, [{ source: 'the service', rules: tidyHeaders(body.headers) }, { source: `${r.field}.retries`, rules: rendered.headers }]);
  }
  let rewriteBy = rule.rewriteBy;
  if (r.rewrite !== undefined && forwards) {
    if (body.rewrite?.uri !== undefined) {
      invalid(scope, `${r.field}.rewrite`, r.rewrite, `conflicts with the path rewrite of ${rule.origin}: rewrite the path in one place`);
    }
    body.rewrite = compact({ ...body.rewrite, uri: r.rewrite });
    rewriteBy = 'gateway';
  }
  let cors = serviceCors;
  if (r.cors !== undefined) {
    if (serviceCors !== undefined) invalid(scope, `${r.field}.cors`, 'set', `conflicts with the CORS policy of ${rule.origin}: set CORS in one place`);
    body.corsPolicy = renderCorsPolicy(scope, `${r.field}.cors`, r.cors);
    cors = r.cors;
  }
  if (r.headerChanges !== undefined) {
    body.headers = mergeHeaderRules(scope, `${r.field}.headerChanges`, [
      { source: rule.origin, rules: tidyHeaders(body.headers) },
      { source: `${r.field}.headerChanges`, rules: renderHeaderRules(scope, `${r.field}.headerChanges`, r.headerChanges) },
    ]);
  }
  const out = compact({ ...body, headers: tidyHeaders(body.headers) });
  return { ...rule, body: out, cors, rewriteBy };
}

function tidyHeaders(h: any): any {
  if (!h) return undefined;
  const out: any = {};
  for (const side of ['request', 'response']) {
    const s = h[side];
    if (!s) continue;
    const o = compact({
      set: s.set && Object.keys(s.set).length ? s.set : undefined,
      add: s.add && Object.keys(s.add).length ? s.add : undefined,
      remove: s.remove?.length ? s.remove : undefined,
    });
    if (Object.keys(o).length) out[side] = o;
  }
  return Object.keys(out).length ? out : undefined;
}

function sortObject(o: { [k: string]: any }): { [k: string]: any } {
  const out: { [k: string]: any } = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

// ------------------------------------------------------------------ Istio

/**
 * VirtualService `http` entries of rules. A segment prefix `/api` is `exact: /api` or `prefix: /api/` (Istio's
 * `prefix` compares characters: `/api` alone would match `/apiary`); a gateway rewrite of a segment prefix is written
 * per match so that `/api/x` rewritten to `/` is `/x` (the Gateway API's ReplacePrefixMatch), never `//x`.
 * @internal
 */
export function renderIstioRules(rules: GatewayRule[]): any[] {
  const out: any[] = [];
  // a rule keeps the service route's name; a name met again in the same VirtualService (another gateway route to
  // the service, or the two halves of a segment prefix) gets a suffix, so every named route is one route
  const seen = new Map<string, number>();
  const named = (entry: any, name: string | undefined) => {
    if (name === undefined) return entry;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return { name: n === 1 ? name : `${name}-${n}`, ...entry };
  };
  for (const rule of rules) {
    const seg = rule.conditions[0].path.kind === 'SEGMENT' ? rule.conditions[0].path.value : undefined;
    const gatewayRewrite = rule.rewriteBy === 'gateway' ? rule.body.rewrite?.uri : undefined;
    if (seg !== undefined && gatewayRewrite !== undefined) {
      const slashed = gatewayRewrite.endsWith('/') ? gatewayRewrite : `${gatewayRewrite}/`;
      const entry = (uri: any, to: string) =>
        named(compact({ match: rule.conditions.map(c => istioMatch(c, uri)), ...rule.body, rewrite: { ...rule.body.rewrite, uri: to } }), rule.name);
      if (seg !== '/') out.push(entry({ exact: seg }, gatewayRewrite), entry({ prefix: `${seg}/` }, slashed));
      else out.push(entry({ prefix: '/' }, slashed));
      continue;
    }
    const match = rule.conditions.flatMap(c => istioUris(c.path).map(uri => istioMatch(c, uri)));
    out.push(named(compact({ match, ...rule.body }), rule.name));
  }
  return out;
}

function istioUris(p: GatewayPath): any[] {
  switch (p.kind) {
    case 'SEGMENT': return p.value === '/' ? [{ prefix: '/' }] : [{ exact: p.value }, { prefix: `${p.value}/` }];
    case 'EXACT': return [{ exact: p.value }];
    case 'RAW_PREFIX': return [{ prefix: p.value }];
    default: return [{ regex: p.value }];
  }
}

function istioMatch(c: GatewayCondition, uri: any): any {
  return compact({
    uri,
    headers: Object.keys(c.headers).length ? c.headers : undefined,
    queryParams: Object.keys(c.queryParams).length ? c.queryParams : undefined,
    method: c.method,
  });
}

// ------------------------------------------------------------------ Gateway API

/**
 * What a refusal tells the user to change to route with Istio's API instead of the Gateway API: the setting that
 * chose the Gateway API for these routes. A MeshGateway's routes: its `routingApi` prop. @internal
 */
export const GATEWAY_ROUTING_TO_ISTIO = "set the MeshGateway's routingApi to RoutingApi.ISTIO";

/** A service's own routes (GAMMA): the `Mesh`'s `meshRouting` prop. @internal */
export const MESH_ROUTING_TO_ISTIO = "set the mesh's meshRouting to RoutingApi.ISTIO";

/** How the Gateway API routes name a destination (a Service and port), from a VirtualService destination. @internal */
export type BackendRefOf = (rule: GatewayRule, destination: any, weight?: number) => any;

function escapeRe2(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

function k8sStringMatch(scope: Construct, field: string, name: string, m: any): any {
  if (m.exact !== undefined) return { type: 'Exact', name, value: m.exact };
  const value = m.prefix !== undefined ? `${escapeRe2(m.prefix)}.*` : m.regex;
  checkRegex(scope, field, value);
  return { type: 'RegularExpression', name, value };
}

function k8sPath(scope: Construct, rule: GatewayRule, p: GatewayPath): any {
  switch (p.kind) {
    case 'SEGMENT': return { type: 'PathPrefix', value: p.value };
    case 'EXACT': return { type: 'Exact', value: p.value };
    case 'REGEX': return { type: 'RegularExpression', value: p.value };
    default: {
      // Istio's character prefix, which PathPrefix (whole segments) is not
      const value = `${escapeRe2(p.value)}.*`;
      checkRegex(scope, `${rule.origin} uri`, value);
      return { type: 'RegularExpression', value };
    }
  }
}

const METHODS = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'];

/** `toIstio`: the setting to change (`GATEWAY_ROUTING_TO_ISTIO`, `MESH_ROUTING_TO_ISTIO`). */
function refuse(scope: Construct, rule: GatewayRule, what: string, why: string, toIstio: string): never {
  return invalid(scope, 'routes', rule.origin, `${what}, which ${why}: ${toIstio}`);
}

function headerFilters(h: any): any[] {
  const out: any[] = [];
  for (const [side, type, key] of [['request', 'RequestHeaderModifier', 'requestHeaderModifier'], ['response', 'ResponseHeaderModifier', 'responseHeaderModifier']] as const) {
    const s = h?.[side];
    if (!s) continue;
    const pairs = (m: any) => (m ? Object.keys(m).sort().map(name => ({ name, value: m[name] })) : undefined);
    out.push({ type, [key]: compact({ set: pairs(s.set), add: pairs(s.add), remove: s.remove }) });
  }
  return out;
}

function mirrorFilters(rule: GatewayRule, backendRef: BackendRefOf): any[] {
  const b = rule.body;
  const list: Array<{ destination: any; percentage?: any }> = b.mirrors
    ?? (b.mirror ? [{ destination: b.mirror, percentage: b.mirrorPercentage }] : []);
  return list.map(m => {
    const { weight: _w, ...ref } = backendRef(rule, m.destination);
    const pct = m.percentage?.value ?? 100;
    // a whole percentage as `percent`, else a fraction in millionths (Istio's mirrorPercentage is a double)
    const share = pct === 100 ? {} : Number.isInteger(pct) ? { percent: pct }
      : { fraction: { numerator: Math.round(pct * 10_000), denominator: 1_000_000 } };
    return { type: 'RequestMirror', requestMirror: { backendRef: ref, ...share } };
  });
}

function backendRefs(rule: GatewayRule, backendRef: BackendRefOf): any[] | undefined {
  const route: any[] | undefined = rule.body.route;
  if (!route) return undefined;
  return route.map(d => {
    const ref = backendRef(rule, d.destination, route.length > 1 ? (d.weight ?? 0) : undefined);
    // header changes of one destination (e.g. a cookie pinning a user to the version that answered)
    const filters = headerFilters(d.headers);
    return filters.length ? { ...ref, filters } : ref;
  });
}

function checkForwarding(scope: Construct, rule: GatewayRule, kind: string, toIstio: string) {
  const b = rule.body;
  if (b.retries !== undefined) refuse(scope, rule, 'sets retries', `the Gateway API standard channel cannot express on a ${kind} (the gateway would retry as Istio's default does)`, toIstio);
  if (b.fault !== undefined) refuse(scope, rule, 'injects faults', `the Gateway API cannot express on a ${kind}`, toIstio);
  if (b.directResponse !== undefined) refuse(scope, rule, 'answers with a direct response', `the Gateway API standard channel cannot express on a ${kind}`, toIstio);
}

/**
 * HTTPRoute rules of rules; `toIstio` says in a refusal which setting chose the Gateway API
 * (`GATEWAY_ROUTING_TO_ISTIO`, `MESH_ROUTING_TO_ISTIO`). @internal
 */
export function renderK8sHttpRules(scope: Construct, rules: GatewayRule[], backendRef: BackendRefOf, duration: (d: string) => string,
  toIstio: string): any[] {
  return rules.map(rule => {
    checkForwarding(scope, rule, 'HTTPRoute', toIstio);
    const b = rule.body;
    const filters: any[] = [];
    if (b.rewrite) {
      const rw = b.rewrite;
      const p = rule.conditions[0].path;
      let path: any;
      if (rw.uri !== undefined) {
        if (rule.rewriteBy === 'gateway' && p.kind === 'SEGMENT') path = { type: 'ReplacePrefixMatch', replacePrefixMatch: rw.uri };
        else if (p.kind === 'EXACT' || (rule.rewriteBy === 'gateway' && p.kind !== 'REGEX')) path = { type: 'ReplaceFullPath', replaceFullPath: rw.uri };
        else refuse(scope, rule, `rewrites the path of a ${p.kind === 'REGEX' ? 'regex' : 'character prefix or catch-all'} match`, 'the Gateway API rewrites only with whole-segment prefixes or exact paths', toIstio);
      }
      if (rw.authority !== undefined && rw.authority.includes(':')) refuse(scope, rule, `rewrites the authority to '${rw.authority}'`, 'the Gateway API\'s hostname rewrite cannot carry a port', toIstio);
      filters.push({ type: 'URLRewrite', urlRewrite: compact({ hostname: rw.authority, path }) });
    }
    filters.push(...headerFilters(b.headers));
    if (rule.cors) filters.push({ type: 'CORS', cors: renderK8sCors(rule.cors) });
    if (b.redirect) {
      const r = b.redirect;
      const [hostname, port] = r.authority ? r.authority.split(':') : [undefined, undefined];
      filters.push({
        type: 'RequestRedirect',
        requestRedirect: compact({
          scheme: r.scheme,
          hostname,
          port: r.port ?? (port ? Number(port) : undefined),
          path: r.uri ? { type: 'ReplaceFullPath', replaceFullPath: r.uri } : undefined,
          statusCode: r.redirectCode ?? 301,
        }),
      });
    }
    filters.push(...mirrorFilters(rule, backendRef));
    const matches = rule.conditions.map(c => compact({
      path: k8sPath(scope, rule, c.path),
      headers: k8sMatches(scope, rule, c.headers),
      queryParams: k8sMatches(scope, rule, c.queryParams),
      method: c.method ? k8sMethod(scope, rule, c.method) : undefined,
    }));
    return compact({
      matches,
      filters: filters.length ? filters : undefined,
      backendRefs: backendRefs(rule, backendRef),
      timeouts: b.timeout ? { request: duration(b.timeout) } : undefined,
    });
  });
}

/**
 * GRPCRoute rules of rules: the service's path conditions become method matches (`/pkg.Service/Method` exactly, or
 * `/pkg.Service/` as a prefix: the service); conditions a GRPCRoute cannot express are refused, never dropped, naming
 * the setting `toIstio` as for `renderK8sHttpRules`.
 * @internal
 */
export function renderK8sGrpcRules(scope: Construct, rules: GatewayRule[], backendRef: BackendRefOf, toIstio: string): any[] {
  return rules.map(rule => {
    checkForwarding(scope, rule, 'GRPCRoute', toIstio);
    const b = rule.body;
    for (const [k, what] of [['timeout', 'sets a timeout'], ['rewrite', 'rewrites the request'], ['corsPolicy', 'answers CORS'], ['redirect', 'redirects']] as const) {
      if (b[k] !== undefined) refuse(scope, rule, what, 'a GRPCRoute cannot express', toIstio);
    }
    const matches = rule.conditions.map(c => {
      if (Object.keys(c.queryParams).length) refuse(scope, rule, 'matches query parameters', 'gRPC requests do not carry and a GRPCRoute cannot express', toIstio);
      if (c.method) refuse(scope, rule, 'matches the HTTP method', 'a GRPCRoute cannot express (every gRPC call is a POST)', toIstio);
      return compact({ method: grpcMethod(scope, rule, c.path, toIstio), headers: k8sMatches(scope, rule, c.headers) });
    }).filter(m => Object.keys(m).length > 0);
    const filters = [...headerFilters(b.headers), ...mirrorFilters(rule, backendRef)];
    return compact({
      matches: matches.length === rule.conditions.length && matches.length ? matches : undefined,
      filters: filters.length ? filters : undefined,
      backendRefs: backendRefs(rule, backendRef),
    });
  });
}

const GRPC_SERVICE = /^\.?[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/;
const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

function grpcMethod(scope: Construct, rule: GatewayRule, p: GatewayPath, toIstio: string): any {
  if (p.kind === 'SEGMENT' && p.value === '/') return undefined;
  // gRPC paths are /<package.Service>/<Method>
  const [empty, service, method, ...rest] = p.value.split('/');
  const exactMethod = p.kind === 'EXACT' || (p.kind === 'SEGMENT' && method !== undefined);
  const serviceOnly = (p.kind === 'RAW_PREFIX' && method === '') || (p.kind === 'SEGMENT' && method === undefined);
  if (p.kind !== 'REGEX' && empty === '' && rest.length === 0 && GRPC_SERVICE.test(service ?? '')) {
    if (exactMethod && GRPC_METHOD.test(method ?? '')) return { type: 'Exact', service, method };
    if (serviceOnly) return { type: 'Exact', service };
  }
  return refuse(scope, rule, `matches the path ${p.kind === 'REGEX' ? 'regex' : p.kind === 'EXACT' ? 'exactly' : 'prefix'} '${p.value}'`,
    "a GRPCRoute expresses only as a method match ('/<package.Service>/<Method>' exactly, or the prefix '/<package.Service>/')", toIstio);
}

function k8sMatches(scope: Construct, rule: GatewayRule, m: { [k: string]: any }): any[] | undefined {
  const keys = Object.keys(m).sort();
  return keys.length ? keys.map(k => k8sStringMatch(scope, `${rule.origin} '${k}'`, k, m[k])) : undefined;
}

function k8sMethod(scope: Construct, rule: GatewayRule, m: any): string {
  if (m.exact === undefined || !METHODS.includes(m.exact)) invalid(scope, 'routes.method', m.exact ?? JSON.stringify(m), `must be an exact HTTP method (${METHODS.join(', ')}) with the Gateway API (${rule.origin})`);
  return m.exact;
}

function renderK8sCors(c: CorsPolicy): any {
  const sorted = (l?: string[]) => (l && l.length ? [...new Set(l)].sort() : undefined);
  return compact({
    allowOrigins: sorted(c.allowOrigins),
    allowMethods: sorted(c.allowMethods),
    allowHeaders: sorted(c.allowHeaders),
    exposeHeaders: sorted(c.exposeHeaders),
    maxAge: c.maxAge ? c.maxAge.toSeconds() : undefined,
    allowCredentials: c.allowCredentials,
  });
}

// ------------------------------------------------------------------ precedence

/**
 * Istio sorts a host's Gateway API route rules by the API's precedence (exact before prefix before regex paths,
 * longer paths, a method match, more header matches, more query matches; a stable sort). The gateway renders rules
 * in the service's order, the order the mesh applies them: when precedence would move a later rule ahead of an
 * earlier one that can match the same request, ingress would resolve it differently from the mesh, so it is refused,
 * naming the setting `toIstio` as for `renderK8sHttpRules`.
 * @internal
 */
export function checkGatewayApiOrder(scope: Construct, host: string, rules: GatewayRule[], grpc: boolean, toIstio: string): void {
  const flat = rules.flatMap((rule, i) => rule.conditions.map(c => ({ rule, i, c, key: precedence(c, grpc) })));
  for (let a = 0; a < flat.length; a++) {
    for (let b = a + 1; b < flat.length; b++) {
      const x = flat[a];
      const y = flat[b];
      if (x.i === y.i || compareKeys(y.key, x.key) <= 0 || !mayOverlap(x.c, y.c)) continue;
      const hint = !grpc && (x.c.path.kind === 'RAW_PREFIX' || x.c.path.kind === 'REGEX')
        ? ` (the earlier rule's ${x.c.path.kind === 'REGEX' ? 'regex' : 'character prefix (StringMatch.prefix, a regex in the Gateway API)'} ranks below path prefixes)`
        : '';
      invalid(scope, 'routes', `${host}: ${y.rule.origin}`,
        `would take precedence over the earlier ${x.rule.origin} for requests both match${hint} (the Gateway API orders rules by path, method, header and query match counts, not as listed), so ingress would not route like the mesh: make the rules disjoint, or ${toIstio}`);
    }
  }
}

function precedence(c: GatewayCondition, grpc: boolean): number[] {
  const p = c.path;
  // a GRPCRoute method match is a path match once Istio converts it: exact for service and method, a prefix for a
  // service alone, none for every method
  if (grpc) {
    const any = p.kind === 'SEGMENT' && p.value === '/';
    const rank = any ? 0 : p.kind === 'EXACT' || (p.kind === 'SEGMENT' && p.value.split('/').length === 3) ? 3 : 2;
    return [rank, any ? 0 : p.value.length, 0, Object.keys(c.headers).length, 0];
  }
  const rank = p.kind === 'EXACT' ? 3 : p.kind === 'SEGMENT' ? 2 : 1;
  const length = p.kind === 'RAW_PREFIX' ? p.value.length + 2 : p.value.length;
  return [rank, length, c.method ? 1 : 0, Object.keys(c.headers).length, Object.keys(c.queryParams).length];
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function under(prefix: string, path: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

function pathsMayOverlap(a: GatewayPath, b: GatewayPath): boolean {
  if (a.kind === 'REGEX' || b.kind === 'REGEX') return true;
  if (a.kind === 'EXACT' && b.kind === 'EXACT') return a.value === b.value;
  if (a.kind === 'EXACT' || b.kind === 'EXACT') {
    const [e, o] = a.kind === 'EXACT' ? [a, b] : [b, a];
    return o.kind === 'SEGMENT' ? under(o.value, e.value) : e.value.startsWith(o.value);
  }
  if (a.kind === 'SEGMENT' && b.kind === 'SEGMENT') return under(a.value, b.value) || under(b.value, a.value);
  return a.value.startsWith(b.value) || b.value.startsWith(a.value);
}

function valuesMayOverlap(x: { [k: string]: any }, y: { [k: string]: any }): boolean {
  for (const k of Object.keys(x)) {
    const a = x[k];
    const b = y[k];
    if (b === undefined) continue;
    if (a.exact !== undefined && b.exact !== undefined && a.exact !== b.exact) return false;
    if (a.exact !== undefined && b.prefix !== undefined && !a.exact.startsWith(b.prefix)) return false;
    if (b.exact !== undefined && a.prefix !== undefined && !b.exact.startsWith(a.prefix)) return false;
  }
  return true;
}

function mayOverlap(a: GatewayCondition, b: GatewayCondition): boolean {
  if (!pathsMayOverlap(a.path, b.path)) return false;
  if (!valuesMayOverlap(a.headers, b.headers) || !valuesMayOverlap(a.queryParams, b.queryParams)) return false;
  if (a.method?.exact !== undefined && b.method?.exact !== undefined && a.method.exact !== b.method.exact) return false;
  return true;
}

/** Whether a route's timeout applies to the port (never to gRPC ports: it would cut streams). @internal */
export function checkGatewayTimeout(scope: Construct, field: string, timeout: any, port: ServicePort | undefined): void {
  millisOf(scope, field, timeout);
  if (port && isGrpcPort(port)) {
    invalid(scope, field, timeout.toHumanString(), `does not apply to gRPC port ${port.name}/${port.port}: a route timeout would cut streams; set the service's grpcTimeout to time out gRPC calls`);
  }
}
