/**
 * Pure renderers of a meshed service's own routes as Gateway API routes attached to the Service (the Gateway API's
 * mesh support, GAMMA): the rules the service's VirtualService would be rendered from (`renderMeshHttpRoutes`),
 * translated by the gateways' Gateway API translation (gateway-rules.ts), so both routing APIs follow one route table.
 * @internal
 */
import { invalid } from '../errors';
import { ServicePort } from '../service/service-port';
import type { IMeshService } from '../service/workload';
import { compact } from '../validation';
import { gatewayApiDuration } from './duration';
import { MeshRouteContext, renderMeshHttpRoutes } from './mesh-routes';
import { isGrpcPort } from './resilience';
import { HttpRouteRule } from './routing';
import {
  BackendRefOf, checkGatewayApiOrder, GatewayCondition, GatewayPath, GatewayRule, MESH_ROUTING_TO_ISTIO, renderK8sGrpcRules, renderK8sHttpRules,
} from '../gateway/gateway-rules';

/** What a service's Gateway API route of one port is rendered from. @internal */
export interface GammaRouteInput {
  /** The service's route context (the service is `ctx.self`). */
  readonly ctx: MeshRouteContext;
  /** The service's HTTP route rules. */
  readonly rules: HttpRouteRule[];
  /** The HTTP or gRPC port the route attaches to. */
  readonly port: ServicePort;
  /** The per-version backend Service of a subset of the service, undefined when the subset is not a version. */
  readonly backendOf: (subset: string) => string | undefined;
}

/** The Gateway API route kind of a port: gRPC ports take a GRPCRoute. @internal */
export function gammaRouteKind(port: ServicePort): 'HTTPRoute' | 'GRPCRoute' {
  return isGrpcPort(port) ? 'GRPCRoute' : 'HTTPRoute';
}

function refuse(scope: GammaRouteInput['ctx']['scope'], origin: string, what: string, why: string): never {
  return invalid(scope, 'routes', origin, `${what}, which ${why}: ${MESH_ROUTING_TO_ISTIO}`);
}

/** A VirtualService match (without its port) as a Gateway API condition; what the API cannot say is refused. */
function condition(ctx: MeshRouteContext, origin: string, m: any): GatewayCondition {
  if (m.sourceLabels !== undefined) refuse(ctx.scope, origin, "matches the caller's labels (sourceLabels)", 'a Gateway API route cannot express');
  if (m.sourceNamespace !== undefined) refuse(ctx.scope, origin, "matches the caller's namespace (sourceNamespace)", 'a Gateway API route cannot express');
  if (m.withoutHeaders !== undefined) refuse(ctx.scope, origin, 'matches the absence of a header (withoutHeaders)', 'a Gateway API route cannot express');
  const path: GatewayPath = !m.uri ? { kind: 'SEGMENT', value: '/' }
    : m.uri.exact !== undefined ? { kind: 'EXACT', value: m.uri.exact }
      : m.uri.prefix !== undefined ? (m.uri.prefix === '/' ? { kind: 'SEGMENT', value: '/' } : { kind: 'RAW_PREFIX', value: m.uri.prefix })
        : { kind: 'REGEX', value: m.uri.regex };
  return { path, headers: { ...m.headers }, queryParams: { ...m.queryParams }, method: m.method };
}

/**
 * The service's rules of one port as gateway rules: the VirtualService entries of that port (a multi-port service
 * renders each rule once per HTTP port), with their matches as conditions and every destination naming the port.
 * @internal
 */
export function gammaRules(input: GammaRouteInput): GatewayRule[] {
  const { ctx, port } = input;
  const self = ctx.self;
  const services = new Map<string, IMeshService>([[self.host, self]]);
  const mirrorTarget = ctx.resilience.mirror?.service;
  if (mirrorTarget) services.set(mirrorTarget.host, mirrorTarget);
  const multiPort = self.ports.length > 1;
  const out: GatewayRule[] = [];
  for (const entry of renderMeshHttpRoutes(ctx, input.rules)) {
    const { match, name, ...body } = entry;
    let matches: any[] | undefined = match;
    if (multiPort) {
      if (!matches?.every((m: any) => m.port === port.port)) continue;
      matches = matches.map(({ port: _p, ...m }: any) => m).filter((m: any) => Object.keys(m).length > 0);
      if (matches.length === 0) matches = undefined;
    }
    const origin = `${self.host}${name ? ` route '${name}'` : ''}`;
    const conditions = matches ? matches.map(m => condition(ctx, origin, m)) : [condition(ctx, origin, {})];
    const onPort = (d: any) => (d.host === self.host ? { ...d, port: { number: port.port } } : d);
    for (const d of body.route ?? []) d.destination = onPort(d.destination);
    if (body.mirror) body.mirror = onPort(body.mirror);
    for (const m of body.mirrors ?? []) m.destination = onPort(m.destination);
    out.push({
      conditions,
      body,
      services,
      port,
      origin,
      name,
      cors: ctx.options.cors,
      rewriteBy: body.rewrite?.uri !== undefined ? 'service' : undefined,
    });
  }
  return out;
}

/**
 * The spec of the service's HTTPRoute (GRPCRoute for a gRPC port) on one port: attached to the Service itself (on
 * that port when the Service has several), its rules in the service's order (refused when the Gateway API's
 * precedence would reorder rules a request can match together), backends the Service or a version's backend Service.
 * @internal
 */
export function renderGammaRoute(input: GammaRouteInput): any {
  const { ctx, port } = input;
  const self = ctx.self;
  const rules = gammaRules(input);
  const grpc = gammaRouteKind(port) === 'GRPCRoute';
  checkGatewayApiOrder(ctx.scope, self.host, rules, grpc, MESH_ROUTING_TO_ISTIO);
  const ref: BackendRefOf = (rule, d, weight) => {
    const service = rule.services.get(d.host);
    if (!service) return invalid(ctx.scope, 'routes', d.host, 'is not a service the route knows');
    if (service.namespace.name !== self.namespace.name) {
      refuse(ctx.scope, rule.origin, `sends traffic to ${service.host} (namespace '${service.namespace.name}')`,
        'a Gateway API route may do only with a ReferenceGrant in that namespace, which the mesh\'s routes do not write');
    }
    let name = service.name;
    if (d.subset !== undefined) {
      const backend = service === self ? input.backendOf(d.subset) : undefined;
      if (backend === undefined) {
        refuse(ctx.scope, rule.origin, `routes to subset '${d.subset}' of ${service.host}, which is not a version of the service (e.g. a controller's subset)`,
          'a Gateway API route cannot name (it routes to per-version Services)');
      }
      name = backend;
    }
    const p = d.port?.number ?? (service.ports.length === 1 ? service.ports[0].port : undefined);
    if (p === undefined) return invalid(ctx.scope, 'routes', d.host, `needs a port: ${service.name} has several (${rule.origin})`);
    return compact({ group: '', kind: 'Service', name, port: p, weight });
  };
  return {
    parentRefs: [compact({ group: '', kind: 'Service', name: self.name, port: self.ports.length > 1 ? port.port : undefined })],
    rules: grpc ? renderK8sGrpcRules(ctx.scope, rules, ref, MESH_ROUTING_TO_ISTIO)
      : renderK8sHttpRules(ctx.scope, rules, ref, d => gatewayApiDuration(ctx.scope, 'timeout', d), MESH_ROUTING_TO_ISTIO),
  };
}
