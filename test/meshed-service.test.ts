import { Chart, Duration, Testing } from 'cdk8s';
import {
  LoadBalancer, Mesh, MeshedService, MeshedServiceProps, MeshNamespace, Probe, RetryOn, ServicePort, StringMatch,
  UpstreamTls, WorkloadVolume,
} from '../src';
import { one, ofKind, synthValid, yamlOf } from './util';
import { identityInjection } from './util/injection';

function setup(meshProps: any = {}) {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', meshProps);
  const namespace = MeshNamespace.fromName(chart, 'ns', { name: 'shop', mesh });
  return { chart, mesh, namespace };
}

function svc(chart: Chart, id: string, props: Partial<MeshedServiceProps> & { namespace: any }): MeshedService {
  return new MeshedService(chart, id, { image: `example/${id}:1.0`, ports: [ServicePort.http(9080)], ...props });
}

// Sidecar injection is the sidecar module's (and its tests'): here the pod template MeshedService builds is checked
// before injection (identity mock); one test checks that every template goes through injectPodTemplate, one that
// the output with the real injector stays schema-valid.
// a jest.mock factory may only require (jest hoists it above the imports)
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('../src/sidecar/inject', () => require('./util/injection').mockedInjectModule());
const { spy: injectSpy, useRealInjection } = identityInjection();

describe('MeshedService', () => {
  test('a typical service (snapshot)', () => {
    const { chart, namespace } = setup();
    const reviews = new MeshedService(chart, 'reviews', {
      namespace,
      image: 'docker.io/istio/examples-bookinfo-reviews-v1:1.20.2',
      ports: [ServicePort.http(9080)],
      env: { LOG_DIR: '/tmp/logs' },
      resources: { cpuRequest: '100m', memoryRequest: '128Mi', memoryLimit: '256Mi' },
      readinessProbe: Probe.httpGet('/health', { period: Duration.seconds(5) }),
      securityContext: { runAsUser: 1000, readOnlyRootFilesystem: false },
      timeout: Duration.seconds(10),
      retries: { attempts: 3, perTryTimeout: Duration.millis(1500), retryOn: [RetryOn.GATEWAY_ERROR, RetryOn.CONNECT_FAILURE] },
      trafficPolicy: { loadBalancer: LoadBalancer.leastRequest(), outlierDetection: { consecutive5xxErrors: 5, interval: Duration.seconds(10) } },
    });
    const objects = synthValid(chart);
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/reviews', 'Service/reviews', 'DestinationRule/reviews', 'VirtualService/reviews', 'Deployment/reviews-v1',
    ]);
    expect(yamlOf(objects)).toMatchSnapshot();
    expect(reviews.virtualService).toBeDefined();
  });

  test('Service, DestinationRule, VirtualService and principal all derive from one model', () => {
    const build = (name: string, serviceAccountName?: string) => {
      const { chart, namespace } = setup({ trustDomain: 'prod.example.com' });
      const s = new MeshedService(chart, 'svc', {
        namespace,
        name,
        serviceAccountName,
        image: 'x:1',
        ports: [ServicePort.grpc(7070, { nameSuffix: 'api' }), ServicePort.http(8080, { targetPort: 8081 })],
        timeout: Duration.seconds(3),
      });
      return { s, objects: synthValid(chart) };
    };
    for (const [name, sa] of [['ratings', undefined], ['details', 'details-sa']] as const) {
      const { s, objects } = build(name, sa);
      const service = one(objects, 'Service', name);
      expect(service.spec.ports).toEqual([
        { name: 'grpc-api', port: 7070, targetPort: 7070, protocol: 'TCP', appProtocol: 'grpc' },
        { name: 'http', port: 8080, targetPort: 8081, protocol: 'TCP', appProtocol: 'http' },
      ]);
      expect(service.spec.selector).toEqual(s.podSelector);
      expect(s.podSelector).toEqual({ app: name });
      const host = `${name}.shop.svc.cluster.local`;
      expect(s.host).toBe(host);
      expect(one(objects, 'DestinationRule', name).spec.host).toBe(host);
      const vs = one(objects, 'VirtualService', name);
      expect(vs.spec.hosts).toEqual([host]);
      // several ports: each route names its port (IST0112), one per HTTP port
      expect(vs.spec.http.map((r: any) => r.route[0].destination)).toEqual([
        { host, port: { number: 7070 } }, { host, port: { number: 8080 } },
      ]);
      expect(vs.spec.http.map((r: any) => r.match)).toEqual([[{ port: 7070 }], [{ port: 8080 }]]);
      const saName = sa ?? name;
      expect(s.serviceAccountName).toBe(saName);
      expect(s.principal).toBe(`prod.example.com/ns/shop/sa/${saName}`);
      expect(one(objects, 'ServiceAccount', saName).automountServiceAccountToken).toBe(false);
      const dep = one(objects, 'Deployment', `${name}-v1`);
      expect(dep.spec.template.spec.serviceAccountName).toBe(saName);
      expect(dep.spec.template.spec.containers[0].ports).toEqual([
        { name: 'grpc-api', containerPort: 7070, protocol: 'TCP' }, { name: 'http', containerPort: 8081, protocol: 'TCP' },
      ]);
      expect(dep.spec.selector.matchLabels).toEqual({ app: name, version: 'v1' });
      for (const o of objects.filter(x => x.kind !== 'Deployment' || true)) expect(o.metadata.namespace).toBe('shop');
    }
  });

  test('the service name defaults to the construct id; no VirtualService without routes or resilience', () => {
    const { chart, namespace } = setup();
    const s = svc(chart, 'productpage', { namespace });
    const objects = synthValid(chart);
    expect(s.name).toBe('productpage');
    expect(s.virtualService).toBeUndefined();
    expect(ofKind(objects, 'VirtualService')).toHaveLength(0);
    expect(one(objects, 'DestinationRule').spec).toEqual({
      host: 'productpage.shop.svc.cluster.local',
      trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
      subsets: [{ name: 'v1', labels: { version: 'v1' } }],
    });
  });

  test('secure container and pod defaults', () => {
    const { chart, namespace } = setup();
    svc(chart, 'web', { namespace });
    const pod = one(synthValid(chart), 'Deployment').spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toEqual({ seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0].securityContext).toEqual({
      runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
    });
  });

  test('every pod template goes through sidecar injection, lazily at synth time', () => {
    const spy = injectSpy.mockImplementation((t: any, _m: any, target: any, options: any) => ({
      ...t, metadata: { ...t.metadata, annotations: { injectedFor: `${target.kind}/${target.namespace}/${target.name}`, logLevel: String(options.logLevel) } },
    }));
    try {
      const { chart, mesh, namespace } = setup();
      const s = svc(chart, 'reviews', { namespace, proxy: { logLevel: 'debug' as any } });
      s.addVersion('v2', { image: 'reviews:2' });
      expect(spy).not.toHaveBeenCalled();
      const deps = ofKind(Testing.synth(chart), 'Deployment');
      expect(deps.map(d => d.spec.template.metadata.annotations)).toEqual([
        { injectedFor: 'Deployment/shop/reviews-v1', logLevel: 'debug' },
        { injectedFor: 'Deployment/shop/reviews-v2', logLevel: 'debug' },
      ]);
      expect(spy.mock.calls.every(c => c[1] === mesh)).toBe(true);
    } finally {
      useRealInjection();
    }
  });

  test('several versions: one Deployment each, one subset each, one Service for all', () => {
    const { chart, namespace } = setup();
    const s = svc(chart, 'reviews', { namespace, replicas: 2, env: { A: '1', B: '1' }, podLabels: { team: 'books' } });
    const v2 = s.addVersion('v2', { image: 'reviews:2', env: { B: '2' } });
    const v3 = s.addVersion('v3.1_beta', { image: 'reviews:3', replicas: 1 });
    expect(s.versions.map(v => [v.name, v.subsetName, v.image, v.replicas])).toEqual([
      ['v1', 'v1', 'example/reviews:1.0', 2], ['v2', 'v2', 'reviews:2', 2], ['v3.1_beta', 'v3-1-beta', 'reviews:3', 1],
    ]);
    expect(v2.selector).toEqual({ app: 'reviews', version: 'v2' });
    expect(s.findVersion('v2')).toBe(v2);
    const objects = synthValid(chart);
    expect(ofKind(objects, 'Deployment').map(d => d.metadata.name)).toEqual(['reviews-v1', 'reviews-v2', 'reviews-v3-1-beta']);
    expect(v3.deployment.name).toBe('reviews-v3-1-beta');
    const d2 = one(objects, 'Deployment', 'reviews-v2');
    expect(d2.spec.template.metadata.labels).toEqual({ app: 'reviews', version: 'v2', team: 'books' });
    expect(d2.spec.template.spec.containers[0].env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
    expect(one(objects, 'Service').spec.selector).toEqual({ app: 'reviews' });
    expect(one(objects, 'DestinationRule').spec.subsets).toEqual([
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
      { name: 'v3-1-beta', labels: { version: 'v3.1_beta' } },
    ]);
  });

  test('traffic policy rendering', () => {
    const { chart, namespace } = setup();
    const tcp = ServicePort.tcp(5432);
    const http = ServicePort.http(8080);
    svc(chart, 'api', {
      namespace,
      ports: [http, tcp],
      trafficPolicy: {
        loadBalancer: LoadBalancer.consistentHashCookie('session', Duration.minutes(30), '/'),
        connectionPool: {
          tcp: { maxConnections: 100, connectTimeout: Duration.millis(250) },
          http: { http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeout: Duration.minutes(5) },
        },
        outlierDetection: { consecutive5xxErrors: 7, interval: Duration.seconds(5), baseEjectionTime: Duration.seconds(30), maxEjectionPercent: 50 },
        portSettings: [
          { port: tcp, loadBalancer: LoadBalancer.consistentHashSourceIp(), connectionPool: { tcp: { maxConnections: 10 } } },
          { port: ServicePort.http(8080), tls: UpstreamTls.disabledAllowPlaintext() },
        ],
      },
    });
    expect(one(synthValid(chart), 'DestinationRule').spec.trafficPolicy).toEqual({
      loadBalancer: { consistentHash: { httpCookie: { name: 'session', ttl: '1800s', path: '/' } } },
      connectionPool: {
        tcp: { maxConnections: 100, connectTimeout: '0.250s' },
        http: { http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeout: '300s' },
      },
      outlierDetection: { consecutive5xxErrors: 7, interval: '5s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
      tls: { mode: 'ISTIO_MUTUAL' },
      // Istio applies a port-level entry INSTEAD of the service-level policy: each entry carries the merged policy
      portLevelSettings: [
        {
          port: { number: 5432 },
          loadBalancer: { consistentHash: { useSourceIp: true } },
          connectionPool: {
            tcp: { maxConnections: 10, connectTimeout: '0.250s' },
            http: { http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeout: '300s' },
          },
          outlierDetection: { consecutive5xxErrors: 7, interval: '5s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
          tls: { mode: 'ISTIO_MUTUAL' },
        },
        {
          port: { number: 8080 },
          loadBalancer: { consistentHash: { httpCookie: { name: 'session', ttl: '1800s', path: '/' } } },
          connectionPool: {
            tcp: { maxConnections: 100, connectTimeout: '0.250s' },
            http: { http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeout: '300s' },
          },
          outlierDetection: { consecutive5xxErrors: 7, interval: '5s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
          tls: { mode: 'DISABLE' },
        },
      ],
    });
  });

  test('simple load balancers and header hashing', () => {
    expect(LoadBalancer.roundRobin()._render()).toEqual({ simple: 'ROUND_ROBIN' });
    expect(LoadBalancer.random()._render()).toEqual({ simple: 'RANDOM' });
    expect(LoadBalancer.consistentHashHeader('X-User')._render()).toEqual({ consistentHash: { httpHeaderName: 'x-user' } });
    expect(LoadBalancer.consistentHashCookie('s', Duration.seconds(0))._render()).toEqual({ consistentHash: { httpCookie: { name: 's', ttl: '0s' } } });
  });

  test('resilience rendering: timeout, retries, fault, mirror', () => {
    const { chart, namespace } = setup();
    const shadow = svc(chart, 'reviews-shadow', { namespace });
    svc(chart, 'reviews', {
      namespace,
      timeout: Duration.millis(2500),
      retries: { attempts: 2, perTryTimeout: Duration.seconds(1), retryOn: [RetryOn.FIVE_XX, RetryOn.RESET], retriableStatusCodes: [503, 429] },
      fault: { delay: { fixedDelay: Duration.seconds(7), percentage: 0.5 }, abort: { httpStatus: 503, percentage: 10 } },
      mirror: { service: shadow, percentage: 25 },
    });
    const vs = one(synthValid(chart), 'VirtualService', 'reviews');
    expect(vs.spec).toEqual({
      hosts: ['reviews.shop.svc.cluster.local'],
      http: [{
        route: [{ destination: { host: 'reviews.shop.svc.cluster.local' } }],
        timeout: '2.500s',
        retries: { attempts: 2, perTryTimeout: '1s', retryOn: '5xx,reset,retriable-status-codes,429,503' },
        fault: { delay: { fixedDelay: '7s', percentage: { value: 0.5 } }, abort: { httpStatus: 503, percentage: { value: 10 } } },
        mirror: { host: 'reviews-shadow.shop.svc.cluster.local' },
        mirrorPercentage: { value: 25 },
      }],
    });
  });

  test('routing hook: custom rules replace the default route, resilience carries over, rendered lazily', () => {
    const { chart, namespace } = setup();
    const s = svc(chart, 'reviews', { namespace, retries: { attempts: 1 } });
    const v1 = s.versions[0];
    expect(s.httpRoutes).toEqual([{}]);
    const v2 = s.addVersion('v2', { image: 'reviews:2' });
    s.replaceHttpRoutes([
      { name: 'beta', matches: [{ headers: { 'End-User': StringMatch.exact('jason') } }, { uri: StringMatch.prefix('/beta') }], destinations: [{ version: v2 }] },
      { name: 'split', destinations: [{ version: v1, weight: 90 }, { version: v2, weight: 10 }] },
    ]);
    const host = 'reviews.shop.svc.cluster.local';
    expect(one(synthValid(chart), 'VirtualService').spec.http).toEqual([
      {
        name: 'beta',
        match: [{ headers: { 'end-user': { exact: 'jason' } } }, { uri: { prefix: '/beta' } }],
        route: [{ destination: { host, subset: 'v2' } }],
        retries: { attempts: 1 },
      },
      {
        name: 'split',
        route: [{ destination: { host, subset: 'v1' }, weight: 90 }, { destination: { host, subset: 'v2' }, weight: 10 }],
        retries: { attempts: 1 },
      },
    ]);
  });

  test('replaceHttpRoutes creates the VirtualService when none exists', () => {
    const { chart, namespace } = setup();
    const s = svc(chart, 'reviews', { namespace });
    expect(s.virtualService).toBeUndefined();
    s.replaceHttpRoutes([{ destinations: [{ version: s.versions[0] }] }]);
    expect(s.virtualService).toBeDefined();
    expect(one(synthValid(chart), 'VirtualService').spec.http).toEqual([
      { route: [{ destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v1' } }] },
    ]);
  });

  test('access graph: edges recorded on both sides', () => {
    const { chart, namespace } = setup();
    const admin = ServicePort.http(9090, { nameSuffix: 'admin' });
    const reviews = svc(chart, 'reviews', { namespace, ports: [ServicePort.http(9080), admin, ServicePort.tcp(6379)] });
    const frontend = svc(chart, 'frontend', { namespace });
    const ops = svc(chart, 'ops', { namespace });
    const c1 = frontend.connectsTo(reviews, { ports: [ServicePort.http(9080)], methods: ['GET', 'GET'], paths: ['/reviews/*'] });
    const c2 = reviews.allowFrom(ops, { ports: [admin] });
    const c3 = frontend.connectsTo(ops);
    expect(reviews.inboundRules).toEqual([c1, c2]);
    expect(frontend.outboundDependencies).toEqual([c1, c3]);
    expect(ops.outboundDependencies).toEqual([c2]);
    expect(ops.inboundRules).toEqual([c3]);
    expect(c1.source).toBe(frontend);
    expect(c1.target).toBe(reviews);
    expect(c1.ports).toEqual([reviews.ports[0]]);
    expect(c1.ports[0]).toBe(reviews.ports[0]);
    expect(c1.allPorts).toBe(false);
    expect(c1.methods).toEqual(['GET']);
    expect(c1.paths).toEqual(['/reviews/*']);
    expect(c3.allPorts).toBe(true);
    expect(c3.ports).toEqual(ops.ports);
    expect(c1.source.principal).toBe('cluster.local/ns/shop/sa/frontend');
    synthValid(chart);
  });

  test('a service in another namespace object of the same mesh can be called', () => {
    const { chart, mesh, namespace } = setup();
    const other = MeshNamespace.fromName(chart, 'ns2', { name: 'payments', mesh });
    const pay = svc(chart, 'pay', { namespace: other });
    const web = svc(chart, 'web', { namespace });
    const c = web.connectsTo(pay);
    expect(c.target.host).toBe('pay.payments.svc.cluster.local');
    expect(pay.principal).toBe('cluster.local/ns/payments/sa/pay');
    synthValid(chart);
  });

  test('probes of every kind', () => {
    const { chart, namespace } = setup();
    svc(chart, 'g', {
      namespace,
      ports: [ServicePort.grpc(9000)],
      readinessProbe: Probe.grpc({ service: 'ready', failureThreshold: 2 }),
      livenessProbe: Probe.tcp({ initialDelay: Duration.seconds(5), timeout: Duration.seconds(2) }),
    });
    svc(chart, 'e', { namespace, livenessProbe: Probe.exec(['/bin/true']), readinessProbe: Probe.httpGet('/ready', { port: 8081, https: true }) });
    const objects = synthValid(chart);
    const g = one(objects, 'Deployment', 'g-v1').spec.template.spec.containers[0];
    expect(g.readinessProbe).toEqual({ grpc: { port: 9000, service: 'ready' }, failureThreshold: 2 });
    expect(g.livenessProbe).toEqual({ tcpSocket: { port: 9000 }, initialDelaySeconds: 5, timeoutSeconds: 2 });
    const e = one(objects, 'Deployment', 'e-v1').spec.template.spec.containers[0];
    expect(e.livenessProbe).toEqual({ exec: { command: ['/bin/true'] } });
    expect(e.readinessProbe).toEqual({ httpGet: { path: '/ready', port: 8081, scheme: 'HTTPS' } });
  });

  test('with the real sidecar injector, every object stays schema-valid', () => {
    useRealInjection();
    for (const injectionMode of ['SYNTH_TIME', 'WEBHOOK']) {
      const { chart, namespace } = setup({ injectionMode });
      const s = svc(chart, 'reviews', { namespace, readinessProbe: Probe.httpGet('/health'), timeout: Duration.seconds(1) });
      s.addVersion('v2', { image: 'reviews:2' });
      const deps = ofKind(synthValid(chart), 'Deployment');
      expect(deps.map(d => d.spec.template.metadata.labels.version)).toEqual(['v1', 'v2']);
    }
  });

  test('synthesis is deterministic', () => {
    const build = () => {
      const { chart, namespace } = setup();
      const a = svc(chart, 'a', { namespace, timeout: Duration.seconds(1) });
      const b = svc(chart, 'b', { namespace });
      a.connectsTo(b);
      a.addVersion('v2', { image: 'a:2' });
      return yamlOf(Testing.synth(chart));
    };
    expect(build()).toBe(build());
  });
});

describe('MeshedService bad input', () => {
  const make = (props: Partial<MeshedServiceProps> = {}, id = 'svc') => {
    const { chart, namespace } = setup();
    return svc(chart, id, { namespace, ...props });
  };

  test('app port in Istio\'s reserved range', () => {
    expect(() => ServicePort.http(15001)).toThrow("ServicePort: port 15001 is invalid: is reserved for Istio's proxy");
    expect(() => make({ ports: [ServicePort.http(8080, { targetPort: 15020 })] })).toThrow('targetPort 15020 is invalid: is reserved');
  });

  test('app runAsUser 1337', () => {
    expect(() => make({ securityContext: { runAsUser: 1337 } })).toThrow(
      'test/svc: securityContext.runAsUser 1337 is invalid: 1337 is reserved for the Istio proxy (IST0144)');
    expect(() => make({ securityContext: { runAsGroup: 1337 } })).toThrow('securityContext.runAsGroup 1337 is invalid');
  });

  test('root without the named opt-out', () => {
    expect(() => make({ securityContext: { runAsUser: 0 } })).toThrow('securityContext.runAsUser 0 is invalid: must not be 0 (root) unless allowRunAsRoot is set');
  });

  test('duplicate port names or numbers', () => {
    expect(() => make({ ports: [ServicePort.http(8080), ServicePort.http(9080)] })).toThrow("test/svc: ports 'http' is invalid: must have distinct names");
    expect(() => make({ ports: [ServicePort.http(8080), ServicePort.tcp(8080)] })).toThrow('test/svc: ports 8080 is invalid: must have distinct port numbers');
    expect(() => make({ ports: [ServicePort.http(80, { targetPort: 8080 }), ServicePort.tcp(8080)] })).toThrow("ports 'targetPort 8080' is invalid: must have distinct target ports");
    expect(() => make({ ports: [] })).toThrow('ports [] is invalid: must list at least one ServicePort');
  });

  test('version label not a valid label value', () => {
    expect(() => make({ version: 'v1/beta' })).toThrow("test/svc: version 'v1/beta' is invalid: must be a Kubernetes label value");
    expect(() => make().addVersion('-v2', { image: 'x' })).toThrow("version '-v2' is invalid");
  });

  test('duplicate version (and versions that give the same subset)', () => {
    const s = make();
    expect(() => s.addVersion('v1', { image: 'x:2' })).toThrow("test/svc: version 'v1' is invalid: must be unique");
    s.addVersion('v2.0', { image: 'x:2' });
    expect(() => s.addVersion('v2_0', { image: 'x:3' })).toThrow("version 'v2_0' is invalid: must differ from 'v2.0'");
  });

  test('percentages outside 0-100', () => {
    const shadow = () => { const { chart, namespace } = setup(); return { chart, namespace, m: svc(chart, 'm', { namespace }) }; };
    expect(() => make({ fault: { abort: { httpStatus: 503, percentage: 101 } } })).toThrow('fault.abort.percentage 101 is invalid: must be a percentage from 0 to 100');
    expect(() => make({ fault: { delay: { fixedDelay: Duration.seconds(1), percentage: -1 } } })).toThrow('fault.delay.percentage -1 is invalid');
    const { chart, namespace, m } = shadow();
    expect(() => svc(chart, 's', { namespace, mirror: { service: m, percentage: 150 } })).toThrow('mirror.percentage 150 is invalid: must be a percentage from 0 to 100');
    expect(() => make({ trafficPolicy: { outlierDetection: { maxEjectionPercent: 120 } } })).toThrow('trafficPolicy.outlierDetection.maxEjectionPercent 120 is invalid');
  });

  test('route weights outside 0-100 or not adding up to 100', () => {
    const s = make();
    const v2 = s.addVersion('v2', { image: 'x:2' });
    expect(() => s.replaceHttpRoutes([{ destinations: [{ version: s.versions[0], weight: 110 }, { version: v2, weight: -10 }] }]))
      .toThrow('httpRoutes[0].destinations[0].weight 110 is invalid: must be a whole number from 0 to 100');
    expect(() => s.replaceHttpRoutes([{ destinations: [{ version: s.versions[0], weight: 50 }, { version: v2, weight: 40 }] }]))
      .toThrow("httpRoutes[0].destinations 'weights adding up to 90' is invalid: weights must add up to 100");
  });

  test('a catch-all route before others, and a version of another service', () => {
    const s = make();
    const other = make({}, 'other');
    expect(() => s.replaceHttpRoutes([{}, { matches: [{ uri: StringMatch.prefix('/') }] }])).toThrow('httpRoutes[0].matches \'none\' is invalid: a route without matches catches every request');
    const foreign = other.addVersion('v9', { image: 'x' });
    expect(() => s.replaceHttpRoutes([{ destinations: [{ version: foreign }] }])).toThrow("httpRoutes[0].destinations[0].version 'v9' is invalid: must be a version of svc: v1");
    // a value that is not a version at all (a JavaScript or jsii caller) is shown as given, not as '(not set)'
    expect(() => s.versionBackend('v1' as any)).toThrow("versionBackend version 'v1' is invalid: must be a version of svc: v1");
  });

  test('a retry perTryTimeout longer than the route timeout', () => {
    expect(() => make({ timeout: Duration.seconds(2), retries: { attempts: 2, perTryTimeout: Duration.seconds(3) } }))
      .toThrow("test/svc: retries.perTryTimeout '3 seconds' is invalid: must not be longer than the route timeout (2 seconds)");
  });

  test('retry attempts < 0', () => {
    expect(() => make({ retries: { attempts: -1 } })).toThrow('test/svc: retries.attempts -1 is invalid: must be a whole number from 0');
  });

  test('unknown retryOn condition', () => {
    expect(() => make({ retries: { attempts: 1, retryOn: [RetryOn.FIVE_XX, 'sometimes' as RetryOn] } }))
      .toThrow("test/svc: retries.retryOn 'sometimes' is invalid: must be one of 5xx, gateway-error");
  });

  test('a mirror target outside the mesh, or the service itself', () => {
    const { chart, namespace } = setup();
    const foreignMesh = Mesh.fromAttributes(chart, 'other-mesh', { trustDomain: 'other.example.com' });
    const foreignNs = MeshNamespace.fromName(chart, 'ons', { name: 'shop', mesh: foreignMesh });
    const foreign = svc(chart, 'shadow', { namespace: foreignNs });
    expect(() => svc(chart, 's', { namespace, mirror: { service: foreign } }))
      .toThrow("test/s: mirror.service 'shadow.shop.svc.cluster.local' is invalid: must be in the same mesh (trust domain 'cluster.local')");
    expect(() => svc(chart, 's2', { namespace, mirror: { service: { notAService: true } as any } }))
      .toThrow('mirror.service');
    // a namesake in the same namespace would be the service itself: two services cannot share a name in a namespace
    const self = svc(chart, 'self', { namespace });
    expect(() => svc(chart, 'self2', { namespace, name: 'self', mirror: { service: self } }))
      .toThrow("test/self2: name 'self' is invalid: must be unique in namespace 'shop': test/self already uses it");
  });

  test('a mirror service with several ports needs a port', () => {
    const { chart, namespace } = setup();
    const m = svc(chart, 'm', { namespace, ports: [ServicePort.http(80), ServicePort.tcp(81)] });
    expect(() => svc(chart, 's', { namespace, mirror: { service: m } })).toThrow('mirror.port (not set) is invalid: must be set');
    expect(() => svc(chart, 's2', { namespace, mirror: { service: m, port: ServicePort.tcp(81) } })).toThrow("mirror.port 'tcp/81' is invalid: must be an HTTP port");
  });

  test('invalid service name', () => {
    expect(() => make({ name: 'Reviews' })).toThrow("test/svc: name 'Reviews' is invalid: must be a Service name (RFC 1035 label)");
    expect(() => make({}, '9lives')).toThrow("name '9lives' is invalid: must be a Service name (RFC 1035 label): lowercase letters, digits and '-', starting with a letter, at most 63 characters; set `name`");
  });

  test('HTTP-only features on non-HTTP ports', () => {
    expect(() => make({ ports: [ServicePort.tcp(5432)], timeout: Duration.seconds(1) }))
      .toThrow("test/svc: timeout 'set' is invalid: is HTTP-only, but ports tcp/5432 do not speak HTTP");
    expect(() => make({ ports: [ServicePort.tcp(5432)], trafficPolicy: { loadBalancer: LoadBalancer.consistentHashHeader('x-user') } }))
      .toThrow('trafficPolicy.loadBalancer (consistentHashHeader)');
    const tcpPool = { port: ServicePort.tcp(5432), connectionPool: { http: { maxRetries: 1 } } };
    expect(() => make({ ports: [ServicePort.http(80), ServicePort.tcp(5432)], trafficPolicy: { portSettings: [tcpPool] } }))
      .toThrow("trafficPolicy.portSettings[0].connectionPool.http 'set' is invalid: is HTTP-only, but tcp/5432 does not speak HTTP");
    const { chart, namespace } = setup();
    const db = svc(chart, 'db', { namespace, ports: [ServicePort.tcp(5432)] });
    const app = svc(chart, 'app', { namespace });
    expect(() => app.connectsTo(db, { methods: ['GET'] })).toThrow("methods/paths 'tcp/5432' is invalid: are HTTP-only");
    expect(() => db.replaceHttpRoutes([{}])).toThrow('test/db: httpRoutes \'set\' is invalid: are HTTP-only');
  });

  test('a port the target does not expose', () => {
    const { chart, namespace } = setup();
    const a = svc(chart, 'a', { namespace });
    const b = svc(chart, 'b', { namespace });
    expect(() => a.connectsTo(b, { ports: [ServicePort.http(8080)] }))
      .toThrow("test/b: connection from test/a: port 'http/8080' is invalid: must be a port b exposes: http/9080");
    expect(() => a.connectsTo(b, { paths: ['no-slash'] })).toThrow("paths 'no-slash' is invalid");
    expect(() => a.connectsTo(b, { methods: ['get'] })).toThrow("methods 'get' is invalid: must be an uppercase HTTP method");
  });

  test('a caller in another mesh', () => {
    const { chart, namespace } = setup();
    const foreignNs = MeshNamespace.fromName(chart, 'ons', { name: 'x', mesh: Mesh.fromAttributes(chart, 'om', { trustDomain: 'other' }) });
    const a = svc(chart, 'a', { namespace: foreignNs });
    const b = svc(chart, 'b', { namespace });
    expect(() => a.connectsTo(b)).toThrow("test/b: allowFrom caller 'test/a' is invalid: must be in the same mesh");
  });

  test('a mesh override that does not match the namespace', () => {
    const { chart, namespace } = setup();
    const other = Mesh.fromAttributes(chart, 'om', { trustDomain: 'other' });
    expect(() => svc(chart, 's', { namespace, mesh: other })).toThrow("test/s: mesh.trustDomain 'other' is invalid: must match the namespace's mesh ('cluster.local')");
    const same = Mesh.fromAttributes(chart, 'same', {});
    expect(svc(chart, 's2', { namespace, mesh: same }).mesh).toBe(same);
  });

  test('resources, env, pod labels, durations', () => {
    expect(() => make({ resources: { cpuRequest: '2', cpuLimit: '500m' } })).toThrow("resources.cpuRequest '2' is invalid: must not exceed the cpu limit (500m)");
    expect(() => make({ resources: { memoryLimit: '1 GB' } })).toThrow("resources.memoryLimit '1 GB' is invalid: must be a Kubernetes quantity");
    expect(() => make({ env: { '1X': 'a' } })).toThrow("env '1X' is invalid");
    expect(() => make({ podLabels: { version: 'x' } })).toThrow("podLabels 'version' is invalid: must not set 'version'");
    expect(() => make({ timeout: Duration.millis(0.5) })).toThrow('timeout');
    expect(() => make({ replicas: -1 })).toThrow('replicas -1 is invalid');
    expect(() => make({ readinessProbe: Probe.tcp({ port: 15021 }) })).toThrow('readinessProbe.port 15021 is invalid: is reserved');
    expect(() => make({ livenessProbe: Probe.httpGet('/h', { successThreshold: 2 }) })).toThrow('livenessProbe.successThreshold 2 is invalid: must be a whole number from 1 to 1');
  });

  test('port settings for a port the service does not expose', () => {
    expect(() => make({ trafficPolicy: { portSettings: [{ port: ServicePort.http(1234) }] } }))
      .toThrow("trafficPolicy.portSettings[0].port 'http/1234' is invalid: must be a port the service exposes: http/9080");
  });

  test('namespace names are DNS labels', () => {
    const { chart, mesh } = setup();
    expect(() => MeshNamespace.fromName(chart, 'bad', { name: 'Shop', mesh })).toThrow("test/bad: name 'Shop' is invalid: must be a DNS label");
  });
});

describe('MeshedService volumes', () => {
  const make = (volumes: any[]) => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh');
    const ns = MeshNamespace.fromName(chart, 'ns', { name: 'shop', mesh });
    const service = new MeshedService(chart, 'reviews', { namespace: ns, image: 'example/reviews:1.0', ports: [ServicePort.http(9080)], volumes });
    return { chart, service };
  };

  test('scratch space and configuration are mounted into the app container of every version', () => {
    const { chart, service } = make([
      WorkloadVolume.emptyDir('tmp', '/tmp', { memory: true, sizeLimit: '64Mi' }),
      WorkloadVolume.configMap('config', '/etc/reviews', 'reviews-config'),
      WorkloadVolume.secret('tls', '/etc/tls', 'reviews-tls', { optional: true }),
    ]);
    service.addVersion('v2', { image: 'example/reviews:2.0' });
    const objects = synthValid(chart);
    for (const d of ofKind(objects, 'Deployment')) {
      const pod = d.spec.template.spec;
      const app = pod.containers.find((c: any) => c.name === 'reviews');
      expect(app.volumeMounts).toEqual([
        { name: 'tmp', mountPath: '/tmp' },
        { name: 'config', mountPath: '/etc/reviews', readOnly: true },
        { name: 'tls', mountPath: '/etc/tls', readOnly: true },
      ]);
      expect(pod.volumes.filter((v: any) => ['tmp', 'config', 'tls'].includes(v.name))).toEqual([
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        { name: 'config', configMap: { name: 'reviews-config' } },
        { name: 'tls', secret: { secretName: 'reviews-tls', optional: true } },
      ]);
      expect(app.securityContext.readOnlyRootFilesystem).toBe(true);
    }
  });

  test.each([
    [[WorkloadVolume.emptyDir('Tmp', '/tmp')], /volumes\[0\]\.name 'Tmp' is invalid: must be a DNS label/],
    [[WorkloadVolume.emptyDir('istio-envoy', '/tmp')], /volumes\[0\]\.name 'istio-envoy' is invalid: is a volume Istio's proxy injection adds/],
    [[WorkloadVolume.emptyDir('tmp', 'tmp')], /volumes\[0\]\.mountPath 'tmp' is invalid: must be an absolute path/],
    [[WorkloadVolume.emptyDir('a', '/tmp'), WorkloadVolume.emptyDir('b', '/tmp')], /volumes\[1\]\.mountPath '\/tmp' is invalid: is used by another volume/],
    [[WorkloadVolume.emptyDir('a', '/a'), WorkloadVolume.emptyDir('a', '/b')], /volumes\[1\]\.name 'a' is invalid: is used by another volume/],
    [[WorkloadVolume.emptyDir('a', '/a', { sizeLimit: 'lots' })], /volumes\[0\]\.sizeLimit 'lots' is invalid: must be a Kubernetes quantity/],
    [[WorkloadVolume.configMap('a', '/a', 'Bad_Name')], /volumes\[0\]\.configMapName 'Bad_Name' is invalid/],
  ])('rejects bad volumes (%#)', (volumes, message) => {
    expect(() => make(volumes)).toThrow(message);
  });
});
