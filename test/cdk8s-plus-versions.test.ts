/**
 * cdk8s-plus of today: workloads from any maintained cdk8s-plus-NN (27 through the newest, 34) are injected by
 * `mesh.inject` and join the access graph through `MeshWorkload.fromWorkload`. The same scenario runs with the oldest
 * and the newest covered version.
 */
import { App, Chart, Size, Testing } from 'cdk8s';
import * as plus27 from 'cdk8s-plus-27';
import * as plus34 from 'cdk8s-plus-34';
import { Mesh, MeshedService, MeshWorkload, Resources, ServicePort, ZeroTrustNamespace } from '../src';
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
});
