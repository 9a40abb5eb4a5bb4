/**
 * cdk8s-plus of today: workloads from any maintained cdk8s-plus-NN (27 through the newest, 34) are injected by
 * `mesh.inject` and join the access graph through `MeshWorkload.fromWorkload`. The same scenario runs with the oldest
 * and the newest covered version.
 */
import { App, Chart, Duration, Size, Testing } from 'cdk8s';
import * as plus27 from 'cdk8s-plus-27';
import * as plus34 from 'cdk8s-plus-34';
import { Mesh, MeshedService, MeshWorkload, Probe, Resources, ServicePort, ZeroTrustNamespace } from '../src';
import { one, synthAppValid } from './util';

const VERSIONS: Array<[string, typeof plus27 | typeof plus34]> = [['cdk8s-plus-27', plus27], ['cdk8s-plus-34', plus34]];

function shop(): { app: App; chart: Chart; mesh: Mesh; ns: ZeroTrustNamespace } {
  const app = Testing.app();
  const chart = new Chart(app, 'shop');
  const mesh = new Mesh(chart, 'mesh');
  const ns = new ZeroTrustNamespace(chart, 'ns', { mesh, name: 'shop' });
  return { app, chart, mesh, ns };
}

describe.each(VERSIONS)('%s workloads', (_, kplus) => {
  test('a Deployment is injected by mesh.inject', () => {
    const { app, chart, mesh } = shop();
    const dep = new kplus.Deployment(chart, 'web', {
      metadata: { name: 'web', namespace: 'shop' },
      containers: [{ name: 'web', image: 'example/web:1', portNumber: 8080, securityContext: { user: 1000, group: 1000 } }],
    });
    mesh.inject(dep);
    const d = one(synthAppValid(app), 'Deployment', 'web');
    const pod = d.spec.template;
    expect(pod.spec.containers.map((c: any) => c.name)).toEqual(['web']);
    expect([...(pod.spec.initContainers ?? [])].map((c: any) => c.name)).toEqual(['istio-validation', 'istio-proxy']); // CNI and native sidecars: the defaults
    expect(pod.metadata.labels['security.istio.io/tlsMode']).toBe('istio');
    expect(pod.metadata.annotations['sidecar.istio.io/status']).toContain('istio-proxy');
  });

  test('a Deployment joins the access graph through MeshWorkload.fromWorkload: it calls and is called', () => {
    const { app, chart, ns } = shop();
    const reviews = new MeshedService(chart, 'reviews', { namespace: ns, image: 'example/reviews:1', ports: [ServicePort.http(9080)] });
    const sa = new kplus.ServiceAccount(chart, 'legacy-sa', { metadata: { name: 'legacy', namespace: 'shop' } });
    const dep = new kplus.Deployment(chart, 'legacy', {
      metadata: { name: 'legacy', namespace: 'shop' },
      serviceAccount: sa,
      containers: [{ image: 'example/legacy:1', portNumber: 8080, securityContext: { user: 1000, group: 1000 } }],
    });
    const legacy = MeshWorkload.fromWorkload(chart, 'legacy-in-mesh', dep, { namespace: ns, ports: [ServicePort.http(8080)], createService: true });
    legacy.connectsTo(reviews);
    const frontend = new MeshedService(chart, 'frontend', { namespace: ns, image: 'example/frontend:1', ports: [ServicePort.http(8080)] });
    frontend.connectsTo(legacy);
    const objects = synthAppValid(app);
    expect(legacy.principal).toBe('cluster.local/ns/shop/sa/legacy');
    expect(one(objects, 'AuthorizationPolicy', 'reviews').spec.rules[0].from[0].source.principals).toEqual(['cluster.local/ns/shop/sa/legacy']);
    expect(one(objects, 'AuthorizationPolicy', 'legacy').spec.rules[0].from[0].source.principals).toEqual([frontend.principal]);
    expect(one(objects, 'Sidecar', 'legacy').spec.egress[0].hosts).toContain('shop/reviews.shop.svc.cluster.local');
    expect(one(objects, 'NetworkPolicy', 'legacy').spec.podSelector).toEqual({ matchLabels: dep.matchLabels });
    const pod = one(objects, 'Deployment', 'legacy').spec.template.spec;
    expect([...(pod.initContainers ?? []), ...pod.containers].map((c: any) => c.name)).toContain('istio-proxy');
  });

  test('Resources.fromPlus reads a cdk8s-plus ContainerResources as cdk8s-plus writes it', () => {
    expect(Resources.fromPlus({
      cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(1) },
      memory: { request: Size.mebibytes(128), limit: Size.gibibytes(1) },
    })).toEqual({ cpuRequest: '100m', cpuLimit: '1', memoryRequest: '128Mi', memoryLimit: '1024Mi' });
    expect(Resources.fromPlus({ memory: { limit: Size.mebibytes(256) } })).toEqual({ memoryLimit: '256Mi' });
    expect(() => Resources.fromPlus({ ephemeralStorage: { request: Size.gibibytes(1) } }))
      .toThrow('Resources.fromPlus: ephemeralStorage requests is invalid: ResourceSettings has CPU and memory only');
  });

  test('a MeshedService takes them as its resources', () => {
    const { app, chart, ns } = shop();
    const resources = Resources.fromPlus({
      cpu: { request: kplus.Cpu.millis(250) },
      memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
    });
    new MeshedService(chart, 'reviews', { namespace: ns, image: 'example/reviews:1', ports: [ServicePort.http(9080)], resources });
    const pod = one(synthAppValid(app), 'Deployment', 'reviews-v1').spec.template.spec;
    const c = pod.containers.find((x: any) => x.name === 'reviews');
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '256Mi' } });
  });

  test('Probe.fromPlus takes a cdk8s-plus probe: port defaulted to the service\'s target port, rewritten by the injection', () => {
    const { app, chart, ns } = shop();
    new MeshedService(chart, 'reviews', {
      namespace: ns,
      image: 'example/reviews:1',
      ports: [ServicePort.http(9080)],
      readinessProbe: Probe.fromPlus(kplus.Probe.fromHttpGet('/ready', { periodSeconds: Duration.seconds(5), failureThreshold: 2 })),
      livenessProbe: Probe.fromPlus(kplus.Probe.fromTcpSocket({ initialDelaySeconds: Duration.seconds(10) })),
    });
    new MeshedService(chart, 'ratings', {
      namespace: ns,
      image: 'example/ratings:1',
      ports: [ServicePort.http(9080)],
      readinessProbe: Probe.fromPlus(kplus.Probe.fromCommand(['/bin/ready'])),
      livenessProbe: Probe.fromPlus(kplus.Probe.fromHttpGet('/live', { port: 8081 })),
    });
    const objects = synthAppValid(app);
    const app1 = (name: string) => one(objects, 'Deployment', `${name}-v1`).spec.template.spec.containers.find((c: any) => c.name === name);
    const proxyEnv = (name: string) => {
      const pod = one(objects, 'Deployment', `${name}-v1`).spec.template.spec;
      const proxy = [...(pod.initContainers ?? []), ...pod.containers].find((c: any) => c.name === 'istio-proxy');
      return JSON.parse(proxy.env.find((e: any) => e.name === 'ISTIO_KUBE_APP_PROBERS').value);
    };
    // the injection rewrote httpGet and tcp probes to the proxy's status port; the originals travel in the env
    // (cdk8s-plus writes scheme HTTP explicitly; Istio keeps an HTTP scheme on the rewritten probe)
    expect(app1('reviews').readinessProbe).toEqual({ httpGet: { path: '/app-health/reviews/readyz', port: 15020, scheme: 'HTTP' }, periodSeconds: 5, failureThreshold: 2 });
    expect(app1('reviews').livenessProbe).toEqual({ httpGet: { path: '/app-health/reviews/livez', port: 15020 }, initialDelaySeconds: 10, failureThreshold: 3 });
    expect(proxyEnv('reviews')).toEqual({
      '/app-health/reviews/readyz': { httpGet: { path: '/ready', port: 9080, scheme: 'HTTP' } },
      '/app-health/reviews/livez': { tcpSocket: { port: 9080 } },
    });
    expect(app1('ratings').readinessProbe).toEqual({ exec: { command: ['/bin/ready'] }, failureThreshold: 3 });
    expect(proxyEnv('ratings')['/app-health/ratings/livez'].httpGet.port).toBe(8081);
  });

  test('Probe.fromPlus: not a cdk8s-plus probe, a reserved port, a liveness success threshold above 1: clear errors', () => {
    expect(() => Probe.fromPlus({ path: '/x' })).toThrow(/Probe.fromPlus: probe .* is invalid: must be a cdk8s-plus Probe/);
    const { chart, ns } = shop();
    expect(() => new MeshedService(chart, 'a', {
      namespace: ns,
      image: 'example/a:1',
      ports: [ServicePort.http(9080)],
      readinessProbe: Probe.fromPlus(kplus.Probe.fromHttpGet('/ready', { port: 15020 })),
    })).toThrow(/shop\/a: readinessProbe.port 15020 is invalid: is reserved for Istio's proxy/);
    expect(() => new MeshedService(chart, 'b', {
      namespace: ns,
      image: 'example/b:1',
      ports: [ServicePort.http(9080)],
      livenessProbe: Probe.fromPlus(kplus.Probe.fromTcpSocket({ successThreshold: 2 })),
    })).toThrow(/livenessProbe.successThreshold 2 is invalid/);
  });
});
