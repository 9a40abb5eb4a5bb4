/**
 * Traffic management on mesh routes and DestinationRules (issue 15): each behaviour Istio's traffic-management
 * tasks show, in a few typed lines, strictly schema-valid and clean for the analyzer.
 */
import { App, Chart, Duration, Testing } from 'cdk8s';
import {
  analyze, CanaryRelease, CanaryTraffic, IstioControlPlane, LoadBalancer, LocalityLoadBalancing, LocalRateLimit, Mesh,
  MeshCertificates, MeshedService, MeshedServiceProps, RequestMatch, RetryOn, RouteAction, ServicePort, StringMatch,
  UpstreamTls, ZeroTrustNamespace,
} from '../src';
import { one, ofKind, synthAppValid, yamlOf } from './util';
import { checkRegex } from '../src/validation';

/** A platform chart (mesh, control plane) and an app chart with a zero-trust namespace, as users write them. */
function meshApp() {
  const app = Testing.app();
  const platform = new Chart(app, 'mesh-system');
  const mesh = new Mesh(platform, 'mesh', { version: '1.30.3', trustDomain: 'cluster.local' });
  new IstioControlPlane(platform, 'istio', { mesh, certificates: MeshCertificates.certManager() });
  const shop = new Chart(app, 'shop');
  const namespace = new ZeroTrustNamespace(shop, 'ns', { mesh, name: 'shop' });
  return { app, shop, mesh, namespace };
}

function svc(chart: Chart, id: string, props: Partial<MeshedServiceProps> & { namespace: any }): MeshedService {
  return new MeshedService(chart, id, { image: `example/${id}:1.0`, ports: [ServicePort.http(9080)], ...props });
}

/** Synthesizes the app, validates every object strictly and checks that the analyzer finds nothing. */
function synthClean(app: App): any[] {
  const objects = synthAppValid(app);
  expect(analyze(objects).map(f => `${f.code} ${f.object.kind}/${f.object.name}: ${f.message}`)).toEqual([]);
  return objects;
}

const HOST = (name: string) => `${name}.shop.svc.cluster.local`;

describe('port-level traffic policies', () => {
  test('a port entry carries the service-level outlier detection, pool, load balancer and TLS it does not override', () => {
    const { app, shop, namespace } = meshApp();
    const grpc = ServicePort.grpc(7070);
    svc(shop, 'reviews', {
      namespace,
      ports: [ServicePort.http(9080), grpc],
      trafficPolicy: {
        loadBalancer: LoadBalancer.roundRobin(),
        connectionPool: { tcp: { maxConnections: 100, connectTimeout: Duration.millis(500) }, http: { http2MaxRequests: 1000 } },
        outlierDetection: { consecutive5xxErrors: 5, interval: Duration.seconds(10) },
        portSettings: [{ port: grpc, connectionPool: { tcp: { maxConnections: 10 } } }],
      },
    });
    const policy = one(synthClean(app), 'DestinationRule', 'reviews').spec.trafficPolicy;
    expect(policy.portLevelSettings).toEqual([{
      port: { number: 7070 },
      loadBalancer: { simple: 'ROUND_ROBIN' },
      connectionPool: { tcp: { maxConnections: 10, connectTimeout: '0.500s' }, http: { http2MaxRequests: 1000 } },
      outlierDetection: { consecutive5xxErrors: 5, interval: '10s' },
      tls: { mode: 'ISTIO_MUTUAL' },
    }]);
  });

  test('what a port entry sets wins, field by field', () => {
    const { app, shop, namespace } = meshApp();
    const admin = ServicePort.http(9090, { nameSuffix: 'admin' });
    svc(shop, 'reviews', {
      namespace,
      ports: [ServicePort.http(9080), admin],
      trafficPolicy: {
        outlierDetection: { consecutive5xxErrors: 5, baseEjectionTime: Duration.seconds(30) },
        portSettings: [{
          port: admin, loadBalancer: LoadBalancer.random(), outlierDetection: { consecutive5xxErrors: 1 }, tls: UpstreamTls.istioMutual(),
        }],
      },
    });
    expect(one(synthClean(app), 'DestinationRule', 'reviews').spec.trafficPolicy.portLevelSettings).toEqual([{
      port: { number: 9090 },
      loadBalancer: { simple: 'RANDOM' },
      outlierDetection: { consecutive5xxErrors: 1, baseEjectionTime: '30s' },
      tls: { mode: 'ISTIO_MUTUAL' },
    }]);
  });
});

describe('retries', () => {
  test('status codes Istio does not know by name (520, 522, 599) are retried through Envoy\'s header, not lost in retryOn', () => {
    const { app, shop, namespace } = meshApp();
    svc(shop, 'reviews', { namespace, retries: { attempts: 3, retryOn: [RetryOn.CONNECT_FAILURE], retriableStatusCodes: [599, 503, 520, 522, 429] } });
    const http = one(synthClean(app), 'VirtualService', 'reviews').spec.http[0];
    expect(http.retries).toEqual({ attempts: 3, retryOn: 'connect-failure,retriable-status-codes,429,503' });
    expect(http.headers).toEqual({ request: { set: { 'x-envoy-retriable-status-codes': '520,522,599' } } });
    // every part of retryOn is one Istio accepts: a policy name or a code Go's net/http names
    for (const part of http.retries.retryOn.split(',')) expect(part).toMatch(/^([a-z0-9-]+[a-z-][a-z0-9-]*|429|503)$/);
  });

  test('codes outside 100-599 are rejected', () => {
    const { shop, namespace } = meshApp();
    expect(() => svc(shop, 'a', { namespace, retries: { attempts: 1, retriableStatusCodes: [600] } }))
      .toThrow('shop/a: retries.retriableStatusCodes 600 is invalid: must be a whole number from 100 to 599');
    expect(() => svc(shop, 'b', { namespace, retries: { attempts: 1, retriableStatusCodes: [99] } })).toThrow('from 100 to 599');
  });

  test('every HTTPRetry field of Istio 1.30', () => {
    const { app, shop, namespace } = meshApp();
    svc(shop, 'reviews', {
      namespace,
      timeout: Duration.seconds(10),
      retries: {
        attempts: 4,
        perTryTimeout: Duration.seconds(2),
        retryOn: [RetryOn.GATEWAY_ERROR, RetryOn.RESET],
        backoff: Duration.millis(100),
        retryRemoteLocalities: true,
        retryIgnorePreviousHosts: false,
      },
    });
    expect(one(synthClean(app), 'VirtualService', 'reviews').spec.http[0].retries).toEqual({
      attempts: 4, perTryTimeout: '2s', retryOn: 'gateway-error,reset', backoff: '0.100s', retryRemoteLocalities: true, retryIgnorePreviousHosts: false,
    });
  });

  test('attempts 0 disables retries: no other field (Istio rejects the policy)', () => {
    const { shop, namespace } = meshApp();
    expect(() => svc(shop, 'a', { namespace, retries: { attempts: 0, perTryTimeout: Duration.seconds(1) } }))
      .toThrow("shop/a: retries 'perTryTimeout' is invalid: must not be set when attempts is 0");
  });
});

describe('cookie conditions', () => {
  test('two cookies combine with all(): one regex that needs both, in either order', () => {
    const m = RequestMatch.all(RequestMatch.cookie('beta', 'yes'), RequestMatch.cookie('region', 'eu'))._toHttpRequestMatch();
    const pattern = m.headers!.cookie.value;
    expect(() => checkRegex('test', 'cookie', pattern)).not.toThrow();
    const re = new RegExp(pattern);
    for (const ok of ['beta=yes; region=eu', 'region=eu; beta=yes', 'a=1; region=eu;beta=yes; z=2', 'beta=yes;region=eu']) expect(re.test(ok)).toBe(true);
    for (const bad of ['beta=yes', 'region=eu', 'beta=yes; region=eu2', 'xbeta=yes; region=eu', 'beta=no; region=eu']) expect(re.test(bad)).toBe(false);
  });

  test('a cookie combined with another cookie header condition, or the same cookie twice, is an error', () => {
    expect(() => RequestMatch.all(RequestMatch.cookie('a', '1'), RequestMatch.cookie('a', '2'))).toThrow("RequestMatch: all 'cookie 'a'' is invalid: is constrained twice");
    expect(() => RequestMatch.all(RequestMatch.cookie('a', '1'), RequestMatch.headerRegex('cookie', '.*'))).toThrow('a cookie match is a regex on the cookie header');
  });

  test('a canary for users with two cookies', () => {
    const { app, shop, namespace } = meshApp();
    const reviews = svc(shop, 'reviews', { namespace });
    new CanaryRelease(shop, 'reviews-v2', {
      service: reviews,
      image: 'reviews:2',
      version: 'v2',
      traffic: CanaryTraffic.matching(RequestMatch.all(RequestMatch.cookie('beta', 'yes'), RequestMatch.cookie('region', 'eu'))),
    });
    const http = one(synthClean(app), 'VirtualService', 'reviews').spec.http;
    expect(Object.keys(http[0].match[0].headers)).toEqual(['cookie']);
  });
});

describe('the routes have one owner', () => {
  test('replaceHttpRoutes twice is an error naming the first owner', () => {
    const { shop, namespace } = meshApp();
    const reviews = svc(shop, 'reviews', { namespace });
    reviews.replaceHttpRoutes([{ destinations: [{ version: reviews.versions[0] }] }], shop);
    expect(() => reviews.replaceHttpRoutes([{ destinations: [{ version: reviews.versions[0] }] }]))
      .toThrow("shop/reviews: httpRoutes 'replaced again' is invalid: are already set by 'shop': the routes of a service have one owner");
  });

  test('a CanaryRelease on a service whose routes are already set is an error, and the other way round', () => {
    const a = meshApp();
    const reviews = svc(a.shop, 'reviews', { namespace: a.namespace });
    reviews.replaceHttpRoutes([{ destinations: [{ version: reviews.versions[0] }] }]);
    expect(() => new CanaryRelease(a.shop, 'reviews-v2', { service: reviews, image: 'reviews:2', version: 'v2', traffic: CanaryTraffic.weighted(10) }))
      .toThrow('are already set by an earlier replaceHttpRoutes call');

    const b = meshApp();
    const ratings = svc(b.shop, 'ratings', { namespace: b.namespace });
    new CanaryRelease(b.shop, 'ratings-v2', { service: ratings, image: 'ratings:2', version: 'v2', traffic: CanaryTraffic.weighted(10) });
    expect(() => ratings.replaceHttpRoutes([{ destinations: [{ version: ratings.versions[0] }] }])).toThrow('are already set by');
  });
});

describe('gRPC streams and timeouts', () => {
  test('the service timeout does not apply to gRPC ports (it would cut streams); grpcTimeout opts in', () => {
    const { app, shop, namespace } = meshApp();
    const ports = [ServicePort.http(8080), ServicePort.grpc(9090)];
    svc(shop, 'streams', { namespace, ports, timeout: Duration.seconds(5), retries: { attempts: 2, perTryTimeout: Duration.seconds(1) } });
    svc(shop, 'unary', { namespace, ports, timeout: Duration.seconds(5), grpcTimeout: Duration.seconds(30) });
    const objects = synthClean(app);
    const byPort = (name: string) => Object.fromEntries(one(objects, 'VirtualService', name).spec.http.map((r: any) => [r.match[0].port, r]));
    const streams = byPort('streams');
    expect(streams[8080].timeout).toBe('5s');
    expect(streams[8080].retries).toEqual({ attempts: 2, perTryTimeout: '1s' });
    expect(streams[9090].timeout).toBeUndefined();
    expect(streams[9090].retries).toEqual({ attempts: 2 });
    const unary = byPort('unary');
    expect([unary[8080].timeout, unary[9090].timeout]).toEqual(['5s', '30s']);
  });

  test('a timeout that reaches no port, or a grpcTimeout without a gRPC port, is an error', () => {
    const { shop, namespace } = meshApp();
    expect(() => svc(shop, 'g', { namespace, ports: [ServicePort.grpc(9090)], timeout: Duration.seconds(5) }))
      .toThrow("shop/g: timeout '5 seconds' is invalid: does not apply to gRPC ports (grpc/9090): a route timeout would cut streams; set grpcTimeout");
    expect(() => svc(shop, 'h', { namespace, grpcTimeout: Duration.seconds(5) })).toThrow('applies to gRPC ports only');
    expect(() => svc(shop, 'i', { namespace, ports: [ServicePort.grpc(9090)], grpcTimeout: Duration.seconds(1), retries: { attempts: 1, perTryTimeout: Duration.seconds(2) } }))
      .toThrow('must not be longer than grpcTimeout');
    expect(() => svc(shop, 'j', { namespace, ports: [ServicePort.grpc(9090)], retries: { attempts: 1, perTryTimeout: Duration.seconds(2) } }))
      .toThrow("shop/j: retries.perTryTimeout '2 seconds' is invalid: does not apply to gRPC ports (grpc/9090) without grpcTimeout");
  });
});

describe('locality load balancing', () => {
  test('failover between regions, with outlier detection', () => {
    const { app, shop, namespace } = meshApp();
    svc(shop, 'helloworld', {
      namespace,
      trafficPolicy: {
        locality: LocalityLoadBalancing.failover([{ from: 'region1', to: 'region2' }]),
        outlierDetection: { consecutive5xxErrors: 1, interval: Duration.seconds(1), baseEjectionTime: Duration.minutes(1) },
        connectionPool: { http: { maxRequestsPerConnection: 1 } },
      },
    });
    expect(one(synthClean(app), 'DestinationRule', 'helloworld').spec.trafficPolicy).toEqual({
      loadBalancer: { localityLbSetting: { failover: [{ from: 'region1', to: 'region2' }] } },
      connectionPool: { http: { maxRequestsPerConnection: 1 } },
      outlierDetection: { consecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '60s' },
      tls: { mode: 'ISTIO_MUTUAL' },
    });
  });

  test('failover priority and weighted distribution, next to an algorithm', () => {
    const { app, shop, namespace } = meshApp();
    svc(shop, 'a', {
      namespace,
      trafficPolicy: {
        loadBalancer: LoadBalancer.leastRequest(),
        locality: LocalityLoadBalancing.failoverPriority(['topology.kubernetes.io/region', 'topology.kubernetes.io/zone']),
        outlierDetection: { consecutive5xxErrors: 3 },
      },
    });
    svc(shop, 'b', {
      namespace,
      trafficPolicy: { locality: LocalityLoadBalancing.distribute([{ from: 'region1/zone1/*', to: { 'region1/zone1/*': 70, 'region1/zone2/*': 30 } }]) },
    });
    const objects = synthClean(app);
    expect(one(objects, 'DestinationRule', 'a').spec.trafficPolicy.loadBalancer).toEqual({
      simple: 'LEAST_REQUEST', localityLbSetting: { failoverPriority: ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone'] },
    });
    expect(one(objects, 'DestinationRule', 'b').spec.trafficPolicy.loadBalancer).toEqual({
      localityLbSetting: { distribute: [{ from: 'region1/zone1/*', to: { 'region1/zone1/*': 70, 'region1/zone2/*': 30 } }] },
    });
  });

  test('failover needs outlier detection; bad localities and weights are rejected', () => {
    const { shop, namespace } = meshApp();
    expect(() => svc(shop, 'a', { namespace, trafficPolicy: { locality: LocalityLoadBalancing.failover([{ from: 'r1', to: 'r2' }]) } }))
      .toThrow("shop/a: trafficPolicy.locality 'failover' is invalid: needs outlierDetection");
    const p = ServicePort.http(9090, { nameSuffix: 'admin' });
    expect(() => svc(shop, 'b', { namespace, ports: [ServicePort.http(9080), p], trafficPolicy: { portSettings: [{ port: p, locality: LocalityLoadBalancing.failoverPriority(['topology.kubernetes.io/zone']) }] } }))
      .toThrow("trafficPolicy.portSettings[0].locality 'failoverPriority' is invalid: needs outlierDetection");
    expect(() => LocalityLoadBalancing.failover([{ from: 'r1/z1', to: 'r2' }])).toThrow('must be a region name');
    expect(LocalityLoadBalancing.failoverPriority(['topology.istio.io/network=network1', 'topology.kubernetes.io/zone'])._render())
      .toEqual({ failoverPriority: ['topology.istio.io/network=network1', 'topology.kubernetes.io/zone'] });
    expect(() => LocalityLoadBalancing.failoverPriority(['a b'])).toThrow("LocalityLoadBalancing.failoverPriority: labels key 'a b' is invalid");
    expect(() => LocalityLoadBalancing.failoverPriority(['zone', 'zone=a'])).toThrow('must not repeat a label');
    expect(() => LocalityLoadBalancing.distribute([{ from: 'r1', to: { r1: 50, r2: 40 } }])).toThrow('weights must add up to 100');
  });
});

describe('header manipulation, CORS, subsets, actions and faults on mesh routes', () => {
  test('request and response headers on every route, and on one route', () => {
    const { app, shop, namespace } = meshApp();
    const reviews = svc(shop, 'reviews', {
      namespace,
      headers: { request: { set: { 'X-Team': 'books' } }, response: { remove: ['server'], add: { 'x-served-by': '%HOSTNAME%' } } },
    });
    reviews.replaceHttpRoutes([
      { name: 'beta', matches: [{ headers: { 'end-user': StringMatch.exact('jason') } }], headers: { request: { add: { 'x-beta': 'yes' } } } },
      { name: 'default' },
    ]);
    const http = one(synthClean(app), 'VirtualService', 'reviews').spec.http;
    expect(http.map((r: any) => r.headers)).toEqual([
      { request: { set: { 'x-team': 'books' }, add: { 'x-beta': 'yes' } }, response: { add: { 'x-served-by': '%HOSTNAME%' }, remove: ['server'] } },
      { request: { set: { 'x-team': 'books' } }, response: { add: { 'x-served-by': '%HOSTNAME%' }, remove: ['server'] } },
    ]);
  });

  test('header values with CR, LF or a lone %, a header changed twice, and the Host header are rejected', () => {
    const { shop, namespace } = meshApp();
    expect(() => svc(shop, 'a', { namespace, headers: { request: { set: { 'x-a': 'ok\r\nx-evil: 1' } } } }))
      .toThrow("shop/a: headers.request.set['x-a'] 'ok\\r\\nx-evil: 1' is invalid");
    expect(() => svc(shop, 'b', { namespace, headers: { response: { add: { 'x-a': 'bell\u0007' } } } })).toThrow('no control characters');
    expect(() => svc(shop, 'c', { namespace, headers: { request: { set: { 'x-a': '100%' } } } })).toThrow("must write a literal '%' as '%%'");
    expect(() => svc(shop, 'd', { namespace, headers: { request: { set: { host: 'x' } } } })).toThrow('must not be the Host header');
    expect(() => svc(shop, 'db', { namespace, ports: [ServicePort.tcp(5432)], cors: { allowOrigins: ['*'] } }))
      .toThrow("shop/db: cors 'set' is invalid: is HTTP-only, but ports tcp/5432 do not speak HTTP");
    const e = svc(shop, 'e', { namespace, headers: { request: { set: { 'x-a': '1' } } } });
    expect(() => e.replaceHttpRoutes([{ headers: { request: { set: { 'x-a': '2' } } } }]))
      .toThrow("shop/e: httpRoutes[0].headers 'request header 'x-a'' is invalid: is changed by both the service headers and httpRoutes[0].headers");
    const f = svc(shop, 'f', { namespace, retries: { attempts: 1, retriableStatusCodes: [520] }, headers: { request: { set: { 'x-envoy-retriable-status-codes': '500' } } } });
    expect(() => Testing.synth(Chart.of(f))).toThrow('is changed by both the service headers and retries.retriableStatusCodes');
  });

  test('CORS on mesh routes', () => {
    const { app, shop, namespace } = meshApp();
    svc(shop, 'api', {
      namespace,
      cors: {
        allowOrigins: ['https://shop.example.com', 'https://*.example.org'],
        allowMethods: ['POST', 'GET'],
        allowHeaders: ['x-request-id'],
        maxAge: Duration.days(1),
        allowCredentials: true,
      },
    });
    expect(one(synthClean(app), 'VirtualService', 'api').spec.http[0].corsPolicy).toEqual({
      allowOrigins: [{ regex: 'https://[-a-z0-9]+(\\.[-a-z0-9]+)*\\.example\\.org' }, { exact: 'https://shop.example.com' }],
      allowMethods: ['GET', 'POST'],
      allowHeaders: ['x-request-id'],
      maxAge: '86400s',
      allowCredentials: true,
    });
    expect(() => svc(shop, 'b', { namespace, cors: { allowOrigins: ['*'], allowCredentials: true } })).toThrow('must not be a wildcard origin when allowCredentials is true');
    expect(() => svc(shop, 'c', { namespace, cors: { allowOrigins: ['https://a.example.com\r\n'] } })).toThrow('cors.allowOrigins');
  });

  test('subset-level traffic policies: the fields a version sets merge over the service\'s, the rest is inherited', () => {
    const { app, shop, namespace } = meshApp();
    const reviews = svc(shop, 'reviews', { namespace, trafficPolicy: { outlierDetection: { consecutive5xxErrors: 5 }, connectionPool: { tcp: { maxConnections: 100 } } } });
    const v2 = reviews.addVersion('v2', { image: 'reviews:2' });
    reviews.setVersionTrafficPolicy(v2, { loadBalancer: LoadBalancer.random(), connectionPool: { http: { http2MaxRequests: 10 } } });
    expect(one(synthClean(app), 'DestinationRule', 'reviews').spec.subsets).toEqual([
      { name: 'v1', labels: { version: 'v1' } },
      {
        name: 'v2',
        labels: { version: 'v2' },
        // Istio keeps the service's outlier detection and TLS for the fields the subset does not set
        trafficPolicy: { loadBalancer: { simple: 'RANDOM' }, connectionPool: { tcp: { maxConnections: 100 }, http: { http2MaxRequests: 10 } } },
      },
    ]);
    expect(() => reviews.setVersionTrafficPolicy(v2, {})).toThrow("versions['v2'].trafficPolicy 'set twice' is invalid");
  });

  test('a subset policy keeps the service\'s port-level settings of every port (Istio would replace them with the subset\'s fields)', () => {
    const { app, shop, namespace } = meshApp();
    const admin = ServicePort.http(9090, { nameSuffix: 'admin' });
    const reviews = svc(shop, 'reviews', {
      namespace,
      ports: [ServicePort.http(9080), admin],
      trafficPolicy: {
        connectionPool: { tcp: { maxConnections: 100 } },
        portSettings: [{ port: admin, connectionPool: { tcp: { maxConnections: 5 } } }],
      },
    });
    const v2 = reviews.addVersion('v2', { image: 'reviews:2' });
    reviews.setVersionTrafficPolicy(v2, { connectionPool: { http: { http2MaxRequests: 10 } } });
    expect(one(synthClean(app), 'DestinationRule', 'reviews').spec.subsets[1].trafficPolicy).toEqual({
      connectionPool: { tcp: { maxConnections: 100 }, http: { http2MaxRequests: 10 } },
      portLevelSettings: [{ port: { number: 9090 }, connectionPool: { tcp: { maxConnections: 5 }, http: { http2MaxRequests: 10 } }, tls: { mode: 'ISTIO_MUTUAL' } }],
    });
  });

  test('a fault for matching requests only (Istio\'s fault-injection task: a delay for jason)', () => {
    const { app, shop, namespace } = meshApp();
    const ratings = svc(shop, 'ratings', {
      namespace,
      fault: { delay: { fixedDelay: Duration.seconds(7), percentage: 100 }, match: RequestMatch.headerExact('end-user', 'jason') },
    });
    ratings.replaceHttpRoutes([
      { name: 'mobile', matches: [{ headers: { 'user-agent': StringMatch.regex('.*Mobile.*') } }], destinations: [{ version: ratings.versions[0] }] },
      { name: 'default' },
    ]);
    const http = one(synthClean(app), 'VirtualService', 'ratings').spec.http;
    expect(http.map((r: any) => [r.name, r.match, r.fault])).toEqual([
      ['mobile-fault', [{ headers: { 'user-agent': { regex: '.*Mobile.*' }, 'end-user': { exact: 'jason' } } }], { delay: { fixedDelay: '7s', percentage: { value: 100 } } }],
      ['mobile', [{ headers: { 'user-agent': { regex: '.*Mobile.*' } } }], undefined],
      ['default-fault', [{ headers: { 'end-user': { exact: 'jason' } } }], { delay: { fixedDelay: '7s', percentage: { value: 100 } } }],
      ['default', undefined, undefined],
    ]);
    // the route's own condition on the same header cannot be combined
    const s = svc(shop, 'other', { namespace, fault: { abort: { httpStatus: 500, percentage: 100 }, match: RequestMatch.headerExact('end-user', 'jason') } });
    expect(() => s.replaceHttpRoutes([{ matches: [{ headers: { 'end-user': StringMatch.exact('bob') } }] }, {}]))
      .toThrow("shop/other: httpRoutes[0].matches[0] with fault.match 'header 'end-user'' is invalid: is constrained both by the route and by fault.match");
  });

  test('direct responses, redirects and rewrites in the mesh', () => {
    const { app, shop, namespace } = meshApp();
    const web = svc(shop, 'web', { namespace, timeout: Duration.seconds(5) });
    web.replaceHttpRoutes([
      { name: 'retired', matches: [{ uri: StringMatch.prefix('/old-api') }], action: RouteAction.directResponse(410, 'gone') },
      { name: 'moved', matches: [{ uri: StringMatch.exact('/docs') }], action: RouteAction.redirect({ uri: '/help', authority: 'help.example.com', redirectCode: 308 }) },
      { name: 'v2', matches: [{ uri: StringMatch.prefix('/v2/') }], rewrite: { uri: '/' } },
      { name: 'default' },
    ]);
    const http = one(synthClean(app), 'VirtualService', 'web').spec.http;
    expect(http[0]).toEqual({ name: 'retired', match: [{ uri: { prefix: '/old-api' } }], directResponse: { status: 410, body: { string: 'gone' } } });
    expect(http[1]).toEqual({ name: 'moved', match: [{ uri: { exact: '/docs' } }], redirect: { uri: '/help', authority: 'help.example.com', redirectCode: 308 } });
    expect(http[2]).toEqual({ name: 'v2', match: [{ uri: { prefix: '/v2/' } }], route: [{ destination: { host: HOST('web') } }], rewrite: { uri: '/' }, timeout: '5s' });
  });

  test('redirect and rewrite targets with CR, LF or control characters, and actions with destinations, are rejected', () => {
    expect(() => RouteAction.redirect({ authority: 'evil.example.com\r\nSet-Cookie: a=b' })).toThrow("RouteAction.redirect: authority 'evil.example.com\\r\\nSet-Cookie: a=b' is invalid");
    expect(() => RouteAction.redirect({ uri: '/a\nb' })).toThrow('RouteAction.redirect: uri');
    expect(() => RouteAction.redirect({})).toThrow('must set uri, authority, scheme or port');
    expect(() => RouteAction.redirect({ uri: '/x', redirectCode: 200 })).toThrow('must be 301, 302, 303, 307 or 308');
    expect(() => RouteAction.directResponse(99)).toThrow('from 200 to 599');
    const { shop, namespace } = meshApp();
    const web = svc(shop, 'web', { namespace });
    expect(() => web.replaceHttpRoutes([{ action: RouteAction.directResponse(200), destinations: [{ version: web.versions[0] }] }]))
      .toThrow("shop/web: httpRoutes[0].destinations 'set' is invalid: must not be set with an action (directResponse)");
    const web2 = svc(shop, 'web2', { namespace });
    expect(() => web2.replaceHttpRoutes([{ rewrite: { authority: 'a.example.com\r\n' } }])).toThrow('httpRoutes[0].rewrite.authority');
    const web3 = svc(shop, 'web3', { namespace });
    expect(() => web3.replaceHttpRoutes([{ matches: [{ headers: { 'x-a': StringMatch.exact('1\r\n') } }] }, {}])).toThrow("httpRoutes[0].matches[0].headers['x-a']");
  });
});

describe('local rate limiting', () => {
  test('an EnvoyFilter with Envoy\'s local rate limit filter on the service\'s inbound HTTP chain', () => {
    const { app, shop, namespace } = meshApp();
    const productpage = svc(shop, 'productpage', { namespace });
    const limit = new LocalRateLimit(shop, 'limit', { service: productpage, requests: 4, per: Duration.minutes(1) });
    const ef = one(synthClean(app), 'EnvoyFilter');
    expect(limit.envoyFilter.name).toBe('productpage-local-ratelimit');
    expect(ef.metadata.namespace).toBe('shop');
    expect(ef.spec.workloadSelector).toEqual({ labels: { app: 'productpage' } });
    expect(ef.spec.configPatches[0].match).toEqual({
      context: 'SIDECAR_INBOUND', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } } },
    });
    expect(ef.spec.configPatches[0].patch.value.typed_config.token_bucket).toEqual({ max_tokens: 4, tokens_per_fill: 4, fill_interval: '60s' });
    expect(yamlOf([ef])).toMatchSnapshot();
  });

  test('one port, and bad input', () => {
    const { app, shop, namespace } = meshApp();
    const admin = ServicePort.http(9090, { nameSuffix: 'admin', targetPort: 9091 });
    const s = svc(shop, 's', { namespace, ports: [ServicePort.http(8080), admin, ServicePort.tcp(5432)] });
    new LocalRateLimit(shop, 'limit', { service: s, requests: 10, burst: 20, per: Duration.seconds(1), port: admin });
    const ef = one(synthClean(app), 'EnvoyFilter');
    expect(ef.spec.configPatches[0].match.listener.filterChain.destinationPort).toBe(9091);
    expect(() => new LocalRateLimit(shop, 'l2', { service: s, requests: 0, per: Duration.seconds(1) })).toThrow('shop/l2: requests 0 is invalid');
    expect(() => new LocalRateLimit(shop, 'l3', { service: s, requests: 1, per: Duration.millis(10) })).toThrow('must be at least 50ms');
    expect(() => new LocalRateLimit(shop, 'l4', { service: s, requests: 1, per: Duration.seconds(1), port: ServicePort.tcp(5432) })).toThrow('must have an HTTP port');
    expect(ofKind(Testing.synth(shop), 'EnvoyFilter')).toHaveLength(1);
  });
});
