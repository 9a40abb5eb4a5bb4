/**
 * Pure renderers of the HTTP routes of a meshed service's VirtualService: the service's route rules, with its
 * resilience settings (per port: gRPC ports keep streams open), header manipulation, CORS, route actions and
 * faults limited to matching requests.
 * @internal
 */
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { ServicePort } from '../service/service-port';
import type { IMeshService } from '../service/workload';
import { checkHeaderValue, checkPath, compact, isDnsSubdomain, sortKeys, checkRegex } from '../validation';
import { mergeHeaderRules, renderHeaderRules } from './http-headers';
import { renderResilience, resilienceForPort, RouteResilience } from './resilience';
import { MeshRouteOptions, renderRouteOptions } from './route-options';
import { HttpRequestMatch, HttpRouteRule, renderMatchMap, RouteAction, StringMatch } from './routing';

/** What the renderers need to know about the service. @internal */
export interface MeshRouteContext {
  readonly scope: Construct;
  readonly self: IMeshService;
  readonly resilience: RouteResilience;
  readonly options: MeshRouteOptions;
}

const AUTHORITY = /^([^:]+)(:(\d{1,5}))?$/;

/** AND of two request matches; a condition both constrain is an error naming `what`. @internal */
export function combineMatches(scope: Construct, field: string, a: HttpRequestMatch, b: HttpRequestMatch): HttpRequestMatch {
  const clash = (what: string) => invalid(scope, field, what,
    'is constrained both by the route and by fault.match: a request cannot be matched on it twice; drop one of them or combine them in one regex');
  const one = <T>(what: string, x: T | undefined, y: T | undefined): T | undefined => {
    if (x !== undefined && y !== undefined) clash(what);
    return x ?? y;
  };
  const map = <T>(what: string, x: { [k: string]: T } | undefined, y: { [k: string]: T } | undefined) => {
    if (!x) return y;
    if (!y) return x;
    const out = { ...x };
    for (const [k, v] of Object.entries(y)) {
      if (k in out) clash(`${what} '${k}'`);
      out[k] = v;
    }
    return out;
  };
  return {
    uri: one('uri', a.uri, b.uri),
    method: one('method', a.method, b.method),
    headers: map('header', a.headers, b.headers),
    queryParams: map('query parameter', a.queryParams, b.queryParams),
    withoutHeaders: map('withoutHeaders', a.withoutHeaders, b.withoutHeaders),
    sourceLabels: map('source label', a.sourceLabels, b.sourceLabels),
    sourceNamespace: one('sourceNamespace', a.sourceNamespace, b.sourceNamespace),
  };
}

function checkStringMatchValue(scope: Construct, field: string, m: StringMatch | undefined, header: boolean) {
  if (m === undefined) return;
  if (!(m instanceof StringMatch)) invalid(scope, field, m, 'must be made with StringMatch.exact/prefix/regex');
  if (m.kind === 'regex') checkRegex(scope, field, m.value);
  else if (header) checkHeaderValue(scope, field, m.value, { allowEmpty: true });
}

/**
 * Checks what the service-level code does not: match values (RE2 regexes, header values without CR/LF), actions,
 * rewrites, route headers (and their clashes with the service's), and that `fault.match` combines with every rule.
 * @internal
 */
export function checkRouteExtras(ctx: MeshRouteContext, rules: HttpRouteRule[]): void {
  const { scope } = ctx;
  const serviceHeaders = renderHeaderRules(scope, 'headers', ctx.options.headers);
  const faultMatch = ctx.resilience.fault?.match?._toHttpRequestMatch();
  rules.forEach((r, i) => {
    const field = `httpRoutes[${i}]`;
    for (const [j, m] of (r.matches ?? []).entries()) {
      const mf = `${field}.matches[${j}]`;
      checkStringMatchValue(scope, `${mf}.uri`, m.uri, true);
      checkStringMatchValue(scope, `${mf}.method`, m.method, true);
      for (const [k, v] of Object.entries(m.headers ?? {})) checkStringMatchValue(scope, `${mf}.headers['${k}']`, v, true);
      for (const [k, v] of Object.entries(m.withoutHeaders ?? {})) checkStringMatchValue(scope, `${mf}.withoutHeaders['${k}']`, v, true);
      for (const [k, v] of Object.entries(m.queryParams ?? {})) checkStringMatchValue(scope, `${mf}.queryParams['${k}']`, v, true);
      if (faultMatch && !r.action) combineMatches(scope, `${mf} with fault.match`, m, faultMatch);
    }
    if (r.action !== undefined) {
      if (!(r.action instanceof RouteAction)) invalid(scope, `${field}.action`, r.action, 'must be made with RouteAction.directResponse(...) or RouteAction.redirect(...)');
      for (const k of ['destinations', 'mirror', 'rewrite'] as const) {
        if (r[k] !== undefined) invalid(scope, `${field}.${k}`, 'set', `must not be set with an action (${r.action.kind}): the route answers itself and forwards nothing`);
      }
    }
    if (r.rewrite !== undefined) {
      if (r.rewrite.uri === undefined && r.rewrite.authority === undefined) invalid(scope, `${field}.rewrite`, r.rewrite, 'must set uri, authority or both');
      if (r.rewrite.uri !== undefined) checkPath(scope, `${field}.rewrite.uri`, r.rewrite.uri);
      if (r.rewrite.authority !== undefined) {
        checkHeaderValue(scope, `${field}.rewrite.authority`, r.rewrite.authority);
        const m = AUTHORITY.exec(r.rewrite.authority);
        if (!m || !isDnsSubdomain(m[1]) || (m[3] !== undefined && !(Number(m[3]) >= 1 && Number(m[3]) <= 65535))) {
          invalid(scope, `${field}.rewrite.authority`, r.rewrite.authority, "must be a DNS name, optionally with ':port'");
        }
      }
    }
    const ruleHeaders = renderHeaderRules(scope, `${field}.headers`, r.headers);
    mergeHeaderRules(scope, `${field}.headers`, [{ source: 'the service headers', rules: serviceHeaders }, { source: `${field}.headers`, rules: ruleHeaders }]);
  });
}

function renderMatch(m: HttpRequestMatch, portMatch: any): any {
  return compact({
    uri: m.uri?._render(),
    method: m.method?._render(),
    headers: renderMatchMap(m.headers, true),
    queryParams: renderMatchMap(m.queryParams, false),
    withoutHeaders: renderMatchMap(m.withoutHeaders, true),
    sourceLabels: m.sourceLabels ? sortKeys({ ...m.sourceLabels }) : undefined,
    sourceNamespace: m.sourceNamespace,
    ...portMatch,
  });
}

/**
 * Renders the VirtualService `http` list of a service from its rules. With several Service ports each rule is
 * repeated per HTTP port and names it (IST0112). A `fault.match` gives every forwarding rule a copy for the
 * matching requests, with the fault, placed before it.
 * @internal
 */
export function renderMeshHttpRoutes(ctx: MeshRouteContext, rules: HttpRouteRule[]): any[] {
  const { scope, self } = ctx;
  const base = renderResilience(scope, ctx.resilience, self, true);
  const options = renderRouteOptions(scope, ctx.options);
  const multiPort = self.ports.length > 1;
  const ports: Array<ServicePort | undefined> = multiPort ? self.ports.filter(p => p.isHttp) : [undefined];
  const faultMatch = ctx.resilience.fault?.match?._toHttpRequestMatch();
  const out: any[] = [];
  for (const [i, rule] of rules.entries()) {
    for (const port of ports) {
      const resilience = resilienceForPort(scope, ctx.resilience, base, port ?? self.ports.find(p => p.isHttp));
      const render = (r: HttpRouteRule, name: string | undefined, withFault: boolean) =>
        renderRule(ctx, i, r, name, port, resilience, options, withFault);
      const name = rule.name ? (port ? `${rule.name}-${port.name}` : rule.name) : undefined;
      if (faultMatch && !rule.action) {
        const matches = (rule.matches?.length ? rule.matches : [{}]).map(m => combineMatches(scope, `httpRoutes[${i}] with fault.match`, m, faultMatch));
        out.push(render({ ...rule, matches }, rule.name ? (port ? `${rule.name}-fault-${port.name}` : `${rule.name}-fault`) : undefined, true));
        out.push(render(rule, name, false));
      } else {
        out.push(render(rule, name, !faultMatch));
      }
    }
  }
  return out;
}

function renderRule(ctx: MeshRouteContext, index: number, rule: HttpRouteRule, name: string | undefined, port: ServicePort | undefined,
  resilience: any, options: { headers?: any; corsPolicy?: any }, withFault: boolean): any {
  const { scope, self } = ctx;
  const portMatch = port ? { port: port.port } : {};
  const match = rule.matches?.length ? rule.matches.map(m => renderMatch(m, portMatch)) : (port ? [portMatch] : undefined);
  const { headers: retryHeaders, fault, mirror, mirrorPercentage, ...forwarding } = resilience;
  const field = `httpRoutes[${index}].headers`;
  const headerParts = [
    { source: 'the service headers', rules: options.headers },
    { source: field, rules: renderHeaderRules(scope, field, rule.headers) },
  ];
  if (rule.action) {
    return compact({
      name,
      match,
      ...rule.action._render(),
      headers: mergeHeaderRules(scope, field, headerParts),
      corsPolicy: options.corsPolicy,
    });
  }
  headerParts.push({ source: 'retries.retriableStatusCodes', rules: retryHeaders });
  const dests = rule.destinations?.length ? rule.destinations : [undefined];
  const route = dests.map((d, j) => compact({
    destination: compact({ host: self.host, subset: d?.version.subsetName, port: port ? { number: port.port } : undefined }),
    weight: dests.length > 1 ? d!.weight : undefined,
    headers: renderHeaderRules(scope, `httpRoutes[${index}].destinations[${j}].headers`, d?.headers),
  }));
  const serviceMirror = mirror ? { mirror, mirrorPercentage } : {};
  return compact({
    name,
    match,
    route,
    rewrite: rule.rewrite ? compact({ uri: rule.rewrite.uri, authority: rule.rewrite.authority }) : undefined,
    ...forwarding,
    fault: withFault ? fault : undefined,
    ...serviceMirror,
    ...renderRuleMirror(self, rule, port, serviceMirror),
    headers: mergeHeaderRules(scope, field, headerParts),
    corsPolicy: options.corsPolicy,
  });
}

/** A route's mirror to a version; with the service's own mirror, both go to `mirrors`. */
function renderRuleMirror(self: IMeshService, rule: HttpRouteRule, port: ServicePort | undefined, serviceMirror: any): any {
  if (!rule.mirror) return {};
  const destination = compact({ host: self.host, subset: rule.mirror.version.subsetName, port: port ? { number: port.port } : undefined });
  const percentage = { value: rule.mirror.weight ?? 100 };
  if (!serviceMirror.mirror) return { mirror: destination, mirrorPercentage: percentage };
  return {
    mirror: undefined,
    mirrorPercentage: undefined,
    mirrors: [{ destination: serviceMirror.mirror, percentage: serviceMirror.mirrorPercentage }, { destination, percentage }],
  };
}
