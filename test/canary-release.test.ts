import { Duration, Testing } from 'cdk8s';
import {
  BlueGreenActive, CanaryRelease, CanaryReleaseProps, CanaryTraffic, GoldenSignals, Mesh, MeshedService,
  MeshedServiceProps, MeshNamespace, p99LatencyQuery, ProgressiveDelivery, RequestMatch, RetryOn, ServicePort,
  StringMatch, successRateQuery,
} from '../src';
import { one, ofKind, synthValid, yamlOf } from './util';
import { identityInjection } from './util/injection';

function setup(serviceProps: Partial<MeshedServiceProps> = {}) {
  const chart = Testing.chart();
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

/** The VirtualService routes as [name, match, {subset: weight}] for compact assertions. */
function routesOf(objects: any[]) {
  return one(objects, 'VirtualService', 'reviews').spec.http.map((r: any) => ({
    name: r.name,
    match: r.match,
    split: Object.fromEntries(r.route.map((d: any) => [d.destination.subset, d.weight ?? 100])),
    mirror: r.mirror ? `${r.mirror.subset}@${r.mirrorPercentage.value}` : undefined,
  }));
}

const HOST = 'reviews.shop.svc.cluster.local';

// Injection is the sidecar module's; snapshots show the template before injection. One test runs the real injector.
// a jest.mock factory may only require (jest hoists it above the imports)
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('../src/sidecar/inject', () => require('./util/injection').mockedInjectModule());
const { useRealInjection } = identityInjection();

/**
 * The VirtualService and the DestinationRule agree: every subset a route (or mirror) names exists in the
 * DestinationRule, and every DestinationRule subset selects the pods of some Deployment or Rollout template of the
 * service (a Rollout's template is its workloadRef Deployment's).
 */
function expectRoutingAgrees(objects: any[]) {
  const dr = one(objects, 'DestinationRule', 'reviews');
  const subsets = new Map<string, any>(dr.spec.subsets.map((s: any) => [s.name, s.labels]));
  const vs = one(objects, 'VirtualService', 'reviews');
  for (const r of vs.spec.http) {
    const named = [...r.route.map((d: any) => d.destination), ...(r.mirror ? [r.mirror] : []), ...(r.mirrors ?? []).map((m: any) => m.destination)];
    for (const d of named.filter((x: any) => x.host === HOST)) expect(subsets.has(d.subset)).toBe(true);
  }
  const templates: any[] = ofKind(objects, 'Deployment').map(d => d.spec.template);
  for (const ro of ofKind(objects, 'Rollout')) {
    templates.push(ro.spec.template ?? one(objects, 'Deployment', ro.spec.workloadRef.name).spec.template);
    expect(ro.spec.template?.metadata?.labels ?? one(objects, 'Deployment', ro.spec.workloadRef.name).spec.template.metadata.labels)
      .toEqual(expect.objectContaining(ro.spec.selector.matchLabels));
  }
  const service = one(objects, 'Service', 'reviews');
  for (const [name, labels] of subsets) {
    const selects = templates.some(t => Object.entries({ ...service.spec.selector, ...labels }).every(([k, v]) => t.metadata.labels[k] === v));
    if (!selects) throw new Error(`subset ${name} selects no pod template`);
  }
}

describe('CanaryRelease: weighted', () => {
  test('10% to the canary (snapshot)', () => {
    const { chart, canary, reviews } = release({ traffic: CanaryTraffic.weighted(10) });
    const objects = synthValid(chart);
    expect(yamlOf(objects)).toMatchSnapshot();
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/reviews', 'Service/reviews', 'DestinationRule/reviews', 'Deployment/reviews-v1', 'Deployment/reviews-v2', 'VirtualService/reviews',
    ]);
    expect(routesOf(objects)).toEqual([{ name: 'primary', split: { v1: 90, v2: 10 } }]);
    expect(one(objects, 'DestinationRule').spec.subsets).toEqual([
      { name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } },
    ]);
    // the canary is a version of the service like the stable one: same ServiceAccount, labels, replicas given
    const dep = one(objects, 'Deployment', 'reviews-v2');
    expect(dep.spec.replicas).toBe(3);
    expect(dep.spec.template.metadata.labels).toEqual({ app: 'reviews', version: 'v2' });
    expect(dep.spec.template.spec.serviceAccountName).toBe('reviews');
    expect(dep.spec.template.spec.containers[0].image).toBe('example/reviews:2.0');
    expect(canary.stable.name).toBe('v1');
    expect(canary.canary.name).toBe('v2');
    expect(canary.canaryWeight).toBe(10);
    expect(reviews.versions.map(v => v.name)).toEqual(['v1', 'v2']);
    expectRoutingAgrees(objects);
  });

  test('the canary gets its own replicas and env; the stable version can be named', () => {
    const s = setup({ env: { A: '1' } });
    s.reviews.addVersion('v1.5', { image: 'example/reviews:1.5' });
    const c = new CanaryRelease(s.chart, 'rel', {
      service: s.reviews,
      image: 'example/reviews:2.0',
      version: 'v2',
      replicas: 1,
      env: { B: '2' },
      stableVersion: 'v1.5',
      traffic: CanaryTraffic.weighted(20),
    });
    const objects = synthValid(s.chart);
    expect(c.stable.subsetName).toBe('v1-5');
    expect(routesOf(objects)).toEqual([{ name: 'primary', split: { 'v1-5': 80, 'v2': 20 } }]);
    const dep = one(objects, 'Deployment', 'reviews-v2');
    expect(dep.spec.replicas).toBe(1);
    expect(dep.spec.template.spec.containers[0].env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
    expectRoutingAgrees(objects);
  });

  test("the service's timeout, retries and fault carry over to every route", () => {
    const { chart } = release(
      { traffic: CanaryTraffic.weighted(10).andMatch(RequestMatch.headerExact('x-beta', 'true')) },
      {
        timeout: Duration.seconds(5),
        retries: { attempts: 2, retryOn: [RetryOn.GATEWAY_ERROR] },
        fault: { delay: { fixedDelay: Duration.millis(100), percentage: 1 } },
      },
    );
    const http = one(synthValid(chart), 'VirtualService').spec.http;
    expect(http).toHaveLength(2);
    for (const r of http) {
      expect(r.timeout).toBe('5s');
      expect(r.retries).toEqual({ attempts: 2, retryOn: 'gateway-error' });
      expect(r.fault).toEqual({ delay: { fixedDelay: '0.100s', percentage: { value: 1 } } });
    }
  });

  test('the sidecar injector runs on the canary too (real injection, schema-valid)', () => {
    useRealInjection();
    const { chart } = release({ traffic: CanaryTraffic.weighted(10) });
    const objects = synthValid(chart);
    const names = (d: any) => [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers].map((c: any) => c.name);
    expect(names(one(objects, 'Deployment', 'reviews-v2'))).toEqual(names(one(objects, 'Deployment', 'reviews-v1')));
    expect(names(one(objects, 'Deployment', 'reviews-v2'))).toContain('istio-proxy');
  });
});

describe('CanaryRelease: targeted (A/B)', () => {
  test('matching: matched requests to the canary, the rest to stable (snapshot)', () => {
    const { chart } = release({
      traffic: CanaryTraffic.matching(
        RequestMatch.cookie('beta', 'yes'),
        RequestMatch.all(RequestMatch.sourceNamespace('qa'), RequestMatch.sourceLabels({ app: 'tester' })),
      ),
    });
    const objects = synthValid(chart);
    expect(yamlOf([one(objects, 'VirtualService')])).toMatchSnapshot();
    expect(routesOf(objects)).toEqual([
      {
        name: 'primary-targeted-1',
        match: [
          { headers: { cookie: { regex: '^(.*?;\\s*)?beta=yes(;.*)?$' } } },
          { sourceLabels: { app: 'tester' }, sourceNamespace: 'qa' },
        ],
        split: { v1: 0, v2: 100 },
      },
      { name: 'primary', split: { v1: 100, v2: 0 } },
    ]);
    expectRoutingAgrees(objects);
  });

  test('the cookie regex matches the cookie anywhere in the header, and only that value', () => {
    const re = new RegExp('^(.*?;\\s*)?beta=yes(;.*)?$');
    expect(re.test('beta=yes')).toBe(true);
    expect(re.test('a=1; beta=yes; b=2')).toBe(true);
    expect(re.test('a=1;beta=yes')).toBe(true);
    expect(re.test('beta=yess')).toBe(false);
    expect(re.test('xbeta=yes')).toBe(false);
    expect(RequestMatch.cookie('a.b', 'x+y')._toHttpRequestMatch().headers!.cookie.value).toBe('^(.*?;\\s*)?a\\.b=x\\+y(;.*)?$');
  });

  test('every kind of condition renders to the VirtualService match', () => {
    const { chart } = release({
      traffic: CanaryTraffic.matching(RequestMatch.all(
        RequestMatch.header('X-Region', StringMatch.exact('southern-spain')),
        RequestMatch.headerPrefix('x-tenant', 'acme-'),
        RequestMatch.headerRegex('x-build', '[0-9]+'),
        RequestMatch.queryParam('beta', StringMatch.exact('1')),
        RequestMatch.uriPrefix('/api/'),
        RequestMatch.userAgent('.*iPhone.*'),
      )),
    });
    expect(one(synthValid(chart), 'VirtualService').spec.http[0].match).toEqual([{
      uri: { prefix: '/api/' },
      headers: {
        'user-agent': { regex: '.*iPhone.*' },
        'x-build': { regex: '[0-9]+' },
        'x-region': { exact: 'southern-spain' },
        'x-tenant': { prefix: 'acme-' },
      },
      queryParams: { beta: { exact: '1' } },
    }]);
    expect(RequestMatch.all(RequestMatch.userAgent('.*iPhone.*'), RequestMatch.cookie('b', '1')).description).toBe('header user-agent AND cookie b');
  });

  test('several andMatch rules keep their order and weights', () => {
    const { chart } = release({
      traffic: CanaryTraffic.weighted(5)
        .andMatch(RequestMatch.headerExact('x-canary', 'always'))
        .andMatch(RequestMatch.sourceNamespace('qa'), { weight: 30 }),
    });
    expect(routesOf(synthValid(chart)).map((r: any) => [r.name, r.split])).toEqual([
      ['primary-targeted-1', { v1: 0, v2: 100 }],
      ['primary-targeted-2', { v1: 70, v2: 30 }],
      ['primary', { v1: 95, v2: 5 }],
    ]);
  });
});

describe('CanaryRelease: the seed scenario', () => {
  test('10% of everyone, half of the iPhone users in Southern Spain, 5% mirrored', () => {
    // README snippet
    const { chart, reviews } = setup();
    new CanaryRelease(chart, 'reviews-v2', {
      service: reviews,
      image: 'example/reviews:2.0',
      version: 'v2',
      traffic: CanaryTraffic.weighted(10)
        .andMatch(RequestMatch.all(
          RequestMatch.userAgent('.*iPhone.*'),
          RequestMatch.headerExact('x-region', 'southern-spain'),
        ), { weight: 50 })
        .andMirror(5),
    });
    const objects = synthValid(chart);
    expect(yamlOf([one(objects, 'VirtualService'), one(objects, 'DestinationRule')])).toMatchSnapshot();
    expect(routesOf(objects)).toEqual([
      {
        name: 'primary-targeted-1',
        match: [{ headers: { 'user-agent': { regex: '.*iPhone.*' }, 'x-region': { exact: 'southern-spain' } } }],
        split: { v1: 50, v2: 50 },
        // 5% of the stable share: 5% of the half that stays on stable
        mirror: 'v2@2.5',
      },
      { name: 'primary', split: { v1: 90, v2: 10 }, mirror: 'v2@4.5' },
    ]);
    expectRoutingAgrees(objects);
  });
});

describe('CanaryRelease: mirror and blue/green', () => {
  test('mirror: all traffic to stable, 5% copied to the canary (snapshot)', () => {
    const { chart } = release({ traffic: CanaryTraffic.mirror(5) });
    const objects = synthValid(chart);
    const vs = one(objects, 'VirtualService');
    expect(yamlOf([vs])).toMatchSnapshot();
    expect(vs.spec.http).toEqual([{
      name: 'primary',
      route: [
        { destination: { host: HOST, subset: 'v1' }, weight: 100 },
        { destination: { host: HOST, subset: 'v2' }, weight: 0 },
      ],
      mirror: { host: HOST, subset: 'v2' },
      mirrorPercentage: { value: 5 },
    }]);
    expectRoutingAgrees(objects);
  });

  test("with the service's own mirror, both mirrors go to `mirrors`", () => {
    const s = setup();
    const shadow = new MeshedService(s.chart, 'shadow', { namespace: s.namespace, image: 'x:1', ports: [ServicePort.http(9080)] });
    const reviews = new MeshedService(s.chart, 'reviews2', {
      name: 'ratings', namespace: s.namespace, image: 'x:1', ports: [ServicePort.http(9080)], mirror: { service: shadow, percentage: 1 },
    });
    new CanaryRelease(s.chart, 'rel', { service: reviews, image: 'x:2', version: 'v2', traffic: CanaryTraffic.mirror(0.5) });
    const r = one(synthValid(s.chart), 'VirtualService', 'ratings').spec.http[0];
    expect(r.mirror).toBeUndefined();
    expect(r.mirrors).toEqual([
      { destination: { host: 'shadow.shop.svc.cluster.local' }, percentage: { value: 1 } },
      { destination: { host: 'ratings.shop.svc.cluster.local', subset: 'v2' }, percentage: { value: 0.5 } },
    ]);
  });

  test.each([[BlueGreenActive.STABLE, { v1: 100, v2: 0 }], [BlueGreenActive.CANARY, { v1: 0, v2: 100 }]])(
    'blue/green with %s active: all at once, both versions keep their replicas', (active, split) => {
      const { chart } = release({ traffic: CanaryTraffic.blueGreen({ active }) });
      const objects = synthValid(chart);
      if (active === BlueGreenActive.CANARY) expect(yamlOf([one(objects, 'VirtualService')])).toMatchSnapshot();
      expect(routesOf(objects)).toEqual([{ name: 'primary', split }]);
      expect(ofKind(objects, 'Deployment').map(d => d.spec.replicas)).toEqual([3, 3]);
      expectRoutingAgrees(objects);
    });
});

describe('CanaryRelease: staged in Git', () => {
  const staged = (currentStep: number, extra: Partial<CanaryReleaseProps> = {}) => {
    const { chart } = release({
      steps: [5, 25, 50, 100],
      currentStep,
      traffic: CanaryTraffic.matching(RequestMatch.headerExact('x-beta', 'true')),
      ...extra,
    });
    return synthValid(chart);
  };

  test('the current step sets the base weight (snapshot of step 1)', () => {
    const objects = staged(1);
    expect(yamlOf([one(objects, 'VirtualService')])).toMatchSnapshot();
    expect(routesOf(objects).map((r: any) => r.split)).toEqual([{ v1: 0, v2: 100 }, { v1: 75, v2: 25 }]);
    expect(routesOf(staged(0)).pop().split).toEqual({ v1: 95, v2: 5 });
    expect(routesOf(staged(3)).pop().split).toEqual({ v1: 0, v2: 100 });
  });

  test('moving the step changes only weight lines in the YAML', () => {
    const a = yamlOf(staged(1)).split('\n');
    const b = yamlOf(staged(2)).split('\n');
    expect(a.length).toBe(b.length);
    const changed = a.map((line, i) => [line, b[i]]).filter(([x, y]) => x !== y);
    expect(changed.length).toBeGreaterThan(0);
    for (const [x, y] of changed) {
      expect(x).toMatch(/^\s+weight: \d+$/);
      expect(y).toMatch(/^\s+weight: \d+$/);
    }
  });

  test('steps without traffic: a plain weighted rollout', () => {
    const { chart } = release({ steps: [10, 100], currentStep: 0 });
    expect(routesOf(synthValid(chart))).toEqual([{ name: 'primary', split: { v1: 90, v2: 10 } }]);
  });

  test('promote: every route sends everything to the canary, no mirror (snapshot)', () => {
    const { chart, canary } = release({ promote: true, traffic: CanaryTraffic.weighted(10).andMatch(RequestMatch.userAgent('.*iPhone.*'), { weight: 50 }).andMirror(5) });
    const objects = synthValid(chart);
    expect(yamlOf([one(objects, 'VirtualService')])).toMatchSnapshot();
    expect(routesOf(objects).map((r: any) => [r.split, r.mirror])).toEqual([[{ v1: 0, v2: 100 }, undefined], [{ v1: 0, v2: 100 }, undefined]]);
    expect(canary.canaryWeight).toBe(100);
    // the old version still runs until it is removed from the service
    expect(ofKind(objects, 'Deployment')).toHaveLength(2);
  });

  test('abort: every route back to stable, no mirror', () => {
    const objects = staged(2, { abort: true, traffic: CanaryTraffic.matching(RequestMatch.sourceNamespace('qa')).andMirror(10) });
    expect(routesOf(objects).map((r: any) => [r.split, r.mirror])).toEqual([[{ v1: 100, v2: 0 }, undefined], [{ v1: 100, v2: 0 }, undefined]]);
  });

  test('with several ports, each route is repeated per HTTP port', () => {
    const { chart } = release({ traffic: CanaryTraffic.weighted(10) }, { ports: [ServicePort.http(9080), ServicePort.grpc(7070)] });
    const objects = synthValid(chart);
    expect(one(objects, 'VirtualService').spec.http.map((r: any) => [r.name, r.match])).toEqual([
      ['primary-http', [{ port: 9080 }]], ['primary-grpc', [{ port: 7070 }]],
    ]);
    expectRoutingAgrees(objects);
  });
});

test('deterministic: two synths give the same bytes', () => {
  const build = () => {
    const { chart } = release({ traffic: CanaryTraffic.weighted(10).andMatch(RequestMatch.sourceLabels({ b: '2', a: '1' })).andMirror(5) });
    return yamlOf(synthValid(chart));
  };
  const a = build();
  expect(build()).toBe(a);
  expect(a.indexOf('a: "1"')).toBeLessThan(a.indexOf('b: "2"'));
});

describe('CanaryRelease: progressive delivery with Argo Rollouts', () => {
  test('Rollout, AnalysisTemplate and the routing it drives (snapshot)', () => {
    const { chart, canary } = release({
      replicas: 4,
      progressive: ProgressiveDelivery.argoRollouts({
        steps: [5, 25, 50],
        pause: Duration.minutes(10),
        analysis: {
          minSuccessRate: 99.5, maxP99Latency: Duration.millis(300), interval: Duration.seconds(30), failureLimit: 1, inconclusiveLimit: 3, count: 20,
        },
        stableAdopted: true,
      }),
    });
    const objects = synthValid(chart);
    expect(yamlOf(objects)).toMatchSnapshot();
    expect(canary.canaryWeight).toBeUndefined();
    expect(canary.rollout).toBeDefined();

    const rollout = one(objects, 'Rollout', 'reviews');
    expect(rollout.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(rollout.spec.replicas).toBe(4);
    // adopted: the Rollout's template is the canary's; both Deployments only hold templates (0 replicas in Git)
    expect(rollout.spec.workloadRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'reviews-v2', scaleDown: 'never' });
    expect(one(objects, 'Deployment', 'reviews-v1').spec.replicas).toBe(0);
    expect(rollout.spec.selector).toEqual({ matchLabels: { app: 'reviews' } });
    expect(rollout.spec.strategy.canary.steps).toEqual([
      { setWeight: 5 }, { pause: { duration: '10m' } }, { setWeight: 25 }, { pause: { duration: '10m' } },
      { setWeight: 50 }, { pause: { duration: '10m' } },
    ]);
    expect(rollout.spec.strategy.canary.analysis).toEqual({ templates: [{ templateName: 'reviews-canary' }], startingStep: 1 });
    expect(rollout.spec.strategy.canary.trafficRouting).toEqual({
      istio: {
        virtualServices: [{ name: 'reviews', routes: ['primary'] }],
        destinationRule: { name: 'reviews', stableSubsetName: 'stable', canarySubsetName: 'canary' },
      },
    });
    // the canary Deployment is only the template source
    expect(one(objects, 'Deployment', 'reviews-v2').spec.replicas).toBe(0);
    // the route the controller weighs: stable/canary subsets, 100/0 in Git (the controller owns the weights)
    expect(routesOf(objects)).toEqual([{ name: 'primary', split: { stable: 100, canary: 0 } }]);
    expect(one(objects, 'DestinationRule').spec.subsets).toEqual([
      { name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } },
      { name: 'stable', labels: { app: 'reviews' } }, { name: 'canary', labels: { app: 'reviews' } },
    ]);
    expectRoutingAgrees(objects);

    const metrics = one(objects, 'AnalysisTemplate', 'reviews-canary').spec.metrics;
    const knobs = (m: any) => [m.name, m.interval, m.count, m.failureLimit, m.inconclusiveLimit, m.successCondition, m.failureCondition];
    expect(metrics.map(knobs)).toEqual([
      ['success-rate', '30s', 20, 1, 3, 'len(result) > 0 && !isNaN(result[0]) && result[0] >= 0.995', 'len(result) > 0 && !isNaN(result[0]) && result[0] < 0.995'],
      ['p99-latency', '30s', 20, 1, 3, 'len(result) > 0 && !isNaN(result[0]) && result[0] <= 300', 'len(result) > 0 && !isNaN(result[0]) && result[0] > 300'],
    ]);
    const q = { namespace: 'shop', service: 'reviews', version: 'v2', window: Duration.minutes(5), grpcErrors: true };
    // the Prometheus that scrapes the proxies by default (prometheus-operator's, in monitoring), as the alerts assume
    expect(metrics[0].provider.prometheus).toEqual({ address: 'http://prometheus-operated.monitoring.svc:9090', query: successRateQuery(q) });
    expect(metrics[0].provider.prometheus.query).toContain('response_code!~"5.*",grpc_response_status=~"0|"}');
    expect(metrics[1].provider.prometheus.query).toBe(p99LatencyQuery(q));
  });

  test('defaults: four steps, 5 minute pauses, default analysis; manual promotion and no analysis are explicit', () => {
    const a = synthValid(release({ progressive: ProgressiveDelivery.argoRollouts() }).chart);
    expect(one(a, 'Rollout').spec.strategy.canary.steps.filter((s: any) => s.setWeight).map((s: any) => s.setWeight)).toEqual([10, 25, 50, 75]);
    expect(one(a, 'Rollout').spec.strategy.canary.steps[1]).toEqual({ pause: { duration: '5m' } });
    expect(one(a, 'AnalysisTemplate').spec.metrics.map((m: any) => [m.successCondition, m.failureLimit, m.inconclusiveLimit, m.count])).toEqual([
      ['len(result) > 0 && !isNaN(result[0]) && result[0] >= 0.99', 2, 5, undefined],
      ['len(result) > 0 && !isNaN(result[0]) && result[0] <= 500', 2, 5, undefined],
    ]);
    const b = synthValid(release({ progressive: ProgressiveDelivery.argoRollouts({ manualPromotion: true, withoutAnalysis: true }) }).chart);
    expect(one(b, 'Rollout').spec.strategy.canary.steps[1]).toEqual({ pause: {} });
    expect(one(b, 'Rollout').spec.strategy.canary.analysis).toBeUndefined();
    expect(ofKind(b, 'AnalysisTemplate')).toHaveLength(0);
  });

  test('several ports: the Rollout names every HTTP route of the VirtualService', () => {
    const { chart } = release({ progressive: ProgressiveDelivery.argoRollouts() }, { ports: [ServicePort.http(9080), ServicePort.tcp(5432)] });
    const objects = synthValid(chart);
    const names = one(objects, 'VirtualService').spec.http.map((r: any) => r.name);
    expect(one(objects, 'Rollout').spec.strategy.canary.trafficRouting.istio.virtualServices).toEqual([
      { name: 'reviews', routes: names, tcpRoutes: [{ port: 5432 }] },
    ]);
    expect(names).toEqual(['primary-http']);
  });
});

describe('golden signals (shared with observability)', () => {
  test('success rate and p99 latency queries', () => {
    const o = { namespace: 'shop', service: 'reviews', workload: 'reviews-v2', window: Duration.minutes(2) };
    const sel = 'reporter="destination",destination_service="reviews.shop.svc.cluster.local",destination_workload="reviews-v2",destination_workload_namespace="shop"';
    expect(successRateQuery(o)).toBe(
      `sum(rate(istio_requests_total{${sel},response_code!~"5.*"}[2m])) / sum(rate(istio_requests_total{${sel}}[2m]))`);
    expect(p99LatencyQuery(o)).toBe(`histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{${sel}}[2m])) by (le))`);
    expect(GoldenSignals.successRate(o)).toBe(successRateQuery(o));
    expect(GoldenSignals.latencyQuantile({ ...o, quantile: 0.5 })).toContain('histogram_quantile(0.5, ');
    expect(GoldenSignals.errorRate({ namespace: 'a', service: 'b' })).toContain('response_code=~"5.*"}[5m]');
    expect(GoldenSignals.requestRate({ namespace: 'a', service: 'b', version: 'x"y' })).toBe(
      'sum(rate(istio_requests_total{reporter="destination",destination_service="b.a.svc.cluster.local",destination_version="x\\"y"}[5m]))');
  });

  test('bad input', () => {
    expect(() => GoldenSignals.successRate({ namespace: 'a', service: 'b', window: Duration.millis(1500) })).toThrow("window '1 second 500 millis' is invalid: must be a whole number of seconds");
    expect(() => GoldenSignals.latencyQuantile({ namespace: 'a', service: 'b', quantile: 1 })).toThrow('quantile 1 is invalid');
    expect(() => GoldenSignals.requestRate({ namespace: 'a', service: 'b', reporter: 'both' })).toThrow("reporter 'both' is invalid");
  });
});

describe('CanaryRelease: bad input', () => {
  const make = (props: Partial<CanaryReleaseProps>) => release({ traffic: CanaryTraffic.weighted(10), ...props });

  test('weights outside 0-100 or not whole', () => {
    expect(() => CanaryTraffic.weighted(101)).toThrow('CanaryTraffic.weighted: weight 101 is invalid: must be a whole percentage from 0 to 100');
    expect(() => CanaryTraffic.weighted(-1)).toThrow('weight -1 is invalid');
    expect(() => CanaryTraffic.weighted(2.5)).toThrow('weight 2.5 is invalid');
    expect(() => CanaryTraffic.weighted(10).andMatch(RequestMatch.sourceNamespace('qa'), { weight: 120 })).toThrow('CanaryTraffic.andMatch: weight 120 is invalid');
    expect(() => CanaryTraffic.mirror(0)).toThrow('CanaryTraffic.mirror: percent 0 is invalid: must be a percentage above 0, at most 100');
    expect(() => CanaryTraffic.mirror(5).andMirror(6)).toThrow('is given twice');
  });

  test('steps: not increasing, not ending at 100, out of range; currentStep out of range', () => {
    expect(() => release({ steps: [5, 50, 25, 100] })).toThrow('reviews-v2: steps [5,50,25,100] is invalid: must be strictly increasing');
    expect(() => release({ steps: [5, 25, 50] })).toThrow('steps [5,25,50] is invalid: must end at 100');
    expect(() => release({ steps: [] })).toThrow('steps [] is invalid: must list at least one canary weight');
    expect(() => release({ steps: [5, 150] })).toThrow('steps[1] 150 is invalid: must be a whole percentage');
    expect(() => release({ steps: [5, 25, 100], currentStep: 3 })).toThrow('reviews-v2: currentStep 3 is invalid: must be an index into steps, from 0 to 2');
    expect(() => release({ steps: [5, 100], currentStep: -1 })).toThrow('currentStep -1 is invalid');
    expect(() => make({ currentStep: 1 })).toThrow('currentStep 1 is invalid: needs steps');
    expect(() => release({ steps: [50, 100], traffic: CanaryTraffic.blueGreen({ active: BlueGreenActive.CANARY }) })).toThrow('do not combine with a blue/green release');
    expect(() => release({ steps: [50, 100], traffic: CanaryTraffic.weighted(10) }))
      .toThrow("traffic 'CanaryTraffic.weighted(10)' is invalid: must not set a base weight with steps");
  });

  test('promote and abort together; traffic missing', () => {
    expect(() => make({ promote: true, abort: true })).toThrow("promote 'and abort' is invalid: are exclusive");
    expect(() => release({})).toThrow('traffic (not set) is invalid: must be set (e.g. CanaryTraffic.weighted(10))');
  });

  test('a canary version equal to the stable one, or a stable version the service does not have', () => {
    expect(() => make({ version: 'v1' })).toThrow("reviews-v2: version 'v1' is invalid: must differ from the stable version 'v1'");
    expect(() => make({ version: 'V1' })).toThrow("version 'V1' is invalid: must differ from the stable version");
    expect(() => make({ stableVersion: 'v0' })).toThrow("stableVersion 'v0' is invalid: must be a version of reviews: v1");
  });

  test('two releases of the same service at once', () => {
    const { chart, reviews } = make({});
    expect(() => new CanaryRelease(chart, 'again', { service: reviews, image: 'x:3', version: 'v3', traffic: CanaryTraffic.weighted(1) }))
      .toThrow("test/again: service 'test/reviews' is invalid: already has a release in progress (test/reviews-v2)");
  });

  test('regexes Envoy (RE2) rejects, or that do not parse', () => {
    expect(() => RequestMatch.userAgent('')).toThrow("RequestMatch: header 'user-agent' '' is invalid: must be a non-empty RE2 regular expression");
    expect(() => RequestMatch.userAgent('(?=.*iPhone).*')).toThrow('lookahead and lookbehind');
    expect(() => RequestMatch.userAgent('(?!Android).*')).toThrow('lookahead and lookbehind');
    expect(() => RequestMatch.userAgent('.*(?<=Mobile)')).toThrow('lookahead and lookbehind');
    expect(() => RequestMatch.userAgent('.*(?<!Mobile)')).toThrow('lookahead and lookbehind');
    expect(() => RequestMatch.headerRegex('x-a', '(a)\\1')).toThrow('backreferences (\\1) are not supported');
    expect(() => RequestMatch.headerRegex('x-a', '(?<n>a)\\k<n>')).toThrow('named backreferences');
    expect(() => RequestMatch.headerRegex('x-a', '(?>a+)b')).toThrow('atomic groups');
    expect(() => RequestMatch.headerRegex('x-a', 'a++')).toThrow('possessive quantifiers');
    expect(() => RequestMatch.headerRegex('x-a', '[a-')).toThrow("header 'x-a' '[a-' is invalid: must be a valid regular expression");
    expect(() => RequestMatch.queryParam('q', StringMatch.regex('(?=x)'))).toThrow('lookahead');
    // escaped or bracketed lookalikes are fine
    expect(() => RequestMatch.headerRegex('x-a', '\\\\1[(?=]\\(\\?=a\\)[+]+')).not.toThrow();
  });

  test('header names that are not RFC 7230 tokens, and other bad conditions', () => {
    expect(() => RequestMatch.headerExact('x region', 'a')).toThrow("RequestMatch: header name 'x region' is invalid: must be an HTTP header name (RFC 7230 token");
    expect(() => RequestMatch.headerExact(':authority', 'a')).toThrow("header name ':authority' is invalid");
    expect(() => RequestMatch.headerExact('', 'a')).toThrow("header name '' is invalid");
    expect(() => RequestMatch.cookie('a b', '1')).toThrow("cookie name 'a b' is invalid");
    expect(() => RequestMatch.cookie('a', 'x;y')).toThrow("cookie 'a' value 'x;y' is invalid");
    expect(() => RequestMatch.queryParam('q', StringMatch.prefix('a'))).toThrow("query parameter 'q' 'prefix' is invalid: must be StringMatch.exact or StringMatch.regex");
    expect(() => RequestMatch.uriPrefix('api')).toThrow("uriPrefix 'api' is invalid: must be a path starting with '/'");
    expect(() => RequestMatch.sourceNamespace('QA')).toThrow("sourceNamespace 'QA' is invalid: must be a DNS label");
    expect(() => RequestMatch.sourceLabels({})).toThrow('sourceLabels {} is invalid: must name at least one label');
    expect(() => RequestMatch.all(RequestMatch.userAgent('.*a.*'), RequestMatch.userAgent('.*b.*'))).toThrow('is constrained twice');
    expect(() => CanaryTraffic.matching()).toThrow('CanaryTraffic.matching: matches [] is invalid: must list at least one RequestMatch');
    expect(() => CanaryTraffic.blueGreen({ active: BlueGreenActive.CANARY }).andMirror(5)).toThrow('does not combine');
    expect(() => CanaryTraffic.blueGreen({ active: 'green' as any })).toThrow("active 'green' is invalid: must be BlueGreenActive.STABLE or BlueGreenActive.CANARY");
  });

  test('analysis thresholds out of range, and GitOps options with progressive delivery', () => {
    const prog = (o: any) => release({ progressive: ProgressiveDelivery.argoRollouts(o) });
    expect(() => prog({ analysis: { minSuccessRate: 0 } })).toThrow('reviews-v2: analysis.minSuccessRate 0 is invalid: must be a percentage above 0, at most 100');
    expect(() => prog({ analysis: { minSuccessRate: 101 } })).toThrow('analysis.minSuccessRate 101 is invalid');
    expect(() => prog({ analysis: { maxP99Latency: Duration.millis(0) } })).toThrow('is invalid: must be a Duration above 0');
    expect(() => prog({ analysis: { failureLimit: -1 } })).toThrow('analysis.failureLimit -1 is invalid');
    expect(() => prog({ analysis: { prometheusAddress: 'prometheus:9090' } })).toThrow("analysis.prometheusAddress 'prometheus:9090' is invalid: must be an http(s) URL");
    expect(() => prog({ steps: [10, 5] })).toThrow('progressive.steps [10,5] is invalid: must be strictly increasing');
    expect(() => prog({ steps: [0, 5] })).toThrow('progressive.steps[0] 0 is invalid: must be above 0');
    expect(() => prog({ manualPromotion: true, pause: Duration.minutes(1) })).toThrow('progressive.pause');
    expect(() => prog({ withoutAnalysis: true, analysis: {} })).toThrow('progressive.analysis');
    expect(() => release({ progressive: ProgressiveDelivery.argoRollouts(), traffic: CanaryTraffic.weighted(5) }))
      .toThrow('reviews-v2: traffic');
    expect(() => release({ progressive: ProgressiveDelivery.argoRollouts(), steps: [5, 100] })).toThrow('steps [5,100] is invalid: must not be set with progressive delivery');
  });
});
