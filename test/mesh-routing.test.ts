/**
 * Mesh routing through the Gateway API (GAMMA): `Mesh({ meshRouting: RoutingApi.GATEWAY_API })` renders each
 * MeshedService's own routes as an HTTPRoute (GRPCRoute) attached to the Service, from the same route model as the
 * VirtualService, with sidecars and in ambient namespaces; what the standard channel cannot say is refused.
 */
import { App, Chart, Duration } from 'cdk8s';
import {
  analyzeFlows, CanaryRelease, CanaryTraffic, DataPlaneMode, FlowVerdict, Mesh, MeshAnalyzer, MeshedService, MeshFlowKind, RequestMatch,
  ProgressiveDelivery, RetryOn, RouteAction, RoutingApi, ServicePort, StringMatch, ZeroTrustNamespace,
} from '../src';
import { ofKind, one, synthAppValid } from './util';

function shop(meshRouting: RoutingApi, dataPlaneMode = DataPlaneMode.SIDECAR, props: any = {}) {
  const app = new App();
  const platform = new Chart(app, 'platform');
  const mesh = new Mesh(platform, 'mesh', { meshRouting });
  const chart = new Chart(app, 'shop');
  const ns = new ZeroTrustNamespace(chart, 'ns', { mesh, name: 'shop', dataPlaneMode });
  const reviews = new MeshedService(chart, 'reviews', { namespace: ns, image: 'example/reviews:1', ports: [ServicePort.http(9080)], ...props });
  const web = new MeshedService(chart, 'web', { namespace: ns, image: 'example/web:1', ports: [ServicePort.http(8080)] });
  web.connectsTo(reviews);
  return { app, mesh, chart, ns, reviews, web };
}

const traffic = () => CanaryTraffic.weighted(10)
  .andMatch(RequestMatch.all(RequestMatch.userAgent('.*iPhone.*'), RequestMatch.headerExact('x-region', 'south')), { weight: 50 })
  .andMirror(5);

function canary(s: ReturnType<typeof shop>, t = traffic()) {
  return new CanaryRelease(s.chart, 'reviews-v2', { service: s.reviews, image: 'example/reviews:2', version: 'v2', traffic: t });
}

/** The VirtualService's route table: per condition, the header matches, the destinations with weights, the mirrors. */
function vsRows(http: any[]): any[] {
  return http.flatMap(r => (r.match ?? [{}]).map((m: any) => ({
    headers: m.headers ?? {},
    to: (r.route ?? []).map((d: any) => `${d.destination.subset ?? '*'}@${d.weight ?? 100}`),
    mirror: r.mirror ? [`${r.mirror.subset ?? '*'}@${r.mirrorPercentage?.value ?? 100}`] : [],
    timeout: r.timeout,
  })));
}

/** The HTTPRoute's route table, backends `reviews-<subset>` read as their subset. */
function routeRows(route: any): any[] {
  const subset = (name: string) => (name.startsWith('reviews-') ? name.slice('reviews-'.length) : '*');
  return route.spec.rules.flatMap((rule: any) => (rule.matches ?? [{}]).map((m: any) => {
    const headers: any = {};
    for (const h of m.headers ?? []) headers[h.name] = { [h.type === 'Exact' ? 'exact' : 'regex']: h.value };
    return {
      headers,
      to: (rule.backendRefs ?? []).map((b: any) => `${subset(b.name)}@${rule.backendRefs.length > 1 ? b.weight : 100}`),
      mirror: (rule.filters ?? []).filter((f: any) => f.type === 'RequestMirror').map((f: any) => {
        const fr = f.requestMirror.fraction;
        return `${subset(f.requestMirror.backendRef.name)}@${f.requestMirror.percent ?? (fr ? 100 * fr.numerator / fr.denominator : 100)}`;
      }),
      timeout: rule.timeouts?.request === '2s' ? '2s' : rule.timeouts?.request,
    };
  }));
}

/** The verdicts of web's calls to reviews, by the host its requests reach (the route's backends). */
const callVerdicts = (objects: any[]) => {
  const flows = analyzeFlows(objects).flows.filter(f => f.source === 'shop/web-v1' && [MeshFlowKind.CALL, MeshFlowKind.ROUTE].includes(f.kind));
  return Object.fromEntries(flows.map(f => [`${f.destination.split('.')[0]}:${f.port}`, f.verdict]));
};

describe('meshRouting: a typed mesh-wide choice', () => {
  test('the default is Istio VirtualServices; GATEWAY_API is kept; anything else is refused', () => {
    const app = new App();
    const c = new Chart(app, 'c');
    expect(new Mesh(c, 'a').meshRouting).toBe(RoutingApi.ISTIO);
    expect(new Mesh(c, 'b', { meshRouting: RoutingApi.GATEWAY_API }).meshRouting).toBe(RoutingApi.GATEWAY_API);
    expect(Mesh.fromAttributes(c, 'imported', { meshRouting: RoutingApi.GATEWAY_API }).meshRouting).toBe(RoutingApi.GATEWAY_API);
    expect(() => new Mesh(c, 'x', { meshRouting: 'GAMMA' as any })).toThrow(/c\/x: meshRouting 'GAMMA' is invalid: must be one of ISTIO, GATEWAY_API/);
  });

  test('a service without routes gets neither a VirtualService nor an HTTPRoute', () => {
    const s = shop(RoutingApi.GATEWAY_API);
    const objects = synthAppValid(s.app);
    expect(ofKind(objects, 'HTTPRoute')).toEqual([]);
    expect(ofKind(objects, 'VirtualService')).toEqual([]);
    expect(s.reviews.gatewayApiRoutes).toEqual([]);
  });
});

describe.each([
  ['sidecars', DataPlaneMode.SIDECAR],
  ['ambient', DataPlaneMode.AMBIENT],
])('a canary under both routing choices (%s)', (_name, mode) => {
  const build = (api: RoutingApi) => {
    const s = shop(api, mode, { timeout: Duration.seconds(2) });
    canary(s);
    return { ...s, objects: synthAppValid(s.app) };
  };

  test('one route table: the HTTPRoute attached to the Service says what the VirtualService says', () => {
    const istio = build(RoutingApi.ISTIO);
    const k8s = build(RoutingApi.GATEWAY_API);
    const table = vsRows(one(istio.objects, 'VirtualService', 'reviews').spec.http);
    expect(table).toEqual([
      { headers: { 'user-agent': { regex: '.*iPhone.*' }, 'x-region': { exact: 'south' } }, to: ['v1@50', 'v2@50'], mirror: ['v2@2.5'], timeout: '2s' },
      { headers: {}, to: ['v1@90', 'v2@10'], mirror: ['v2@4.5'], timeout: '2s' },
    ]);
    expect(ofKind(k8s.objects, 'VirtualService')).toEqual([]);
    const route = one(k8s.objects, 'HTTPRoute', 'reviews');
    expect(route.metadata.namespace).toBe('shop');
    expect(route.spec.parentRefs).toEqual([{ group: '', kind: 'Service', name: 'reviews' }]);
    expect(route.spec.hostnames).toBeUndefined();
    expect(routeRows(route)).toEqual(table);
    expect(k8s.reviews.virtualService).toBeUndefined();
    expect(k8s.reviews.gatewayApiRoutes.map(r => r.name)).toEqual(['reviews']);
  });

  test('per-version backend Services and their DestinationRules, the Service\'s own DestinationRule kept', () => {
    const { objects } = build(RoutingApi.GATEWAY_API);
    for (const v of ['v1', 'v2']) {
      expect(one(objects, 'Service', `reviews-${v}`).spec.selector).toEqual({ app: 'reviews', version: v });
      const dr = one(objects, 'DestinationRule', `reviews-${v}`);
      expect(dr.spec.host).toBe(`reviews-${v}.shop.svc.cluster.local`);
      expect(dr.spec.trafficPolicy.tls).toEqual({ mode: 'ISTIO_MUTUAL' });
    }
    expect(one(objects, 'DestinationRule', 'reviews').spec.subsets.map((x: any) => x.name)).toEqual(['v1', 'v2']);
  });

  test('the analyzer is clean and the caller is still allowed (the flow analysis reads the Service-parented route)', () => {
    const { objects } = build(RoutingApi.GATEWAY_API);
    expect(MeshAnalyzer.analyze(objects).filter(f => f.level !== 'Info')).toEqual([]);
    expect(analyzeFlows(objects).findings.filter(f => f.level === 'Error')).toEqual([]);
    // the mesh's route sends web's requests to the versions' backend Services; every one gets through
    expect(callVerdicts(objects)).toEqual({ 'reviews-v1:9080': FlowVerdict.ALLOWED, 'reviews-v2:9080': FlowVerdict.ALLOWED });
    expect(callVerdicts(build(RoutingApi.ISTIO).objects)).toEqual({ 'reviews:9080': FlowVerdict.ALLOWED });
  });
});

describe('the data planes', () => {
  test('sidecars: callers\' proxies know the backend hosts the route sends to', () => {
    const s = shop(RoutingApi.GATEWAY_API);
    canary(s);
    const objects = synthAppValid(s.app);
    const hosts = one(objects, 'Sidecar', 'web').spec.egress[0].hosts;
    expect(hosts).toEqual(expect.arrayContaining([
      'shop/reviews.shop.svc.cluster.local', 'shop/reviews-v1.shop.svc.cluster.local', 'shop/reviews-v2.shop.svc.cluster.local',
    ]));
    // the Istio routing choice keeps the caller's hosts as they were
    const i = shop(RoutingApi.ISTIO);
    canary(i);
    expect(one(synthAppValid(i.app), 'Sidecar', 'web').spec.egress[0].hosts).not.toContain('shop/reviews-v1.shop.svc.cluster.local');
  });

  test('ambient: the routes are a layer-7 need, so the service gets a waypoint that applies them', () => {
    const s = shop(RoutingApi.GATEWAY_API, DataPlaneMode.AMBIENT, { timeout: Duration.seconds(2) });
    const objects = synthAppValid(s.app);
    const waypoint = ofKind(objects, 'Gateway').find(g => g.spec.gatewayClassName === 'istio-waypoint');
    expect(waypoint).toBeDefined();
    expect(one(objects, 'Service', 'reviews').metadata.labels['istio.io/use-waypoint']).toBe(waypoint.metadata.name);
    expect(one(objects, 'HTTPRoute', 'reviews').spec.rules).toEqual([{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }], timeouts: { request: '2s' } }]);
    expect(MeshAnalyzer.analyze(objects).filter(f => f.level !== 'Info')).toEqual([]);
  });
});

describe('ambient: layer-7 policy holds on the versions\' Services too', () => {
  test('the waypoint\'s authorization is attached to the Service and to its backends, which go through the waypoint', () => {
    const app = new App();
    const mesh = new Mesh(new Chart(app, 'platform'), 'mesh', { meshRouting: RoutingApi.GATEWAY_API });
    const chart = new Chart(app, 'shop');
    const ns = new ZeroTrustNamespace(chart, 'ns', { mesh, name: 'shop', dataPlaneMode: DataPlaneMode.AMBIENT });
    const reviews = new MeshedService(chart, 'reviews', { namespace: ns, image: 'example/reviews:1', ports: [ServicePort.http(9080)] });
    const web = new MeshedService(chart, 'web', { namespace: ns, image: 'example/web:1', ports: [ServicePort.http(8080)] });
    web.connectsTo(reviews, { methods: ['GET'] });
    new CanaryRelease(chart, 'reviews-v2', { service: reviews, image: 'example/reviews:2', version: 'v2', traffic: CanaryTraffic.weighted(10) });
    const objects = synthAppValid(app);
    expect(one(objects, 'AuthorizationPolicy', 'reviews-waypoint').spec.targetRefs).toEqual(['reviews', 'reviews-v1', 'reviews-v2'].map(name => ({ group: '', kind: 'Service', name })));
    for (const name of ['reviews', 'reviews-v1', 'reviews-v2']) expect(one(objects, 'Service', name).metadata.labels['istio.io/use-waypoint']).toBe('waypoint');
    expect(MeshAnalyzer.analyze(objects).filter(f => f.level !== 'Info')).toEqual([]);
    expect(analyzeFlows(objects).findings.filter(f => f.level === 'Error')).toEqual([]);
  });
});

describe('ports', () => {
  test('a gRPC port gets a GRPCRoute; several HTTP ports get one route each, attached to their port', () => {
    const app = new App();
    const mesh = new Mesh(new Chart(app, 'platform'), 'mesh', { meshRouting: RoutingApi.GATEWAY_API });
    const chart = new Chart(app, 'shop');
    const ns = new ZeroTrustNamespace(chart, 'ns', { mesh, name: 'shop' });
    const api = new MeshedService(chart, 'api', {
      namespace: ns, image: 'example/api:1', ports: [ServicePort.http(8080), ServicePort.http(8081, { nameSuffix: 'admin' }), ServicePort.grpc(9090)],
    });
    const v2 = api.addVersion('v2', { image: 'example/api:2' });
    api.replaceHttpRoutes([{ destinations: [{ version: api.versions[0], weight: 80 }, { version: v2, weight: 20 }] }]);
    const objects = synthAppValid(app);
    const routes = [...ofKind(objects, 'HTTPRoute'), ...ofKind(objects, 'GRPCRoute')];
    expect(routes.map(r => `${r.kind} ${r.metadata.name} ${r.spec.parentRefs.map((p: any) => `${p.kind}/${p.name}:${p.port}`)}`)).toEqual(
      api.ports.map(p => `${p.port === 9090 ? 'GRPCRoute' : 'HTTPRoute'} api-${p.name} Service/api:${p.port}`).sort((a, b) => (a.startsWith('G') ? 1 : 0) - (b.startsWith('G') ? 1 : 0)));
    for (const r of routes) {
      const port = r.spec.parentRefs[0].port;
      expect(r.spec.rules.map((x: any) => x.backendRefs)).toEqual([[
        { group: '', kind: 'Service', name: 'api-v1', port, weight: 80 },
        { group: '', kind: 'Service', name: 'api-v2', port, weight: 20 },
      ]]);
    }
    expect(MeshAnalyzer.analyze(objects).filter(f => f.level !== 'Info')).toEqual([]);
  });

  test('a gRPC timeout, which a GRPCRoute cannot carry, is refused', () => {
    const app = new App();
    const mesh = new Mesh(new Chart(app, 'platform'), 'mesh', { meshRouting: RoutingApi.GATEWAY_API });
    const ns = new ZeroTrustNamespace(new Chart(app, 'shop'), 'ns', { mesh, name: 'shop' });
    expect(() => new MeshedService(ns, 'api', { namespace: ns, image: 'example/api:1', ports: [ServicePort.grpc(9090)], grpcTimeout: Duration.seconds(3) }))
      .toThrow(/routes 'api.shop.svc.cluster.local' is invalid: sets a timeout, which a GRPCRoute cannot express: set the mesh's meshRouting to RoutingApi.ISTIO$/);
  });
});

describe('what the Gateway API standard channel cannot express is refused at construction', () => {
  const gamma = (props: any = {}) => shop(RoutingApi.GATEWAY_API, DataPlaneMode.SIDECAR, props);

  test('retries', () => {
    expect(() => gamma({ retries: { attempts: 3, retryOn: [RetryOn.CONNECT_FAILURE] } }))
      .toThrow(/shop\/reviews: routes 'reviews.shop.svc.cluster.local' is invalid: sets retries, which the Gateway API standard channel cannot express on a HTTPRoute.*: set the mesh's meshRouting to RoutingApi.ISTIO$/);
  });

  test('faults and direct responses', () => {
    expect(() => gamma({ fault: { abort: { httpStatus: 503, percentage: 10 } } }))
      .toThrow(/routes 'reviews.shop.svc.cluster.local' is invalid: injects faults, which the Gateway API cannot express on a HTTPRoute/);
    const s = gamma();
    expect(() => s.reviews.replaceHttpRoutes([{ matches: [{ uri: StringMatch.exact('/old') }], action: RouteAction.directResponse(410) }, {}]))
      .toThrow(/answers with a direct response, which the Gateway API standard channel cannot express/);
  });

  test('a controller\'s subsets (Argo Rollouts), which have no backend Service', () => {
    const s = gamma();
    const stable = { name: 'stable', subsetName: 'stable', selector: { app: 'reviews' }, image: 'x', replicas: 1, deployment: s.reviews.versions[0].deployment };
    s.reviews.addControllerSubset(stable);
    expect(() => s.reviews.replaceHttpRoutes([{ destinations: [{ version: stable }] }]))
      .toThrow(/routes to subset 'stable' of reviews.shop.svc.cluster.local, which is not a version of the service/);
  });

  test('progressive delivery, whose controllers shift Istio VirtualServices', () => {
    const s = gamma();
    expect(() => new CanaryRelease(s.chart, 'reviews-v2', { service: s.reviews, image: 'example/reviews:2', version: 'v2', progressive: ProgressiveDelivery.argoRollouts({ steps: [10, 50] }) }))
      .toThrow(/reviews-v2: progressive 'argo-rollouts' is invalid: is not supported with the mesh's meshRouting GATEWAY_API.*GitOps mode/);
  });

  test('matches on the caller (sourceLabels) and on a missing header', () => {
    const s = gamma();
    expect(() => s.reviews.replaceHttpRoutes([{ matches: [{ sourceLabels: { app: 'web' } }], destinations: [{ version: s.reviews.versions[0] }] }, {}]))
      .toThrow(/routes 'reviews.shop.svc.cluster.local' is invalid: matches the caller's labels \(sourceLabels\), which a Gateway API route cannot express: set the mesh's meshRouting to RoutingApi.ISTIO/);
    const t = gamma();
    expect(() => t.reviews.replaceHttpRoutes([{ matches: [{ withoutHeaders: { 'x-test': StringMatch.exact('1') } }], destinations: [{ version: t.reviews.versions[0] }] }, {}]))
      .toThrow(/matches the absence of a header \(withoutHeaders\)/);
  });

  test('a mirror to a service of another namespace (a ReferenceGrant would be needed)', () => {
    const s = gamma();
    const other = new ZeroTrustNamespace(s.chart, 'other', { mesh: s.mesh, name: 'other' });
    const shadow = new MeshedService(s.chart, 'shadow', { namespace: other, image: 'example/shadow:1', ports: [ServicePort.http(9080)] });
    expect(() => new MeshedService(s.chart, 'api', { namespace: s.ns, image: 'example/api:1', ports: [ServicePort.http(8080)], mirror: { service: shadow, percentage: 10 } }))
      .toThrow(/sends traffic to shadow.other.svc.cluster.local \(namespace 'other'\), which a Gateway API route may do only with a ReferenceGrant/);
  });

  test('layer-4 routes', () => {
    const app = new App();
    const mesh = new Mesh(new Chart(app, 'p'), 'mesh', { meshRouting: RoutingApi.GATEWAY_API });
    const chart = new Chart(app, 'shop');
    const ns = new ZeroTrustNamespace(chart, 'ns', { mesh, name: 'shop' });
    const db = new MeshedService(chart, 'db', { namespace: ns, image: 'example/db:1', ports: [ServicePort.tcp(5432)] });
    const v2 = db.addVersion('v2', { image: 'example/db:2' });
    expect(() => db.replaceTcpRoutes([{ port: db.ports[0], destinations: [{ version: db.versions[0], weight: 50 }, { version: v2, weight: 50 }] }]))
      .toThrow(/shop\/db: tcpRoutes 'set' is invalid: are layer-4 routes \(TCPRoute, TLSRoute\), which the Gateway API standard channel cannot attach to a Service/);
  });

  test('rules the Gateway API\'s precedence would reorder', () => {
    const s = gamma();
    const both = CanaryTraffic.weighted(10)
      .andMatch(RequestMatch.headerExact('x-beta', 'yes'), { weight: 100 })
      .andMatch(RequestMatch.all(RequestMatch.userAgent('.*iPhone.*'), RequestMatch.headerExact('x-region', 'south')), { weight: 50 });
    expect(() => canary(s, both)).toThrow(/would take precedence over the earlier/);
  });
});
