/**
 * Ingress follows the service's own route table: a request through a MeshGateway (either routing API) goes where the
 * same request goes inside the mesh, with the same mirror, timeout, retries, faults, headers, CORS and rewrites;
 * what one API cannot express is refused, never silently dropped or widened.
 */
import { Chart, Duration, Testing } from 'cdk8s';
import {
  CanaryRelease, CanaryTraffic, GatewayTls, LoadBalancer, Mesh, MeshAnalyzer, MeshedService, MeshedServiceProps, MeshGateway, MeshNamespace,
  PathMatch, RequestMatch, RouteAction, RoutingApi, ServicePort, StringMatch,
} from '../src';
import { expectValid, one, ofKind } from './util';

const HOST = 'reviews.shop.svc.cluster.local';

/** Synthesizes, validates every object strictly (Gateway addresses of type Hostname aside, see mesh-gateway.test.ts). */
function synth(chart: Chart): any[] {
  const objects = Testing.synth(chart);
  expectValid(objects.map(o => (o.kind === 'Gateway' && o.spec.addresses ? { ...o, spec: { ...o.spec, addresses: undefined } } : o))
    .map(o => JSON.parse(JSON.stringify(o))), '1.33');
  return objects;
}

function setup(api: RoutingApi, props: Partial<MeshedServiceProps> = {}, gatewayProps: any = {}) {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', {});
  const shop = MeshNamespace.fromName(chart, 'shop', { name: 'shop', mesh });
  const reviews = new MeshedService(chart, 'reviews', { namespace: shop, image: 'example/reviews:1', version: 'v1', ports: [ServicePort.http(9080)], ...props });
  const gw = new MeshGateway(chart, 'ingress', { mesh, hosts: ['shop.example.com'], routingApi: api, ...gatewayProps });
  return { chart, mesh, shop, reviews, gw };
}

function canary(chart: Chart, reviews: MeshedService, traffic: CanaryTraffic) {
  return new CanaryRelease(chart, 'reviews-v2', { service: reviews, image: 'example/reviews:2', version: 'v2', traffic });
}

const dest = (d: any) => `${d.subset ?? '*'}`;

/**
 * A normalised route table: per condition (in the order a request is tried), the conditions on the request
 * (headers, query; the path when it narrows), the destinations with weights, and the mirror. Istio's `exact /p` +
 * `prefix /p/` pair reads as the segment prefix `/p`; a Gateway API backend `<service>-<version>` reads as its
 * subset.
 */
function istioRows(http: any[]): any[] {
  const rows: any[] = [];
  const segments = new Set(http.flatMap(r => (r.match ?? []).map((m: any) => m.uri?.prefix)).filter((p: string) => p && p !== '/' && p.endsWith('/')));
  for (const r of http) {
    for (const m of r.match ?? [{}]) {
      const kind = m.uri ? Object.keys(m.uri)[0] : undefined;
      const value = kind ? m.uri[kind] : undefined;
      const path = !kind || (kind === 'prefix' && value === '/') ? 'any'
        : kind === 'prefix' && segments.has(value) ? `segment ${value.slice(0, -1)}`
          : kind === 'exact' && segments.has(`${value}/`) ? `segment ${value}` : `${kind} ${value}`;
      const row = {
        path,
        headers: m.headers ?? {},
        query: m.queryParams ?? {},
        to: (r.route ?? []).map((d: any) => `${dest(d.destination)}@${d.weight ?? 100}`),
        mirror: r.mirror ? [`${dest(r.mirror)}@${r.mirrorPercentage?.value ?? 100}`]
          : (r.mirrors ?? []).map((x: any) => `${dest(x.destination)}@${x.percentage?.value ?? 100}`),
      };
      if (JSON.stringify(rows[rows.length - 1]) !== JSON.stringify(row)) rows.push(row);
    }
  }
  return rows;
}

function httpRouteRows(route: any): any[] {
  const subset = (name: string) => (name.startsWith('reviews-') ? name.slice('reviews-'.length) : '*');
  const rows: any[] = [];
  for (const rule of route.spec.rules) {
    for (const m of rule.matches ?? [{}]) {
      const headers: any = {};
      for (const h of m.headers ?? []) headers[h.name] = { [h.type === 'Exact' ? 'exact' : 'regex']: h.value };
      const query: any = {};
      for (const q of m.queryParams ?? []) query[q.name] = { [q.type === 'Exact' ? 'exact' : 'regex']: q.value };
      const path = !m.path || (m.path.type === 'PathPrefix' && m.path.value === '/') ? 'any'
        : m.path.type === 'PathPrefix' ? `segment ${m.path.value}` : `${m.path.type === 'Exact' ? 'exact' : 'regex'} ${m.path.value}`;
      const mirrors = (rule.filters ?? []).filter((f: any) => f.type === 'RequestMirror').map((f: any) => {
        const fraction = f.requestMirror.fraction;
        const pct = f.requestMirror.percent ?? (fraction ? 100 * fraction.numerator / fraction.denominator : 100);
        return `${subset(f.requestMirror.backendRef.name)}@${pct}`;
      });
      rows.push({
        path,
        headers,
        query,
        to: (rule.backendRefs ?? []).map((b: any) => `${subset(b.name)}@${rule.backendRefs.length > 1 ? b.weight : 100}`),
        mirror: mirrors,
      });
    }
  }
  return rows;
}

function gatewayVs(objects: any[]): any {
  return ofKind(objects, 'VirtualService').find(v => v.spec.gateways);
}

describe('the canary\'s traffic is the same through the mesh and through each gateway API', () => {
  const traffic = () => CanaryTraffic.weighted(10)
    .andMatch(RequestMatch.all(RequestMatch.userAgent('.*iPhone.*'), RequestMatch.headerExact('x-region', 'south')), { weight: 50 })
    .andMirror(5);

  const build = (api: RoutingApi) => {
    const s = setup(api);
    s.gw.route({ to: s.reviews });
    canary(s.chart, s.reviews, traffic());
    return { ...s, objects: synth(s.chart) };
  };

  test('service VirtualService, Istio gateway VirtualService and HTTPRoute: one route table', () => {
    const istio = build(RoutingApi.ISTIO);
    const k8s = build(RoutingApi.GATEWAY_API);
    const mesh = istioRows(one(istio.objects, 'VirtualService', 'reviews').spec.http);
    expect(mesh).toEqual([
      { path: 'any', headers: { 'user-agent': { regex: '.*iPhone.*' }, 'x-region': { exact: 'south' } }, query: {}, to: ['v1@50', 'v2@50'], mirror: ['v2@2.5'] },
      { path: 'any', headers: {}, query: {}, to: ['v1@90', 'v2@10'], mirror: ['v2@4.5'] },
    ]);
    expect(istioRows(gatewayVs(istio.objects).spec.http)).toEqual(mesh);
    expect(httpRouteRows(one(k8s.objects, 'HTTPRoute'))).toEqual(mesh);
    // the gateway names the port, the mesh's single-port service does not need to
    expect(gatewayVs(istio.objects).spec.http[0].mirror).toEqual({ host: HOST, subset: 'v2', port: { number: 9080 } });
    for (const o of [istio.objects, k8s.objects]) expect(MeshAnalyzer.analyze(o).filter(f => f.level !== 'Info')).toEqual([]);
  });

  test('targeted rules the Gateway API would reorder: the same table through Istio, refused with the Gateway API', () => {
    // a request with x-beta: yes from an iPhone in the south matches both rules: the mesh takes the first, the
    // Gateway API's precedence (more header matches first) the second
    const both = () => CanaryTraffic.weighted(10)
      .andMatch(RequestMatch.headerExact('x-beta', 'yes'))
      .andMatch(RequestMatch.all(RequestMatch.userAgent('.*iPhone.*'), RequestMatch.headerExact('x-region', 'south')), { weight: 50 });
    const istio = setup(RoutingApi.ISTIO);
    istio.gw.route({ to: istio.reviews });
    canary(istio.chart, istio.reviews, both());
    const objects = synth(istio.chart);
    expect(istioRows(gatewayVs(objects).spec.http)).toEqual(istioRows(one(objects, 'VirtualService', 'reviews').spec.http));
    const k8s = setup(RoutingApi.GATEWAY_API);
    k8s.gw.route({ to: k8s.reviews });
    canary(k8s.chart, k8s.reviews, both());
    expect(() => Testing.synth(k8s.chart)).toThrow(/route 'primary-targeted-2'' is invalid: would take precedence over the earlier .* route 'primary-targeted-1'/);
  });
});

describe('conditions that cannot hold at an entry point', () => {
  test.each([RoutingApi.ISTIO, RoutingApi.GATEWAY_API])('%s: a canary for sourceLabels/sourceNamespace callers does not take all ingress', api => {
    const s = setup(api);
    s.gw.route({ to: s.reviews });
    canary(s.chart, s.reviews, CanaryTraffic.weighted(10)
      .andMatch(RequestMatch.sourceLabels({ app: 'frontend' }))
      .andMatch(RequestMatch.sourceNamespace('beta-testers')));
    const objects = synth(s.chart);
    // inside the mesh the targeted rules stay
    expect(one(objects, 'VirtualService', 'reviews').spec.http).toHaveLength(3);
    const rows = api === RoutingApi.ISTIO ? istioRows(gatewayVs(objects).spec.http) : httpRouteRows(one(objects, 'HTTPRoute'));
    expect(rows).toEqual([{ path: 'any', headers: {}, query: {}, to: ['v1@90', 'v2@10'], mirror: [] }]);
  });

  test('a service whose every rule needs a meshed caller is refused at the gateway', () => {
    const s = setup(RoutingApi.ISTIO);
    s.gw.route({ to: s.reviews });
    s.reviews.replaceHttpRoutes([{ matches: [{ sourceNamespace: 'shop' }], destinations: [{ version: s.reviews.versions[0] }] }]);
    expect(() => Testing.synth(s.chart)).toThrow(/routes\[0\]\.to 'reviews.shop.svc.cluster.local' is invalid: has no route that can hold for traffic from outside the mesh/);
  });

  test('trusted headers: stripped before routing by the gateway, so a client cannot pick the canary with them', () => {
    const s = setup(RoutingApi.ISTIO, {}, { trustedHeaders: ['X-Region'] });
    s.gw.route({ to: s.reviews, headerChanges: { request: { set: { 'x-region': 'eu' } } } });
    canary(s.chart, s.reviews, CanaryTraffic.weighted(10).andMatch(RequestMatch.headerExact('x-region', 'south')));
    const objects = synth(s.chart);
    const ef = one(objects, 'EnvoyFilter');
    expect(ef.metadata.namespace).toBe('istio-ingress');
    expect(ef.spec.workloadSelector.labels).toEqual(s.gw.podSelector);
    expect(ef.spec.configPatches[0].patch.value.typed_config.early_header_mutation_extensions[0].typed_config.mutations).toEqual([{ remove: 'x-region' }]);
    const http = gatewayVs(objects).spec.http;
    expect(istioRows(http)).toEqual([{ path: 'any', headers: {}, query: {}, to: ['v1@90', 'v2@10'], mirror: [] }]);
    expect(http[0].headers).toEqual({ request: { set: { 'x-region': 'eu' } } });
    expect(MeshAnalyzer.analyze(objects).filter(f => f.level !== 'Info')).toEqual([]);
  });
});

describe('mirrors', () => {
  test('Gateway API: the service\'s mirror to another service is a RequestMirror filter, granted in that namespace', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', {});
    const shop = MeshNamespace.fromName(chart, 'shop', { name: 'shop', mesh });
    const shadow = MeshNamespace.fromName(chart, 'shadow', { name: 'shadow', mesh });
    const copy = new MeshedService(chart, 'reviews-shadow', { namespace: shadow, image: 'example/reviews:2', ports: [ServicePort.http(9080)] });
    const reviews = new MeshedService(chart, 'reviews', { namespace: shop, image: 'example/reviews:1', ports: [ServicePort.http(9080)], mirror: { service: copy, percentage: 20 } });
    const gw = new MeshGateway(chart, 'ingress', { mesh, hosts: ['shop.example.com'], routingApi: RoutingApi.GATEWAY_API });
    gw.route({ to: reviews });
    const objects = synth(chart);
    expect(one(objects, 'HTTPRoute').spec.rules[0].filters).toEqual([
      { type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'reviews-shadow', namespace: 'shadow', port: 9080 }, percent: 20 } },
    ]);
    const grant = ofKind(objects, 'ReferenceGrant').find(g => g.metadata.namespace === 'shadow');
    expect(grant.spec).toEqual({
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'istio-ingress' }],
      to: [{ group: '', kind: 'Service', name: 'reviews-shadow' }],
    });
  });
});

describe('the service\'s own rule order', () => {
  const rules = (reviews: MeshedService, v2: any) => [
    { matches: [{ headers: { 'x-a': StringMatch.exact('1') } }], destinations: [{ version: v2 }] },
    { matches: [{ headers: { 'x-a': StringMatch.exact('1'), 'x-b': StringMatch.exact('1') } }], destinations: [{ version: reviews.versions[0] }] },
    { destinations: [{ version: reviews.versions[0] }] },
  ];

  test('Istio: overlapping rules keep the order the mesh applies', () => {
    const s = setup(RoutingApi.ISTIO);
    s.gw.route({ to: s.reviews });
    const v2 = s.reviews.addVersion('v2', { image: 'example/reviews:2' });
    s.reviews.replaceHttpRoutes(rules(s.reviews, v2));
    const objects = synth(s.chart);
    expect(istioRows(gatewayVs(objects).spec.http)).toEqual(istioRows(one(objects, 'VirtualService', 'reviews').spec.http));
    expect(gatewayVs(objects).spec.http[0].route).toEqual([{ destination: { host: HOST, subset: 'v2', port: { number: 9080 } } }]);
  });

  test('Istio: the service\'s route names are kept, unique within the gateway VirtualService (what Argo Rollouts shifts)', () => {
    const s = setup(RoutingApi.ISTIO);
    s.gw.route({ path: PathMatch.prefix('/a'), to: s.reviews });
    s.gw.route({ path: PathMatch.prefix('/b'), to: s.reviews });
    canary(s.chart, s.reviews, CanaryTraffic.weighted(10).andMatch(RequestMatch.headerExact('x-beta', 'yes')));
    const http = gatewayVs(synth(s.chart)).spec.http;
    expect(http.map((r: any) => [r.name, r.match.map((m: any) => m.uri)])).toEqual([
      ['primary-targeted-1', [{ exact: '/a' }, { prefix: '/a/' }]],
      ['primary', [{ exact: '/a' }, { prefix: '/a/' }]],
      ['primary-targeted-1-2', [{ exact: '/b' }, { prefix: '/b/' }]],
      ['primary-2', [{ exact: '/b' }, { prefix: '/b/' }]],
    ]);
  });

  test('Gateway API: a reordering by precedence that changes where a request goes is refused', () => {
    const s = setup(RoutingApi.GATEWAY_API);
    s.gw.route({ to: s.reviews });
    const v2 = s.reviews.addVersion('v2', { image: 'example/reviews:2' });
    s.reviews.replaceHttpRoutes(rules(s.reviews, v2));
    expect(() => Testing.synth(s.chart)).toThrow(/would take precedence over the earlier reviews.shop.svc.cluster.local .*make the rules disjoint, or set the MeshGateway's routingApi to RoutingApi.ISTIO$/);
  });

  test('Gateway API: a canary on a character prefix (a regex there, ranked below the catch-all) is refused with the reason', () => {
    const s = setup(RoutingApi.GATEWAY_API);
    s.gw.route({ to: s.reviews });
    canary(s.chart, s.reviews, CanaryTraffic.matching(RequestMatch.uriPrefix('/beta')));
    expect(() => Testing.synth(s.chart)).toThrow(/character prefix \(StringMatch.prefix, a regex in the Gateway API\) ranks below path prefixes/);
  });

  test('Gateway API: disjoint rules in any order are fine', () => {
    const s = setup(RoutingApi.GATEWAY_API);
    s.gw.route({ to: s.reviews });
    const v2 = s.reviews.addVersion('v2', { image: 'example/reviews:2' });
    s.reviews.replaceHttpRoutes([
      { matches: [{ headers: { 'x-a': StringMatch.exact('1') } }], destinations: [{ version: v2 }] },
      { matches: [{ headers: { 'x-a': StringMatch.exact('2'), 'x-b': StringMatch.exact('1') } }], destinations: [{ version: s.reviews.versions[0] }] },
      { destinations: [{ version: s.reviews.versions[0] }] },
    ]);
    expect(httpRouteRows(one(synth(s.chart), 'HTTPRoute')).map(r => r.to)).toEqual([['v2@100'], ['v1@100'], ['v1@100']]);
  });
});

describe('gRPC', () => {
  const grpcSetup = (api: RoutingApi) => setup(api, { ports: [ServicePort.grpc(7070)] });

  test('GRPCRoute: the canary\'s path matches become method matches', () => {
    const s = grpcSetup(RoutingApi.GATEWAY_API);
    s.gw.route({ to: s.reviews });
    canary(s.chart, s.reviews, CanaryTraffic.matching(RequestMatch.uriPrefix('/shop.Cart/'), RequestMatch.all(RequestMatch.uriPrefix('/shop.Orders/'), RequestMatch.headerExact('x-beta', 'yes'))));
    const route = one(synth(s.chart), 'GRPCRoute');
    expect(route.spec.rules.map((r: any) => r.matches)).toEqual([
      [{ method: { type: 'Exact', service: 'shop.Cart' } }, { method: { type: 'Exact', service: 'shop.Orders' }, headers: [{ type: 'Exact', name: 'x-beta', value: 'yes' }] }],
      undefined,
    ]);
    expect(route.spec.rules[0].backendRefs).toEqual([
      { group: '', kind: 'Service', name: 'reviews-v1', namespace: 'shop', port: 7070, weight: 0 },
      { group: '', kind: 'Service', name: 'reviews-v2', namespace: 'shop', port: 7070, weight: 100 },
    ]);
  });

  test('GRPCRoute: a condition it cannot express is refused, not dropped', () => {
    const s = grpcSetup(RoutingApi.GATEWAY_API);
    s.gw.route({ to: s.reviews });
    canary(s.chart, s.reviews, CanaryTraffic.matching(RequestMatch.queryParam('beta', StringMatch.exact('1'))));
    expect(() => Testing.synth(s.chart)).toThrow(/matches query parameters, which gRPC requests do not carry and a GRPCRoute cannot express: set the MeshGateway's routingApi to RoutingApi.ISTIO$/);
    const t = grpcSetup(RoutingApi.GATEWAY_API);
    t.gw.route({ to: t.reviews });
    canary(t.chart, t.reviews, CanaryTraffic.matching(RequestMatch.uriPrefix('/shop')));
    expect(() => Testing.synth(t.chart)).toThrow(/matches the path prefix '\/shop', which a GRPCRoute expresses only as a method match/);
  });

  test('timeouts: the service\'s HTTP timeout never reaches a gRPC port, its grpcTimeout does; a route timeout there is refused', () => {
    const s = setup(RoutingApi.ISTIO, {
      ports: [ServicePort.http(9080), ServicePort.grpc(7070)], timeout: Duration.seconds(2), grpcTimeout: Duration.seconds(30),
    });
    s.gw.route({ host: 'shop.example.com', to: s.reviews, port: ServicePort.http(9080) });
    const g2 = new MeshGateway(s.chart, 'grpc', { mesh: s.mesh, name: 'grpc-gateway', hosts: ['grpc.example.com'] });
    g2.route({ to: s.reviews, port: ServicePort.grpc(7070) });
    const objects = synth(s.chart);
    const vs = ofKind(objects, 'VirtualService').filter(v => v.spec.gateways);
    expect(vs.map(v => v.spec.http[0].timeout)).toEqual(['2s', '30s']);
    expect(() => g2.route({ to: s.reviews, port: ServicePort.grpc(7070), path: PathMatch.prefix('/'), timeout: Duration.seconds(1), headers: { a: StringMatch.exact('b') } }))
      .toThrow(/routes\[1\]\.timeout '1 second' is invalid: does not apply to gRPC port grpc\/7070: a route timeout would cut streams/);
  });
});

describe('the service\'s settings apply at the gateway', () => {
  test('Istio: timeout, retries (written explicitly, also attempts: 0), fault, headers and CORS', () => {
    const s = setup(RoutingApi.ISTIO, {
      timeout: Duration.seconds(3),
      retries: { attempts: 0 },
      fault: { abort: { httpStatus: 503, percentage: 1 } },
      headers: { response: { remove: ['server'] } },
      cors: { allowOrigins: ['https://*.example.com'] },
    });
    s.gw.route({ to: s.reviews, headerChanges: { request: { add: { 'x-ingress': 'shop' } } } });
    const objects = synth(s.chart);
    const rule = gatewayVs(objects).spec.http[0];
    expect(rule).toMatchObject({
      timeout: '3s',
      retries: { attempts: 0 },
      fault: { abort: { httpStatus: 503, percentage: { value: 1 } } },
      headers: { request: { add: { 'x-ingress': 'shop' } }, response: { remove: ['server'] } },
    });
    expect(rule.corsPolicy.allowOrigins).toEqual([{ regex: 'https://[-a-z0-9]+(\\.[-a-z0-9]+)*\\.example\\.com' }]);
    expect(MeshAnalyzer.analyze(objects).filter(f => f.level !== 'Info')).toEqual([]);
  });

  test('a gateway CORS origin with a wildcard host matches subdomains (a regex, not an exact string)', () => {
    const s = setup(RoutingApi.ISTIO);
    s.gw.route({ to: s.reviews, cors: { allowOrigins: ['https://*.example.com', 'https://shop.example.com'] } });
    expect(gatewayVs(synth(s.chart)).spec.http[0].corsPolicy.allowOrigins).toEqual([
      { regex: 'https://[-a-z0-9]+(\\.[-a-z0-9]+)*\\.example\\.com' }, { exact: 'https://shop.example.com' },
    ]);
  });

  test('Gateway API: timeout and headers as filters; retries and faults are refused, not dropped', () => {
    const s = setup(RoutingApi.GATEWAY_API, { timeout: Duration.seconds(3), headers: { response: { remove: ['server'] } } });
    s.gw.route({ to: s.reviews, headerChanges: { request: { set: { 'x-ingress': 'shop' } } } });
    const rule = one(synth(s.chart), 'HTTPRoute').spec.rules[0];
    expect(rule.timeouts).toEqual({ request: '3s' });
    expect(rule.filters).toEqual([
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-ingress', value: 'shop' }] } },
      { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['server'] } },
    ]);
    const r = setup(RoutingApi.GATEWAY_API, { retries: { attempts: 0 } });
    r.gw.route({ to: r.reviews });
    expect(() => Testing.synth(r.chart)).toThrow(/sets retries, which the Gateway API standard channel cannot express on a HTTPRoute .*: set the MeshGateway's routingApi to RoutingApi.ISTIO$/);
    const f = setup(RoutingApi.GATEWAY_API, { fault: { delay: { fixedDelay: Duration.seconds(1), percentage: 5 } } });
    f.gw.route({ to: f.reviews });
    expect(() => Testing.synth(f.chart)).toThrow(/injects faults, which the Gateway API cannot express/);
  });

  test.each([RoutingApi.ISTIO, RoutingApi.GATEWAY_API])('%s: the service\'s redirects and rewrites', api => {
    const s = setup(api);
    s.gw.route({ to: s.reviews });
    s.reviews.replaceHttpRoutes([
      { matches: [{ uri: StringMatch.exact('/docs') }], action: RouteAction.redirect({ uri: '/help', redirectCode: 308 }) },
      { matches: [{ uri: StringMatch.exact('/old') }], rewrite: { uri: '/new', authority: 'reviews.example.com' } },
      {},
    ]);
    const objects = synth(s.chart);
    if (api === RoutingApi.ISTIO) {
      const http = gatewayVs(objects).spec.http;
      expect(http[0]).toEqual({ match: [{ uri: { exact: '/docs' } }], redirect: { uri: '/help', redirectCode: 308 } });
      expect(http[1]).toMatchObject({ match: [{ uri: { exact: '/old' } }], rewrite: { uri: '/new', authority: 'reviews.example.com' } });
    } else {
      const rules = one(objects, 'HTTPRoute').spec.rules;
      expect(rules[0]).toEqual({
        matches: [{ path: { type: 'Exact', value: '/docs' } }],
        filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/help' }, statusCode: 308 } }],
      });
      expect(rules[1].filters).toEqual([{ type: 'URLRewrite', urlRewrite: { hostname: 'reviews.example.com', path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } } }]);
    }
  });

  test('Gateway API: a direct response is refused', () => {
    const s = setup(RoutingApi.GATEWAY_API);
    s.gw.route({ to: s.reviews });
    s.reviews.replaceHttpRoutes([{ matches: [{ uri: StringMatch.exact('/gone') }], action: RouteAction.directResponse(410) }, {}]);
    expect(() => Testing.synth(s.chart)).toThrow(/answers with a direct response, which the Gateway API standard channel cannot express/);
  });
});

describe('path prefixes are whole segments in both APIs', () => {
  test('Istio: prefix /api is `exact /api` or `prefix /api/`, and a rewrite to / makes /api/x into /x', () => {
    const s = setup(RoutingApi.ISTIO);
    s.gw.route({ path: PathMatch.prefix('/api'), to: s.reviews, rewrite: '/' });
    s.gw.route({ path: PathMatch.prefix('/v1/'), to: s.reviews, rewrite: '/v2' });
    const http = gatewayVs(synth(s.chart)).spec.http;
    expect(http.map((r: any) => [r.match[0].uri, r.rewrite.uri])).toEqual([
      [{ exact: '/api' }, '/'], [{ prefix: '/api/' }, '/'],
      [{ exact: '/v1' }, '/v2'], [{ prefix: '/v1/' }, '/v2/'],
    ]);
  });

  test('Gateway API: PathPrefix with ReplacePrefixMatch', () => {
    const s = setup(RoutingApi.GATEWAY_API);
    s.gw.route({ path: PathMatch.prefix('/api'), to: s.reviews, rewrite: '/' });
    const rule = one(synth(s.chart), 'HTTPRoute').spec.rules[0];
    expect(rule.matches).toEqual([{ path: { type: 'PathPrefix', value: '/api' } }]);
    expect(rule.filters).toEqual([{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }]);
  });
});

describe('Gateway API backends keep the service\'s traffic policy', () => {
  test('each per-version backend Service gets a DestinationRule with the version\'s effective policy', () => {
    const s = setup(RoutingApi.GATEWAY_API, {
      trafficPolicy: {
        loadBalancer: LoadBalancer.consistentHashCookie('session', Duration.hours(1)),
        connectionPool: { http: { http1MaxPendingRequests: 10 } },
        outlierDetection: { consecutive5xxErrors: 3, interval: Duration.seconds(10), baseEjectionTime: Duration.seconds(30) },
      },
    });
    s.gw.route({ to: s.reviews });
    const v2 = s.reviews.addVersion('v2', { image: 'example/reviews:2' });
    s.reviews.setVersionTrafficPolicy(v2, { connectionPool: { http: { http1MaxPendingRequests: 1 } } });
    const objects = synth(s.chart);
    const service = one(objects, 'DestinationRule', 'reviews').spec;
    const v1 = one(objects, 'DestinationRule', 'reviews-v1').spec;
    expect(v1).toEqual({ host: 'reviews-v1.shop.svc.cluster.local', trafficPolicy: service.trafficPolicy });
    const v2dr = one(objects, 'DestinationRule', 'reviews-v2').spec;
    expect(v2dr.host).toBe('reviews-v2.shop.svc.cluster.local');
    expect(v2dr.trafficPolicy).toEqual({ ...service.trafficPolicy, connectionPool: { http: { http1MaxPendingRequests: 1 } } });
    expect(v2dr.trafficPolicy.loadBalancer).toEqual(service.trafficPolicy.loadBalancer);
    expect(MeshAnalyzer.analyze(objects).filter(f => f.level !== 'Info')).toEqual([]);
  });
});

describe('TLS passthrough', () => {
  test.each([RoutingApi.ISTIO, RoutingApi.GATEWAY_API])('%s: connections follow the service\'s layer-4 split of the port', api => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', {});
    const shop = MeshNamespace.fromName(chart, 'shop', { name: 'shop', mesh });
    const db = new MeshedService(chart, 'db', { namespace: shop, image: 'example/db:1', ports: [ServicePort.tls(5432)] });
    const v2 = db.addVersion('v2', { image: 'example/db:2' });
    db.replaceTcpRoutes([{ port: ServicePort.tls(5432), destinations: [{ version: db.versions[0], weight: 80 }, { version: v2, weight: 20 }] }]);
    const gw = new MeshGateway(chart, 'ingress', { mesh, listeners: [{ port: 15443, hosts: ['db.example.com'], tls: GatewayTls.passthrough() }], routingApi: api });
    gw.route({ host: 'db.example.com', to: db });
    const objects = synth(chart);
    if (api === RoutingApi.ISTIO) {
      expect(gatewayVs(objects).spec.tls[0].route).toEqual([
        { destination: { host: 'db.shop.svc.cluster.local', subset: 'v1', port: { number: 5432 } }, weight: 80 },
        { destination: { host: 'db.shop.svc.cluster.local', subset: 'v2', port: { number: 5432 } }, weight: 20 },
      ]);
    } else {
      expect(one(objects, 'TLSRoute').spec.rules[0].backendRefs.map((b: any) => [b.name, b.weight])).toEqual([['db-v1', 80], ['db-v2', 20]]);
    }
  });
});

describe('bad input', () => {
  test('timeout and retries on a redirect are refused', () => {
    const s = setup(RoutingApi.ISTIO);
    expect(() => s.gw.route({ redirect: { scheme: 'https' }, timeout: Duration.seconds(1) })).toThrow(/routes\[0\]\.timeout 'set' is invalid: does not apply to a redirect/);
  });

  test('a duplicate route (same host, path and header match) is refused', () => {
    const s = setup(RoutingApi.ISTIO);
    s.gw.route({ path: PathMatch.prefix('/api'), to: s.reviews });
    expect(() => s.gw.route({ path: PathMatch.prefix('/api/'), to: s.reviews }))
      .toThrow(/routes\[1\]\.path 'shop.example.com prefix \/api\/' is invalid: duplicates routes\[0\] \(same host, path and header match\)/);
    s.gw.route({ path: PathMatch.prefix('/api'), headers: { 'x-beta': StringMatch.exact('1') }, to: s.reviews });
  });

  test('header matches: RE2 regexes and header values are checked', () => {
    const s = setup(RoutingApi.ISTIO);
    expect(() => s.gw.route({ to: s.reviews, headers: { 'x-a': StringMatch.regex('(?=a)b') } })).toThrow(/routes\[0\]\.headers\['x-a'\] '\(\?=a\)b' is invalid/);
    expect(() => s.gw.route({ to: s.reviews, headers: { 'x-a': StringMatch.exact('a\r\nb') } })).toThrow(/routes\[0\]\.headers\['x-a'\] .* is invalid/);
    expect(() => s.gw.route({ to: s.reviews, redirect: undefined, rewrite: '/a/../b' })).toThrow(/routes\[0\]\.rewrite '\/a\/..\/b' is invalid/);
    expect(() => s.gw.route({ to: s.reviews, headerChanges: { request: { set: { 'x-a': 'a\nb' } } } })).toThrow(/routes\[0\]\.headerChanges\.request\.set\['x-a'\] .* is invalid/);
  });

  test('a trusted header must be a header name', () => {
    expect(() => setup(RoutingApi.ISTIO, {}, { trustedHeaders: ['x region'] })).toThrow(/ingress: trustedHeaders 'x region' is invalid: must be an HTTP header name/);
  });
});
