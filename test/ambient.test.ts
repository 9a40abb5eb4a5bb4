import { App, Chart, Duration } from 'cdk8s';
import {
  DataPlaneMode, IstioControlPlane, JwtRule, Mesh, MeshedService, MeshNamespace, PodSecurityLevel, ServicePort, ZeroTrustNamespace,
} from '../src';
import { ofKind, one, synthAppValid } from './util';
import { MeshModel } from '../src/model/mesh-model';

function mixed(meshProps: any = {}) {
  const app = new App();
  const platform = new Chart(app, 'platform');
  const mesh = new Mesh(platform, 'mesh', meshProps);
  const shop = new Chart(app, 'shop');
  const ambient = new ZeroTrustNamespace(shop, 'amb', { mesh, name: 'amb', dataPlaneMode: DataPlaneMode.AMBIENT });
  const legacy = new ZeroTrustNamespace(shop, 'side', { mesh, name: 'side' });
  const svc = (ns: ZeroTrustNamespace, name: string) => new MeshedService(shop, `${ns.name}-${name}`, { namespace: ns, name, image: `${name}:1`, ports: [ServicePort.http(9080)] });
  return { app, platform, mesh, shop, ambient, legacy, svc };
}

const inNs = (objects: any[], ns: string) => objects.filter(o => o.metadata?.namespace === ns || (o.kind === 'Namespace' && o.metadata.name === ns));
const deployment = (objects: any[], ns: string, name: string) => ofKind(inNs(objects, ns), 'Deployment').find(d => d.metadata.name.startsWith(name));

describe('data plane: a typed choice, mesh-wide default with a per-namespace override', () => {
  test('the mesh default is SIDECAR; a namespace takes the mesh default unless it chooses', () => {
    const { mesh, ambient, legacy } = mixed();
    expect(mesh.dataPlaneMode).toBe(DataPlaneMode.SIDECAR);
    expect(legacy.dataPlaneMode).toBe(DataPlaneMode.SIDECAR);
    expect(ambient.dataPlaneMode).toBe(DataPlaneMode.AMBIENT);
    const all = mixed({ dataPlaneMode: DataPlaneMode.AMBIENT });
    expect(new ZeroTrustNamespace(all.shop, 'x', { mesh: all.mesh }).dataPlaneMode).toBe(DataPlaneMode.AMBIENT);
    expect(new ZeroTrustNamespace(all.shop, 'y', { mesh: all.mesh, dataPlaneMode: DataPlaneMode.SIDECAR }).dataPlaneMode).toBe(DataPlaneMode.SIDECAR);
  });

  test('an ambient namespace: the dataplane-mode label, no injection label, restricted Pod Security; pods without sidecar or init container; no Sidecar resources', () => {
    const { app, ambient, legacy, svc } = mixed();
    const a = svc(ambient, 'reviews');
    const b = svc(ambient, 'ratings');
    const c = svc(legacy, 'web');
    c.connectsTo(a);
    a.connectsTo(b);
    const objects = synthAppValid(app);
    const ns = one(objects, 'Namespace', 'amb');
    expect(ns.metadata.labels['istio.io/dataplane-mode']).toBe('ambient');
    expect(ns.metadata.labels['istio-injection']).toBeUndefined();
    expect(ns.metadata.labels['istio.io/rev']).toBeUndefined();
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe(PodSecurityLevel.RESTRICTED);
    expect(one(objects, 'Namespace', 'side').metadata.labels['istio-injection']).toBe('enabled');
    const pod = deployment(objects, 'amb', 'reviews').spec.template;
    expect(pod.spec.containers.map((x: any) => x.name)).toEqual(['reviews']);
    expect(pod.spec.initContainers).toBeUndefined();
    expect(pod.metadata.annotations?.['sidecar.istio.io/status']).toBeUndefined();
    // the sidecar namespace keeps its proxies
    const web = deployment(objects, 'side', 'web').spec.template.spec;
    expect([...(web.initContainers ?? []), ...web.containers].map((x: any) => x.name)).toContain('istio-proxy');
    expect(ofKind(inNs(objects, 'amb'), 'Sidecar')).toEqual([]);
    expect(ofKind(inNs(objects, 'side'), 'Sidecar').length).toBeGreaterThan(0);
  });

  test('a namespace referred to by name can be ambient: its services get no sidecar', () => {
    const { app, mesh, shop } = mixed();
    const ns = MeshNamespace.fromName(shop, 'ext', { name: 'ext', mesh, dataPlaneMode: DataPlaneMode.AMBIENT });
    new MeshedService(shop, 'e', { namespace: ns, image: 'e:1', ports: [ServicePort.http(8080)] });
    const pod = deployment(synthAppValid(app), 'ext', 'e').spec.template.spec;
    expect(pod.containers.map((x: any) => x.name)).toEqual(['e']);
    expect(pod.initContainers).toBeUndefined();
  });

  test('bad input: unknown modes; ambient without Istio CNI', () => {
    const { shop, mesh } = mixed();
    expect(() => new ZeroTrustNamespace(shop, 'bad', { mesh, dataPlaneMode: 'GHOST' as any })).toThrow(/dataPlaneMode.*must be one of SIDECAR, AMBIENT/);
    expect(() => new Mesh(new Chart(new App(), 'c'), 'm', { dataPlaneMode: 'X' as any })).toThrow(/dataPlaneMode.*must be one of SIDECAR, AMBIENT/);
    expect(() => new Mesh(new Chart(new App(), 'c'), 'm', { dataPlaneMode: DataPlaneMode.AMBIENT, cni: false })).toThrow(/cni.*Istio CNI agent redirects/);
    const noCni = new Chart(new App(), 'c');
    const m = new Mesh(noCni, 'm', { cni: false });
    expect(() => new ZeroTrustNamespace(noCni, 'z', { mesh: m, dataPlaneMode: DataPlaneMode.AMBIENT })).toThrow(/dataPlaneMode.*needs a mesh with Istio CNI/);
  });

  test('an ambient mesh speaks HBONE from every Envoy (the ambient profile\'s proxyMetadata), the user\'s value wins', () => {
    expect(mixed({ dataPlaneMode: DataPlaneMode.AMBIENT }).mesh.defaultProxyConfig.proxyMetadata).toEqual({ ISTIO_META_ENABLE_HBONE: 'true' });
    expect(mixed({ dataPlaneMode: DataPlaneMode.AMBIENT, defaultProxyConfig: { proxyMetadata: { ISTIO_META_ENABLE_HBONE: 'false' } } }).mesh.defaultProxyConfig.proxyMetadata)
      .toEqual({ ISTIO_META_ENABLE_HBONE: 'false' });
    expect(mixed().mesh.defaultProxyConfig.proxyMetadata).toBeUndefined();
  });
});

void Duration; void JwtRule; void IstioControlPlane; void MeshModel;
