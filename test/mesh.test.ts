import { Testing } from 'cdk8s';
import { InjectionMode, Mesh, OutboundTrafficPolicy } from '../src';
import { MeshValidationError } from '../src/errors';

describe('Mesh', () => {
  test('defaults follow Istio 1.30.3 on Kubernetes 1.33', () => {
    const mesh = new Mesh(Testing.chart(), 'mesh');
    expect({
      version: mesh.version,
      hub: mesh.hub,
      revision: mesh.revision,
      trustDomain: mesh.trustDomain,
      rootNamespace: mesh.rootNamespace,
      kubernetesVersion: mesh.kubernetesVersion,
      injectionMode: mesh.injectionMode,
      cni: mesh.cni,
      nativeSidecars: mesh.nativeSidecars,
      outbound: mesh.outboundTrafficPolicy,
      istiod: mesh.istiodServiceName,
      discovery: mesh.discoveryAddress,
      rev: mesh.revisionLabel,
      proxy: mesh.proxyImage,
      pilot: mesh.pilotImage,
      resources: mesh.proxyResources,
    }).toEqual({
      version: '1.30.3',
      hub: 'docker.io/istio',
      revision: undefined,
      trustDomain: 'cluster.local',
      rootNamespace: 'istio-system',
      kubernetesVersion: '1.33',
      injectionMode: InjectionMode.SYNTH_TIME,
      cni: true, // Istio CNI by default (issue 16): no NET_ADMIN init container, restricted Pod Security
      nativeSidecars: true,
      outbound: OutboundTrafficPolicy.ALLOW_ANY,
      istiod: 'istiod',
      discovery: 'istiod.istio-system.svc:15012',
      rev: 'default',
      proxy: 'docker.io/istio/proxyv2:1.30.3',
      pilot: 'docker.io/istio/pilot:1.30.3',
      resources: { cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '2', memoryLimit: '1Gi' },
    });
    expect(mesh.principalFor('shop', 'reviews')).toBe('cluster.local/ns/shop/sa/reviews');
  });

  test('a revision renames istiod and the revision label', () => {
    const mesh = new Mesh(Testing.chart(), 'mesh', { revision: '1-30', trustDomain: 'prod.example.com' });
    expect(mesh.istiodServiceName).toBe('istiod-1-30');
    expect(mesh.discoveryAddress).toBe('istiod-1-30.istio-system.svc:15012');
    expect(mesh.revisionLabel).toBe('1-30');
    expect(mesh.principalFor('a', 'b')).toBe('prod.example.com/ns/a/sa/b');
  });

  test('native sidecars follow the Kubernetes version unless set', () => {
    expect(new Mesh(Testing.chart(), 'm', { kubernetesVersion: '1.32' }).nativeSidecars).toBe(false);
    expect(new Mesh(Testing.chart(), 'm', { kubernetesVersion: '1.34' }).nativeSidecars).toBe(true);
    expect(new Mesh(Testing.chart(), 'm', { kubernetesVersion: '1.34', nativeSidecars: false }).nativeSidecars).toBe(false);
  });

  test('fromAttributes refers to a mesh defined elsewhere', () => {
    const mesh = Mesh.fromAttributes(Testing.chart(), 'mesh', { revision: 'canary', cni: true });
    expect(mesh.revisionLabel).toBe('canary');
    expect(mesh.cni).toBe(true);
    expect(mesh.version).toBe('1.30.3');
  });

  test.each([
    [{ version: '1.30' }, "test/mesh: version '1.30' is invalid: must be an Istio release 'major.minor.patch', e.g. '1.30.3'"],
    [{ version: 'latest' }, "version 'latest' is invalid"],
    [{ revision: 'Rev_1' }, "test/mesh: revision 'Rev_1' is invalid: must be a DNS label"],
    [{ revision: 'default' }, "revision 'default' is invalid: 'default' is the unrevisioned control plane"],
    [{ trustDomain: 'spiffe://cluster.local' }, "trustDomain 'spiffe://cluster.local' is invalid: must be a SPIFFE trust domain"],
    [{ rootNamespace: 'Istio' }, "rootNamespace 'Istio' is invalid: must be a DNS label"],
    [{ kubernetesVersion: '1.27' }, "kubernetesVersion '1.27' is invalid: Istio 1.30.3 supports Kubernetes 1.32 and later"],
    [{ kubernetesVersion: 'v1.33' }, "kubernetesVersion 'v1.33' is invalid: must be 'major.minor'"],
    [{ proxyResources: { cpuRequest: '100 millicores' } }, "proxyResources.cpuRequest '100 millicores' is invalid: must be a Kubernetes quantity"],
    [{ hub: 'https://docker.io/istio' }, "hub 'https://docker.io/istio' is invalid"],
  ])('rejects %j', (props, message) => {
    const chart = Testing.chart();
    let err: any;
    try {
      new Mesh(chart, 'mesh', props as any);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MeshValidationError);
    expect(err.name).toBe('MeshValidationError');
    expect(err.message).toContain(message);
  });
});
