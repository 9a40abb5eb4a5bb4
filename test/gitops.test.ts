import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as nodePath from 'path';
import { ApiObject, App, Chart, Duration, JsonPatch, Testing, YamlOutputType } from 'cdk8s';
import {
  ArgoCdDelivery, ArgoCdDeliveryProps, ArgoCdHealthChecks, ArgoSyncPolicy, CrdSyncMethod, SkipDryRunScope, SyncWaves,
} from '../src';
import { expectValid, ofKind, one, yamlOf } from './util';
import { MeshValidationError } from '../src/errors';

/**
 * Synthesizes and validates strictly, except PrometheusRule: its CRD has a Go regexp (`^(?i)(abort|warn)?$`) that
 * the shared schema helper (ajv, JavaScript regexps) cannot compile. Reported to the coordinator.
 */
function synthValid(chart: Chart): any[] {
  const objects = Testing.synth(chart);
  expectValid(objects.filter(o => o.kind !== 'PrometheusRule'));
  return objects;
}
function synthAppValid(app: App): any[] {
  return app.charts.flatMap(synthValid);
}

const WAVE = 'argocd.argoproj.io/sync-wave';
const OPTIONS = 'argocd.argoproj.io/sync-options';
const REPO = 'https://github.com/acme/platform.git';

// ---------------------------------------------------------------------------------------------------------------
// fixtures: one object of every kind the library emits, each valid against its upstream schema

/** A minimal CRD for a kind (the schema check validates it against Kubernetes' CRD definition). */
function crd(scope: Chart, group: string, kind: string, plural: string, clusterScoped = false) {
  return new ApiObject(scope, `crd-${plural}.${group}`, {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      scope: clusterScoped ? 'Cluster' : 'Namespaced',
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { 'type': 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  });
}

function obj(scope: Chart, apiVersion: string, kind: string, name: string, body: any = {}, labels?: Record<string, string>, namespace?: string) {
  return new ApiObject(scope, `${kind}-${name}`, { apiVersion, kind, metadata: { name, labels, namespace }, ...body });
}

const podTemplate = (labels: Record<string, string>) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'app', image: 'example/app:1' }] },
});

function webhook(kind: string, name: string, path: string, failurePolicy: string) {
  return {
    webhooks: [{
      name,
      clientConfig: { service: { name: 'istiod', namespace: 'istio-system', path, port: 443 } },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
      failurePolicy,
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      ...(kind === 'MutatingWebhookConfiguration' ? { reinvocationPolicy: 'Never' } : {}),
    }],
  };
}

/** The CRDs of the custom kinds below. */
function allCrds(c: Chart) {
  for (const [kind, plural] of [['VirtualService', 'virtualservices'], ['DestinationRule', 'destinationrules'], ['Gateway', 'gateways'], ['ServiceEntry', 'serviceentries'], ['Sidecar', 'sidecars']]) {
    crd(c, 'networking.istio.io', kind, plural);
  }
  for (const [kind, plural] of [['PeerAuthentication', 'peerauthentications'], ['AuthorizationPolicy', 'authorizationpolicies'], ['RequestAuthentication', 'requestauthentications']]) {
    crd(c, 'security.istio.io', kind, plural);
  }
  crd(c, 'telemetry.istio.io', 'Telemetry', 'telemetries');
  crd(c, 'cert-manager.io', 'Issuer', 'issuers');
  crd(c, 'cert-manager.io', 'ClusterIssuer', 'clusterissuers', true);
  crd(c, 'cert-manager.io', 'Certificate', 'certificates');
  crd(c, 'gateway.networking.k8s.io', 'Gateway', 'gateways');
  crd(c, 'gateway.networking.k8s.io', 'HTTPRoute', 'httproutes');
  crd(c, 'monitoring.coreos.com', 'PodMonitor', 'podmonitors');
  crd(c, 'monitoring.coreos.com', 'ServiceMonitor', 'servicemonitors');
  crd(c, 'monitoring.coreos.com', 'PrometheusRule', 'prometheusrules');
  crd(c, 'argoproj.io', 'Rollout', 'rollouts');
  crd(c, 'argoproj.io', 'AnalysisTemplate', 'analysistemplates');
}

/** Istio's control plane, reduced to what matters for ordering. */
function controlPlane(c: Chart) {
  obj(c, 'v1', 'Namespace', 'istio-system');
  obj(c, 'v1', 'ServiceAccount', 'istiod', {}, undefined, 'istio-system');
  obj(c, 'rbac.authorization.k8s.io/v1', 'ClusterRole', 'istiod-clusterrole-istio-system', { rules: [] });
  obj(c, 'rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'istiod-clusterrole-istio-system', {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'istiod-clusterrole-istio-system' },
    subjects: [{ kind: 'ServiceAccount', name: 'istiod', namespace: 'istio-system' }],
  });
  obj(c, 'rbac.authorization.k8s.io/v1', 'Role', 'istiod', { rules: [] }, undefined, 'istio-system');
  obj(c, 'rbac.authorization.k8s.io/v1', 'RoleBinding', 'istiod', {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'istiod' },
    subjects: [{ kind: 'ServiceAccount', name: 'istiod', namespace: 'istio-system' }],
  }, undefined, 'istio-system');
  obj(c, 'v1', 'ConfigMap', 'istio', { data: { mesh: 'trustDomain: cluster.local' } }, undefined, 'istio-system');
  obj(c, 'admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', 'istio-sidecar-injector',
    webhook('MutatingWebhookConfiguration', 'rev.namespace.sidecar-injector.istio.io', '/inject', 'Fail'));
  obj(c, 'admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'istiod-default-validator',
    webhook('ValidatingWebhookConfiguration', 'validation.istio.io', '/validate', 'Ignore'));
  const istiod = { app: 'istiod', istio: 'pilot' };
  obj(c, 'apps/v1', 'Deployment', 'istiod', { spec: { selector: { matchLabels: istiod }, template: podTemplate(istiod) } }, istiod, 'istio-system');
  obj(c, 'v1', 'Service', 'istiod', { spec: { selector: istiod, ports: [{ name: 'grpc-xds', port: 15012 }] } }, istiod, 'istio-system');
  obj(c, 'autoscaling/v2', 'HorizontalPodAutoscaler', 'istiod', {
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'istiod' }, minReplicas: 1, maxReplicas: 5 },
  }, istiod, 'istio-system');
}

/** An application namespace with everything a meshed, canaried, observed service has. */
function application(c: Chart) {
  const ns = 'shop';
  const reviews = { app: 'reviews' };
  const gw = { istio: 'ingressgateway' };
  obj(c, 'v1', 'Namespace', ns);
  obj(c, 'v1', 'ServiceAccount', 'reviews', {}, undefined, ns);
  obj(c, 'cert-manager.io/v1', 'ClusterIssuer', 'letsencrypt', { spec: { selfSigned: {} } });
  obj(c, 'cert-manager.io/v1', 'Issuer', 'local', { spec: { selfSigned: {} } }, undefined, ns);
  obj(c, 'cert-manager.io/v1', 'Certificate', 'shop-tls', {
    spec: { secretName: 'shop-tls', dnsNames: ['shop.example.com'], issuerRef: { name: 'local', kind: 'Issuer' } },
  }, undefined, ns);
  obj(c, 'security.istio.io/v1', 'PeerAuthentication', 'default', { spec: { mtls: { mode: 'STRICT' } } }, undefined, ns);
  obj(c, 'security.istio.io/v1', 'AuthorizationPolicy', 'allow-nothing', { spec: {} }, undefined, ns);
  obj(c, 'security.istio.io/v1', 'RequestAuthentication', 'jwt', { spec: { jwtRules: [{ issuer: 'https://issuer.example.com' }] } }, undefined, ns);
  obj(c, 'networking.istio.io/v1', 'Sidecar', 'default', { spec: { egress: [{ hosts: ['./*', 'istio-system/*'] }] } }, undefined, ns);
  obj(c, 'networking.istio.io/v1', 'ServiceEntry', 'payments', {
    spec: { hosts: ['api.payments.example.com'], location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] },
  }, undefined, ns);
  obj(c, 'networking.istio.io/v1', 'DestinationRule', 'reviews', {
    spec: { host: 'reviews', subsets: [{ name: 'stable', labels: { app: 'reviews' } }, { name: 'canary', labels: { app: 'reviews' } }] },
  }, undefined, ns);
  obj(c, 'networking.istio.io/v1', 'VirtualService', 'reviews', {
    spec: {
      hosts: ['reviews'],
      http: [{ name: 'primary', route: [{ destination: { host: 'reviews', subset: 'stable' }, weight: 100 }, { destination: { host: 'reviews', subset: 'canary' }, weight: 0 }] }],
    },
  }, undefined, ns);
  obj(c, 'networking.istio.io/v1', 'Gateway', 'ingress', {
    spec: { selector: gw, servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialName: 'shop-tls' } }] },
  }, undefined, ns);
  obj(c, 'gateway.networking.k8s.io/v1', 'Gateway', 'waypoint', {
    spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
  }, undefined, ns);
  obj(c, 'gateway.networking.k8s.io/v1', 'HTTPRoute', 'reviews', {
    spec: { parentRefs: [{ name: 'waypoint' }], rules: [{ backendRefs: [{ name: 'reviews', port: 9080 }] }] },
  }, undefined, ns);
  obj(c, 'networking.k8s.io/v1', 'NetworkPolicy', 'default-deny', { spec: { podSelector: {}, policyTypes: ['Ingress'] } }, undefined, ns);
  obj(c, 'telemetry.istio.io/v1', 'Telemetry', 'default', { spec: { accessLogging: [{ providers: [{ name: 'envoy' }] }] } }, undefined, ns);
  obj(c, 'monitoring.coreos.com/v1', 'PodMonitor', 'envoy', { spec: { selector: {}, podMetricsEndpoints: [{ port: 'http-envoy-prom' }] } }, undefined, ns);
  obj(c, 'monitoring.coreos.com/v1', 'ServiceMonitor', 'reviews', { spec: { selector: { matchLabels: reviews }, endpoints: [{ port: 'http' }] } }, undefined, ns);
  obj(c, 'monitoring.coreos.com/v1', 'PrometheusRule', 'slo', { spec: { groups: [{ name: 'slo', rules: [{ alert: 'Down', expr: 'up == 0' }] }] } }, undefined, ns);
  obj(c, 'apps/v1', 'Deployment', 'ingress', { spec: { selector: { matchLabels: gw }, template: podTemplate(gw) } }, gw, ns);
  obj(c, 'apps/v1', 'Deployment', 'ratings', { spec: { selector: { matchLabels: { app: 'ratings' } }, template: podTemplate({ app: 'ratings' }) } }, { app: 'ratings' }, ns);
  obj(c, 'v1', 'Service', 'reviews', { spec: { selector: reviews, ports: [{ name: 'http', port: 9080 }] } }, reviews, ns);
  obj(c, 'autoscaling/v2', 'HorizontalPodAutoscaler', 'ratings', {
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ratings' }, maxReplicas: 3 },
  }, undefined, ns);
  obj(c, 'policy/v1', 'PodDisruptionBudget', 'ratings', { spec: { minAvailable: 1, selector: { matchLabels: { app: 'ratings' } } } }, undefined, ns);
  obj(c, 'argoproj.io/v1alpha1', 'AnalysisTemplate', 'success-rate', {
    spec: { metrics: [{ name: 'success-rate', provider: { prometheus: { address: 'http://prometheus.monitoring:9090', query: 'sum(up)' } } }] },
  }, undefined, ns);
  obj(c, 'argoproj.io/v1alpha1', 'Rollout', 'reviews', {
    spec: {
      selector: { matchLabels: reviews },
      template: podTemplate(reviews),
      strategy: {
        canary: {
          steps: [{ setWeight: 10 }, { pause: {} }],
          trafficRouting: {
            istio: {
              virtualService: { name: 'reviews', routes: ['primary'] },
              destinationRule: { name: 'reviews', stableSubsetName: 'stable', canarySubsetName: 'canary' },
            },
          },
        },
      },
    },
  }, reviews, ns);
  obj(c, 'argoproj.io/v1alpha1', 'Application', 'legacy', {
    spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: ns }, source: { repoURL: REPO, path: 'legacy' } },
  }, undefined, 'argocd');
}

const waveOf = (o: any) => Number(o.metadata.annotations?.[WAVE]);
const syncOptionsOf = (o: any) => (o.metadata.annotations?.[OPTIONS] ?? '').split(',').filter((s: string) => s);

function delivery(app: App, props: Partial<ArgoCdDeliveryProps> = {}) {
  const gitops = new Chart(app, 'gitops');
  return new ArgoCdDelivery(gitops, 'mesh', { repoUrl: REPO, targetRevision: 'main', ...props });
}

/** platform (CRDs + control plane), shop (the application), gitops (this library's Applications). */
function bookinfoLike(props: Partial<ArgoCdDeliveryProps> = {}) {
  const app = Testing.app();
  const platform = new Chart(app, 'mesh-system');
  allCrds(platform);
  controlPlane(platform);
  const shop = new Chart(app, 'shop', { namespace: 'shop' });
  application(shop);
  const gitops = delivery(app, { charts: [platform, shop], ...props });
  return { app, platform, shop, gitops };
}

// ---------------------------------------------------------------------------------------------------------------

describe('ArgoCdDelivery', () => {
  test('Applications, AppProjects and every annotated object validate strictly; snapshot of the gitops chart', () => {
    const { app } = bookinfoLike({ appOfApps: true, progressiveDelivery: true });
    const all = synthAppValid(app);
    const gitopsChart = app.charts.find(c => c.node.id === 'gitops')!;
    expect(yamlOf(Testing.synth(gitopsChart))).toMatchSnapshot();
    expect(all.filter(o => !o.metadata.annotations?.[WAVE])).toEqual([]);
  });

  test('one Application per chart, pointing at the chart file in Git', () => {
    const { app, platform } = bookinfoLike();
    const gitops = app.charts.find(c => c.node.id === 'gitops')!;
    const objects = synthValid(gitops);
    const shop = one(objects, 'Application', 'shop');
    expect(shop.metadata).toMatchObject({ namespace: 'argocd', finalizers: ['resources-finalizer.argocd.argoproj.io'] });
    expect(shop.spec.project).toBe('mesh-shop');
    expect(shop.spec.source).toEqual({ repoURL: REPO, targetRevision: 'main', path: 'dist', directory: { include: 'shop.k8s.yaml', recurse: false } });
    expect(shop.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'shop' });
    expect(shop.spec.syncPolicy).toEqual({
      automated: { prune: true, selfHeal: true, allowEmpty: false },
      syncOptions: ['PruneLast=true'],
      retry: { limit: 5, backoff: { duration: '5s', factor: 2, maxDuration: '3m' } },
    });
    // the platform chart: destination 'default' (no chart namespace), CRDs first in the root's order
    const mesh = one(objects, 'Application', 'mesh-system');
    expect(mesh.spec.source.directory.include).toBe('mesh-system.k8s.yaml');
    expect(waveOf(mesh)).toBe(SyncWaves.APPLICATIONS);
    expect(waveOf(shop)).toBe(SyncWaves.APPLICATIONS + 2);
    expect(platform.node.id).toBe('mesh-system');
    // no root without appOfApps
    expect(objects.filter(o => o.kind === 'Application').map(o => o.metadata.name)).toEqual(['mesh-system', 'shop']);
  });

  test('file names follow cdk8s: indexed when charts depend on each other, folders per chart', () => {
    const { app, platform, shop } = bookinfoLike();
    shop.addDependency(platform);
    const gitops = app.charts.find(c => c.node.id === 'gitops')!;
    const objects = synthValid(gitops);
    expect(one(objects, 'Application', 'mesh-system').spec.source.directory.include).toBe('0000-mesh-system.k8s.yaml');
    expect(one(objects, 'Application', 'shop').spec.source.directory.include).toBe('0001-shop.k8s.yaml');

    const app2 = new App({ outdir: Testing.app().outdir, yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
    const c = new Chart(app2, 'shop');
    application(c);
    const d = delivery(app2, { charts: [c], path: 'deploy/dist/' });
    const spec = Testing.synth(Chart.of(d)).find(o => o.kind === 'Application').spec;
    expect(spec.source).toMatchObject({ path: 'deploy/dist/shop', directory: { recurse: false } });
  });

  test('file names: the charts are ordered once per synthesis, not once per Application', () => {
    // naming a chart needs cdk8s's dependency order of all charts, a walk of the whole construct tree
    const app = Testing.app();
    const charts = Array.from({ length: 12 }, (_, i) => new Chart(app, `team${i}`, { namespace: `team${i}` }));
    for (const [i, c] of charts.entries()) {
      obj(c, 'v1', 'ServiceAccount', 'app', {}, undefined, `team${i}`);
      if (i > 0) c.addDependency(charts[i - 1]);
    }
    const d = delivery(app, { charts });
    const order = jest.spyOn(App.prototype, 'charts', 'get');
    try {
      const objects = synthValid(Chart.of(d));
      const includes = ofKind(objects, 'Application').map(o => o.spec.source.directory.include);
      expect(includes).toEqual(charts.map((_, i) => `${String(i).padStart(4, '0')}-team${i}.k8s.yaml`));
      expect(order.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      order.mockRestore();
    }
  });

  test('file names: a dependency added after an Application was rendered still indexes every name', () => {
    const app = Testing.app();
    const a = new Chart(app, 'a', { namespace: 'a' });
    const b = new Chart(app, 'b', { namespace: 'b' });
    obj(a, 'v1', 'ServiceAccount', 'app', {}, undefined, 'a');
    obj(b, 'v1', 'ServiceAccount', 'app', {}, undefined, 'b');
    const d = delivery(app, { charts: [a, b] });
    expect(d.applicationOf(b).toJson().spec.source.directory.include).toBe('b.k8s.yaml');
    b.addDependency(a);
    const includes = ofKind(synthValid(Chart.of(d)), 'Application').map(o => o.spec.source.directory.include);
    expect(includes).toEqual(['0000-a.k8s.yaml', '0001-b.k8s.yaml']);
    // a chart of another App is named as that App writes it
    const other = new App({ outdir: Testing.app().outdir });
    const c = new Chart(other, 'c');
    obj(c, 'v1', 'ServiceAccount', 'app', {}, undefined, 'c');
    d.addChart(c);
    expect(d.applicationOf(c).toJson().spec.source.directory.include).toBe('c.k8s.yaml');
  });

  test('AppProjects: one per chart, only the repository, that chart\'s namespaces and its kinds', () => {
    const { app, platform, shop, gitops: d } = bookinfoLike();
    const gitops = app.charts.find(c => c.node.id === 'gitops')!;
    const objects = synthValid(gitops);
    expect(ofKind(objects, 'AppProject').map(o => o.metadata.name)).toEqual(['mesh-mesh-system', 'mesh-shop']);
    expect(d.projectOf(shop).name).toBe('mesh-shop');
    expect(d.projectOf(platform).name).toBe('mesh-mesh-system');
    const server = (namespace: string) => ({ server: 'https://kubernetes.default.svc', namespace });
    // the application chart: its own namespace and kinds, nothing of the control plane's
    const project = one(objects, 'AppProject', 'mesh-shop');
    expect(project.spec.sourceRepos).toEqual([REPO]);
    // (the chart holds an Argo CD Application of its own, in argocd)
    expect(project.spec.destinations).toEqual(['argocd', 'shop'].map(server));
    expect(project.spec.clusterResourceWhitelist).toEqual([
      { group: '', kind: 'Namespace' },
      { group: 'cert-manager.io', kind: 'ClusterIssuer' },
    ]);
    const namespaced = project.spec.namespaceResourceWhitelist.map((e: any) => `${e.group}/${e.kind}`);
    expect(namespaced).toEqual(expect.arrayContaining(['/Service', 'apps/Deployment', 'networking.istio.io/VirtualService', 'argoproj.io/Rollout']));
    expect(namespaced).not.toContain('/Secret');
    expect(namespaced).not.toContain('/Namespace');
    // the platform chart: the control plane's namespace and the cluster-scoped kinds it holds
    const platformProject = one(objects, 'AppProject', 'mesh-mesh-system');
    expect(platformProject.spec.destinations).toEqual(['default', 'istio-system'].map(server));
    expect(platformProject.spec.clusterResourceWhitelist).toEqual(expect.arrayContaining([
      { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
      { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
    ]));
    expect(project.spec.clusterResourceWhitelist).not.toContainEqual({ group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' });
    expect(() => d.projectOf(gitops)).toThrow(/chart 'gitops' is invalid: must be one of the charts this ArgoCdDelivery delivers/);
  });

  test('app of apps: a self-managed root in a bootstrap project limited to Argo CD\'s namespace', () => {
    const { app } = bookinfoLike({ appOfApps: true });
    const gitops = app.charts.find(c => c.node.id === 'gitops')!;
    const objects = synthValid(gitops);
    const root = one(objects, 'Application', 'mesh-root');
    expect(root.spec.project).toBe('mesh-bootstrap');
    expect(root.spec.source.directory.include).toBe('gitops.k8s.yaml');
    expect(root.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'argocd' });
    expect(root.metadata.finalizers).toBeUndefined();
    const bootstrap = one(objects, 'AppProject', 'mesh-bootstrap');
    expect(bootstrap.spec.destinations).toEqual([{ server: 'https://kubernetes.default.svc', namespace: 'argocd' }]);
    expect(bootstrap.spec.namespaceResourceWhitelist).toEqual([{ group: 'argoproj.io', kind: 'AppProject' }, { group: 'argoproj.io', kind: 'Application' }]);
    expect(bootstrap.spec.clusterResourceWhitelist).toBeUndefined();
    // projects before Applications
    expect(waveOf(bootstrap)).toBeLessThan(waveOf(root));
    expect(waveOf(one(objects, 'AppProject', 'mesh-shop'))).toBeLessThan(waveOf(one(objects, 'Application', 'shop')));
  });

  test('sync waves order every kind the library emits, make before break', () => {
    const app = Testing.app();
    const everything = new Chart(app, 'everything');
    allCrds(everything);
    controlPlane(everything);
    application(everything);
    delivery(app, { charts: [everything] });
    const objects = synthValid(everything);
    const w = (kind: string, name?: string, apiVersion?: string) => {
      const found = objects.filter(o => o.kind === kind && (name === undefined || o.metadata.name === name)
        && (apiVersion === undefined || o.apiVersion === apiVersion));
      if (found.length === 0) throw new Error(`no ${kind} ${name ?? ''}`);
      const waves = new Set(found.map(waveOf));
      if (waves.size !== 1) throw new Error(`${kind} has several waves`);
      return waveOf(found[0]);
    };
    const expectBefore = (a: number, b: number, why: string) => {
      if (!(a < b)) throw new Error(`${why}: ${a} is not before ${b}`);
    };
    // every object has an integer wave
    for (const o of objects) expect(Number.isInteger(waveOf(o))).toBe(true);
    const kinds = ['Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role',
      'RoleBinding', 'ConfigMap', 'ClusterIssuer', 'Issuer', 'Certificate', 'MutatingWebhookConfiguration',
      'ValidatingWebhookConfiguration', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget',
      'PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication', 'Sidecar', 'ServiceEntry', 'DestinationRule',
      'VirtualService', 'Gateway', 'HTTPRoute', 'NetworkPolicy', 'Telemetry', 'PodMonitor', 'ServiceMonitor',
      'PrometheusRule', 'Rollout', 'AnalysisTemplate', 'Application'];
    for (const k of kinds) expect(objects.some(o => o.kind === k)).toBe(true);

    // CRDs (and Namespaces) before everything else; CRDs before every custom resource
    const crdWave = w('CustomResourceDefinition');
    expect(w('Namespace')).toBe(crdWave);
    for (const o of objects.filter(x => x.kind !== 'CustomResourceDefinition' && x.kind !== 'Namespace')) {
      expectBefore(crdWave, waveOf(o), `CRD before ${o.kind}/${o.metadata.name}`);
    }
    // identity and config before issuers; Issuer < Certificate < the gateway Deployment that mounts it
    for (const k of ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ConfigMap']) {
      expectBefore(w(k, undefined), w('Issuer'), `${k} before Issuer`);
    }
    expectBefore(w('ClusterIssuer'), w('Certificate'), 'ClusterIssuer before Certificate');
    expectBefore(w('Issuer'), w('Certificate'), 'Issuer before Certificate');
    expectBefore(w('Certificate'), w('Deployment', 'ingress'), 'Certificate before the gateway Deployment');
    expectBefore(w('Certificate'), w('Gateway', 'ingress'), 'Certificate before the Gateway that references it');
    // control plane before mesh config and before workloads
    const controlPlaneWaves = [w('Deployment', 'istiod'), w('Service', 'istiod'), w('HorizontalPodAutoscaler', 'istiod'),
      w('MutatingWebhookConfiguration'), w('ValidatingWebhookConfiguration')];
    expect(new Set(controlPlaneWaves)).toEqual(new Set([SyncWaves.CONTROL_PLANE]));
    const workloads = [w('Deployment', 'ratings'), w('Deployment', 'ingress'), w('Service', 'reviews'),
      w('HorizontalPodAutoscaler', 'ratings'), w('PodDisruptionBudget'), w('Rollout')];
    const meshConfig = ['PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication', 'Sidecar', 'ServiceEntry',
      'DestinationRule', 'Telemetry', 'NetworkPolicy'].map(k => w(k));
    for (const cp of controlPlaneWaves) {
      for (const x of [...meshConfig, ...workloads]) expectBefore(cp, x, 'control plane before mesh config and workloads');
    }
    // mesh config, then DestinationRule before VirtualService, then routes, gateways, workloads, Applications
    for (const k of ['PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication', 'Sidecar', 'ServiceEntry', 'DestinationRule']) {
      expectBefore(w(k), w('VirtualService'), `${k} before VirtualService`);
    }
    expectBefore(w('DestinationRule'), w('VirtualService'), 'DestinationRule subsets before the VirtualService routing to them');
    expectBefore(w('DestinationRule'), w('HTTPRoute'), 'DestinationRule before HTTPRoute');
    expectBefore(w('VirtualService'), w('Gateway', 'ingress', 'networking.istio.io/v1'), 'routes before the gateway listener opens');
    expectBefore(w('HTTPRoute'), w('Gateway', 'waypoint', 'gateway.networking.k8s.io/v1'), 'HTTPRoute before Gateway');
    for (const k of ['PodMonitor', 'ServiceMonitor', 'PrometheusRule', 'AnalysisTemplate']) {
      for (const x of workloads) expectBefore(w(k), x, `${k} before workloads`);
    }
    for (const x of workloads) {
      expectBefore(w('Gateway', 'ingress', 'networking.istio.io/v1'), x, 'gateways before workloads');
      expectBefore(x, w('Application'), 'workloads before Applications');
    }
    // the table agrees with the object pass
    expect(SyncWaves.of('DestinationRule')).toBe(w('DestinationRule'));
    expect(SyncWaves.of('SomethingUnknown')).toBe(SyncWaves.WORKLOADS);
    expect(SyncWaves.table().VirtualService).toBe(SyncWaves.ROUTES);
  });

  test('SyncWaves.forObject classifies istiod by its labels', () => {
    const c = Testing.chart();
    const istiod = obj(c, 'apps/v1', 'Deployment', 'istiod', {}, { app: 'istiod' });
    const other = obj(c, 'apps/v1', 'Deployment', 'reviews', {}, { app: 'reviews' });
    expect(SyncWaves.forObject(istiod)).toBe(SyncWaves.CONTROL_PLANE);
    expect(SyncWaves.forObject(other)).toBe(SyncWaves.WORKLOADS);
  });

  test('a wave or sync option set by the user is kept', () => {
    const app = Testing.app();
    const c = new Chart(app, 'shop');
    allCrds(c);
    const vs = obj(c, 'networking.istio.io/v1', 'VirtualService', 'reviews', { spec: { hosts: ['reviews'] } }, undefined, 'shop');
    vs.metadata.addAnnotation(WAVE, '42');
    const dr = new ApiObject(c, 'dr', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'reviews', namespace: 'shop', annotations: { [WAVE]: '-100', [OPTIONS]: 'Validate=false,SkipDryRunOnMissingResource=false' } },
      spec: { host: 'reviews' },
    });
    expect(dr).toBeDefined();
    delivery(app, { charts: [c] });
    const objects = synthValid(c);
    expect(waveOf(one(objects, 'VirtualService'))).toBe(42);
    expect(waveOf(one(objects, 'DestinationRule'))).toBe(-100);
    expect(syncOptionsOf(one(objects, 'DestinationRule'))).toEqual(['Validate=false', 'SkipDryRunOnMissingResource=false']);
    // synthesizing again does not change anything
    expect(synthValid(c)).toEqual(objects);
  });

  test('the delivery\'s inventory follows the app between syntheses, without a validation hook (a CRD added later counts)', () => {
    const { platform, shop } = bookinfoLike();
    const widget = () => Testing.synth(shop).find(o => o.kind === 'Widget');
    obj(shop, 'example.com/v1', 'Widget', 'w', {}, undefined, 'shop');
    expect(syncOptionsOf(widget())).toEqual([]);
    crd(platform, 'example.com', 'Widget', 'widgets');
    expect(syncOptionsOf(widget())).toEqual(['SkipDryRunOnMissingResource=true']);
  });

  test('the inventory reads each CRD once per synthesis pass, however many charts and AppProjects (CRDs are the largest objects)', () => {
    const app = Testing.app();
    const platform = new Chart(app, 'mesh-system');
    const widgets = crd(platform, 'example.com', 'Widget', 'widgets');
    const charts = [platform];
    for (let i = 0; i < 6; i++) {
      const c = new Chart(app, `team-${i}`, { namespace: `team-${i}` });
      obj(c, 'example.com/v1', 'Widget', `w${i}`, {}, undefined, `team-${i}`);
      charts.push(c);
    }
    delivery(app, { charts, appOfApps: true });
    const reads = jest.spyOn(widgets, 'toJson');
    app.synthYaml();
    const once = reads.mock.calls.length;
    // written once; read once for the pass's inventory (not once per AppProject)
    expect(once).toBeLessThanOrEqual(2);
    app.synthYaml();
    expect(reads.mock.calls.length - once).toBe(once);
  });

  test('a CRD changed between syntheses is read again: the AppProjects follow its scope', () => {
    const { platform, gitops } = bookinfoLike();
    const widgets = crd(platform, 'example.com', 'Widget', 'widgets');
    const team = new Chart(platform.node.root as App, 'team', { namespace: 'team' });
    obj(team, 'example.com/v1', 'Widget', 'w', {}, undefined, 'team');
    gitops.addChart(team);
    const project = () => one(Testing.synth(Chart.of(gitops)), 'AppProject', 'mesh-team').spec;
    expect(project().namespaceResourceWhitelist).toContainEqual({ group: 'example.com', kind: 'Widget' });
    widgets.addJsonPatch(JsonPatch.replace('/spec/scope', 'Cluster'));
    const after = project();
    expect(after.clusterResourceWhitelist).toContainEqual({ group: 'example.com', kind: 'Widget' });
    expect(after.namespaceResourceWhitelist ?? []).not.toContainEqual({ group: 'example.com', kind: 'Widget' });
  });

  test('a CRD added after another chart was synthesized counts in the AppProjects (whatever was written before)', () => {
    const { platform, gitops } = bookinfoLike();
    const team = new Chart(platform.node.root as App, 'team', { namespace: 'team' });
    obj(team, 'example.com/v1', 'Widget', 'w', {}, undefined, 'team');
    gitops.addChart(team);
    Testing.synth(team);
    crd(platform, 'example.com', 'Widget', 'widgets', true);
    const spec = one(Testing.synth(Chart.of(gitops)), 'AppProject', 'mesh-team').spec;
    expect(spec.clusterResourceWhitelist).toContainEqual({ group: 'example.com', kind: 'Widget' });
  });

  test('CRDs are applied server-side (or replaced); their custom resources skip the dry run', () => {
    const { app, platform, shop } = bookinfoLike();
    const objects = [...synthValid(platform), ...synthValid(shop)];
    for (const o of objects.filter(x => x.kind === 'CustomResourceDefinition')) expect(syncOptionsOf(o)).toEqual(['ServerSideApply=true']);
    for (const kind of ['VirtualService', 'Certificate', 'ClusterIssuer', 'Rollout', 'PodMonitor', 'HTTPRoute']) {
      expect(syncOptionsOf(objects.find(o => o.kind === kind))).toEqual(['SkipDryRunOnMissingResource=true']);
    }
    // the user's Application is of a kind whose CRD is not delivered: no skip
    expect(syncOptionsOf(objects.find(o => o.kind === 'Application'))).toEqual([]);
    for (const kind of ['Deployment', 'Service', 'Namespace', 'MutatingWebhookConfiguration']) {
      expect(syncOptionsOf(objects.find(o => o.kind === kind))).toEqual([]);
    }
    expect(app).toBeDefined();

    const replace = bookinfoLike({ crdSyncMethod: CrdSyncMethod.REPLACE, skipDryRun: SkipDryRunScope.NONE });
    const objs2 = synthValid(replace.platform);
    expect(syncOptionsOf(objs2.find(o => o.kind === 'CustomResourceDefinition'))).toEqual(['Replace=true']);
    expect(syncOptionsOf(synthValid(replace.shop).find(o => o.kind === 'VirtualService'))).toEqual([]);

    // all custom resources, when the CRDs come from elsewhere
    const app3 = Testing.app();
    const c3 = new Chart(app3, 'shop');
    application(c3);
    delivery(app3, { charts: [c3], skipDryRun: SkipDryRunScope.ALL_CUSTOM_RESOURCES });
    const objs3 = synthValid(c3);
    expect(syncOptionsOf(objs3.find(o => o.kind === 'Application'))).toEqual(['SkipDryRunOnMissingResource=true']);
    expect(syncOptionsOf(objs3.find(o => o.kind === 'NetworkPolicy'))).toEqual([]);
    expect(syncOptionsOf(objs3.find(o => o.kind === 'Gateway' && o.apiVersion.startsWith('gateway.networking')))).toEqual(['SkipDryRunOnMissingResource=true']);
  });

  test('ignoreDifferences: istiod-patched webhook fields, and Rollouts-managed weights with progressiveDelivery', () => {
    const { app } = bookinfoLike({ progressiveDelivery: true });
    const objects = synthValid(app.charts.find(c => c.node.id === 'gitops')!);
    const mesh = one(objects, 'Application', 'mesh-system');
    expect(mesh.spec.ignoreDifferences).toEqual([
      { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration', name: 'istio-sidecar-injector', jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle', '.webhooks[]?.failurePolicy'] },
      { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration', name: 'istiod-default-validator', jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle', '.webhooks[]?.failurePolicy'] },
    ]);
    expect(mesh.spec.syncPolicy.syncOptions).toEqual(['PruneLast=true', 'RespectIgnoreDifferences=true']);
    const shop = one(objects, 'Application', 'shop');
    expect(shop.spec.ignoreDifferences).toEqual([
      { group: 'networking.istio.io', kind: 'DestinationRule', name: 'reviews', namespace: 'shop', jqPathExpressions: ['.spec.subsets[]?.labels["rollouts-pod-template-hash"]'] },
      { group: 'networking.istio.io', kind: 'VirtualService', name: 'reviews', namespace: 'shop', jqPathExpressions: ['.spec.http[]?.route[]?.weight'] },
    ]);
    expect(shop.spec.syncPolicy.syncOptions).toContain('RespectIgnoreDifferences=true');

    // without progressiveDelivery: nothing ignored on the shop
    const plain = bookinfoLike();
    expect(one(synthValid(plain.app.charts.find(c => c.node.id === 'gitops')!), 'Application', 'shop').spec.ignoreDifferences).toBeUndefined();
  });

  test('ignoreRouteWeights: a VirtualService named later, e.g. by a CanaryRelease', () => {
    const app = Testing.app();
    const c = new Chart(app, 'shop');
    const vs = obj(c, 'networking.istio.io/v1', 'VirtualService', 'ratings', { spec: { hosts: ['ratings'] } }, undefined, 'shop');
    const d = delivery(app, { charts: [c] });
    d.ignoreRouteWeights(vs);
    d.ignoreRouteWeights(vs);
    const shopApp = one(synthValid(Chart.of(d)), 'Application', 'shop');
    expect(shopApp.spec.ignoreDifferences).toEqual([
      { group: 'networking.istio.io', kind: 'VirtualService', name: 'ratings', namespace: 'shop', jqPathExpressions: ['.spec.http[]?.route[]?.weight'] },
    ]);
    expect(() => d.ignoreRouteWeights(obj(c, 'v1', 'Service', 'ratings', { spec: { ports: [{ port: 80 }] } }))).toThrow(/virtualService 'Service shop\/Service-ratings' is invalid: must be a VirtualService/);
    const stray = obj(new Chart(app, 'other'), 'networking.istio.io/v1', 'VirtualService', 'x', { spec: {} });
    expect(() => d.ignoreRouteWeights(stray)).toThrow(/must be in one of the charts this ArgoCdDelivery delivers/);
  });

  test('options: manual sync, retry, CreateNamespace, server-side apply, names and namespaces', () => {
    const app = Testing.app();
    const c = new Chart(app, 'shop');
    application(c);
    const d = delivery(app, {
      syncPolicy: ArgoSyncPolicy.manual(),
      retry: { limit: 0, backoff: Duration.seconds(30), backoffFactor: 3, maxBackoff: Duration.hours(1) },
      createNamespace: true,
      serverSideApply: true,
      pruneLast: false,
      cascadeDelete: false,
      projectName: 'shop-team',
      argocdNamespace: 'gitops',
      destinationServer: 'https://prod.example.com:6443',
    });
    d.addChart(c, { name: 'shop-prod', namespace: 'shop', syncWave: 3 });
    const objects = synthValid(Chart.of(d));
    const a = one(objects, 'Application', 'shop-prod');
    expect(d.applicationOf(c).name).toBe('shop-prod');
    expect(a.metadata.namespace).toBe('gitops');
    expect(a.metadata.finalizers).toBeUndefined();
    expect(waveOf(a)).toBe(3);
    expect(a.spec.project).toBe('shop-team-shop-prod');
    expect(a.spec.destination).toEqual({ server: 'https://prod.example.com:6443', namespace: 'shop' });
    expect(a.spec.syncPolicy).toEqual({
      syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'],
      retry: { limit: 0, backoff: { duration: '30s', factor: 3, maxDuration: '1h' } },
    });
    expect(ArgoSyncPolicy.automated({ prune: false })).toMatchObject({ isAutomated: true, prune: false, selfHeal: true, allowEmpty: false });
  });

  test('health checks: Lua scripts for the Istio kinds (and Application for app of apps)', () => {
    const checks = ArgoCdHealthChecks.forMesh();
    expect(Object.keys(checks)).toEqual([
      'resource.customizations.health.argoproj.io_Application',
      'resource.customizations.health.networking.istio.io_DestinationRule',
      'resource.customizations.health.networking.istio.io_Gateway',
      'resource.customizations.health.networking.istio.io_ServiceEntry',
      'resource.customizations.health.networking.istio.io_Sidecar',
      'resource.customizations.health.networking.istio.io_VirtualService',
      'resource.customizations.health.security.istio.io_AuthorizationPolicy',
      'resource.customizations.health.security.istio.io_PeerAuthentication',
      'resource.customizations.health.security.istio.io_RequestAuthentication',
      'resource.customizations.health.telemetry.istio.io_Telemetry',
    ]);
    const vs = checks['resource.customizations.health.networking.istio.io_VirtualService'];
    expect(vs).toMatch(/validationMessages/);
    expect(vs).toMatch(/"Degraded"/);
    expect(vs).toMatch(/return hs\n$/);
    expect(checks['resource.customizations.health.argoproj.io_Application']).toMatch(/obj\.status\.health\.status/);
    expect(Object.keys(ArgoCdHealthChecks.forMesh({ applications: false }))).not.toContain('resource.customizations.health.argoproj.io_Application');
    const { gitops } = bookinfoLike({ appOfApps: true });
    expect(Object.keys(gitops.healthChecks())).toContain('resource.customizations.health.argoproj.io_Application');
    expect(ArgoCdHealthChecks.keyOf('cert-manager.io', 'Certificate')).toBe('resource.customizations.health.cert-manager.io_Certificate');
  });

  // Argo CD runs health checks with gopher-lua (Lua 5.1); run them with lua5.1 when the machine has it
  const lua = ['/usr/bin/lua5.1', '/usr/local/bin/lua5.1'].find(p => fs.existsSync(p));
  (lua ? test : test.skip)('health checks run in Lua 5.1 and read Istio\'s status', () => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'argocd-health-'));
    const checks = ArgoCdHealthChecks.forMesh();
    fs.writeFileSync(nodePath.join(dir, 'istio.lua'), checks['resource.customizations.health.networking.istio.io_VirtualService']);
    fs.writeFileSync(nodePath.join(dir, 'app.lua'), checks['resource.customizations.health.argoproj.io_Application']);
    const harness = `
local function run(file, o)
  obj = o
  local hs = assert(loadfile(file))()
  print(hs.status .. "|" .. hs.message)
end
local d = "${dir}/"
run(d .. "istio.lua", { metadata = { generation = 2 } })
run(d .. "istio.lua", { metadata = { generation = 2 }, status = { observedGeneration = "1" } })
run(d .. "istio.lua", { metadata = { generation = 2 }, status = { observedGeneration = 2,
  validationMessages = { { level = "WARNING", type = { code = "IST0118" } } } } })
run(d .. "istio.lua", { metadata = { generation = 2 }, status = { observedGeneration = 2,
  validationMessages = { { level = "ERROR", type = { code = "IST0101", name = "ReferencedResourceNotFound" } } } } })
run(d .. "istio.lua", { metadata = { generation = 1 }, status = { validationMessages = { { level = "ERROR",
  type = { code = "IST0106" }, documentationUrl = "https://istio.io/latest/docs/reference/config/analysis/ist0106/" } } } })
run(d .. "app.lua", { metadata = {} })
run(d .. "app.lua", { metadata = {}, status = { health = { status = "Degraded", message = "pods crash" } } })
`;
    fs.writeFileSync(nodePath.join(dir, 'harness.lua'), harness);
    const out = execFileSync(lua!, [nodePath.join(dir, 'harness.lua')], { encoding: 'utf8' }).trim().split('\n');
    expect(out).toEqual([
      'Healthy|',
      'Progressing|istiod has not processed generation 2 yet',
      'Healthy|1 analyzer warning(s)',
      'Degraded|IST0101 ReferencedResourceNotFound',
      'Degraded|IST0106 analysis error (https://istio.io/latest/docs/reference/config/analysis/ist0106/)',
      'Progressing|waiting for the first sync',
      'Degraded|pods crash',
    ]);
  });

  test('synthesizes the same bytes twice', () => {
    const { app } = bookinfoLike({ appOfApps: true, progressiveDelivery: true });
    const first = yamlOf(app.charts.flatMap(c => Testing.synth(c)));
    expect(yamlOf(app.charts.flatMap(c => Testing.synth(c)))).toBe(first);
  });

  describe('bad input', () => {
    const bad = (props: Partial<ArgoCdDeliveryProps>) => () => delivery(Testing.app(), props);

    test.each([
      ['', 'empty'],
      ['http://git.example.com/acme/platform.git', 'plain http'],
      ['git://git.example.com/acme/platform.git', 'git protocol'],
      ['/srv/git/platform', 'local path'],
      ['https://github.com', 'no repository path'],
    ])('repoUrl %p (%s)', (repoUrl) => {
      expect(bad({ repoUrl })).toThrow(MeshValidationError);
      expect(bad({ repoUrl })).toThrow(`gitops/mesh: repoUrl '${repoUrl}' is invalid: must be a Git URL Argo CD can fetch`);
    });

    test('repoUrl accepts https, ssh and scp-like URLs', () => {
      for (const repoUrl of [REPO, 'ssh://git@github.com/acme/platform.git', 'git@github.com:acme/platform.git', 'https://git.example.com:8443/acme/platform']) {
        expect(bad({ repoUrl })).not.toThrow();
      }
    });

    test('targetRevision', () => {
      expect(bad({ targetRevision: '' })).toThrow("gitops/mesh: targetRevision '' is invalid: must be a non-empty Git branch, tag or commit");
      expect(bad({ targetRevision: 'my branch' })).toThrow("targetRevision 'my branch' is invalid");
    });

    test.each(['../dist', 'deploy/../../etc', '/dist', '', 'dist//x'])('path %p', (path) => {
      expect(bad({ path })).toThrow(`gitops/mesh: path '${path}' is invalid: must be a relative path inside the repository, without '..'`);
    });

    test('application, project and namespace names are DNS labels', () => {
      expect(bad({ projectName: 'Mesh_Project' })).toThrow("gitops/mesh: projectName 'Mesh_Project' is invalid: must be a DNS label");
      expect(() => new ArgoCdDelivery(new Chart(Testing.app(), 'gitops'), 'My Delivery', { repoUrl: REPO, targetRevision: 'main' }))
        .toThrow("projectName (defaults to the construct id) 'My Delivery' is invalid: must be a DNS label");
      expect(bad({ argocdNamespace: 'Argo' })).toThrow("argocdNamespace 'Argo' is invalid: must be a DNS label");
      expect(bad({ appOfApps: true, rootApplicationName: 'root.app' })).toThrow("rootApplicationName 'root.app' is invalid: must be a DNS label");
      const app = Testing.app();
      const c = new Chart(app, 'shop');
      const d = delivery(app);
      expect(() => d.addChart(c, { name: 'Shop' })).toThrow("Application name of chart 'shop' 'Shop' is invalid: must be a DNS label");
      expect(() => d.addChart(c, { namespace: 'Shop' })).toThrow("namespace of chart 'shop' 'Shop' is invalid: must be a DNS label");
      expect(() => d.addChart(c, { syncWave: 1.5 })).toThrow("syncWave of chart 'shop' 1.5 is invalid: must be a whole number");
    });

    test('charts: once each, never the delivery\'s own chart, unique Application names', () => {
      const app = Testing.app();
      const c = new Chart(app, 'shop');
      const d = delivery(app, { charts: [c] });
      expect(() => d.addChart(c)).toThrow("gitops/mesh: charts 'shop' is invalid: must list each chart once");
      expect(() => d.addChart(Chart.of(d))).toThrow("charts 'gitops' is invalid: must not include the chart holding the ArgoCdDelivery itself");
      expect(() => d.addChart(new Chart(app, 'shop2'), { name: 'shop' })).toThrow("'shop' is invalid: must be unique among the Applications of the delivery");
      expect(() => d.applicationOf(new Chart(app, 'other'))).toThrow("chart 'other' is invalid: must be one of the charts this ArgoCdDelivery delivers");
    });

    test('retry: limit >= 0, factor >= 1, whole-second backoffs, max >= backoff', () => {
      expect(bad({ retry: { limit: -1 } })).toThrow('gitops/mesh: retry.limit -1 is invalid: must be a whole number from 0 to 1000');
      expect(bad({ retry: { backoffFactor: 0 } })).toThrow('gitops/mesh: retry.backoffFactor 0 is invalid: must be a whole number, at least 1');
      expect(bad({ retry: { backoffFactor: 1.5 } })).toThrow('retry.backoffFactor 1.5 is invalid');
      expect(bad({ retry: { backoff: Duration.millis(500) } })).toThrow("retry.backoff '0.5s' is invalid: must be a whole number of seconds, at least 1");
      expect(bad({ retry: { backoff: Duration.minutes(5), maxBackoff: Duration.minutes(1) } })).toThrow("retry.maxBackoff '60s' is invalid: must be at least retry.backoff (300s)");
    });

    test('destinationServer and output type', () => {
      expect(bad({ destinationServer: 'kubernetes.default.svc' })).toThrow("destinationServer 'kubernetes.default.svc' is invalid: must be the https:// URL of a Kubernetes API server");
      const app = new App({ outdir: Testing.app().outdir, yamlOutputType: YamlOutputType.FILE_PER_APP });
      expect(() => delivery(app)).toThrow("app yamlOutputType 'FILE_PER_APP' is invalid: must be FILE_PER_CHART or FOLDER_PER_CHART_FILE_PER_RESOURCE");
    });
  });
});
