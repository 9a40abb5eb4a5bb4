import { App, Chart, Duration, Testing } from 'cdk8s';
import {
  analyze, ArgoCdDelivery, BlueGreenActive, CanaryRelease, CanaryReleaseProps, CanaryTraffic, Mesh, MeshedService, MeshedServiceProps,
  MeshGateway, MeshNamespace, ProgressiveDelivery, RequestMatch, RoutingApi, ServicePort, SyncWaves, ZeroTrustNamespace,
} from '../src';
import { one, ofKind, synthAppValid, synthValid, yamlOf } from './util';
import { identityInjection } from './util/injection';
import { argoConditions } from '../src/traffic/analysis';

// a jest.mock factory may only require (jest hoists it above the imports)
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('../src/sidecar/inject', () => require('./util/injection').mockedInjectModule());
identityInjection();

const HOST = 'reviews.shop.svc.cluster.local';

function setup(serviceProps: Partial<MeshedServiceProps> = {}, chart: Chart = Testing.chart()) {
  const mesh = new Mesh(chart, 'mesh', {});
  const namespace = MeshNamespace.fromName(chart, 'ns', { name: 'shop', mesh });
  const reviews = new MeshedService(chart, 'reviews', {
    namespace, image: 'example/reviews:1.0', ports: [ServicePort.http(9080)], replicas: 3, ...serviceProps,
  });
  return { chart, mesh, namespace, reviews };
}

function release(props: Partial<CanaryReleaseProps> = {}, serviceProps: Partial<MeshedServiceProps> = {}) {
  const s = setup(serviceProps);
  const canary = new CanaryRelease(s.chart, 'reviews-v2', { service: s.reviews, image: 'example/reviews:2.0', version: 'v2', ...props });
  return { ...s, canary };
}

const split = (route: any[]) => Object.fromEntries(route.map((d: any) => [d.destination.subset, d.weight ?? 100]));

describe('the release owns the routes it writes', () => {
  test("a second writer's error names the release", () => {
    const { reviews } = release({ traffic: CanaryTraffic.weighted(10) });
    expect(() => reviews.replaceHttpRoutes([{ destinations: [{ version: reviews.versions[0] }] }]))
      .toThrow("httpRoutes 'replaced again' is invalid: are already set by 'test/reviews-v2'");
  });
});

describe('TCP, TLS and HTTPS ports are split too (per connection)', () => {
  const ports = [ServicePort.http(9080), ServicePort.tcp(5432), ServicePort.tls(8443)];

  test('a weighted release splits the TCP port with a tcp route and the TLS port with a tls route', () => {
    const { chart } = release({ traffic: CanaryTraffic.weighted(10).andMatch(RequestMatch.headerExact('x-beta', '1')) }, { ports });
    const vs = one(synthValid(chart), 'VirtualService', 'reviews');
    expect(vs.spec.tcp).toEqual([{
      match: [{ port: 5432 }],
      route: [
        { destination: { host: HOST, subset: 'v1', port: { number: 5432 } }, weight: 90 },
        { destination: { host: HOST, subset: 'v2', port: { number: 5432 } }, weight: 10 },
      ],
    }]);
    expect(vs.spec.tls).toEqual([{
      match: [{ port: 8443, sniHosts: [HOST] }],
      route: [
        { destination: { host: HOST, subset: 'v1', port: { number: 8443 } }, weight: 90 },
        { destination: { host: HOST, subset: 'v2', port: { number: 8443 } }, weight: 10 },
      ],
    }]);
    // request matches stay on the HTTP port
    expect(vs.spec.http.map((r: any) => r.name)).toEqual(['primary-targeted-1-http', 'primary-http']);
  });

  test.each([
    ['abort', { abort: true, traffic: CanaryTraffic.weighted(30) }, { v1: 100, v2: 0 }],
    ['blue/green STABLE', { traffic: CanaryTraffic.blueGreen({ active: BlueGreenActive.STABLE }) }, { v1: 100, v2: 0 }],
    ['blue/green CANARY', { traffic: CanaryTraffic.blueGreen({ active: BlueGreenActive.CANARY }) }, { v1: 0, v2: 100 }],
    ['promote', { promote: true, traffic: CanaryTraffic.weighted(30) }, { v1: 0, v2: 100 }],
  ])('%s moves the TCP and TLS connections too', (_name, props, expected) => {
    const { chart } = release(props as any, { ports });
    const vs = one(synthValid(chart), 'VirtualService', 'reviews');
    expect(split(vs.spec.tcp[0].route)).toEqual(expected);
    expect(split(vs.spec.tls[0].route)).toEqual(expected);
    expect(split(vs.spec.http[0].route)).toEqual(expected);
  });

  test('a TCP-only service can have a release (no http routes)', () => {
    const { chart } = release({ traffic: CanaryTraffic.weighted(20) }, { ports: [ServicePort.tcp(5432)] });
    const vs = one(synthValid(chart), 'VirtualService', 'reviews');
    expect(vs.spec.http).toBeUndefined();
    expect(vs.spec.tcp).toEqual([{
      match: [{ port: 5432 }],
      route: [{ destination: { host: HOST, subset: 'v1' }, weight: 80 }, { destination: { host: HOST, subset: 'v2' }, weight: 20 }],
    }]);
  });

  test('request matches, mirroring and affinity are refused on a service without HTTP ports', () => {
    const tcp = { ports: [ServicePort.tcp(5432)] };
    expect(() => release({ traffic: CanaryTraffic.matching(RequestMatch.headerExact('x-beta', '1')) }, tcp))
      .toThrow("traffic 'request matches' is invalid: are HTTP-only, but reviews has no HTTP or gRPC port");
    expect(() => release({ traffic: CanaryTraffic.mirror(5) }, tcp)).toThrow("traffic 'mirror' is invalid: is HTTP-only");
    expect(() => release({ traffic: CanaryTraffic.weighted(5), sessionAffinity: {} }, tcp)).toThrow("sessionAffinity 'set' is invalid: is HTTP-only");
  });

  test('replaceTcpRoutes refuses HTTP ports, foreign versions and bad weights', () => {
    const { reviews } = setup({ ports });
    const v1 = reviews.versions[0];
    expect(() => reviews.replaceTcpRoutes([{ port: ports[0], destinations: [{ version: v1 }] }]))
      .toThrow("tcpRoutes[0].port 'http/9080' is invalid: must be a TCP, TLS or HTTPS port");
    expect(() => reviews.replaceTcpRoutes([{ port: ServicePort.tcp(1234), destinations: [{ version: v1 }] }]))
      .toThrow("tcpRoutes[0].port 'tcp/1234' is invalid: must be a port of reviews.shop.svc.cluster.local");
    expect(() => reviews.replaceTcpRoutes([{ port: ports[1], destinations: [{ version: v1, weight: 50 }] }]))
      .toThrow("tcpRoutes[0].destinations 'weights adding up to 50' is invalid");
  });
});

describe('the canary is ready before the routes send it traffic', () => {
  test('the canary Deployment has the CANARY_WORKLOADS wave, before ROUTES', () => {
    const { chart } = release({ traffic: CanaryTraffic.blueGreen({ active: BlueGreenActive.CANARY }) });
    const dep = one(synthValid(chart), 'Deployment', 'reviews-v2');
    expect(dep.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe(String(SyncWaves.CANARY_WORKLOADS));
    expect(SyncWaves.CANARY_WORKLOADS).toBeLessThan(SyncWaves.ROUTES);
    expect(SyncWaves.CANARY_WORKLOADS).toBeGreaterThan(SyncWaves.MESH_POLICY);
  });

  test('Argo CD delivery keeps that wave: canary Deployment before the VirtualService, the stable one after', () => {
    const app = new App();
    const shop = new Chart(app, 'shop');
    const { reviews } = setup({}, shop);
    new CanaryRelease(shop, 'rel', { service: reviews, image: 'example/reviews:2.0', version: 'v2', traffic: CanaryTraffic.weighted(10) });
    new ArgoCdDelivery(new Chart(app, 'gitops'), 'mesh', { repoUrl: 'https://git.example.com/x.git', targetRevision: 'main', charts: [shop] });
    const objects = synthAppValid(app);
    const wave = (kind: string, name: string) => Number(one(objects, kind, name).metadata.annotations['argocd.argoproj.io/sync-wave']);
    expect(wave('Deployment', 'reviews-v2')).toBeLessThan(wave('VirtualService', 'reviews'));
    expect(wave('Deployment', 'reviews-v1')).toBe(SyncWaves.WORKLOADS);
  });

  test('a weight above 0 to a version with 0 replicas is refused', () => {
    expect(() => release({ replicas: 0, traffic: CanaryTraffic.weighted(10) }))
      .toThrow("reviews-v2: replicas 0 is invalid: must be above 0: the release sends 10% of some requests to version 'v2'");
    expect(() => release({ replicas: 0, traffic: CanaryTraffic.matching(RequestMatch.sourceNamespace('qa')) })).toThrow('sends 100% of some requests');
    expect(() => release({ replicas: 0, steps: [5, 100], currentStep: 0 })).toThrow('replicas 0 is invalid');
    expect(() => release({ replicas: 0, progressive: ProgressiveDelivery.argoRollouts({ stableAdopted: true }) })).toThrow('replicas 0 is invalid');
    // no traffic to it: a warm standby or a mirror target with 0 replicas is allowed
    expect(() => release({ replicas: 0, traffic: CanaryTraffic.blueGreen({ active: BlueGreenActive.STABLE }) })).not.toThrow();
    expect(() => release({ replicas: 0, abort: true, traffic: CanaryTraffic.weighted(10) })).not.toThrow();
  });
});

describe('mirroring copies the stable share only', () => {
  test('the mirror percentage is scaled by each route\'s stable weight', () => {
    const { chart } = release({
      traffic: CanaryTraffic.weighted(10).andMatch(RequestMatch.userAgent('.*iPhone.*'), { weight: 50 }).andMatch(RequestMatch.headerExact('x-beta', '1')).andMirror(5),
    });
    const http = one(synthValid(chart), 'VirtualService', 'reviews').spec.http;
    expect(http.map((r: any) => [r.name, r.mirrorPercentage?.value])).toEqual([
      ['primary-targeted-1', 2.5], // half goes to the canary already: 5% of the other half
      ['primary-targeted-2', undefined], // all to the canary: nothing to mirror
      ['primary', 4.5], // 5% of the 90% that stay on stable
    ]);
  });
});

describe('sticky canaries (session affinity)', () => {
  test('a cookie per version, matched first; the split sets it', () => {
    const { chart } = release({
      traffic: CanaryTraffic.weighted(10).andMatch(RequestMatch.userAgent('.*iPhone.*'), { weight: 50 }),
      sessionAffinity: { maxAge: Duration.hours(2) },
    });
    const http = one(synthValid(chart), 'VirtualService', 'reviews').spec.http;
    expect(http.map((r: any) => r.name)).toEqual(['primary-sticky-canary', 'primary-sticky-stable', 'primary-targeted-1', 'primary']);
    expect(http[0].match).toEqual([{ headers: { cookie: { regex: '^(.*?;\\s*)?canary-reviews=v2(;.*)?$' } } }]);
    expect(http[0].route).toEqual([{
      destination: { host: HOST, subset: 'v2' },
      headers: { response: { add: { 'set-cookie': 'canary-reviews=v2; Max-Age=7200; Path=/' } } },
    }]);
    expect(http[1].match).toEqual([{ headers: { cookie: { regex: '^(.*?;\\s*)?canary-reviews=v1(;.*)?$' } } }]);
    expect(http[3].route).toEqual([
      { destination: { host: HOST, subset: 'v1' }, weight: 90, headers: { response: { add: { 'set-cookie': 'canary-reviews=v1; Max-Age=7200; Path=/' } } } },
      { destination: { host: HOST, subset: 'v2' }, weight: 10, headers: { response: { add: { 'set-cookie': 'canary-reviews=v2; Max-Age=7200; Path=/' } } } },
    ]);
  });

  test('promote and abort drop the pins; bad cookie settings are refused', () => {
    const { chart } = release({ abort: true, traffic: CanaryTraffic.weighted(10), sessionAffinity: {} });
    expect(one(synthValid(chart), 'VirtualService', 'reviews').spec.http.map((r: any) => r.name)).toEqual(['primary']);
    expect(() => release({ traffic: CanaryTraffic.weighted(10), sessionAffinity: { cookieName: 'a b' } })).toThrow("sessionAffinity.cookieName 'a b' is invalid");
    expect(() => release({ traffic: CanaryTraffic.weighted(10), sessionAffinity: { maxAge: Duration.millis(10) } })).toThrow('sessionAffinity.maxAge');
    expect(() => release({ progressive: ProgressiveDelivery.argoRollouts(), sessionAffinity: {} })).toThrow('sessionAffinity');
  });
});

describe('Argo Rollouts: adoption of the stable workload, then a stepped release', () => {
  test('first commit: the Rollout takes over the stable Deployment (progressively); the canary is not released yet', () => {
    const { chart } = release({ replicas: 2, progressive: ProgressiveDelivery.argoRollouts() });
    const objects = synthValid(chart);
    const rollout = one(objects, 'Rollout', 'reviews');
    expect(rollout.spec.workloadRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'reviews-v1', scaleDown: 'progressively' });
    expect(rollout.spec.replicas).toBe(3);
    // Git leaves the stable Deployment as it runs (Argo Rollouts scales it down as its own pods come up)
    expect(one(objects, 'Deployment', 'reviews-v1').spec.replicas).toBe(3);
    expect(one(objects, 'Deployment', 'reviews-v2').spec.replicas).toBe(0);
  });

  test('second commit: the Rollout template becomes the canary\'s', () => {
    const { chart } = release({ replicas: 2, progressive: ProgressiveDelivery.argoRollouts({ stableAdopted: true }) });
    const objects = synthValid(chart);
    const rollout = one(objects, 'Rollout', 'reviews');
    expect(rollout.spec.workloadRef.name).toBe('reviews-v2');
    expect(rollout.spec.replicas).toBe(2);
    expect(ofKind(objects, 'Deployment').map(d => d.spec.replicas)).toEqual([0, 0]);
  });

  test('a TCP port is shifted by the controller too (tcpRoutes), and a TCP-only service can be released', () => {
    const { chart } = release({ progressive: ProgressiveDelivery.argoRollouts() }, { ports: [ServicePort.tcp(5432), ServicePort.tls(8443)] });
    const objects = synthValid(chart);
    expect(one(objects, 'Rollout').spec.strategy.canary.trafficRouting.istio.virtualServices).toEqual([
      { name: 'reviews', tcpRoutes: [{ port: 5432 }], tlsRoutes: [{ port: 8443, sniHosts: [HOST] }] },
    ]);
    const vs = one(objects, 'VirtualService', 'reviews');
    expect(split(vs.spec.tcp[0].route)).toEqual({ stable: 100, canary: 0 });
    expect(split(vs.spec.tls[0].route)).toEqual({ stable: 100, canary: 0 });
  });

  test('every VirtualService that routes to the service is shifted, the ingress gateway\'s included', () => {
    const s = setup();
    const ingress = new MeshGateway(s.chart, 'ingress', { mesh: s.mesh, hosts: ['shop.example.com'] });
    ingress.route({ path: undefined, to: s.reviews } as any);
    new CanaryRelease(s.chart, 'rel', { service: s.reviews, image: 'example/reviews:2.0', version: 'v2', progressive: ProgressiveDelivery.argoRollouts() });
    const objects = synthValid(s.chart);
    const gatewayVs = ofKind(objects, 'VirtualService').find(v => v.metadata.name !== 'reviews')!;
    const entries = one(objects, 'Rollout').spec.strategy.canary.trafficRouting.istio.virtualServices;
    const gwName = gatewayVs.metadata.namespace === 'shop' ? gatewayVs.metadata.name : `${gatewayVs.metadata.name}.${gatewayVs.metadata.namespace}`;
    expect(entries.map((e: any) => e.name)).toEqual(['reviews', gwName]);
    // the gateway's route follows the service's: the controller's subsets, which it weighs
    expect(split(gatewayVs.spec.http[0].route)).toEqual({ stable: 100, canary: 0 });
  });

  test('a Gateway API gateway route to a progressively released service is refused at construction', () => {
    const s = setup();
    const ingress = new MeshGateway(s.chart, 'ingress', { mesh: s.mesh, hosts: ['shop.example.com'], routingApi: RoutingApi.GATEWAY_API });
    new CanaryRelease(s.chart, 'rel', { service: s.reviews, image: 'example/reviews:2.0', version: 'v2', progressive: ProgressiveDelivery.argoRollouts() });
    expect(() => ingress.route({ to: s.reviews } as any)).toThrow(/test\/rel: progressive 'Argo Rollouts with Gateway API gateway test\/ingress' is invalid: is not supported/);
  });
});

describe('analysis: no traffic is inconclusive, not failed', () => {
  // Argo's expr conditions, evaluated the way Argo does (len, isNaN), for the four kinds of measurement
  const evaluate = (cond: string, result: number[]) =>
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    new Function('result', 'len', 'isNaN', `return ${cond};`)(result, (x: any[]) => x.length, Number.isNaN) as boolean;
  const phase = (result: number[]) => {
    const c = argoConditions('>=', 0.99);
    const ok = evaluate(c.successCondition, result);
    const bad = evaluate(c.failureCondition, result);
    return bad ? 'Failed' : ok ? 'Successful' : 'Inconclusive';
  };

  test.each([[[0.995], 'Successful'], [[0.5], 'Failed'], [[NaN], 'Inconclusive'], [[], 'Inconclusive']])('%p is %s', (result, expected) => {
    expect(phase(result as number[])).toBe(expected);
  });

  test('bad knobs', () => {
    const prog = (analysis: any) => release({ progressive: ProgressiveDelivery.argoRollouts({ analysis }) });
    expect(() => prog({ inconclusiveLimit: -1 })).toThrow('analysis.inconclusiveLimit -1 is invalid: must be a whole number, 0 or more');
    expect(() => prog({ count: 0 })).toThrow('analysis.count 0 is invalid: must be a whole number, 1 or more');
    expect(() => prog({ failureLimit: 1.5 })).toThrow('analysis.failureLimit 1.5 is invalid');
  });
});

describe('Flagger mode: the same traffic model, driven by Flagger', () => {
  test('weighted steps, analysis as MetricTemplates, sticky canaries (snapshot)', () => {
    const { chart, canary } = release({
      progressive: ProgressiveDelivery.flagger({
        steps: [5, 20, 50], interval: Duration.minutes(2), analysis: { minSuccessRate: 99.5, failureLimit: 3 },
      }),
      sessionAffinity: { cookieName: 'beta', maxAge: Duration.hours(1) },
    });
    const objects = synthValid(chart);
    expect(yamlOf(ofKind(objects, 'Canary').concat(ofKind(objects, 'MetricTemplate')))).toMatchSnapshot();
    const c = one(objects, 'Canary', 'reviews');
    expect(c.apiVersion).toBe('flagger.app/v1beta1');
    expect(canary.flaggerCanary).toBeDefined();
    expect(c.spec.provider).toBe('istio');
    // Flagger adopts the running stable Deployment; its first spec is promoted at once (it is what runs)
    expect(c.spec.targetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'reviews-v1' });
    expect(c.spec.service).toEqual({ port: 9080, targetPort: 9080, portName: 'http', appProtocol: 'http' });
    expect(c.spec.analysis).toEqual({
      interval: '2m',
      threshold: 4,
      stepWeights: [5, 20, 50],
      metrics: [
        { name: 'success-rate', templateRef: { name: 'reviews-success-rate', namespace: 'shop' }, thresholdRange: { min: 0.995 }, interval: '2m' },
        { name: 'p99-latency', templateRef: { name: 'reviews-p99-latency', namespace: 'shop' }, thresholdRange: { max: 500 }, interval: '2m' },
      ],
      sessionAffinity: { cookieName: 'beta', maxAge: 3600 },
    });
    const sr = one(objects, 'MetricTemplate', 'reviews-success-rate');
    expect(sr.spec.provider).toEqual({ type: 'prometheus', address: 'http://prometheus-operated.monitoring.svc:9090' });
    // Flagger's canary pods are its target's: the query selects that workload, gRPC errors included
    expect(sr.spec.query).toContain('destination_workload="reviews-v1"');
    expect(sr.spec.query).toContain('grpc_response_status=~"0|"');
    // Flagger owns the routing: no VirtualService of ours; the canary Deployment only holds the new template
    expect(ofKind(objects, 'VirtualService')).toHaveLength(0);
    expect(one(objects, 'Deployment', 'reviews-v2').spec.replicas).toBe(0);
    expect(one(objects, 'Deployment', 'reviews-v1').spec.template.spec.containers[0].image).toBe('example/reviews:1.0');
  });

  test('second commit: the target runs the canary template, with its own selector labels', () => {
    const { chart } = release({ progressive: ProgressiveDelivery.flagger({ stableAdopted: true }) });
    const dep = one(synthValid(chart), 'Deployment', 'reviews-v1');
    expect(dep.spec.template.spec.containers[0].image).toBe('example/reviews:2.0');
    expect(dep.spec.template.metadata.labels).toEqual({ app: 'reviews', version: 'v1' });
    expect(dep.spec.selector.matchLabels).toEqual({ app: 'reviews', version: 'v1' });
    expect(dep.spec.replicas).toBe(3);
  });

  test('A/B test on header and cookie matches, and a mirrored blue/green release', () => {
    const ab = one(synthValid(release({
      progressive: ProgressiveDelivery.flagger({ matches: [RequestMatch.headerExact('x-beta', '1'), RequestMatch.cookie('beta', 'yes')], iterations: 5, withoutAnalysis: true }),
    }).chart), 'Canary').spec.analysis;
    expect(ab).toEqual({
      interval: '1m',
      threshold: 3,
      iterations: 5,
      match: [{ headers: { 'x-beta': { exact: '1' } } }, { headers: { cookie: { regex: '^(.*?;\\s*)?beta=yes(;.*)?$' } } }],
    });
    const mirror = one(synthValid(release({ progressive: ProgressiveDelivery.flagger({ mirrorPercent: 20 }) }).chart), 'Canary').spec.analysis;
    expect([mirror.iterations, mirror.mirror, mirror.mirrorWeight, mirror.stepWeights]).toEqual([10, true, 20, undefined]);
  });

  test('bad input', () => {
    const f = (o: any, extra: Partial<CanaryReleaseProps> = {}, svc: Partial<MeshedServiceProps> = {}) =>
      () => release({ progressive: ProgressiveDelivery.flagger(o), ...extra }, svc);
    expect(f({ steps: [10], matches: [RequestMatch.headerExact('a', 'b')] })).toThrow('choose one');
    expect(f({ steps: [50, 10] })).toThrow('progressive.steps [50,10] is invalid: must be strictly increasing');
    expect(f({ steps: [100] })).toThrow('progressive.steps[0] 100 is invalid');
    expect(f({ iterations: 3 })).toThrow('progressive.iterations 3 is invalid: applies to an A/B test');
    expect(f({ matches: [RequestMatch.uriPrefix('/api')] })).toThrow("which Flagger's analysis.match cannot express");
    expect(f({ mirrorPercent: 0 })).toThrow('progressive.mirrorPercent 0 is invalid');
    expect(f({ mirrorPercent: 5 }, { sessionAffinity: {} })).toThrow('applies to a weighted Flagger release only');
    expect(f({}, {}, { timeout: Duration.seconds(3) })).toThrow("needs reviews without a VirtualService of its own (Flagger writes the 'reviews' VirtualService)");
    expect(f({}, {}, { ports: [ServicePort.tcp(5432)] })).toThrow('needs an HTTP or gRPC port');
    const s = setup();
    const ingress = new MeshGateway(s.chart, 'ingress', { mesh: s.mesh, hosts: ['shop.example.com'] });
    new CanaryRelease(s.chart, 'rel', { service: s.reviews, image: 'x:2', version: 'v2', progressive: ProgressiveDelivery.flagger() });
    expect(() => ingress.route({ to: s.reviews } as any)).toThrow("progressive 'Flagger with gateway test/ingress' is invalid");
  });
});

describe('every mode analyzes clean', () => {
  const findings = (objects: any[]) => analyze(objects).map(f => `${f.code} ${f.object.kind}/${f.object.name}: ${f.message}`);
  const ports = [ServicePort.http(9080), ServicePort.tcp(5432), ServicePort.tls(8443)];
  test.each([
    ['GitOps, sticky, mirrored, TCP and TLS ports', {
      traffic: CanaryTraffic.weighted(10).andMatch(RequestMatch.userAgent('.*iPhone.*'), { weight: 50 }).andMirror(5), sessionAffinity: {},
    }],
    ['Argo Rollouts, adopting', { progressive: ProgressiveDelivery.argoRollouts() }],
    ['Argo Rollouts, adopted', { progressive: ProgressiveDelivery.argoRollouts({ stableAdopted: true }) }],
  ])('%s', (_name, props) => {
    const { chart } = release(props as any, { ports });
    expect(findings(synthValid(chart))).toEqual([]);
  });
  test('Flagger', () => {
    expect(findings(synthValid(release({ progressive: ProgressiveDelivery.flagger({ stableAdopted: true }) }).chart))).toEqual([]);
  });
});

test('Flagger in a ZeroTrustNamespace is refused: its -primary pods would fall outside every policy and fail closed', () => {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh');
  const ns = new ZeroTrustNamespace(chart, 'ns', { mesh, name: 'shop' });
  const reviews = new MeshedService(chart, 'reviews', { namespace: ns, image: 'example/reviews:1', ports: [ServicePort.http(9080)] });
  expect(() => new CanaryRelease(chart, 'v2', {
    service: reviews, image: 'example/reviews:2', version: 'v2', progressive: ProgressiveDelivery.flagger(),
  })).toThrow(/test\/v2: progressive 'ProgressiveDelivery.flagger\(\)' is invalid: is not supported yet for a service in a ZeroTrustNamespace \('shop'\)/);
});

test('Argo CD keeps the replicas of a Deployment a Rollout or a Flagger Canary adopted (no fight with the controller)', () => {
  for (const progressive of [ProgressiveDelivery.argoRollouts(), ProgressiveDelivery.flagger()]) {
    const app = new App();
    const shop = new Chart(app, 'shop');
    const { reviews } = setup({}, shop);
    new CanaryRelease(shop, 'rel', { service: reviews, image: 'example/reviews:2.0', version: 'v2', progressive });
    const gitops = new ArgoCdDelivery(new Chart(app, 'gitops'), 'mesh', { repoUrl: 'https://git.example.com/x.git', targetRevision: 'main', charts: [shop] });
    const objects = synthAppValid(app);
    const application = one(objects, 'Application', gitops.applicationOf(shop).name);
    expect(application.spec.ignoreDifferences).toContainEqual({ group: 'apps', kind: 'Deployment', name: 'reviews-v1', namespace: 'shop', jqPathExpressions: ['.spec.replicas'] });
    expect(application.spec.syncPolicy.syncOptions).toContain('RespectIgnoreDifferences=true');
  }
});
