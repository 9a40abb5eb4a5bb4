import { App, Chart, Duration } from 'cdk8s';
import {
  CniPlatform, DataPlaneMode, IstioControlPlane, JwtRule, Mesh, MeshDiagram, MeshedService, MeshNamespace, PodSecurityLevel, ServicePort,
  ZeroTrustNamespace, analyzeFlows, checkFlows, FlowVerdict, MeshFlowKind,
} from '../src';
import { ofKind, one, synthAppValid } from './util';

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


describe('control plane for ambient (Istio 1.30.3 ztunnel and istio-cni charts, ambient profile)', () => {
  const names = (objects: any[]) => objects.map(o => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
  const ztunnelObjects = (objects: any[]) => objects.filter(o => o.metadata?.labels?.['app.kubernetes.io/name'] === 'ztunnel');
  const istiodEnv = (objects: any[], name = 'istiod') => Object.fromEntries(one(objects, 'Deployment', name).spec.template.spec.containers[0].env
    .filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));

  test('without an ambient namespace: nothing of ambient', () => {
    const app = new App();
    const chart = new Chart(app, 'p');
    const mesh = new Mesh(chart, 'mesh');
    new IstioControlPlane(chart, 'istio', { mesh });
    const objects = synthAppValid(app);
    expect(ztunnelObjects(objects)).toEqual([]);
    expect(one(objects, 'ConfigMap', 'istio-cni-config').data.AMBIENT_ENABLED).toBe('false');
    expect(ofKind(objects, 'ClusterRole', 'istio-cni-ambient')).toEqual([]);
    expect(istiodEnv(objects).PILOT_ENABLE_AMBIENT).toBeUndefined();
    expect(istiodEnv(objects).CA_TRUSTED_NODE_ACCOUNTS).toBeUndefined();
  });

  test('an ambient mesh: ztunnel\'s object set, the CNI agent in ambient mode, istiod\'s ambient settings', () => {
    const app = new App();
    const chart = new Chart(app, 'p');
    const mesh = new Mesh(chart, 'mesh', { dataPlaneMode: DataPlaneMode.AMBIENT });
    const cp = new IstioControlPlane(chart, 'istio', { mesh });
    const objects = synthAppValid(app);
    // the ztunnel chart renders, for the ambient profile on a standard platform, exactly these
    expect(names(ztunnelObjects(objects))).toEqual(['DaemonSet/istio-system/ztunnel', 'ServiceAccount/istio-system/ztunnel']);
    expect(cp.ztunnel?.namespace).toBe('istio-system');
    const ds = one(objects, 'DaemonSet', 'ztunnel');
    const c = ds.spec.template.spec.containers[0];
    expect(c.image).toBe('docker.io/istio/ztunnel:1.30.3');
    expect(c.args).toEqual(['proxy', 'ztunnel']);
    const env = Object.fromEntries(c.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ CA_ADDRESS: 'istiod.istio-system.svc:15012', XDS_ADDRESS: 'istiod.istio-system.svc:15012', INPOD_ENABLED: 'true', ISTIO_META_ENABLE_HBONE: 'true' });
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN', 'SYS_ADMIN', 'NET_RAW'] });
    expect(ds.spec.template.metadata.labels['istio.io/dataplane-mode']).toBe('none');
    expect(ds.spec.template.spec.priorityClassName).toBe('system-node-critical');
    // the CNI agent in ambient mode
    expect(one(objects, 'ConfigMap', 'istio-cni-config').data.AMBIENT_ENABLED).toBe('true');
    expect(one(objects, 'ClusterRole', 'istio-cni-ambient').rules).toEqual([
      { apiGroups: [''], resources: ['pods/status'], verbs: ['patch', 'update'] },
      { apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: ['istio-cni-node'], verbs: ['get'] },
    ]);
    expect(one(objects, 'ClusterRoleBinding', 'istio-cni-ambient').subjects).toEqual([{ kind: 'ServiceAccount', name: 'istio-cni', namespace: 'istio-system' }]);
    const cni = one(objects, 'DaemonSet', 'istio-cni-node').spec.template.spec;
    expect(cni.containers[0].volumeMounts.map((m: any) => m.name)).toEqual(expect.arrayContaining(['cni-netns-dir', 'cni-ztunnel-sock-dir']));
    expect(cni.volumes.map((v: any) => v.name)).toContain('cni-ztunnel-sock-dir');
    // istiod
    expect(istiodEnv(objects)).toMatchObject({ PILOT_ENABLE_AMBIENT: 'true', CA_TRUSTED_NODE_ACCOUNTS: 'istio-system/ztunnel' });
    // ztunnel runs with NET_ADMIN and SYS_ADMIN: its namespace is privileged
    expect(one(objects, 'Namespace', 'istio-system').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });

  test('revision-aware: ztunnel talks to istiod-<rev> and carries the revision', () => {
    const app = new App();
    const chart = new Chart(app, 'p');
    const mesh = new Mesh(chart, 'mesh', { revision: '1-30', dataPlaneMode: DataPlaneMode.AMBIENT });
    new IstioControlPlane(chart, 'istio', { mesh });
    const objects = synthAppValid(app);
    const ds = one(objects, 'DaemonSet', 'ztunnel');
    expect(ds.metadata.annotations).toEqual({ 'istio.io/rev': '1-30' });
    expect(ds.spec.template.metadata.annotations['istio.io/rev']).toBe('1-30');
    const env = Object.fromEntries(ds.spec.template.spec.containers[0].env
      .filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    expect(env.XDS_ADDRESS).toBe('istiod-1-30.istio-system.svc:15012');
    expect(istiodEnv(objects, 'istiod-1-30').CA_TRUSTED_NODE_ACCOUNTS).toBe('istio-system/ztunnel');
  });

  test('a namespace turned ambient after the control plane is declared installs ambient mode (a model fact)', () => {
    const app = new App();
    const platform = new Chart(app, 'p');
    const mesh = new Mesh(platform, 'mesh');
    const cp = new IstioControlPlane(platform, 'istio', { mesh });
    expect(cp.ztunnel).toBeUndefined();
    new ZeroTrustNamespace(new Chart(app, 'apps'), 'ns', { mesh, dataPlaneMode: DataPlaneMode.AMBIENT });
    expect(cp.ztunnel).toBeDefined();
    const objects = synthAppValid(app);
    expect(ofKind(objects, 'DaemonSet', 'ztunnel')).toHaveLength(1);
    expect(istiodEnv(objects).PILOT_ENABLE_AMBIENT).toBe('true');
  });

  test('a service in an ambient namespace referred to by name installs ambient mode too', () => {
    const app = new App();
    const platform = new Chart(app, 'p');
    const mesh = new Mesh(platform, 'mesh');
    const cp = new IstioControlPlane(platform, 'istio', { mesh });
    const apps = new Chart(app, 'apps');
    const ns = MeshNamespace.fromName(apps, 'ns', { name: 'legacy', mesh, dataPlaneMode: DataPlaneMode.AMBIENT });
    expect(cp.ztunnel).toBeUndefined();
    new MeshedService(apps, 'svc', { namespace: ns, image: 'svc:1', ports: [ServicePort.http(8080)] });
    expect(cp.ztunnel).toBeDefined();
    expect(ofKind(synthAppValid(app), 'DaemonSet', 'ztunnel')).toHaveLength(1);
  });

  test('an ambient mesh renders the ambient profile\'s proxyMetadata in the mesh config', () => {
    const app = new App();
    const chart = new Chart(app, 'p');
    const mesh = new Mesh(chart, 'mesh', { dataPlaneMode: DataPlaneMode.AMBIENT });
    new IstioControlPlane(chart, 'istio', { mesh });
    expect(one(synthAppValid(app), 'ConfigMap', 'istio').data.mesh).toMatch(/ISTIO_META_ENABLE_HBONE: "true"/);
  });

  test('GKE: the ResourceQuota the chart adds for system-node-critical pods', () => {
    const app = new App();
    const chart = new Chart(app, 'p');
    const mesh = new Mesh(chart, 'mesh', { dataPlaneMode: DataPlaneMode.AMBIENT });
    new IstioControlPlane(chart, 'istio', { mesh, cni: { platform: CniPlatform.gke() } });
    const objects = synthAppValid(app);
    expect(names(ztunnelObjects(objects))).toEqual(['DaemonSet/istio-system/ztunnel', 'ResourceQuota/istio-system/ztunnel', 'ServiceAccount/istio-system/ztunnel']);
    expect(one(objects, 'ResourceQuota', 'ztunnel').spec.scopeSelector.matchExpressions[0].values).toEqual(['system-node-critical']);
  });
});

function ambientShop() {
  const app = new App();
  const platform = new Chart(app, 'platform');
  const mesh = new Mesh(platform, 'mesh', { dataPlaneMode: DataPlaneMode.AMBIENT });
  new IstioControlPlane(platform, 'istio', { mesh });
  const shop = new Chart(app, 'shop');
  const ns = new ZeroTrustNamespace(shop, 'shop', { mesh });
  const svc = (name: string, extra: any = {}) => new MeshedService(shop, name, { namespace: ns, image: `${name}:1`, ports: [ServicePort.http(9080)], ...extra });
  return { app, mesh, shop, ns, svc };
}

describe('policy in ambient namespaces: layer 4 by ztunnel, HBONE through NetworkPolicy', () => {
  const { app, ns, svc } = ambientShop();
  const page = svc('productpage');
  const reviews = svc('reviews');
  const details = svc('details');
  page.connectsTo(reviews);
  page.connectsTo(details);
  const objects = synthAppValid(app);
  const mine = inNs(objects, 'shop');
  const np = (name: string) => one(mine, 'NetworkPolicy', name).spec;
  const hbone = [{ protocol: 'TCP', port: 15008 }];
  const podsOf = (app_: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: { matchLabels: { app: app_ } } });

  test('AuthorizationPolicies select workloads, name principals and ports, and carry no HTTP field', () => {
    expect(one(mine, 'AuthorizationPolicy', 'reviews').spec).toEqual({
      selector: { matchLabels: { app: 'reviews' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/productpage'] } }], to: [{ operation: { ports: ['9080'] } }] }],
    });
    for (const ap of ofKind(mine, 'AuthorizationPolicy')) {
      expect(JSON.stringify(ap.spec)).not.toMatch(/"(methods|paths|hosts|notMethods|notPaths|requestPrincipals)"/);
      expect(ap.spec.targetRefs).toBeUndefined();
    }
    expect(one(mine, 'AuthorizationPolicy', 'allow-nothing').spec).toEqual({});
    expect(one(mine, 'PeerAuthentication', 'default').spec).toEqual({ mtls: { mode: 'STRICT' } });
  });

  test('NetworkPolicies: HBONE (15008) from the callers\' pods and to the dependencies\' pods, kubelet probes from 169.254.7.127', () => {
    expect(np('reviews').ingress).toEqual([{ from: [podsOf('productpage')], ports: hbone }]);
    expect(np('productpage').egress).toEqual([{ to: [podsOf('details')], ports: hbone }, { to: [podsOf('reviews')], ports: hbone }]);
    expect(np('allow-kubelet-probes')).toEqual({ podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '169.254.7.127/32' } }] }] });
    expect(np('default-deny').policyTypes).toEqual(['Ingress', 'Egress']);
  });

  test('a namespace with layer-4 policy only gets no waypoint', () => {
    expect(ofKind(mine, 'Gateway')).toEqual([]);
    expect(ofKind(mine, 'Service').map(x => x.metadata.labels['istio.io/use-waypoint'])).toEqual([undefined, undefined, undefined]);
    expect(one(objects, 'Namespace', 'shop').metadata.labels['istio.io/use-waypoint']).toBeUndefined();
    expect(ns.dataPlaneMode).toBe(DataPlaneMode.AMBIENT);
  });
});

describe('waypoints exactly where layer 7 is needed', () => {
  test('an edge with HTTP methods or paths: a waypoint for that service; its L7 rules attach to it, ztunnel admits only the waypoint', () => {
    const { app, svc } = ambientShop();
    const page = svc('productpage');
    const ratings = svc('ratings');
    const reviews = svc('reviews');
    page.connectsTo(reviews);
    reviews.connectsTo(ratings, { methods: ['GET'], paths: ['/ratings/*'] });
    const objects = synthAppValid(app);
    const mine = inNs(objects, 'shop');
    expect(one(mine, 'Gateway', 'waypoint')).toMatchObject({
      apiVersion: 'gateway.networking.k8s.io/v1',
      metadata: { labels: { 'istio.io/waypoint-for': 'service' } },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    });
    expect(ofKind(mine, 'Gateway')).toHaveLength(1);
    const labelOf = (name: string) => one(mine, 'Service', name).metadata.labels['istio.io/use-waypoint'];
    expect(labelOf('ratings')).toBe('waypoint');
    expect(labelOf('reviews')).toBeUndefined();
    expect(one(mine, 'AuthorizationPolicy', 'ratings-waypoint').spec).toEqual({
      targetRefs: [{ group: '', kind: 'Service', name: 'ratings' }],
      action: 'ALLOW',
      rules: [{
        from: [{ source: { principals: ['cluster.local/ns/shop/sa/reviews'] } }],
        to: [{ operation: { ports: ['9080'], methods: ['GET'], paths: ['/ratings/*'] } }],
      }],
    });
    expect(one(mine, 'AuthorizationPolicy', 'ratings').spec).toEqual({
      selector: { matchLabels: { app: 'ratings' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/waypoint'] } }], to: [{ operation: { ports: ['9080'] } }] }],
    });
    // the traffic path: reviews -> waypoint -> ratings, all HBONE
    const wpPods = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } } };
    const pods = (a: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: { matchLabels: { app: a } } });
    const hbone = [{ protocol: 'TCP', port: 15008 }];
    expect(one(mine, 'NetworkPolicy', 'ratings').spec.ingress).toEqual([{ from: [wpPods], ports: hbone }]);
    expect(one(mine, 'NetworkPolicy', 'reviews').spec.egress).toEqual([{ to: [wpPods], ports: hbone }]);
    expect(one(mine, 'NetworkPolicy', 'waypoint').spec).toEqual({
      podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [pods('reviews')], ports: hbone }],
      egress: [{ to: [pods('ratings')], ports: hbone }],
    });
    // istiod deploys the waypoint: its gateway deployment controller is on
    expect(ofKind(objects, 'ClusterRole').map(r => r.metadata.name)).toContain('istiod-gateway-controller-istio-system');
  });

  test('routes (retries, timeouts, canaries) bring a waypoint for the service; tokens too, attached with targetRefs', () => {
    const { app, ns, svc } = ambientShop();
    const api = svc('api', { timeout: Duration.seconds(3) });
    const web = svc('web');
    const other = svc('other');
    web.connectsTo(api);
    web.connectsTo(other);
    const jwt = JwtRule.issuer('https://issuer.example.com', { jwksUri: 'https://issuer.example.com/jwks.json' });
    ns.requireJwt(other, jwt);
    const mine = inNs(synthAppValid(app), 'shop');
    expect(one(mine, 'Service', 'api').metadata.labels['istio.io/use-waypoint']).toBe('waypoint');
    expect(one(mine, 'Service', 'other').metadata.labels['istio.io/use-waypoint']).toBe('waypoint');
    expect(one(mine, 'Service', 'web').metadata.labels['istio.io/use-waypoint']).toBeUndefined();
    expect(one(mine, 'RequestAuthentication', 'other-jwt').spec.targetRefs).toEqual([{ group: '', kind: 'Service', name: 'other' }]);
    expect(one(mine, 'RequestAuthentication', 'other-jwt').spec.selector).toBeUndefined();
    const deny = one(mine, 'AuthorizationPolicy', 'other-require-jwt').spec;
    expect(deny.targetRefs).toEqual([{ group: '', kind: 'Service', name: 'other' }]);
    expect(deny.action).toBe('DENY');
  });

  test('a namespace-wide token rule labels the namespace and attaches to the waypoint Gateway', () => {
    const { app, ns, svc } = ambientShop();
    svc('api');
    ns.acceptJwt(JwtRule.issuer('https://issuer.example.com', { jwksUri: 'https://issuer.example.com/jwks.json' }));
    const objects = synthAppValid(app);
    expect(one(objects, 'Namespace', 'shop').metadata.labels['istio.io/use-waypoint']).toBe('waypoint');
    expect(one(inNs(objects, 'shop'), 'RequestAuthentication', 'jwt').spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }]);
  });
});

describe('the mesh diagram says which services go through which waypoint', () => {
  test('a service with a waypoint reads "via waypoint <ns>/<name>"; layer-4 services do not', () => {
    const { app, svc } = ambientShop();
    const web = svc('web');
    const api = svc('api');
    const db = svc('db');
    web.connectsTo(api, { methods: ['GET'] });
    api.connectsTo(db);
    const text = MeshDiagram.render(app);
    expect(text).toMatch(/svc__shop__api\["<b>api<\/b><br\/>versions: v1<br\/>via waypoint shop\/waypoint"\]/);
    expect(text).toMatch(/svc__shop__db\["<b>db<\/b><br\/>versions: v1"\]/);
  });
});

describe('flow analysis of a mixed mesh', () => {
  function app(meshProps: any = {}) {
    const { app: a, ambient, legacy, svc } = mixed(meshProps);
    const web = svc(legacy, 'web');
    const reviews = svc(ambient, 'reviews');
    const db = svc(legacy, 'db');
    web.connectsTo(reviews);
    reviews.connectsTo(db);
    return synthAppValid(a);
  }
  const verdicts = (objects: any[]) => Object.fromEntries(analyzeFlows(objects).flows.filter(f => f.kind === MeshFlowKind.CALL)
    .map(f => [`${f.source} -> ${f.destination.split('.')[0]}`, f.verdict]));

  test('a sidecar reaches an ambient pod over HBONE (Istio 1.30 sends HBONE to ambient endpoints); ztunnel reaches a sidecar with mTLS only when it accepts HBONE', () => {
    expect(verdicts(app())).toEqual({ 'side/web-v1 -> reviews': FlowVerdict.ALLOWED, 'amb/reviews-v1 -> db': FlowVerdict.DENIED });
    expect(verdicts(app({ defaultProxyConfig: { proxyMetadata: { ISTIO_META_ENABLE_HBONE: 'true' } } })))
      .toEqual({ 'side/web-v1 -> reviews': FlowVerdict.ALLOWED, 'amb/reviews-v1 -> db': FlowVerdict.ALLOWED });
  });

  test('a sidecar without ISTIO_META_ENABLE_HBONE still tunnels to an ambient pod under STRICT: sending HBONE is istiod\'s PILOT_ENABLE_SENDING_HBONE (on), not the proxy\'s metadata', () => {
    // Istio 1.30.3: features.EnableHBONESend (PILOT_ENABLE_SENDING_HBONE, default true) gives every sidecar the
    // connect_originate listener and cluster (networking/core/listener.go, cluster.go); endpoint_builder.go supportTunnel
    // is true for an ambient pod (its workload's TunnelProtocol is HBONE: ambient/workloads.go setTunnelProtocol) and,
    // having no security.istio.io/tlsMode=istio label, it is not sent legacy mTLS. ISTIO_META_ENABLE_HBONE only makes a
    // proxy listen on 15008 (model.Proxy.EnableHBONEListen) and its pod carry networking.istio.io/tunnel.
    const objects = app();
    const web = deployment(objects, 'side', 'web').spec.template;
    const proxy = [...(web.spec.initContainers ?? []), ...web.spec.containers].find((c: any) => c.name === 'istio-proxy');
    expect(proxy.env.map((e: any) => e.name)).not.toContain('ISTIO_META_ENABLE_HBONE');
    expect(web.metadata.labels['networking.istio.io/tunnel']).toBeUndefined();
    expect(one(inNs(objects, 'amb'), 'PeerAuthentication', 'default').spec).toEqual({ mtls: { mode: 'STRICT' } });
    const hbone = [{ protocol: 'TCP', port: 15008 }];
    const toReviews = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'amb' } }, podSelector: { matchLabels: { app: 'reviews' } } };
    expect(one(inNs(objects, 'side'), 'NetworkPolicy', 'web').spec.egress).toContainEqual({ to: [toReviews], ports: hbone });
    const REVIEWS = 'reviews.amb.svc.cluster.local';
    const ask = (objs: any[]) => checkFlows(objs, [{ source: 'side/web-v1', host: REVIEWS, port: 9080 }])[0];
    const answer = ask(objects);
    expect(answer.verdict).toBe(FlowVerdict.ALLOWED);
    expect(answer.reason).toContain('NetworkPolicy side/web egress rule #0; NetworkPolicy amb/reviews ingress rule #0');
    // the analysis looks at 15008, the port the tunnel uses: the application port alone does not let it through
    const cut = JSON.parse(JSON.stringify(objects));
    for (const rule of one(inNs(cut, 'amb'), 'NetworkPolicy', 'reviews').spec.ingress) rule.ports = [{ protocol: 'TCP', port: 9080 }];
    expect(ask(cut)).toMatchObject({ verdict: FlowVerdict.DENIED });
    expect(ask(cut).reason).toMatch(/^NetworkPolicy ingress: .*no rule allows port 15008$/);
  });
});

describe('an ambient caller of a sidecar service in an ambient mesh: ztunnel reaches the sidecar over HBONE (15008)', () => {
  // ambient by default; 'side' keeps its sidecars, which speak HBONE (the ambient profile's ISTIO_META_ENABLE_HBONE)
  function build(meshProps: any = {}) {
    const app = new App();
    const platform = new Chart(app, 'platform');
    const mesh = new Mesh(platform, 'mesh', { dataPlaneMode: DataPlaneMode.AMBIENT, ...meshProps });
    new IstioControlPlane(platform, 'istio', { mesh });
    const shop = new Chart(app, 'shop');
    const amb = new ZeroTrustNamespace(shop, 'amb', { mesh, name: 'amb' });
    const side = new ZeroTrustNamespace(shop, 'side', { mesh, name: 'side', dataPlaneMode: DataPlaneMode.SIDECAR });
    const svc = (ns: ZeroTrustNamespace, name: string) => new MeshedService(shop, `${ns.name}-${name}`, { namespace: ns, name, image: `${name}:1`, ports: [ServicePort.http(9080)] });
    const reviews = svc(amb, 'reviews');
    const web = svc(side, 'web');
    const db = svc(side, 'db');
    reviews.connectsTo(db);
    web.connectsTo(db);
    return synthAppValid(app);
  }
  const objects = build();
  const DB = 'db.side.svc.cluster.local';
  const podsOf = (ns: string, app_: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: { matchLabels: { app: app_ } } });
  const dbPolicy = (objs: any[]) => one(inNs(objs, 'side'), 'NetworkPolicy', 'db');
  const ask = (objs: any[]) => checkFlows(objs, [{ source: 'amb/reviews-v1', host: DB, port: 9080 }])[0];

  test('the sidecar service\'s NetworkPolicy admits the ambient caller on 15008 (and its port); its sidecar caller on the port only', () => {
    const proxy = [...(deployment(objects, 'side', 'db').spec.template.spec.initContainers ?? []), ...deployment(objects, 'side', 'db').spec.template.spec.containers]
      .find((c: any) => c.name === 'istio-proxy');
    expect(proxy.env).toContainEqual({ name: 'ISTIO_META_ENABLE_HBONE', value: 'true' });
    expect(dbPolicy(objects).spec.ingress).toEqual([
      { from: [podsOf('amb', 'reviews')], ports: [{ protocol: 'TCP', port: 9080 }, { protocol: 'TCP', port: 15008 }] },
      { from: [podsOf('side', 'web')], ports: [{ protocol: 'TCP', port: 9080 }] },
    ]);
    // the other side: the ambient caller's egress to the sidecar pods (HBONE, or the port in plain text)
    expect(one(inNs(objects, 'amb'), 'NetworkPolicy', 'reviews').spec.egress).toEqual([
      { to: [podsOf('side', 'db')], ports: [{ protocol: 'TCP', port: 9080 }, { protocol: 'TCP', port: 15008 }] },
    ]);
  });

  test('the flow analysis allows the call, through NetworkPolicy on 15008; both the declared flows and checkFlows say so', () => {
    const answer = ask(objects);
    expect(answer.verdict).toBe(FlowVerdict.ALLOWED);
    expect(answer.reason).toContain('NetworkPolicy side/db ingress rule #0');
    const flows = analyzeFlows(objects).flows.filter(f => f.kind === MeshFlowKind.CALL && f.destination === DB);
    expect(Object.fromEntries(flows.map(f => [f.source, f.verdict]))).toEqual({ 'amb/reviews-v1': FlowVerdict.ALLOWED, 'side/web-v1': FlowVerdict.ALLOWED });
  });

  test('without the 15008 rule the analysis denies it at the sidecar\'s NetworkPolicy ingress: it looks at the port the packets use', () => {
    const cut = JSON.parse(JSON.stringify(objects));
    for (const rule of dbPolicy(cut).spec.ingress) rule.ports = rule.ports.filter((p: any) => p.port !== 15008);
    const answer = ask(cut);
    expect(answer.verdict).toBe(FlowVerdict.DENIED);
    expect(answer.reason).toMatch(/^NetworkPolicy ingress: .*NetworkPolicy side\/db isolate the pod for ingress and no rule allows port 15008$/);
    const flows = analyzeFlows(cut);
    expect(flows.flows.find(f => f.source === 'amb/reviews-v1' && f.destination === DB)).toMatchObject({ verdict: FlowVerdict.DENIED, deniedAt: 'NetworkPolicy ingress' });
    // the sidecar caller still gets through on the port
    expect(flows.flows.find(f => f.source === 'side/web-v1' && f.destination === DB)?.verdict).toBe(FlowVerdict.ALLOWED);
    expect(flows.findings.map(f => f.code)).toContain('MESH101');
  });

  test('a sidecar service reached only over HBONE is reachable (no MESH106): the ambient caller gets through on 15008 alone', () => {
    const hboneOnly = JSON.parse(JSON.stringify(objects));
    const spec = dbPolicy(hboneOnly).spec;
    for (const rule of spec.ingress) rule.ports = rule.ports.filter((p: any) => p.port !== 9080);
    spec.ingress = spec.ingress.filter((rule: any) => rule.ports.length > 0); // no ports would mean every port
    expect(ask(hboneOnly).verdict).toBe(FlowVerdict.ALLOWED);
    const result = analyzeFlows(hboneOnly);
    expect(result.flows.find(f => f.source === 'side/web-v1' && f.destination === DB)?.verdict).toBe(FlowVerdict.DENIED);
    expect(result.findings.filter(f => f.code === 'MESH106').map(f => f.object.name)).toEqual(['web']); // nobody calls web
  });

  test('a sidecar caller reaches a sidecar with Istio mTLS on the port, not over HBONE, though both speak HBONE (Istio 1.30.3 endpoint_builder.go: an endpoint labelled security.istio.io/tlsMode=istio gets legacy mTLS unless PILOT_PREFER_SENDING_HBONE, off by default)', () => {
    expect(one(inNs(objects, 'side'), 'NetworkPolicy', 'web').spec.egress).toEqual([
      { to: [podsOf('side', 'db')], ports: [{ protocol: 'TCP', port: 9080 }] },
    ]);
    const answer = checkFlows(objects, [{ source: 'side/web-v1', host: DB, port: 9080 }])[0];
    expect(answer.verdict).toBe(FlowVerdict.ALLOWED);
    expect(answer.reason).toContain('NetworkPolicy side/db ingress rule #1');
    // a rule for 15008 alone would not let it in
    const hboneOnly = JSON.parse(JSON.stringify(objects));
    dbPolicy(hboneOnly).spec.ingress[1].ports = [{ protocol: 'TCP', port: 15008 }];
    expect(checkFlows(hboneOnly, [{ source: 'side/web-v1', host: DB, port: 9080 }])[0].verdict).toBe(FlowVerdict.DENIED);
  });

  test('a sidecar without HBONE: ztunnel sends plain text to the port, which its STRICT PeerAuthentication refuses', () => {
    const plain = build({ defaultProxyConfig: { proxyMetadata: { ISTIO_META_ENABLE_HBONE: 'false' } } });
    const answer = ask(plain);
    expect(answer.verdict).toBe(FlowVerdict.DENIED);
    expect(answer.reason).toMatch(/^PeerAuthentication: .*requires mTLS \(STRICT\) on port 9080 and the source sends plaintext/);
  });

  test('a sidecar without HBONE gets no 15008 rule for the ambient caller: nothing listens there, ztunnel sends to the port', () => {
    const plain = build({ defaultProxyConfig: { proxyMetadata: { ISTIO_META_ENABLE_HBONE: 'false' } } });
    expect(dbPolicy(plain).spec.ingress).toEqual([
      { from: [podsOf('amb', 'reviews')], ports: [{ protocol: 'TCP', port: 9080 }] },
      { from: [podsOf('side', 'web')], ports: [{ protocol: 'TCP', port: 9080 }] },
    ]);
    expect(JSON.stringify(ofKind(inNs(plain, 'side'), 'NetworkPolicy'))).not.toContain('15008');
    // nor on the caller's side: its egress to the sidecar pods is the port alone
    expect(one(inNs(plain, 'amb'), 'NetworkPolicy', 'reviews').spec.egress).toEqual([
      { to: [podsOf('side', 'db')], ports: [{ protocol: 'TCP', port: 9080 }] },
    ]);
  });
});

describe('bad input in ambient namespaces', () => {
  test('proxy options on a service whose pods carry no proxy', () => {
    const { ns, svc } = ambientShop();
    expect(() => svc('api', { proxy: { logLevel: 'debug' } })).toThrow(/shop\/api: proxy .* has no effect in ambient namespace 'shop'/);
    void ns;
  });

  test('a workload named like the waypoint istiod deploys', () => {
    const { svc } = ambientShop();
    const waypoint = svc('waypoint');
    const web = svc('web');
    expect(() => web.connectsTo(waypoint, { methods: ['GET'] })).toThrow(/waypoint 'waypoint' is invalid: needs the name 'waypoint' in namespace 'shop'.*shop\/waypoint uses it/);
  });
});
