import * as fs from 'fs';
import { join } from 'path';
import { ApiObject, Chart, IResolver, JsonPatch, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import {
  AccessLogEncoding, DataPlaneMode, DefaultProviderKind, GatewayDeployment, InjectionMode, IstioControlPlane, IstioControlPlaneProps, Mesh,
  MeshGateway, MeshProps, OutboundTrafficPolicy, RoutingApi,
} from '../src';
import { expectValid, one, ofKind, synthValid, withoutCrdBodies, yamlOf } from './util';
import { packageRoot } from '../src/control-plane/crds';
import { gatewayInjectionTemplate, kubeGatewayTemplate } from '../src/control-plane/injection-templates';

/**
 * istiod's install on its own: the Istio CNI node agent, on by default (Mesh `cni`), has its own tests in
 * istio-cni.test.ts, so these meshes opt out unless a test says `cni: true`.
 */
function install(meshProps: MeshProps = {}, props: Partial<IstioControlPlaneProps> = {}) {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', { cni: false, ...meshProps });
  const cp = new IstioControlPlane(chart, 'istio', { mesh, ...props });
  return { chart, mesh, cp };
}

const names = (objects: any[]) => objects.map(o => `${o.kind}/${o.metadata.name}`).sort();

const ISTIO_CRDS = [
  'authorizationpolicies.security.istio.io',
  'destinationrules.networking.istio.io',
  'envoyfilters.networking.istio.io',
  'gateways.networking.istio.io',
  'peerauthentications.security.istio.io',
  'proxyconfigs.networking.istio.io',
  'requestauthentications.security.istio.io',
  'serviceentries.networking.istio.io',
  'sidecars.networking.istio.io',
  'telemetries.telemetry.istio.io',
  'trafficextensions.extensions.istio.io',
  'virtualservices.networking.istio.io',
  'wasmplugins.extensions.istio.io',
  'workloadentries.networking.istio.io',
  'workloadgroups.networking.istio.io',
];

describe('IstioControlPlane: default install', () => {
  const { chart, cp } = install();
  const objects = synthValid(chart);

  test('the object set matches a default base + istiod install', () => {
    // Istio's istiod chart minus the debug-only `values` ConfigMap, plus the base chart and the namespace.
    // istiod's gateway-controller ClusterRole comes only with a gateway Istio deploys (test/zero-trust-namespace.test.ts)
    expect(names(objects)).toEqual([
      'ClusterRole/istio-reader-clusterrole-istio-system',
      'ClusterRole/istiod-clusterrole-istio-system',
      'ClusterRoleBinding/istio-reader-clusterrole-istio-system',
      'ClusterRoleBinding/istiod-clusterrole-istio-system',
      'ConfigMap/istio',
      'ConfigMap/istio-sidecar-injector',
      ...ISTIO_CRDS.map(n => `CustomResourceDefinition/${n}`),
      'Deployment/istiod',
      'HorizontalPodAutoscaler/istiod',
      'MutatingWebhookConfiguration/istio-sidecar-injector',
      'Namespace/istio-system',
      'Role/istiod',
      'RoleBinding/istiod',
      'Service/istiod',
      'ServiceAccount/istio-reader-service-account',
      'ServiceAccount/istiod',
      'ValidatingWebhookConfiguration/istio-validator-istio-system',
      'ValidatingWebhookConfiguration/istiod-default-validator',
    ]);
  });

  test('namespaced objects live in the root namespace, which comes before them', () => {
    const clusterScoped = ['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'MutatingWebhookConfiguration',
      'Namespace', 'ValidatingWebhookConfiguration'];
    for (const o of objects) {
      expect([o.kind, o.metadata.namespace]).toEqual([o.kind, clusterScoped.includes(o.kind) ? undefined : 'istio-system']);
    }
    const nsIndex = objects.findIndex(o => o.kind === 'Namespace');
    const firstNamespaced = objects.findIndex(o => o.metadata.namespace);
    expect(nsIndex).toBeLessThan(firstNamespaced);
    expect(one(objects, 'Namespace').metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'cdk8s-mesh',
      'pod-security.kubernetes.io/enforce': 'baseline',
    });
  });

  test('CRDs: names, standard labels, storage versions; bodies as upstream', () => {
    const crds = ofKind(objects, 'CustomResourceDefinition');
    expect(crds.map(c => c.metadata.name).sort()).toEqual(ISTIO_CRDS);
    const storage = Object.fromEntries(crds.map(c => [c.metadata.name, c.spec.versions.filter((v: any) => v.storage).map((v: any) => v.name)]));
    expect(storage).toEqual({
      'authorizationpolicies.security.istio.io': ['v1'],
      'destinationrules.networking.istio.io': ['v1'],
      'envoyfilters.networking.istio.io': ['v1alpha3'],
      'gateways.networking.istio.io': ['v1'],
      'peerauthentications.security.istio.io': ['v1'],
      'proxyconfigs.networking.istio.io': ['v1beta1'],
      'requestauthentications.security.istio.io': ['v1'],
      'serviceentries.networking.istio.io': ['v1'],
      'sidecars.networking.istio.io': ['v1'],
      'telemetries.telemetry.istio.io': ['v1alpha1'],
      'trafficextensions.extensions.istio.io': ['v1alpha1'],
      'virtualservices.networking.istio.io': ['v1'],
      'wasmplugins.extensions.istio.io': ['v1alpha1'],
      'workloadentries.networking.istio.io': ['v1'],
      'workloadgroups.networking.istio.io': ['v1'],
    });
    for (const c of crds) {
      expect(c.spec.scope).toBe('Namespaced');
      expect(c.metadata.labels).toEqual({
        'app.kubernetes.io/managed-by': 'cdk8s-mesh',
        'app.kubernetes.io/name': 'istio-crds',
        'app.kubernetes.io/part-of': 'istio',
        'app.kubernetes.io/version': '1.30.3',
      });
    }
    expect(cp.crds).toHaveLength(15);
  });

  test('CRDs render exactly as a plain ApiObject of the same content would (rendered once, not resolved per synth)', () => {
    const { cp: patchedCp } = install();
    const crd = patchedCp.crds.find(c => c.name === 'virtualservices.networking.istio.io')!;
    crd.metadata.addAnnotation('example.com/note', 'kept');
    const patches = [JsonPatch.replace('/spec/scope', 'Cluster'), JsonPatch.add('/spec/names/shortNames/-', 'vsx')];
    crd.addJsonPatch(...patches);
    // the bundled file as upstream wrote it (key order and all), not the library's rendered copy
    const upstreamCrds = JSON.parse(fs.readFileSync(join(packageRoot(), 'assets', 'crds', 'istio.json'), 'utf8')).crds;
    const upstream = upstreamCrds.find((c: any) => c.metadata.name === crd.name);
    const rendered = crd.toJson();
    const plain = new ApiObject(Testing.chart(), 'vs', { ...rendered, spec: upstream.spec });
    plain.addJsonPatch(...patches);
    // the same bytes as cdk8s's own rendering (compared as strings: a CRD's diff would be pages long)
    expect(JSON.stringify(rendered) === JSON.stringify(plain.toJson())).toBe(true);
    for (const c of install().cp.crds) {
      const json = c.toJson();
      const spec = upstreamCrds.find((u: any) => u.metadata.name === c.name).spec;
      expect(JSON.stringify(json) === JSON.stringify(new ApiObject(Testing.chart(), 'x', { ...json, spec }).toJson())).toBe(true);
    }
    expect(rendered.spec.scope).toBe('Cluster');
    expect(rendered.spec.names.shortNames).toEqual(['vs', 'vsx']);
    expect(rendered.metadata.annotations['example.com/note']).toBe('kept');
    // the patches applied to a copy: another control plane's CRD is upstream's
    const other = install().cp.crds.find(c => c.name === crd.name)!.toJson();
    expect(other.spec.scope).toBe('Namespaced');
    expect(other.spec.names.shortNames).toEqual(['vs']);
  });

  test('CRDs: a resolver of the App sees the spec as on any ApiObject; CDK8S_DISABLE_SORT keeps upstream order; a bad patch names the construct', () => {
    const upstreamCrds = JSON.parse(fs.readFileSync(join(packageRoot(), 'assets', 'crds', 'istio.json'), 'utf8')).crds;
    const clusterScoped: IResolver = { resolve: ctx => { if (ctx.value === 'Namespaced') ctx.replaceValue('Cluster'); } };
    const app = Testing.app({ resolvers: [clusterScoped] });
    const mesh = new Mesh(new Chart(app, 'm'), 'mesh', { cni: false });
    const resolvedCp = new IstioControlPlane(Chart.of(mesh), 'istio', { mesh });
    const vs = resolvedCp.crds.find(c => c.name === 'virtualservices.networking.istio.io')!;
    const json = vs.toJson();
    expect(json.spec.scope).toBe('Cluster');
    const plain = new ApiObject(new Chart(app, 'plain'), 'vs', { ...json, spec: upstreamCrds.find((u: any) => u.metadata.name === vs.name).spec });
    expect(JSON.stringify(json) === JSON.stringify(plain.toJson())).toBe(true);
    json.spec.scope = 'changed'; // a fresh copy when resolved
    expect(vs.toJson().spec.scope).toBe('Cluster');

    const before = process.env.CDK8S_DISABLE_SORT;
    process.env.CDK8S_DISABLE_SORT = 'true';
    try {
      const unsorted = install().cp.crds[0];
      const upstream = upstreamCrds.find((u: any) => u.metadata.name === unsorted.name).spec;
      expect(Object.keys(unsorted.toJson().spec)).toEqual(Object.keys(upstream).filter(k => upstream[k] != null));
    } finally {
      if (before === undefined) delete process.env.CDK8S_DISABLE_SORT; else process.env.CDK8S_DISABLE_SORT = before;
    }

    const bad = install().cp.crds[0];
    bad.addJsonPatch(JsonPatch.replace('/spec/nothing/here', 1));
    expect(() => bad.toJson()).toThrow(`Failed serializing construct at path '${bad.node.path}'`);
  });

  test('injection webhook: the four entries and their selectors, exactly', () => {
    const mwc = one(objects, 'MutatingWebhookConfiguration');
    const client = { service: { name: 'istiod', namespace: 'istio-system', path: '/inject', port: 443 } };
    const common = {
      admissionReviewVersions: ['v1'],
      clientConfig: client,
      failurePolicy: 'Fail',
      reinvocationPolicy: 'Never',
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
      sideEffects: 'None',
    };
    expect(mwc.webhooks).toEqual([
      {
        ...common,
        name: 'rev.namespace.sidecar-injector.istio.io',
        namespaceSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'In', values: ['default'] }, { key: 'istio-injection', operator: 'DoesNotExist' }] },
        objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
      },
      {
        ...common,
        name: 'rev.object.sidecar-injector.istio.io',
        namespaceSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'DoesNotExist' }, { key: 'istio-injection', operator: 'DoesNotExist' }] },
        objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }, { key: 'istio.io/rev', operator: 'In', values: ['default'] }] },
      },
      {
        ...common,
        name: 'namespace.sidecar-injector.istio.io',
        namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] },
        objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
      },
      {
        ...common,
        name: 'object.sidecar-injector.istio.io',
        namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'DoesNotExist' }, { key: 'istio.io/rev', operator: 'DoesNotExist' }] },
        objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'In', values: ['true'] }, { key: 'istio.io/rev', operator: 'DoesNotExist' }] },
      },
    ]);
  });

  test('validation webhooks: default validator without selector, revision validator with one', () => {
    const rules = [{
      apiGroups: ['security.istio.io', 'networking.istio.io', 'telemetry.istio.io', 'extensions.istio.io'],
      apiVersions: ['*'],
      operations: ['CREATE', 'UPDATE'],
      resources: ['*'],
    }];
    const client = { service: { name: 'istiod', namespace: 'istio-system', path: '/validate', port: 443 } };
    const common = { admissionReviewVersions: ['v1'], clientConfig: client, failurePolicy: 'Ignore', rules, sideEffects: 'None' };
    expect(one(objects, 'ValidatingWebhookConfiguration', 'istiod-default-validator').webhooks).toEqual([
      { ...common, name: 'validation.istio.io' },
    ]);
    expect(one(objects, 'ValidatingWebhookConfiguration', 'istio-validator-istio-system').webhooks).toEqual([
      { ...common, name: 'rev.validation.istio.io', objectSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'In', values: ['default'] }] } },
    ]);
  });

  test('istiod Deployment: image, args, ports, probe, env order, volumes, security', () => {
    const d = one(objects, 'Deployment', 'istiod');
    expect(d.spec.replicas).toBeUndefined();
    expect(d.spec.selector).toEqual({ matchLabels: { istio: 'pilot' } });
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '100%', maxUnavailable: '25%' } });
    const pod = d.spec.template;
    expect(pod.metadata.labels).toMatchObject({
      'app': 'istiod', 'istio.io/rev': 'default', 'sidecar.istio.io/inject': 'false', 'istio': 'pilot', 'istio.io/dataplane-mode': 'none',
    });
    expect(pod.metadata.annotations).toEqual({ 'prometheus.io/port': '15014', 'prometheus.io/scrape': 'true', 'sidecar.istio.io/inject': 'false' });
    expect(pod.spec.serviceAccountName).toBe('istiod');
    expect(pod.spec.tolerations).toEqual([{ key: 'cni.istio.io/not-ready', operator: 'Exists' }]);
    expect(pod.spec.securityContext).toEqual({ seccompProfile: { type: 'RuntimeDefault' } });
    const [c] = pod.spec.containers;
    expect(pod.spec.containers).toHaveLength(1);
    expect(c.name).toBe('discovery');
    expect(c.image).toBe('docker.io/istio/pilot:1.30.3');
    expect(c.args).toEqual(['discovery', '--monitoringAddr=:15014', '--log_output_level=default:info', '--domain', 'cluster.local',
      '--keepaliveMaxServerConnectionAge', '30m']);
    expect(c.ports).toEqual([
      { containerPort: 8080, name: 'http-debug', protocol: 'TCP' },
      { containerPort: 15010, name: 'grpc-xds', protocol: 'TCP' },
      { containerPort: 15012, name: 'tls-xds', protocol: 'TCP' },
      { containerPort: 15017, name: 'https-webhooks', protocol: 'TCP' },
      { containerPort: 15014, name: 'http-monitoring', protocol: 'TCP' },
    ]);
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/ready', port: 8080 }, initialDelaySeconds: 1, periodSeconds: 3, timeoutSeconds: 5 });
    expect(c.livenessProbe).toBeUndefined();
    expect(c.env.map((e: any) => e.name)).toEqual([
      'REVISION', 'PILOT_CERT_PROVIDER', 'POD_NAME', 'POD_NAMESPACE', 'SERVICE_ACCOUNT', 'KUBECONFIG',
      'PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER',
      'PILOT_TRACE_SAMPLING', 'PILOT_ENABLE_ANALYSIS', 'CLUSTER_ID', 'PLATFORM',
    ]);
    expect(c.env.slice(0, 6)).toEqual([
      { name: 'REVISION', value: 'default' },
      { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
      { name: 'SERVICE_ACCOUNT', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.serviceAccountName' } } },
      { name: 'KUBECONFIG', value: '/var/run/secrets/remote/config' },
    ]);
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '2048Mi' } });
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] },
    });
    const mounts = Object.fromEntries(c.volumeMounts.map((m: any) => [m.name, `${m.mountPath}${m.readOnly ? ' (ro)' : ''}`]));
    expect(mounts).toEqual({
      'local-certs': '/var/run/secrets/istio-dns',
      'istio-token': '/var/run/secrets/tokens (ro)',
      'cacerts': '/etc/cacerts (ro)',
      'istio-kubeconfig': '/var/run/secrets/remote (ro)',
      'istio-csr-dns-cert': '/var/run/secrets/istiod/tls (ro)',
      'istio-csr-ca-configmap': '/var/run/secrets/istiod/ca (ro)',
    });
    expect(pod.spec.volumes).toEqual([
      { name: 'local-certs', emptyDir: { medium: 'Memory' } },
      { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } }] } },
      { name: 'cacerts', secret: { secretName: 'cacerts', optional: true } },
      { name: 'istio-kubeconfig', secret: { secretName: 'istio-kubeconfig', optional: true } },
      { name: 'istio-csr-dns-cert', secret: { secretName: 'istiod-tls', optional: true } },
      { name: 'istio-csr-ca-configmap', configMap: { name: 'istio-ca-root-cert', defaultMode: 420, optional: true } },
    ]);
  });

  test('istiod Service and HPA, no PDB with one replica', () => {
    const s = one(objects, 'Service', 'istiod');
    expect(s.spec.selector).toEqual({ app: 'istiod', istio: 'pilot' });
    expect(s.spec.ports).toEqual([
      { port: 15010, name: 'grpc-xds', protocol: 'TCP' },
      { port: 15012, name: 'https-dns', protocol: 'TCP' },
      { port: 443, name: 'https-webhook', targetPort: 15017, protocol: 'TCP' },
      { port: 15014, name: 'http-monitoring', protocol: 'TCP' },
    ]);
    const hpa = one(objects, 'HorizontalPodAutoscaler', 'istiod');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'istiod' },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    });
    expect(ofKind(objects, 'PodDisruptionBudget')).toEqual([]);
  });

  test('mesh config content', () => {
    const cm = one(objects, 'ConfigMap', 'istio');
    expect(YAML.parse(cm.data.meshNetworks)).toEqual({ networks: {} });
    expect(YAML.parse(cm.data.mesh)).toEqual({
      defaultConfig: { discoveryAddress: 'istiod.istio-system.svc:15012' },
      defaultProviders: { metrics: ['prometheus'] },
      enablePrometheusMerge: true,
      outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
      pathNormalization: { normalization: 'DECODE_AND_MERGE_SLASHES' },
      rootNamespace: 'istio-system',
      trustDomain: 'cluster.local',
    });
    // keys sorted, for determinism
    expect(cm.data.mesh).toBe(YAML.stringify(YAML.parse(cm.data.mesh), { sortMapEntries: true, lineWidth: 0 }));
    expect(cp.meshConfig).toEqual(YAML.parse(cm.data.mesh));
  });

  test('injector ConfigMap: values JSON and config YAML', () => {
    const cm = one(objects, 'ConfigMap', 'istio-sidecar-injector');
    const values = JSON.parse(cm.data.values);
    expect(values.global).toMatchObject({ hub: 'docker.io/istio', tag: '1.30.3', istioNamespace: 'istio-system', caAddress: '' });
    expect(values.revision).toBe('');
    const config = YAML.parse(cm.data.config);
    expect(config).toMatchObject({ policy: 'disabled', defaultTemplates: ['sidecar'], alwaysInjectSelector: [], neverInjectSelector: [] });
    expect(Object.keys(config.templates).sort()).toEqual(['gateway', 'kube-gateway', 'sidecar']);
  });

  test('RBAC: bindings point at the right service accounts; least privilege trims', () => {
    const crb = one(objects, 'ClusterRoleBinding', 'istiod-clusterrole-istio-system');
    expect(crb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'istiod', namespace: 'istio-system' }]);
    expect(crb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'istiod-clusterrole-istio-system' });
    expect(one(objects, 'ClusterRoleBinding', 'istio-reader-clusterrole-istio-system').subjects)
      .toEqual([{ kind: 'ServiceAccount', name: 'istio-reader-service-account', namespace: 'istio-system' }]);
    const reader = one(objects, 'ClusterRole', 'istio-reader-clusterrole-istio-system');
    const readerCore = reader.rules.find((r: any) => r.apiGroups[0] === '');
    expect(readerCore.resources).not.toContain('secrets');
    const istiodRules = one(objects, 'ClusterRole', 'istiod-clusterrole-istio-system').rules;
    expect(istiodRules.flatMap((r: any) => r.apiGroups)).not.toContain('multicluster.x-k8s.io');
    expect(one(objects, 'Role', 'istiod').rules.find((r: any) => r.resources.includes('secrets')).verbs)
      .toEqual(['create', 'get', 'watch', 'list', 'update', 'delete']);
    expect(one(objects, 'RoleBinding', 'istiod').roleRef.name).toBe('istiod');
  });

  test('YAML snapshot (CRD bodies left out)', () => {
    expect(yamlOf(withoutCrdBodies(objects))).toMatchSnapshot();
  });
});

describe('IstioControlPlane: revisions', () => {
  // the gateway controller on, so its role's name is checked too
  const { chart } = install({ revision: '1-30' }, { gatewayDeploymentController: true });
  const objects = synthValid(chart);

  test('names carry the revision', () => {
    expect(names(objects).filter(n => !n.startsWith('CustomResourceDefinition/'))).toEqual([
      'ClusterRole/istio-reader-clusterrole-1-30-istio-system',
      'ClusterRole/istiod-clusterrole-1-30-istio-system',
      'ClusterRole/istiod-gateway-controller-1-30-istio-system',
      'ClusterRoleBinding/istio-reader-clusterrole-1-30-istio-system',
      'ClusterRoleBinding/istiod-clusterrole-1-30-istio-system',
      'ClusterRoleBinding/istiod-gateway-controller-1-30-istio-system',
      'ConfigMap/istio-1-30',
      'ConfigMap/istio-sidecar-injector-1-30',
      'Deployment/istiod-1-30',
      'HorizontalPodAutoscaler/istiod-1-30',
      'MutatingWebhookConfiguration/istio-sidecar-injector-1-30',
      'Namespace/istio-system',
      'Role/istiod-1-30',
      'RoleBinding/istiod-1-30',
      'Service/istiod-1-30',
      'ServiceAccount/istio-reader-service-account',
      'ServiceAccount/istiod-1-30',
      'ValidatingWebhookConfiguration/istio-validator-1-30-istio-system',
    ]);
  });

  test('labels, selectors and REVISION', () => {
    const d = one(objects, 'Deployment', 'istiod-1-30');
    expect(d.metadata.labels['istio.io/rev']).toBe('1-30');
    expect(d.spec.selector.matchLabels).toEqual({ 'app': 'istiod', 'istio.io/rev': '1-30' });
    expect(d.spec.template.metadata.labels['istio.io/rev']).toBe('1-30');
    expect(d.spec.template.spec.serviceAccountName).toBe('istiod-1-30');
    expect(d.spec.template.spec.containers[0].env[0]).toEqual({ name: 'REVISION', value: '1-30' });
    expect(one(objects, 'Service', 'istiod-1-30').spec.selector).toEqual({ 'app': 'istiod', 'istio.io/rev': '1-30' });
    expect(YAML.parse(one(objects, 'ConfigMap', 'istio-1-30').data.mesh).defaultConfig.discoveryAddress).toBe('istiod-1-30.istio-system.svc:15012');
    expect(JSON.parse(one(objects, 'ConfigMap', 'istio-sidecar-injector-1-30').data.values).revision).toBe('1-30');
    expect(one(objects, 'ClusterRoleBinding', 'istiod-clusterrole-1-30-istio-system').subjects[0].name).toBe('istiod-1-30');
  });

  test('webhooks: only the rev entries, selecting the revision', () => {
    const mwc = one(objects, 'MutatingWebhookConfiguration');
    expect(mwc.webhooks.map((w: any) => w.name)).toEqual(['rev.namespace.sidecar-injector.istio.io', 'rev.object.sidecar-injector.istio.io']);
    expect(mwc.webhooks[0].namespaceSelector.matchExpressions[0]).toEqual({ key: 'istio.io/rev', operator: 'In', values: ['1-30'] });
    expect(mwc.webhooks[1].objectSelector.matchExpressions[1]).toEqual({ key: 'istio.io/rev', operator: 'In', values: ['1-30'] });
    for (const w of mwc.webhooks) expect(w.clientConfig.service.name).toBe('istiod-1-30');
    const v = one(objects, 'ValidatingWebhookConfiguration');
    expect(v.webhooks[0].objectSelector).toEqual({ matchExpressions: [{ key: 'istio.io/rev', operator: 'In', values: ['1-30'] }] });
    expect(v.webhooks[0].clientConfig.service.name).toBe('istiod-1-30');
  });

  test('a second revision beside the default one: no duplicate base objects (nor a second CNI agent)', () => {
    const c = Testing.chart();
    const stable = new Mesh(c, 'stable');
    const canary = new Mesh(c, 'canary', { revision: '1-31', version: '1.31.0' });
    new IstioControlPlane(c, 'istio', { mesh: stable });
    expect(() => new IstioControlPlane(c, 'istio-canary', { mesh: canary, installCrds: false, createNamespace: false }))
      .toThrow(/test\/istio-canary: installCni .* is invalid: must be false: test\/istio already installs the Istio CNI node agent/);
    new IstioControlPlane(c, 'istio-canary2', { mesh: canary, installCrds: false, createNamespace: false, installCni: false });
    const all = synthValid(c);
    const n = names(all);
    expect(new Set(n).size).toBe(n.length);
    expect(one(all, 'Deployment', 'istiod-1-31').spec.template.spec.containers[0].image).toBe('docker.io/istio/pilot:1.31.0');
  });

  test('a non-default root namespace suffixes the injection webhook name', () => {
    const { chart: c } = install({ rootNamespace: 'mesh-system' });
    const all = synthValid(c);
    expect(ofKind(all, 'MutatingWebhookConfiguration').map(o => o.metadata.name)).toEqual(['istio-sidecar-injector-mesh-system']);
    expect(ofKind(all, 'ValidatingWebhookConfiguration').map(o => o.metadata.name).sort()).toEqual(['istio-validator-mesh-system', 'istiod-default-validator']);
  });
});

describe('IstioControlPlane: options', () => {
  test('fixed replicas: no HPA, replicas set, PDB with minAvailable 1', () => {
    const { chart } = install({}, { replicas: 3 });
    const objects = synthValid(chart);
    expect(ofKind(objects, 'HorizontalPodAutoscaler')).toEqual([]);
    expect(one(objects, 'Deployment').spec.replicas).toBe(3);
    expect(one(objects, 'PodDisruptionBudget', 'istiod').spec).toEqual({ minAvailable: 1, selector: { matchLabels: { istio: 'pilot' } } });
  });

  test('autoscaling from 2 adds a PDB; one fixed replica does not', () => {
    const a = install({}, { autoscaling: { minReplicas: 2, maxReplicas: 6, cpuTargetPercent: 70 } });
    const objects = synthValid(a.chart);
    expect(one(objects, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(one(objects, 'HorizontalPodAutoscaler').spec.metrics[0].resource.target.averageUtilization).toBe(70);
    expect(ofKind(objects, 'PodDisruptionBudget')).toHaveLength(1);
    expect(a.cp.podDisruptionBudget).toBeDefined();
    const b = install({}, { replicas: 1 });
    const bo = synthValid(b.chart);
    expect(ofKind(bo, 'PodDisruptionBudget')).toEqual([]);
    expect(ofKind(bo, 'HorizontalPodAutoscaler')).toEqual([]);
  });

  test('resources, env, placement', () => {
    const { chart } = install({}, {
      resources: { cpuRequest: '1', memoryRequest: '1Gi', cpuLimit: '2', memoryLimit: '4Gi' },
      env: { PILOT_ENABLE_STATUS: 'true', A_FLAG: 'x' },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'mesh', effect: 'NoSchedule' }],
      affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'istiod' } } } }] } },
    });
    const objects = synthValid(chart);
    const pod = one(objects, 'Deployment').spec.template.spec;
    expect(pod.containers[0].resources).toEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } });
    expect(pod.containers[0].env.map((e: any) => e.name)).toEqual([
      'REVISION', 'PILOT_CERT_PROVIDER', 'POD_NAME', 'POD_NAMESPACE', 'SERVICE_ACCOUNT', 'KUBECONFIG',
      'PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER', 'A_FLAG', 'PILOT_ENABLE_STATUS',
      'PILOT_TRACE_SAMPLING', 'PILOT_ENABLE_ANALYSIS', 'CLUSTER_ID', 'PLATFORM',
    ]);
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.tolerations).toHaveLength(2);
    expect(pod.affinity.podAntiAffinity).toBeDefined();
  });

  test('mesh config: access logging, providers, outbound policy, trust domain, overrides', () => {
    const { chart, cp } = install({ trustDomain: 'example.org', outboundTrafficPolicy: OutboundTrafficPolicy.REGISTRY_ONLY }, {
      accessLogging: true,
      accessLogEncoding: AccessLogEncoding.JSON,
      defaultProviders: { tracing: ['otel'] },
      meshConfigOverrides: { defaultConfig: { holdApplicationUntilProxyStarts: true } },
    });
    cp.addExtensionProvider('otel', { opentelemetry: { service: 'otel.observability.svc.cluster.local', port: 4317 } });
    cp.addExtensionProvider('als', { envoyOtelAls: { service: 'otel.observability.svc.cluster.local', port: 4317 } });
    cp.addDefaultProvider(DefaultProviderKind.ACCESS_LOGGING, 'als');
    cp.addDefaultProvider(DefaultProviderKind.ACCESS_LOGGING, 'als');
    const objects = synthValid(chart);
    const mesh = YAML.parse(one(objects, 'ConfigMap', 'istio').data.mesh);
    expect(mesh).toEqual({
      accessLogEncoding: 'JSON',
      accessLogFile: '/dev/stdout',
      defaultConfig: { discoveryAddress: 'istiod.istio-system.svc:15012', holdApplicationUntilProxyStarts: true },
      defaultProviders: { accessLogging: ['als'], metrics: ['prometheus'], tracing: ['otel'] },
      enablePrometheusMerge: true,
      extensionProviders: [
        { name: 'als', envoyOtelAls: { port: 4317, service: 'otel.observability.svc.cluster.local' } },
        { name: 'otel', opentelemetry: { port: 4317, service: 'otel.observability.svc.cluster.local' } },
      ],
      outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
      pathNormalization: { normalization: 'DECODE_AND_MERGE_SLASHES' },
      rootNamespace: 'istio-system',
      trustDomain: 'example.org',
    });
    expect(cp.meshConfig).toEqual(mesh);
  });

  test('least privilege: no gateway controller role, multicluster rules only when asked', () => {
    const a = install({}, { gatewayDeploymentController: false });
    const objects = synthValid(a.chart);
    expect(ofKind(objects, 'ClusterRole').map(o => o.metadata.name).sort()).toEqual([
      'istio-reader-clusterrole-istio-system', 'istiod-clusterrole-istio-system',
    ]);
    expect(one(objects, 'Deployment').spec.template.spec.containers[0].env)
      .toContainEqual({ name: 'PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER', value: 'false' });
    const b = install({}, { multicluster: true });
    const bo = synthValid(b.chart);
    const reader = one(bo, 'ClusterRole', 'istio-reader-clusterrole-istio-system');
    expect(reader.rules.find((r: any) => r.apiGroups[0] === '').resources).toContain('secrets');
    expect(one(bo, 'ClusterRole', 'istiod-clusterrole-istio-system').rules.flatMap((r: any) => r.apiGroups)).toContain('multicluster.x-k8s.io');
  });

  test('without CRDs or namespace', () => {
    const { chart, cp } = install({}, { installCrds: false, createNamespace: false });
    const objects = synthValid(chart);
    expect(ofKind(objects, 'CustomResourceDefinition')).toEqual([]);
    expect(ofKind(objects, 'Namespace')).toEqual([]);
    expect(ofKind(objects, 'ServiceAccount').map(o => o.metadata.name)).toEqual(['istiod']);
    expect(cp.namespace).toBeUndefined();
  });

  test('webhook injection mode: templates are installed and the policy is enabled', () => {
    const { chart } = install({ injectionMode: InjectionMode.WEBHOOK }, { injectionTemplates: { sidecar: 'spec: {}\n' } });
    const objects = synthValid(chart);
    const config = YAML.parse(one(objects, 'ConfigMap', 'istio-sidecar-injector').data.config);
    expect(config.policy).toBe('enabled');
    expect(config.templates.sidecar).toBe('spec: {}\n');
    expect(Object.keys(config.templates).sort()).toEqual(['gateway', 'kube-gateway', 'sidecar']);
    expect(one(objects, 'Deployment').spec.template.spec.containers[0].env).toContainEqual({ name: 'ENABLE_NATIVE_SIDECARS', value: 'true' });
  });

  test('deterministic: synthesizing twice gives the same objects, keys in the same order (the YAML written is a function of them)', () => {
    const build = () => {
      const { chart, cp } = install({ revision: '1-30' }, { replicas: 2, accessLogging: true });
      cp.addExtensionProvider('b', { zipkin: { service: 'zipkin.tracing.svc.cluster.local', port: 9411 } });
      cp.addExtensionProvider('a', { zipkin: { service: 'zipkin.tracing.svc.cluster.local', port: 9411 } });
      return JSON.stringify(Testing.synth(chart));
    };
    expect(build()).toBe(build());
  });
});

describe('IstioControlPlane: bad input', () => {
  const expectInvalid = (fn: () => void, message: RegExp) => expect(fn).toThrow(message);

  test('invalid resource quantities', () => {
    expectInvalid(() => install({}, { resources: { cpuRequest: 'lots' } }), /istio: resources.cpuRequest 'lots' is invalid: must be a Kubernetes quantity/);
    expectInvalid(() => install({}, { resources: { memoryLimit: '2 GB' } }), /resources.memoryLimit '2 GB' is invalid/);
  });

  test('replicas below 1', () => {
    expectInvalid(() => install({}, { replicas: 0 }), /istio: replicas 0 is invalid: must be a whole number from 1 to 100/);
  });

  test('replicas and autoscaling together', () => {
    expectInvalid(() => install({}, { replicas: 2, autoscaling: { maxReplicas: 3 } }), /replicas 2 is invalid: set either replicas .* or autoscaling, not both/);
  });

  test('autoscaling min above max', () => {
    expectInvalid(() => install({}, { autoscaling: { minReplicas: 4, maxReplicas: 2 } }),
      /istio: autoscaling.minReplicas 4 is invalid: must not exceed autoscaling.maxReplicas \(2\)/);
  });

  test('autoscaling CPU target out of range', () => {
    expectInvalid(() => install({}, { autoscaling: { cpuTargetPercent: 0 } }), /autoscaling.cpuTargetPercent 0 is invalid/);
  });

  test('a bad revision on the mesh names the field', () => {
    expectInvalid(() => install({ revision: '1.30' }), /mesh: revision '1.30' is invalid: must be a DNS label/);
  });

  test('env: bad names and overriding the control plane', () => {
    expectInvalid(() => install({}, { env: { '1BAD': 'x' } }), /istio: env '1BAD' is invalid: must be an environment variable name/);
    expectInvalid(() => install({}, { env: { REVISION: 'x' } }), /istio: env 'REVISION' is invalid: is set by the control plane itself/);
  });

  test('node selector labels', () => {
    expectInvalid(() => install({}, { nodeSelector: { 'bad key!': 'x' } }), /nodeSelector key 'bad key!' is invalid/);
  });

  test('access log file must be absolute', () => {
    expectInvalid(() => install({}, { accessLogging: true, accessLogFile: 'logs/access' }), /accessLogFile 'logs\/access' is invalid: must be an absolute path/);
  });

  test('webhook injection without templates', () => {
    expectInvalid(() => install({ injectionMode: InjectionMode.WEBHOOK }), /istio: injectionTemplates \(not set\) is invalid: are required with InjectionMode.WEBHOOK/);
  });

  test('extension providers: duplicates and malformed configs', () => {
    const { cp } = install();
    cp.addExtensionProvider('otel', { opentelemetry: { service: 'x', port: 1 } });
    expect(() => cp.addExtensionProvider('otel', { opentelemetry: { service: 'y', port: 1 } })).toThrow(/extensionProviders name 'otel' is invalid: must be unique/);
    expect(() => cp.addExtensionProvider('two', { zipkin: {}, opentelemetry: {} })).toThrow(/extensionProviders\['two'\] .* is invalid: must have exactly one key/);
    expect(() => cp.addExtensionProvider('bad name', { zipkin: {} })).toThrow(/extensionProviders name 'bad name' is invalid/);
  });

  test('a mesh from attributes (another chart) works too', () => {
    // a control plane's mesh may come from another chart (Mesh.fromAttributes)
    const app = Testing.app();
    const c = new Chart(app, 'platform');
    const mesh = Mesh.fromAttributes(c, 'mesh', { revision: '1-30' });
    const cp = new IstioControlPlane(c, 'istio', { mesh });
    expect(cp.istiodName).toBe('istiod-1-30');
  });
});

describe('IstioControlPlane: fidelity to Istio 1.30.3 (issue 14)', () => {
  const rulesOf = (objects: any[], name = 'istiod-clusterrole-istio-system') => one(objects, 'ClusterRole', name).rules as any[];
  const grants = (rules: any[], group: string, resource: string, verb: string) =>
    rules.some(r => r.apiGroups.includes(group) && (r.resources.includes(resource) || r.resources.includes('*')) && (r.verbs.includes(verb) || r.verbs.includes('*')));

  test('istiod writes status of every standard Gateway API kind it watches, listenersets included', () => {
    const rules = rulesOf(synthValid(install().chart));
    for (const kind of ['backendtlspolicies', 'gatewayclasses', 'gateways', 'grpcroutes', 'httproutes', 'listenersets',
      'referencegrants', 'tcproutes', 'tlsroutes', 'udproutes']) {
      expect(grants(rules, 'gateway.networking.k8s.io', `${kind}/status`, 'update')).toBe(true);
      expect(grants(rules, 'gateway.networking.k8s.io', `${kind}/status`, 'patch')).toBe(true);
    }
    // switched off by default: no rights on the experimental and inference groups
    expect(rules.flatMap(r => r.apiGroups)).not.toContain('gateway.networking.x-k8s.io');
    expect(rules.flatMap(r => r.apiGroups)).not.toContain('inference.networking.k8s.io');
  });

  test('env switches that start informers get the RBAC they need', () => {
    const alpha = rulesOf(synthValid(install({}, { env: { PILOT_ENABLE_ALPHA_GATEWAY_API: 'true' } }).chart));
    expect(grants(alpha, 'gateway.networking.x-k8s.io', 'xbackendtrafficpolicies', 'watch')).toBe(true);
    expect(grants(alpha, 'gateway.networking.x-k8s.io', 'xbackendtrafficpolicies/status', 'patch')).toBe(true);
    const inference = rulesOf(synthValid(install({}, { env: { ENABLE_GATEWAY_API_INFERENCE_EXTENSION: '1' } }).chart));
    expect(grants(inference, 'inference.networking.k8s.io', 'inferencepools', 'list')).toBe(true);
    expect(grants(inference, 'inference.networking.k8s.io', 'inferencepools/status', 'update')).toBe(true);
    for (const flag of ['ENABLE_MCS_SERVICE_DISCOVERY', 'ENABLE_MCS_AUTO_EXPORT', 'ENABLE_MCS_HOST', 'ENABLE_MCS_CLUSTER_LOCAL']) {
      const objects = synthValid(install({}, { env: { [flag]: 'true' } }).chart);
      expect(grants(rulesOf(objects), 'multicluster.x-k8s.io', 'serviceexports', 'create')).toBe(true);
      expect(grants(rulesOf(objects), 'multicluster.x-k8s.io', 'serviceimports', 'watch')).toBe(true);
    }
    // a custom MCS group moves the rules to that group
    const custom = rulesOf(synthValid(install({}, { env: { ENABLE_MCS_SERVICE_DISCOVERY: 'true', MCS_API_GROUP: 'mcs.example.com' } }).chart));
    expect(grants(custom, 'mcs.example.com', 'serviceexports', 'create')).toBe(true);
    expect(custom.flatMap(r => r.apiGroups)).not.toContain('multicluster.x-k8s.io');
    // explicitly off: nothing granted
    const off = rulesOf(synthValid(install({}, { env: { PILOT_ENABLE_ALPHA_GATEWAY_API: 'false' } }).chart));
    expect(off.flatMap(r => r.apiGroups)).not.toContain('gateway.networking.x-k8s.io');
  });

  test('env switches this install cannot serve are refused by name', () => {
    expect(() => install({}, { env: { ENABLE_CLUSTER_TRUST_BUNDLE_API: 'true' } }))
      .toThrow(/istio: env 'ENABLE_CLUSTER_TRUST_BUNDLE_API' is invalid: .*istio-ca-root-cert/);
    expect(() => install({}, { env: { EXTERNAL_CA: 'ISTIOD_RA_KUBERNETES_API' } }))
      .toThrow(/istio: env 'EXTERNAL_CA' is invalid: .*MeshCertificates.istioCsr/);
    expect(() => install({}, { env: { PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER: 'false' } }))
      .toThrow(/istio: env 'PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER' is invalid: .*gatewayDeploymentController/);
    expect(() => install({}, { env: { ENABLE_MCS_HOST: 'true', MCS_API_GROUP: 'Not A Group' } }))
      .toThrow(/istio: env\['MCS_API_GROUP'\] 'Not A Group' is invalid/);
    expect(() => install({}, { env: { PILOT_ENABLE_ALPHA_GATEWAY_API: 'yes' } }))
      .toThrow(/istio: env\['PILOT_ENABLE_ALPHA_GATEWAY_API'\] 'yes' is invalid: must be a boolean/);
  });
});

describe('IstioControlPlane: injector values are complete (Istio 1.30.3 istio-discovery chart)', () => {
  // Every leaf key of the chart's injector `values` (its pick of global, sidecarInjectorWebhook, revision, pilot.cni,
  // pilot.env and gateways.securityContext/seccompProfile) at tag 1.30.3: 81 keys.
  const CHART_KEYS = [
    'global.istioNamespace', 'global.certSigners', 'global.defaultPodDisruptionBudget.enabled',
    'global.defaultResources.requests.cpu', 'global.hub', 'global.tag', 'global.variant', 'global.imagePullPolicy',
    'global.imagePullSecrets', 'global.istiod.enableAnalysis', 'global.logAsJson', 'global.nativeNftables',
    'global.logging.level', 'global.networkPolicy.enabled', 'global.omitSidecarInjectorConfigMap', 'global.resourceScope',
    'global.operatorManageWebhooks', 'global.priorityClassName', 'global.proxy.image', 'global.proxy.autoInject',
    'global.proxy.clusterDomain', 'global.proxy.componentLogLevel', 'global.proxy.excludeInboundPorts',
    'global.proxy.includeInboundPorts', 'global.proxy.includeIPRanges', 'global.proxy.excludeIPRanges',
    'global.proxy.includeOutboundPorts', 'global.proxy.excludeOutboundPorts', 'global.proxy.logLevel',
    'global.proxy.outlierLogPath', 'global.proxy.privileged', 'global.proxy.seccompProfile',
    'global.proxy.readinessFailureThreshold', 'global.proxy.readinessInitialDelaySeconds',
    'global.proxy.readinessPeriodSeconds', 'global.proxy.startupProbe.enabled', 'global.proxy.startupProbe.failureThreshold',
    'global.proxy.resources.requests.cpu', 'global.proxy.resources.requests.memory', 'global.proxy.resources.limits.cpu',
    'global.proxy.resources.limits.memory', 'global.proxy.statusPort', 'global.proxy.tracer', 'global.proxy_init.image',
    'global.proxy_init.forceApplyIptables', 'global.remotePilotAddress', 'global.caAddress', 'global.externalIstiod',
    'global.configCluster', 'global.configValidation', 'global.meshID', 'global.meshNetworks', 'global.mountMtlsCerts',
    'global.multiCluster.clusterName', 'global.network', 'global.pilotCertProvider', 'global.sds.token.aud',
    'global.sts.servicePort', 'global.caName', 'global.waypoint.resources.requests.cpu',
    'global.waypoint.resources.requests.memory', 'global.waypoint.resources.limits.cpu',
    'global.waypoint.resources.limits.memory', 'global.waypoint.affinity', 'global.waypoint.topologySpreadConstraints',
    'global.waypoint.nodeSelector', 'global.waypoint.tolerations', 'sidecarInjectorWebhook.neverInjectSelector',
    'sidecarInjectorWebhook.alwaysInjectSelector', 'sidecarInjectorWebhook.injectedAnnotations',
    'sidecarInjectorWebhook.enableNamespacesByDefault', 'sidecarInjectorWebhook.reinvocationPolicy',
    'sidecarInjectorWebhook.rewriteAppHTTPProbe', 'sidecarInjectorWebhook.templates',
    'sidecarInjectorWebhook.defaultTemplates', 'revision', 'pilot.cni.enabled', 'pilot.cni.provider', 'pilot.env',
    'gateways.securityContext', 'gateways.seccompProfile',
  ];
  const at = (o: any, path: string) => path.split('.').reduce((v, k) => (v === undefined || v === null ? undefined : v[k]), o);

  test('every key the chart gives the injection templates is there (none would render <nil>)', () => {
    expect(CHART_KEYS).toHaveLength(81);
    const { chart } = install({ injectionMode: InjectionMode.WEBHOOK }, { injectionTemplates: { sidecar: 'spec: {}\n' } });
    const values = JSON.parse(one(synthValid(chart), 'ConfigMap', 'istio-sidecar-injector').data.values);
    const missing = CHART_KEYS.filter(k => at(values, k) === undefined || at(values, k) === null);
    expect(missing).toEqual([]);
  });

  test('chart defaults, with the mesh settings where the mesh has them', () => {
    const { chart } = install({ cni: true, revision: '1-30', hub: 'gcr.io/istio-release', proxyResources: { cpuLimit: '1' } });
    const values = JSON.parse(one(synthValid(chart), 'ConfigMap', 'istio-sidecar-injector-1-30').data.values);
    expect(values.global.proxy).toMatchObject({
      readinessInitialDelaySeconds: 0,
      readinessPeriodSeconds: 15,
      readinessFailureThreshold: 4,
      startupProbe: { enabled: true, failureThreshold: 600 },
      logLevel: 'warning',
      componentLogLevel: 'misc:error',
      includeIPRanges: '*',
      excludeIPRanges: '',
      includeInboundPorts: '*',
      tracer: 'none',
      privileged: false,
      statusPort: 15020,
      autoInject: 'disabled',
      image: 'proxyv2',
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } },
    });
    expect(values.global).toMatchObject({
      hub: 'gcr.io/istio-release',
      tag: '1.30.3',
      logging: { level: 'default:info' },
      sds: { token: { aud: 'istio-ca' } },
      sts: { servicePort: 0 },
      caName: '',
      meshID: '',
      mountMtlsCerts: false,
      imagePullSecrets: [],
      pilotCertProvider: 'istiod',
    });
    expect(values.revision).toBe('1-30');
    expect(values.pilot.cni).toEqual({ enabled: true, provider: 'default' });
    expect(values.gateways).toEqual({ securityContext: {}, seccompProfile: {} });
  });
});

describe('IstioControlPlane: gateway and kube-gateway templates (Istio 1.30.3 istio-discovery chart)', () => {
  const templatesOf = (objects: any[], name = 'istio-sidecar-injector') =>
    YAML.parse(one(objects, 'ConfigMap', name).data.config).templates as { [name: string]: string };
  // The Go template with every action replaced by a literal and every control line dropped: the YAML skeleton.
  const skeleton = (t: string) => t.split('\n').filter(l => !/^\s*\{\{-/.test(l)).join('\n').replace(/\{\{.*\}\}/g, '"x"');

  test('the injector ConfigMap installs gateway and kube-gateway beside sidecar (istiod deploys ISTIO_AUTOMATED gateways)', () => {
    const templates = templatesOf(synthValid(install().chart));
    expect(Object.keys(templates).sort()).toEqual(['gateway', 'kube-gateway', 'sidecar']);
    const docs = YAML.parseAllDocuments(skeleton(templates['kube-gateway'])).map(d => d.toJS());
    expect(docs.map(d => `${d.apiVersion}/${d.kind}`)).toEqual([
      'v1/ServiceAccount', 'apps/v1/Deployment', 'v1/Service', 'autoscaling/v2/HorizontalPodAutoscaler', 'policy/v1/PodDisruptionBudget',
    ]);
    const gateway = YAML.parse(skeleton(templates.gateway));
    expect(gateway.spec.containers.map((c: any) => c.name)).toEqual(['istio-proxy']);
  });

  test('kube-gateway: the objects istiod renders from it are schema-valid and carry the mesh settings', () => {
    const { mesh } = install({ revision: '1-30', trustDomain: 'prod.example.com' });
    const objects = kubeGatewayTemplate(mesh, 'sample');
    expectValid(objects);
    const d = objects.find((o: any) => o.kind === 'Deployment');
    const proxy = d.spec.template.spec.containers[0];
    const env = Object.fromEntries(proxy.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ CA_ADDR: 'istiod-1-30.istio-system.svc:15012', TRUST_DOMAIN: 'prod.example.com', ISTIO_META_CLUSTER_ID: 'Kubernetes' });
    expect(d.spec.template.metadata.annotations['istio.io/rev']).toBe('1-30');
    expect(d.spec.template.metadata.labels['sidecar.istio.io/inject']).toBe('false');
    expect(proxy.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(d.spec.template.spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    for (const o of objects) expect(o.metadata.ownerReferences[0]).toMatchObject({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway' });
    // the Go text: render-time slots are Go actions, mesh settings are literals
    const text: string = kubeGatewayTemplate(mesh);
    expect(text).toContain('name: {{ .DeploymentName | quote }}');
    expect(text).toContain('{{- range .Ports }}');
    expect(text).toContain('value: istiod-1-30.istio-system.svc:15012');
    expect(text).not.toMatch(/GO(VALUE|BLOCK)\d/);
  });

  test('gateway: the injected gateway pod is schema-valid', () => {
    const { mesh } = install();
    const [patch] = gatewayInjectionTemplate(mesh, 'sample');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'istio-ingressgateway-0', labels: patch.metadata.labels, annotations: patch.metadata.annotations },
      spec: { ...patch.spec, containers: patch.spec.containers },
    };
    expectValid([pod]);
    expect(patch.spec.containers[0].image).toBe('docker.io/istio/proxyv2:1.30.3');
    expect(gatewayInjectionTemplate(mesh)).not.toMatch(/GO(VALUE|BLOCK)\d/);
  });

  test('an ISTIO_AUTOMATED MeshGateway gets pods from kube-gateway, with the identity and labels its policies expect', () => {
    const { chart, mesh } = install();
    const g = new MeshGateway(chart, 'ingress', {
      mesh, hosts: ['shop.example.com'], routingApi: RoutingApi.GATEWAY_API, deployment: GatewayDeployment.ISTIO_AUTOMATED,
    });
    const objects = synthValid(chart);
    expect(one(objects, 'Gateway').spec.gatewayClassName).toBe('istio');
    const text = templatesOf(objects)['kube-gateway'];
    // istiod names the ServiceAccount <gateway>-istio (TemplateInput.ServiceAccount) and selects pods by gateway name
    expect(text).toContain('serviceAccountName: {{ .ServiceAccount | quote }}');
    expect(g.principal).toBe(`cluster.local/ns/${one(objects, 'Gateway').metadata.namespace}/sa/${one(objects, 'Gateway').metadata.name}-istio`);
    const sample = kubeGatewayTemplate(mesh, 'sample').find((o: any) => o.kind === 'Deployment');
    expect(Object.keys(sample.spec.template.metadata.labels)).toEqual(expect.arrayContaining(Object.keys(g.podSelector)));
    expect(Object.keys(sample.spec.selector.matchLabels)).toEqual(Object.keys(g.podSelector));
  });

  test('injectionTemplates replace a template by name, the others stay', () => {
    const templates = templatesOf(synthValid(install({ injectionMode: InjectionMode.WEBHOOK },
      { injectionTemplates: { 'sidecar': 'spec: {}\n', 'kube-gateway': 'custom\n' } }).chart));
    expect(templates['kube-gateway']).toBe('custom\n');
    expect(templates.sidecar).toBe('spec: {}\n');
    expect(templates.gateway).toContain('istio-proxy');
  });
});

describe('IstioControlPlane: mesh-wide proxy settings reach istiod and its templates', () => {
  test('meshConfig.defaultConfig is the mesh default ProxyConfig (the one synth-time injection writes into PROXY_CONFIG)', () => {
    const { chart, cp } = install({
      defaultProxyConfig: { holdApplicationUntilProxyStarts: true, concurrency: 2, proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true' } },
    });
    synthValid(chart);
    expect(cp.meshConfig.defaultConfig).toEqual({
      discoveryAddress: 'istiod.istio-system.svc:15012',
      holdApplicationUntilProxyStarts: true,
      concurrency: 2,
      proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true' },
    });
  });

  test('network and image pull secrets: injector values and both gateway templates', () => {
    const { chart, mesh } = install({ network: 'net-east', imagePullSecrets: ['regcred'] });
    const objects = synthValid(chart);
    const values = JSON.parse(one(objects, 'ConfigMap', 'istio-sidecar-injector').data.values);
    expect(values.global.network).toBe('net-east');
    expect(values.global.imagePullSecrets).toEqual(['regcred']);
    for (const build of [kubeGatewayTemplate, gatewayInjectionTemplate]) {
      const rendered = build(mesh, 'sample');
      expectValid(rendered.filter((o: any) => o.kind));
      const pod = rendered.find((o: any) => o.kind === 'Deployment')?.spec.template.spec ?? rendered[0].spec;
      expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }]);
      expect(pod.containers[0].env).toContainEqual({ name: 'ISTIO_META_NETWORK', value: 'net-east' });
    }
    // a Gateway's own topology.istio.io/network label wins over the mesh's network
    expect(kubeGatewayTemplate(mesh)).toContain('valueOrDefault (index .InfrastructureLabels "topology.istio.io/network") "net-east"');
  });

  test('image pull secrets on the control plane\'s own ServiceAccounts (istiod, istio-reader, istio-cni, ztunnel), as the 1.30.3 charts write them', () => {
    const { chart } = install({ imagePullSecrets: ['regcred', 'mirror'], cni: true, dataPlaneMode: DataPlaneMode.AMBIENT });
    const accounts = synthValid(chart).filter(o => o.kind === 'ServiceAccount');
    expect(accounts.map(a => a.metadata.name).sort()).toEqual(['istio-cni', 'istio-reader-service-account', 'istiod', 'ztunnel']);
    for (const a of accounts) expect([a.metadata.name, a.imagePullSecrets]).toEqual([a.metadata.name, [{ name: 'regcred' }, { name: 'mirror' }]]);
    // none without the setting
    expect(synthValid(install({ cni: true }).chart).filter(o => o.kind === 'ServiceAccount' && o.imagePullSecrets)).toEqual([]);
  });
});
