import { Testing } from 'cdk8s';
import {
  CniPlatform, IstioCni, IstioControlPlane, IstioControlPlaneProps, Mesh, MeshedService, MeshProps, ServicePort, ZeroTrustNamespace,
} from '../src';
import { ofKind, one, synthValid, validateAll, yamlOf } from './util';

function install(meshProps: MeshProps = { cni: true }, props: Partial<IstioControlPlaneProps> = {}) {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', meshProps);
  const cp = new IstioControlPlane(chart, 'istio', { mesh, ...props });
  return { chart, mesh, cp };
}

const cniObjects = (objects: any[]) => objects.filter(o => o.metadata?.labels?.['app.kubernetes.io/name'] === 'istio-cni');
const names = (objects: any[]) => objects.map(o => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
const container = (objects: any[]) => one(objects, 'DaemonSet', 'istio-cni-node').spec.template.spec.containers[0];
const hostPaths = (objects: any[]) => Object.fromEntries(one(objects, 'DaemonSet', 'istio-cni-node').spec.template.spec.volumes
  .map((v: any) => [v.name, v.hostPath.path]));

describe('Mesh({ cni: true }): the control plane installs the Istio CNI node agent', () => {
  const { chart, cp } = install();
  const objects = synthValid(chart);

  test('the object set of the istio-cni chart\'s default install (Istio 1.30.3)', () => {
    expect(names(cniObjects(objects))).toEqual([
      'ClusterRole//istio-cni',
      'ClusterRole//istio-cni-repair-role',
      'ClusterRoleBinding//istio-cni',
      'ClusterRoleBinding//istio-cni-repair-rolebinding',
      'ConfigMap/istio-system/istio-cni-config',
      'DaemonSet/istio-system/istio-cni-node',
      'ServiceAccount/istio-system/istio-cni',
    ]);
    expect(cp.cni).toBeInstanceOf(IstioCni);
  });

  test('a mesh without cni (the cni: false opt-out) installs no agent; by default the agent is installed', () => {
    expect(cniObjects(synthValid(install({ cni: false }).chart))).toEqual([]);
    expect(ofKind(cniObjects(synthValid(install({}).chart)), 'DaemonSet').map(o => o.metadata.name)).toEqual(['istio-cni-node']);
  });

  test('DaemonSet: on every Linux node, critical, with the agent image, probes and least capabilities', () => {
    const ds = one(objects, 'DaemonSet', 'istio-cni-node');
    const spec = ds.spec.template.spec;
    expect(ds.spec.selector.matchLabels).toEqual({ 'k8s-app': 'istio-cni-node' });
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    expect(spec).toMatchObject({
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      priorityClassName: 'system-node-critical',
      serviceAccountName: 'istio-cni',
      terminationGracePeriodSeconds: 30,
    });
    expect(spec.tolerations).toEqual([
      { effect: 'NoSchedule', operator: 'Exists' }, { key: 'CriticalAddonsOnly', operator: 'Exists' }, { effect: 'NoExecute', operator: 'Exists' },
    ]);
    expect(ds.spec.template.metadata.labels).toMatchObject({ 'sidecar.istio.io/inject': 'false', 'istio.io/dataplane-mode': 'none' });
    const c = container(objects);
    expect(c.image).toBe('docker.io/istio/install-cni:1.30.3');
    expect(c.command).toEqual(['install-cni']);
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/readyz', port: 8000 } });
    expect(c.securityContext).toEqual({
      appArmorProfile: { type: 'Unconfined' },
      privileged: false,
      runAsGroup: 0,
      runAsUser: 0,
      runAsNonRoot: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW', 'SYS_PTRACE', 'SYS_ADMIN', 'DAC_OVERRIDE'] },
    });
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'istio-cni-config' } }]);
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '100Mi' } });
    expect(hostPaths(objects)).toEqual({
      'cni-bin-dir': '/opt/cni/bin',
      'cni-host-procfs': '/proc',
      'cni-net-dir': '/etc/cni/net.d',
      'cni-socket-dir': '/var/run/istio-cni',
      'cni-netns-dir': '/var/run/netns',
    });
  });

  test('ConfigMap: sidecar mode with pod repair, ambient off, chained plugin', () => {
    const data = one(objects, 'ConfigMap', 'istio-cni-config').data;
    expect(data).toMatchObject({
      CURRENT_AGENT_VERSION: '1.30.3',
      AMBIENT_ENABLED: 'false',
      CHAINED_CNI_PLUGIN: 'true',
      EXCLUDE_NAMESPACES: 'kube-system',
      REPAIR_ENABLED: 'true',
      REPAIR_REPAIR_PODS: 'true',
      REPAIR_DELETE_PODS: 'false',
      REPAIR_LABEL_PODS: 'false',
      REPAIR_INIT_CONTAINER_NAME: 'istio-validation',
      ISTIO_OWNED_CNI_CONFIG: 'false',
      NATIVE_NFTABLES: 'false',
    });
    expect(data.CNI_CONF_NAME).toBeUndefined();
  });

  test('RBAC: read pods, nodes, namespaces; repair needs only events and pod reads', () => {
    expect(one(objects, 'ClusterRole', 'istio-cni').rules).toEqual([
      { apiGroups: [''], resources: ['pods', 'nodes', 'namespaces'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(one(objects, 'ClusterRole', 'istio-cni-repair-role').rules).toEqual([
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['watch', 'get', 'list'] },
    ]);
    for (const name of ['istio-cni', 'istio-cni-repair-rolebinding']) {
      expect(one(objects, 'ClusterRoleBinding', name).subjects).toEqual([{ kind: 'ServiceAccount', name: 'istio-cni', namespace: 'istio-system' }]);
    }
  });

  test('the root namespace admits the privileged agent; without CNI it stays baseline', () => {
    expect(one(objects, 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    expect(one(synthValid(install({ cni: false }).chart), 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('baseline');
    const elsewhere = synthValid(install({ cni: true }, { cni: { namespace: 'kube-system' } }).chart);
    expect(one(elsewhere, 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('baseline');
    expect(one(elsewhere, 'DaemonSet').metadata.namespace).toBe('kube-system');
  });

  test('injector values tell the webhook that CNI redirects traffic', () => {
    const values = JSON.parse(one(objects, 'ConfigMap', 'istio-sidecar-injector').data.values);
    expect(values.pilot.cni).toEqual({ enabled: true, provider: 'default' });
  });

  test('YAML snapshot of the agent', () => {
    expect(yamlOf(cniObjects(objects))).toMatchSnapshot();
  });
});

describe('Istio CNI: a complete, startable install with restricted app namespaces', () => {
  test('meshed pods carry istio-validation (no NET_ADMIN), their namespace is restricted, and the agent runs', () => {
    const { chart, mesh } = install();
    const ns = new ZeroTrustNamespace(chart, 'ns', { mesh, name: 'shop' });
    new MeshedService(chart, 'reviews', { namespace: ns, image: 'reviews:v1', ports: [ServicePort.http(9080)] });
    const objects = synthValid(chart);
    const shop = one(objects, 'Namespace', 'shop');
    expect(shop.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const pod = ofKind(objects, 'Deployment').find(d => d.metadata.namespace === 'shop').spec.template.spec;
    const inits = (pod.initContainers ?? []).map((c: any) => c.name);
    expect(inits).toContain('istio-validation');
    expect(inits).not.toContain('istio-init');
    // the agent repairs pods whose istio-validation failed: the same container name
    expect(one(objects, 'ConfigMap', 'istio-cni-config').data.REPAIR_INIT_CONTAINER_NAME).toBe('istio-validation');
    expect(one(objects, 'DaemonSet', 'istio-cni-node')).toBeDefined();
  });
});

describe('Istio CNI: platforms (Istio 1.30.3 profile-platform-*)', () => {
  test.each([
    ['standard', CniPlatform.standard(), '/opt/cni/bin', '/etc/cni/net.d', '/var/run/netns'],
    ['gke', CniPlatform.gke(), '/home/kubernetes/bin', '/etc/cni/net.d', '/var/run/netns'],
    ['k3s', CniPlatform.k3s(), '/var/lib/rancher/k3s/data/cni', '/var/lib/rancher/k3s/agent/etc/cni/net.d', '/var/run/netns'],
    ['k3d', CniPlatform.k3d(), '/bin', '/var/lib/rancher/k3s/agent/etc/cni/net.d', '/var/run/netns'],
    ['microk8s', CniPlatform.microK8s(), '/var/snap/microk8s/current/opt/cni/bin', '/var/snap/microk8s/current/args/cni-network', '/var/run/netns'],
    ['minikube', CniPlatform.minikube(), '/opt/cni/bin', '/etc/cni/net.d', '/var/run/docker/netns'],
    ['custom', CniPlatform.custom({ binDir: '/usr/libexec/cni', confDir: '/etc/k0s/cni' }), '/usr/libexec/cni', '/etc/k0s/cni', '/var/run/netns'],
  ])('%s: CNI paths', (_name, platform, bin, conf, netns) => {
    const objects = synthValid(install({ cni: true }, { cni: { platform } }).chart);
    expect(hostPaths(objects)).toMatchObject({ 'cni-bin-dir': bin, 'cni-net-dir': conf, 'cni-netns-dir': netns });
  });

  test('gke: a ResourceQuota admits the system-node-critical agent outside kube-system', () => {
    const objects = synthValid(install({ cni: true }, { cni: { platform: CniPlatform.gke() } }).chart);
    const quota = one(objects, 'ResourceQuota', 'istio-cni-resource-quota');
    expect(quota.metadata.namespace).toBe('istio-system');
    expect(quota.spec).toEqual({
      hard: { pods: '5000' },
      scopeSelector: { matchExpressions: [{ operator: 'In', scopeName: 'PriorityClass', values: ['system-node-critical'] }] },
    });
  });

  test('openshift: multus, standalone config, SELinux spc_t, the privileged SCC', () => {
    const { chart } = install({ cni: true }, { cni: { platform: CniPlatform.openShift() } });
    const all = Testing.synth(chart);
    // every object but multus' NetworkAttachmentDefinition (no upstream schema in the reference set) is strictly valid
    expect(validateAll(all.filter(o => o.kind !== 'NetworkAttachmentDefinition'))).toEqual([]);
    expect(one(all, 'NetworkAttachmentDefinition')).toMatchObject({
      apiVersion: 'k8s.cni.cncf.io/v1', metadata: { name: 'istio-cni', namespace: 'default' },
    });
    expect(one(all, 'ConfigMap', 'istio-cni-config').data).toMatchObject({ CHAINED_CNI_PLUGIN: 'false', CNI_CONF_NAME: 'istio-cni.conf' });
    expect(container(all).securityContext.seLinuxOptions).toEqual({ type: 'spc_t' });
    expect(one(all, 'ClusterRole', 'istio-cni').rules).toContainEqual({
      apiGroups: ['security.openshift.io'], resources: ['securitycontextconstraints'], resourceNames: ['privileged'], verbs: ['use'],
    });
    expect(hostPaths(all)).toMatchObject({ 'cni-bin-dir': '/var/lib/cni/bin', 'cni-net-dir': '/etc/cni/multus/net.d' });
    expect(JSON.parse(one(all, 'ConfigMap', 'istio-sidecar-injector').data.values).pilot.cni).toEqual({ enabled: true, provider: 'multus' });
  });
});

describe('Istio CNI: revisions and options', () => {
  test('revision-aware labels; a second revision leaves the one agent to the first', () => {
    const { chart } = install({ cni: true, revision: '1-30' });
    const objects = synthValid(chart);
    for (const o of cniObjects(objects)) expect(o.metadata.labels['istio.io/rev']).toBe('1-30');
    expect(one(objects, 'DaemonSet').spec.template.metadata.labels['istio.io/rev']).toBe('1-30');
    const second = install({ cni: true, revision: '1-31' }, { installCni: false, installCrds: false, createNamespace: false });
    expect(cniObjects(synthValid(second.chart))).toEqual([]);
    expect(second.cp.cni).toBeUndefined();
  });

  test('excluded namespaces and resources', () => {
    const objects = synthValid(install({ cni: true }, {
      cni: { excludeNamespaces: ['kube-system', 'legacy'], resources: { cpuRequest: '50m', memoryRequest: '64Mi', memoryLimit: '256Mi' } },
    }).chart);
    expect(one(objects, 'ConfigMap', 'istio-cni-config').data.EXCLUDE_NAMESPACES).toBe('kube-system,legacy');
    expect(container(objects).resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } });
  });

  test('deterministic: the same objects, keys in the same order (the YAML written is a function of them)', () => {
    expect(JSON.stringify(Testing.synth(install().chart))).toBe(JSON.stringify(Testing.synth(install().chart)));
  });
});

describe('Istio CNI: bad input', () => {
  test('CNI options on a mesh without cni', () => {
    expect(() => install({ cni: false }, { cni: { platform: CniPlatform.gke() } }))
      .toThrow(/istio: cni .* is invalid: needs a mesh with cni: true/);
    expect(() => install({ cni: false }, { installCni: true })).toThrow(/istio: installCni true is invalid: needs a mesh with cni: true/);
  });

  test('bad paths, namespaces and quantities', () => {
    expect(() => install({ cni: true }, { cni: { platform: CniPlatform.custom({ binDir: 'opt/cni/bin' }) } }))
      .toThrow(/istio\/cni: platform.binDir 'opt\/cni\/bin' is invalid: must be an absolute host path/);
    expect(() => install({ cni: true }, { cni: { platform: CniPlatform.custom({ confDir: '/etc/../root' }) } }))
      .toThrow(/platform.confDir '\/etc\/..\/root' is invalid/);
    expect(() => install({ cni: true }, { cni: { namespace: 'Kube_System' } })).toThrow(/istio\/cni: namespace 'Kube_System' is invalid/);
    expect(() => install({ cni: true }, { cni: { excludeNamespaces: ['ok', 'Not OK'] } })).toThrow(/istio\/cni: excludeNamespaces\[1\] 'Not OK' is invalid/);
    expect(() => install({ cni: true }, { cni: { resources: { cpuRequest: 'lots' } } })).toThrow(/istio\/cni: resources.cpuRequest 'lots' is invalid/);
  });

  test('an IstioCni on its own needs a cni mesh', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', { cni: false });
    expect(() => new IstioCni(chart, 'cni', { mesh })).toThrow(/cni: mesh.cni false is invalid: must be true/);
  });
});
