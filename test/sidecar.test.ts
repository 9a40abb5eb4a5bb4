import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, Chart, Duration, Include, JsonPatch, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import * as YAML from 'yaml';
import { InjectionMode, Mesh, ProxyLogLevel, SidecarInjector, SidecarTemplate } from '../src';
import { expectValid, one, synthValid, yamlOf } from './util';
import { MeshValidationError } from '../src/errors';
import { injectPodTemplate, podOwner } from '../src/sidecar/inject';

const IMAGE = 'docker.io/istio/proxyv2:1.30.3';
const TARGET = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hello', namespace: 'shop' };
/**
 * These tests follow Istio's kube-inject goldens, which inject `istio-init` (no CNI): the meshes here opt out of the
 * Istio CNI default explicitly, and the CNI cases say `cni: true`.
 */
const NO_CNI = { cni: false };
const mesh = (props: any = {}) => new Mesh(Testing.chart(), 'mesh', { ...NO_CNI, ...props });

const app = (extra: any = {}) => ({
  metadata: { labels: { app: 'hello', version: 'v1' } },
  spec: {
    containers: [{ name: 'hello', image: 'hello:v1', ports: [{ name: 'http', containerPort: 8080 }], ...extra }],
  },
});

// ---- the expected pieces, written out literally (istio-facts.md section b) ----
const RESOURCES = { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m', memory: '128Mi' } };
const VOLUMES = [
  { name: 'workload-socket', emptyDir: {} },
  { name: 'credential-socket', emptyDir: {} },
  { name: 'workload-certs', emptyDir: {} },
  { name: 'istio-envoy', emptyDir: { medium: 'Memory' } },
  { name: 'istio-data', emptyDir: {} },
  {
    name: 'istio-podinfo',
    downwardAPI: {
      items: [
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
      ],
    },
  },
  { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } }] } },
  { name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } },
  { name: 'istio-ca-crl', configMap: { name: 'istio-ca-crl', optional: true } },
];
const MOUNTS = [
  { name: 'workload-socket', mountPath: '/var/run/secrets/workload-spiffe-uds' },
  { name: 'credential-socket', mountPath: '/var/run/secrets/credential-uds' },
  { name: 'workload-certs', mountPath: '/var/run/secrets/workload-spiffe-credentials' },
  { name: 'istiod-ca-cert', mountPath: '/var/run/secrets/istio' },
  { name: 'istio-ca-crl', mountPath: '/var/run/secrets/istio/crl' },
  { name: 'istio-data', mountPath: '/var/lib/istio/data' },
  { name: 'istio-envoy', mountPath: '/etc/istio/proxy' },
  { name: 'istio-token', mountPath: '/var/run/secrets/tokens' },
  { name: 'istio-podinfo', mountPath: '/etc/istio/pod' },
];
const STATUS_VOLUMES = '["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert","istio-ca-crl"]';
const fieldRef = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
/** ISTIO_META_POD_PORTS as Istio 1.30.3's template writes it: one port a line, indented, commas in front. */
const podPorts = (...ports: object[]) => ['[', ...ports.map((p, i) => `    ${i ? ',' : ''}${JSON.stringify(p)}`), ']'].join('\n');
const limit = (name: string, resource: string) => ({ name, valueFrom: { resourceFieldRef: { resource, divisor: '1' } } });
interface EnvParts { ca?: string; proxyConfig?: string; podPorts?: string | null; apps?: string; owner?: string; trustDomain?: string; tail?: any[] }
const env = (o: EnvParts = {}) => [
  { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
  { name: 'CA_ADDR', value: o.ca ?? 'istiod.istio-system.svc:15012' },
  fieldRef('POD_NAME', 'metadata.name'),
  fieldRef('POD_NAMESPACE', 'metadata.namespace'),
  fieldRef('INSTANCE_IP', 'status.podIP'),
  fieldRef('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
  fieldRef('HOST_IP', 'status.hostIP'),
  { name: 'ISTIO_CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } },
  { name: 'PROXY_CONFIG', value: o.proxyConfig ?? '{}\n' },
  ...(o.podPorts === null ? [] : [
    { name: 'ISTIO_META_POD_PORTS', value: o.podPorts ?? podPorts({ name: 'http', containerPort: 8080, protocol: 'TCP' }) },
    { name: 'ISTIO_META_APP_CONTAINERS', value: o.apps ?? 'hello' },
  ]),
  limit('GOMEMLIMIT', 'limits.memory'),
  limit('GOMAXPROCS', 'limits.cpu'),
  { name: 'ISTIO_META_CLUSTER_ID', value: 'Kubernetes' },
  fieldRef('ISTIO_META_NODE_NAME', 'spec.nodeName'),
  { name: 'ISTIO_META_INTERCEPTION_MODE', value: 'REDIRECT' },
  { name: 'ISTIO_META_WORKLOAD_NAME', value: 'hello' },
  { name: 'ISTIO_META_OWNER', value: o.owner ?? 'kubernetes://apis/apps/v1/namespaces/shop/deployments/hello' },
  { name: 'ISTIO_META_MESH_ID', value: o.trustDomain ?? 'cluster.local' },
  { name: 'TRUST_DOMAIN', value: o.trustDomain ?? 'cluster.local' },
  ...(o.tail ?? []),
];
const ISTIO_INIT = {
  name: 'istio-init',
  image: IMAGE,
  args: ['istio-iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT', '-i', '*', '-x', '', '-b', '*',
    '-d', '15090,15021,15020', '--log_output_level=default:info'],
  resources: RESOURCES,
  securityContext: {
    allowPrivilegeEscalation: false,
    capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    privileged: false,
    readOnlyRootFilesystem: false,
    runAsGroup: 0,
    runAsNonRoot: false,
    runAsUser: 0,
  },
};
const PROXY_SECURITY = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsGroup: 1337,
  runAsNonRoot: true,
  runAsUser: 1337,
};
const proxy = (o: { env?: any[]; native?: boolean; lifecycle?: any; resources?: any; args?: string[] } = {}) => ({
  name: 'istio-proxy',
  image: IMAGE,
  args: o.args ?? ['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning',
    '--proxyComponentLogLevel=misc:error', '--log_output_level=default:info'],
  ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
  env: o.env ?? env(),
  ...(o.native === false ? {} : { restartPolicy: 'Always' }),
  ...(o.lifecycle === null ? {} : {
    lifecycle: o.lifecycle ?? { preStop: { exec: { command: ['pilot-agent', 'request', '--debug-port=15020', 'POST', 'drain'] } } },
  }),
  startupProbe: { httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600 },
  readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 },
  resources: o.resources ?? RESOURCES,
  securityContext: PROXY_SECURITY,
  volumeMounts: MOUNTS,
});
const metadata = (o: { annotations?: any; labels?: any; status?: string; rev?: string } = {}) => ({
  labels: {
    'app': 'hello',
    'security.istio.io/tlsMode': 'istio',
    'service.istio.io/canonical-name': 'hello',
    'service.istio.io/canonical-revision': 'v1',
    'sidecar.istio.io/inject': 'false',
    'version': 'v1',
    ...o.labels,
  },
  annotations: {
    'istio.io/rev': o.rev ?? 'default',
    'kubectl.kubernetes.io/default-container': 'hello',
    'kubectl.kubernetes.io/default-logs-container': 'hello',
    'prometheus.io/path': '/stats/prometheus',
    'prometheus.io/port': '15020',
    'prometheus.io/scrape': 'true',
    'sidecar.istio.io/status': o.status
      ?? `{"initContainers":["istio-init","istio-proxy"],"containers":null,"volumes":${STATUS_VOLUMES},"imagePullSecrets":null,"revision":"${o.rev ?? 'default'}"}`,
    ...o.annotations,
  },
});
const HELLO = { name: 'hello', image: 'hello:v1', ports: [{ name: 'http', containerPort: 8080 }] };

function expectError(fn: () => any, message: string | RegExp) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MeshValidationError);
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a MeshValidationError');
}

describe('injectPodTemplate: whole pod specs', () => {
  test('plain app, native sidecar (Kubernetes 1.33 default)', () => {
    const input = app();
    const out = injectPodTemplate(input, mesh(), TARGET);
    expect(out).toEqual({
      metadata: metadata(),
      spec: { containers: [HELLO], initContainers: [ISTIO_INIT, proxy()], volumes: VOLUMES },
    });
    expect(input).toEqual(app()); // pure: the input is untouched
  });

  test('legacy placement: istio-init after user init containers, istio-proxy last, no lifecycle', () => {
    const input = app();
    (input.spec as any).initContainers = [{ name: 'migrate', image: 'migrate:v1' }];
    const out = injectPodTemplate(input, mesh({ nativeSidecars: false }), TARGET);
    expect(out).toEqual({
      metadata: metadata({
        status: `{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":${STATUS_VOLUMES},"imagePullSecrets":null,"revision":"default"}`,
      }),
      spec: {
        containers: [HELLO, proxy({ native: false, lifecycle: null })],
        initContainers: [{ name: 'migrate', image: 'migrate:v1' }, ISTIO_INIT],
        volumes: VOLUMES,
      },
    });
  });

  test('holdApplicationUntilProxyStarts (legacy): proxy first with pilot-agent wait', () => {
    const out = injectPodTemplate(app(), mesh({ nativeSidecars: false }), TARGET, { holdApplicationUntilProxyStarts: true });
    expect(out.spec.containers).toEqual([
      proxy({
        native: false,
        lifecycle: { postStart: { exec: { command: ['pilot-agent', 'wait'] } } },
        env: env({ proxyConfig: '{"holdApplicationUntilProxyStarts":true}\n' }),
      }),
      HELLO,
    ]);
    expect(out.metadata.annotations['proxy.istio.io/config']).toBe('{"holdApplicationUntilProxyStarts":true}');
    // native: the hold setting is carried in PROXY_CONFIG but changes no placement
    const native = injectPodTemplate(app(), mesh(), TARGET, { holdApplicationUntilProxyStarts: true });
    expect(native.spec.containers).toEqual([HELLO]);
    expect(native.spec.initContainers[1].lifecycle.preStop).toBeDefined();
  });

  test('CNI: istio-validation instead of istio-init, plus the CNI annotations', () => {
    const out = injectPodTemplate(app(), mesh({ cni: true }), TARGET);
    const validation = {
      name: 'istio-validation',
      image: IMAGE,
      args: [...ISTIO_INIT.args, '--run-validation', '--skip-rule-apply'],
      resources: RESOURCES,
      securityContext: PROXY_SECURITY,
    };
    expect(out).toEqual({
      metadata: metadata({
        status: `{"initContainers":["istio-validation","istio-proxy"],"containers":null,"volumes":${STATUS_VOLUMES},"imagePullSecrets":null,"revision":"default"}`,
        annotations: {
          'sidecar.istio.io/interceptionMode': 'REDIRECT',
          'traffic.sidecar.istio.io/excludeInboundPorts': '15020',
          'traffic.sidecar.istio.io/includeInboundPorts': '*',
          'traffic.sidecar.istio.io/includeOutboundIPRanges': '*',
        },
      }),
      spec: { containers: [HELLO], initContainers: [validation, proxy()], volumes: VOLUMES },
    });
    // legacy + CNI: istio-validation runs first
    const legacy = injectPodTemplate({ ...app(), spec: { ...app().spec, initContainers: [{ name: 'a', image: 'a' }] } },
      mesh({ cni: true, nativeSidecars: false }), TARGET);
    expect(legacy.spec.initContainers.map((c: any) => c.name)).toEqual(['istio-validation', 'a']);
  });

  test('probes of each kind: httpGet, tcpSocket, grpc rewritten; exec left alone; named ports resolved', () => {
    const input = {
      metadata: { labels: { app: 'hello', version: 'v1' } },
      spec: {
        containers: [{
          name: 'hello',
          image: 'hello:v1',
          ports: [{ name: 'http', containerPort: 8080 }, { name: 'grpc', containerPort: 9090 }],
          readinessProbe: { httpGet: { path: '/ready', port: 'http', scheme: 'HTTPS' }, timeoutSeconds: 2, periodSeconds: 5 },
          livenessProbe: { tcpSocket: { port: 'http' }, initialDelaySeconds: 3 },
          startupProbe: { grpc: { port: 9090, service: 'health' }, failureThreshold: 30 },
          lifecycle: { preStop: { httpGet: { path: '/stop', port: 8080 } }, postStart: { exec: { command: ['true'] } } },
        }, {
          name: 'sidecar',
          image: 'helper:v1',
          livenessProbe: { exec: { command: ['cat', '/tmp/ok'] } },
        }],
      },
    };
    const out = injectPodTemplate(input, mesh(), TARGET);
    expect(out.spec.containers).toEqual([{
      name: 'hello',
      image: 'hello:v1',
      ports: [{ name: 'http', containerPort: 8080 }, { name: 'grpc', containerPort: 9090 }],
      readinessProbe: { httpGet: { path: '/app-health/hello/readyz', port: 15020, scheme: 'HTTP' }, timeoutSeconds: 2, periodSeconds: 5 },
      livenessProbe: { httpGet: { path: '/app-health/hello/livez', port: 15020 }, initialDelaySeconds: 3 },
      startupProbe: { httpGet: { path: '/app-health/hello/startupz', port: 15020 }, failureThreshold: 30 },
      lifecycle: { preStop: { httpGet: { path: '/app-lifecycle/hello/prestopz', port: 15020 } }, postStart: { exec: { command: ['true'] } } },
    }, {
      name: 'sidecar',
      image: 'helper:v1',
      livenessProbe: { exec: { command: ['cat', '/tmp/ok'] } },
    }]);
    const proxyEnv = out.spec.initContainers[1].env;
    expect(proxyEnv.slice(-1)).toEqual([{
      name: 'ISTIO_KUBE_APP_PROBERS',
      value: JSON.stringify({
        '/app-health/hello/livez': { tcpSocket: { port: 8080 } },
        '/app-health/hello/readyz': { httpGet: { path: '/ready', port: 8080, scheme: 'HTTPS' }, timeoutSeconds: 2 },
        '/app-health/hello/startupz': { grpc: { port: 9090, service: 'health' } },
        '/app-lifecycle/hello/prestopz': { httpGet: { path: '/stop', port: 8080 } },
      }),
    }]);
    // ISTIO_META_POD_PORTS lists every app container port; APP_CONTAINERS every app container
    expect(proxyEnv.find((e: any) => e.name === 'ISTIO_META_POD_PORTS').value)
      .toBe('[\n    {"name":"http","containerPort":8080,"protocol":"TCP"}\n    ,{"name":"grpc","containerPort":9090,"protocol":"TCP"}\n]');
    expect(proxyEnv.find((e: any) => e.name === 'ISTIO_META_APP_CONTAINERS').value).toBe('hello,sidecar');
  });

  test('rewriteAppProbes: false leaves probes alone; probes on excluded ports are rewritten too (Istio 1.30.3)', () => {
    const probe = { httpGet: { path: '/ready', port: 8080 } };
    const off = injectPodTemplate(app({ readinessProbe: probe }), mesh(), TARGET, { rewriteAppProbes: false });
    expect(off.spec.containers[0].readinessProbe).toEqual(probe);
    expect(off.metadata.annotations['sidecar.istio.io/rewriteAppHTTPProbers']).toBe('false');
    expect(off.spec.initContainers[1].env.map((e: any) => e.name)).not.toContain('ISTIO_KUBE_APP_PROBERS');
    // app_probe.go rewrites every httpGet/tcpSocket/grpc probe, captured port or not: pilot-agent reaches the app anyway
    const excluded = injectPodTemplate(app({ readinessProbe: probe }), mesh(), TARGET, { excludeInboundPorts: [8080] });
    expect(excluded.spec.containers[0].readinessProbe).toEqual({ httpGet: { path: '/app-health/hello/readyz', port: 15020 } });
    expect(excluded.spec.initContainers[1].env.slice(-1)).toEqual([
      { name: 'ISTIO_KUBE_APP_PROBERS', value: '{"/app-health/hello/readyz":{"httpGet":{"path":"/ready","port":8080}}}' },
    ]);
    // Istio 1.30.3 (template.go excludeInboundPort) appends the status port to the user's list
    expect(excluded.spec.initContainers[0].args).toContain('15090,15021,8080,15020');
  });

  test('several containers and named ports: ISTIO_META_POD_PORTS, default container, canonical labels', () => {
    const out = injectPodTemplate({
      metadata: { labels: { 'app.kubernetes.io/name': 'shop', 'app.kubernetes.io/version': '2.1' } },
      spec: {
        containers: [
          { name: 'web', image: 'web', ports: [{ name: 'http-web', containerPort: 8080, protocol: 'TCP' }] },
          { name: 'metrics', image: 'm', ports: [{ name: 'tcp-metrics', containerPort: 9100, hostPort: 9100 }, { containerPort: 53, protocol: 'UDP' }] },
        ],
      },
    }, mesh(), TARGET);
    const e = out.spec.initContainers[1].env;
    expect(e.find((x: any) => x.name === 'ISTIO_META_POD_PORTS').value).toBe(podPorts(
      { name: 'http-web', containerPort: 8080, protocol: 'TCP' }, { name: 'tcp-metrics', hostPort: 9100, containerPort: 9100, protocol: 'TCP' },
      { containerPort: 53, protocol: 'UDP' }));
    expect(e.find((x: any) => x.name === 'ISTIO_META_APP_CONTAINERS').value).toBe('web,metrics');
    expect(out.metadata.annotations['kubectl.kubernetes.io/default-container']).toBe('web');
    expect(out.metadata.labels['service.istio.io/canonical-name']).toBe('shop');
    expect(out.metadata.labels['service.istio.io/canonical-revision']).toBe('2.1');
    // no labels at all: workload name and 'latest'
    const bare = injectPodTemplate({ spec: { containers: [{ name: 'c', image: 'c' }] } }, mesh(), TARGET);
    expect(bare.metadata.labels['service.istio.io/canonical-name']).toBe('hello');
    expect(bare.metadata.labels['service.istio.io/canonical-revision']).toBe('latest');
  });

  test('custom proxy resources: only requests means no limits; mesh defaults otherwise', () => {
    const out = injectPodTemplate(app(), mesh(), TARGET, { resources: { cpuRequest: '50m', memoryRequest: '64Mi' } });
    expect(out.spec.initContainers[1].resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' } });
    expect(out.spec.initContainers[0].resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' } });
    expect(out.metadata.annotations).toMatchObject({ 'sidecar.istio.io/proxyCPU': '50m', 'sidecar.istio.io/proxyMemory': '64Mi' });
    const limits = injectPodTemplate(app(), mesh(), TARGET, { resources: { cpuRequest: '50m', cpuLimit: '1' } });
    expect(limits.spec.initContainers[1].resources).toEqual({ limits: { cpu: '1' }, requests: { cpu: '50m' } });
    const meshDefaults = injectPodTemplate(app(), mesh({ proxyResources: { cpuRequest: '10m', memoryLimit: '256Mi' } }), TARGET);
    expect(meshDefaults.spec.initContainers[1].resources).toEqual({ limits: { cpu: '2', memory: '256Mi' }, requests: { cpu: '10m', memory: '128Mi' } });
    // the same annotations put on the template by hand are honoured
    const byHand = injectPodTemplate({ ...app(), metadata: { annotations: { 'sidecar.istio.io/proxyMemory': '300Mi' } } }, mesh(), TARGET);
    expect(byHand.spec.initContainers[1].resources).toEqual({ requests: { memory: '300Mi' } });
  });

  test('log levels, concurrency, proxyMetadata, interception ports and ranges', () => {
    const out = injectPodTemplate(app(), mesh(), TARGET, {
      logLevel: ProxyLogLevel.DEBUG,
      componentLogLevel: 'misc:error,upstream:debug',
      concurrency: 2,
      proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true', BOOTSTRAP_XDS_AGENT: 'true' },
      includeOutboundIpRanges: ['10.0.0.0/8', 'fd00::/8'],
      excludeOutboundIpRanges: ['10.96.0.1/32'],
      includeInboundPorts: [8080],
      includeOutboundPorts: [5432],
      excludeOutboundPorts: [3306, 6379],
      annotations: { 'sidecar.istio.io/agentLogLevel': 'default:debug' },
    });
    const p = out.spec.initContainers[1];
    // Istio 1.30.3's template has no --concurrency flag: concurrency reaches the proxy in PROXY_CONFIG
    expect(p.args).toEqual(['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=debug',
      '--proxyComponentLogLevel=misc:error,upstream:debug', '--log_output_level=default:debug']);
    expect(out.spec.initContainers[0].args).toEqual(['istio-iptables', '-p', '15001', '-z', '15006', '-u', '1337', '-m', 'REDIRECT',
      '-i', '10.0.0.0/8,fd00::/8', '-x', '10.96.0.1/32', '-b', '8080', '-d', '15090,15021,15020', '-q', '5432', '-o', '3306,6379',
      '--log_output_level=default:info']);
    const config = '{"concurrency":2,"proxyMetadata":{"ISTIO_META_DNS_CAPTURE":"true","BOOTSTRAP_XDS_AGENT":"true"}}';
    expect(p.env).toEqual(env({
      // jsonpb writes map keys sorted
      proxyConfig: '{"concurrency":2,"proxyMetadata":{"BOOTSTRAP_XDS_AGENT":"true","ISTIO_META_DNS_CAPTURE":"true"}}\n',
      tail: [{ name: 'BOOTSTRAP_XDS_AGENT', value: 'true' }, { name: 'ISTIO_META_DNS_CAPTURE', value: 'true' }],
    }));
    expect(out.metadata.annotations).toMatchObject({
      'proxy.istio.io/config': config,
      'sidecar.istio.io/logLevel': 'debug',
      'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/8,fd00::/8',
      'traffic.sidecar.istio.io/excludeOutboundPorts': '3306,6379',
    });
  });

  test('an app with its own prometheus annotations: moved into ISTIO_PROMETHEUS_ANNOTATIONS', () => {
    const input = {
      ...app({ readinessProbe: { httpGet: { path: '/r', port: 8080 } } }),
      metadata: {
        labels: { app: 'hello', version: 'v1' },
        annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/metrics' },
      },
    };
    const out = injectPodTemplate(input, mesh(), TARGET);
    expect(out.metadata).toEqual(metadata());
    expect(out.spec.initContainers[1].env.slice(-2)).toEqual([
      { name: 'ISTIO_PROMETHEUS_ANNOTATIONS', value: '{"scrape":"true","path":"/metrics","port":"9102"}' },
      { name: 'ISTIO_KUBE_APP_PROBERS', value: '{"/app-health/hello/readyz":{"httpGet":{"path":"/r","port":8080}}}' },
    ]);
    // scrape: "false" opts out of the merge
    const off = injectPodTemplate({ ...app(), metadata: { annotations: { 'prometheus.io/scrape': 'false' } } }, mesh(), TARGET);
    expect(off.metadata.annotations['prometheus.io/scrape']).toBe('false');
    expect(off.metadata.annotations['prometheus.io/port']).toBeUndefined();
  });

  test('a revision: istio.io/rev annotation, CA_ADDR istiod-<rev>, status revision; trust domain', () => {
    const out = injectPodTemplate(app(), mesh({ revision: '1-30', trustDomain: 'prod.example.com' }), TARGET);
    expect(out).toEqual({
      metadata: metadata({ rev: '1-30' }),
      spec: {
        containers: [HELLO],
        initContainers: [ISTIO_INIT, proxy({
          env: env({
            ca: 'istiod-1-30.istio-system.svc:15012',
            // the revision's discovery address (meshConfig.defaultConfig), else pilot-agent dials istiod.istio-system.svc
            proxyConfig: '{"discoveryAddress":"istiod-1-30.istio-system.svc:15012"}\n',
            trustDomain: 'prod.example.com',
          }),
        })],
        volumes: VOLUMES,
      },
    });
  });

  test('webhook mode: only the selecting labels (and the option annotations)', () => {
    expect(injectPodTemplate(app(), mesh({ injectionMode: InjectionMode.WEBHOOK }), TARGET)).toEqual({
      metadata: { labels: { 'app': 'hello', 'sidecar.istio.io/inject': 'true', 'version': 'v1' } },
      spec: app().spec,
    });
    const rev = injectPodTemplate(app(), mesh({ injectionMode: InjectionMode.WEBHOOK, revision: 'canary' }), TARGET,
      { resources: { cpuRequest: '50m' } });
    expect(rev).toEqual({
      metadata: {
        labels: { 'app': 'hello', 'istio.io/rev': 'canary', 'sidecar.istio.io/inject': 'true', 'version': 'v1' },
        annotations: { 'sidecar.istio.io/proxyCPU': '50m' },
      },
      spec: app().spec,
    });
    const gwSpec = { containers: [{ name: 'istio-proxy', image: 'auto' }] };
    const gw = injectPodTemplate({ metadata: {}, spec: gwSpec }, mesh({ injectionMode: InjectionMode.WEBHOOK }), TARGET,
      { template: SidecarTemplate.GATEWAY });
    expect(gw).toEqual({
      metadata: { labels: { 'sidecar.istio.io/inject': 'true' }, annotations: { 'inject.istio.io/templates': 'gateway' } },
      spec: gwSpec,
    });
  });

  test('gateway template: proxy router, no init container, no tlsMode label, readiness on 15021', () => {
    const gwTarget = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ingress', namespace: 'istio-ingress' };
    const input = {
      metadata: { labels: { app: 'ingress', istio: 'ingress' } },
      spec: { containers: [{ name: 'istio-proxy', image: 'auto', ports: [{ containerPort: 15021, name: 'status-port', protocol: 'TCP' }] }] },
    };
    const out = injectPodTemplate(input, mesh(), gwTarget, { template: SidecarTemplate.GATEWAY });
    // Istio 1.30.3 gateway-injection-template.yaml: POD_PORTS lists the istio-proxy container's ports too, and
    // APP_CONTAINERS (empty, so without a value) comes after GOMAXPROCS
    const sidecarEnv = env({ podPorts: null, owner: 'kubernetes://apis/apps/v1/namespaces/istio-ingress/deployments/ingress' })
      .map(e => (e.name === 'ISTIO_META_WORKLOAD_NAME' ? { ...e, value: 'ingress' } : e));
    const at = sidecarEnv.findIndex(e => e.name === 'PROXY_CONFIG') + 1;
    const gwEnv = [
      ...sidecarEnv.slice(0, at),
      { name: 'ISTIO_META_POD_PORTS', value: podPorts({ name: 'status-port', containerPort: 15021, protocol: 'TCP' }) },
      limit('GOMEMLIMIT', 'limits.memory'),
      limit('GOMAXPROCS', 'limits.cpu'),
      { name: 'ISTIO_META_APP_CONTAINERS' },
      ...sidecarEnv.slice(at + 2),
    ];
    const gwVolumes = VOLUMES.filter(v => v.name !== 'istio-ca-crl');
    const gwStatusVolumes = JSON.stringify(gwVolumes.map(v => v.name));
    expect(out).toEqual({
      metadata: {
        labels: {
          'app': 'ingress',
          'istio': 'ingress',
          'service.istio.io/canonical-name': 'ingress',
          'service.istio.io/canonical-revision': 'latest',
          'sidecar.istio.io/inject': 'false',
        },
        annotations: {
          'inject.istio.io/templates': 'gateway',
          'istio.io/rev': 'default',
          'prometheus.io/path': '/stats/prometheus',
          'prometheus.io/port': '15020',
          'prometheus.io/scrape': 'true',
          'sidecar.istio.io/status': `{"initContainers":null,"containers":["istio-proxy"],"volumes":${gwStatusVolumes},"imagePullSecrets":null,"revision":"default"}`,
        },
      },
      spec: {
        securityContext: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] },
        containers: [{
          name: 'istio-proxy',
          image: IMAGE,
          args: ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local', '--proxyLogLevel=warning',
            '--proxyComponentLogLevel=misc:error', '--log_output_level=default:info'],
          ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }, { containerPort: 15021, name: 'status-port', protocol: 'TCP' }],
          env: gwEnv,
          readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 },
          // no resources: the gateway template has none (the gateway chart puts them on its istio-proxy container)
          securityContext: PROXY_SECURITY,
          volumeMounts: MOUNTS.filter(m => m.name !== 'istio-ca-crl'),
        }],
        volumes: gwVolumes,
      },
    });
  });

  test('idempotence: an injected template comes back unchanged; options for it are an error', () => {
    const once = injectPodTemplate(app(), mesh(), TARGET);
    expect(injectPodTemplate(once, mesh(), TARGET)).toEqual(once);
    expect(injectPodTemplate(once, mesh({ nativeSidecars: false, cni: true }), TARGET)).toEqual(once);
    expectError(() => injectPodTemplate(once, mesh(), TARGET, { concurrency: 2 }),
      /Deployment\/hello: options \{"concurrency":2\} is invalid: the pod template is already injected/);
    // a hand-written istio-proxy container (not image: auto) also counts as injected
    const manual = { spec: { containers: [{ name: 'a', image: 'a' }, { name: 'istio-proxy', image: 'my/proxy:1' }] } };
    expect(injectPodTemplate(manual, mesh(), TARGET)).toEqual(manual);
    // a pod that opts out is left alone
    const optOut = { metadata: { labels: { 'sidecar.istio.io/inject': 'false' } }, spec: { containers: [{ name: 'a', image: 'a' }] } };
    expect(injectPodTemplate(optOut, mesh(), TARGET)).toEqual(optOut);
  });

  test('the owner namespace defaults to the pod namespace, resolved by the kubelet', () => {
    const out = injectPodTemplate(app(), mesh(), { apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello' });
    expect(out.spec.initContainers[1].env.find((e: any) => e.name === 'ISTIO_META_OWNER').value)
      .toBe('kubernetes://apis/batch/v1/namespaces/$(POD_NAMESPACE)/cronjobs/hello');
  });
});

describe('injectPodTemplate: bad input', () => {
  const m = mesh();
  test('an app container running as UID 1337 (IST0144)', () => {
    expectError(() => injectPodTemplate(app({ securityContext: { runAsUser: 1337 } }), m, TARGET),
      'Deployment/hello: spec.containers[hello].securityContext.runAsUser 1337 is invalid: UID 1337 is reserved for the Istio proxy (IST0144)');
    expectError(() => injectPodTemplate({ spec: { securityContext: { runAsUser: 1337 }, containers: [{ name: 'a', image: 'a' }] } }, m, TARGET),
      'spec.securityContext.runAsUser 1337 is invalid');
  });
  test('an app port reserved for the proxy', () => {
    expectError(() => injectPodTemplate(app({ ports: [{ name: 'admin', containerPort: 15000 }] }), m, TARGET),
      'spec.containers[hello].ports[admin].containerPort 15000 is invalid: ports 15000, 15001, 15002, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090 are reserved');
  });
  test('invalid CIDRs and ports in interception options', () => {
    expectError(() => injectPodTemplate(app(), m, TARGET, { excludeOutboundIpRanges: ['10.0.0.0/33'] }),
      "excludeOutboundIpRanges[0] '10.0.0.0/33' is invalid: must be a CIDR");
    expectError(() => injectPodTemplate(app(), m, TARGET, { includeOutboundIpRanges: ['10.0.0.1'] }), "includeOutboundIpRanges[0] '10.0.0.1' is invalid");
    expectError(() => injectPodTemplate(app(), m, TARGET, { excludeInboundPorts: [70000] }), 'excludeInboundPorts[0] 70000 is invalid: must be a whole number from 1 to 65535');
    expectError(() => injectPodTemplate(app(), m, TARGET, { includeOutboundPorts: [0] }), 'includeOutboundPorts[0] 0 is invalid');
    expectError(() => injectPodTemplate({ ...app(), metadata: { annotations: { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '1.2.3.4/8,bad' } } }, m, TARGET),
      "annotations['traffic.sidecar.istio.io/excludeOutboundIPRanges'] '1.2.3.4/8,bad' is invalid");
  });
  test('invalid quantities', () => {
    expectError(() => injectPodTemplate(app(), m, TARGET, { resources: { cpuRequest: '100 millicores' } }),
      "resources.cpuRequest '100 millicores' is invalid: must be a Kubernetes quantity");
    expectError(() => injectPodTemplate({ ...app(), metadata: { annotations: { 'sidecar.istio.io/proxyMemoryLimit': '1GB' } } }, m, TARGET),
      "annotations['sidecar.istio.io/proxyMemoryLimit'] '1GB' is invalid");
  });
  test('log levels, concurrency, proxyMetadata names', () => {
    expectError(() => injectPodTemplate(app(), m, TARGET, { componentLogLevel: 'misc=error' }), "componentLogLevel 'misc=error' is invalid");
    expectError(() => injectPodTemplate(app(), m, TARGET, { logLevel: 'loud' as any }), "logLevel 'loud' is invalid");
    expectError(() => injectPodTemplate(app(), m, TARGET, { concurrency: -1 }), 'concurrency -1 is invalid');
    expectError(() => injectPodTemplate(app(), m, TARGET, { proxyMetadata: { 'BAD-NAME': 'x' } }), "proxyMetadata key 'BAD-NAME' is invalid");
  });
  test('annotations that are not honoured, or unsupported at synth time', () => {
    expectError(() => injectPodTemplate(app(), m, TARGET, { annotations: { 'sidecar.istio.io/userVolume': '{}' } }),
      "annotations key 'sidecar.istio.io/userVolume' is invalid: is not an injection annotation honoured at synth time");
    expectError(() => injectPodTemplate(app(), m, TARGET, { annotations: { team: 'a' } }), "annotations key 'team' is invalid: only Istio injection annotations");
    expectError(() => injectPodTemplate({ ...app(), metadata: { annotations: { 'sidecar.istio.io/interceptionMode': 'TPROXY' } } }, m, TARGET),
      "annotations['sidecar.istio.io/interceptionMode'] 'TPROXY' is invalid: only 'REDIRECT'");
    expectError(() => injectPodTemplate({ ...app(), metadata: { annotations: { 'status.sidecar.istio.io/port': '0' } } }, m, TARGET),
      "annotations['status.sidecar.istio.io/port'] '0' is invalid: is not supported by synth-time injection");
    expectError(() => injectPodTemplate({ ...app(), metadata: { annotations: { 'proxy.istio.io/config': '[1]' } } }, m, TARGET),
      "annotations['proxy.istio.io/config'] '[1]' is invalid");
  });
  test('a named probe port that does not exist; hostNetwork; no containers; reserved volume names', () => {
    expectError(() => injectPodTemplate(app({ livenessProbe: { tcpSocket: { port: 'admin' } } }), m, TARGET),
      "containers[hello].livenessProbe.tcpSocket.port 'admin' is invalid: must be a port number or the name of a port of container 'hello' (http)");
    // a host-network pod is left uninjected (see 'fidelity'), so options for it could not take effect
    expectError(() => injectPodTemplate({ spec: { hostNetwork: true, containers: [{ name: 'a', image: 'a' }] } }, m, TARGET, { concurrency: 2 }),
      'spec.hostNetwork true is invalid: Istio does not inject pods on the host network, so proxy options cannot apply');
    expectError(() => injectPodTemplate({ spec: { containers: [] } }, m, TARGET), 'spec.containers [] is invalid');
    expectError(() => injectPodTemplate({ spec: { containers: [{ name: 'a', image: 'a' }], volumes: [{ name: 'istio-data', emptyDir: {} }] } }, m, TARGET),
      "spec.volumes[istio-data] 'istio-data' is invalid: volume names");
  });
});

describe('mesh.inject', () => {
  const kubeDeployment = (chart: Chart) => new ApiObject(chart, 'hello', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hello', namespace: 'shop' },
    spec: {
      selector: { matchLabels: { app: 'hello' } },
      template: app({ readinessProbe: { httpGet: { path: '/ready', port: 'http' } } }),
    },
  });

  test('a Deployment: injected at synth, schema-valid on Kubernetes 1.33, snapshot', () => {
    const chart = Testing.chart();
    const m = new Mesh(chart, 'mesh', NO_CNI);
    m.inject(kubeDeployment(chart), { concurrency: 2 });
    const objects = synthValid(chart, '1.33');
    const d = one(objects, 'Deployment', 'hello');
    expect(d.spec.template.spec.initContainers.map((c: any) => c.name)).toEqual(['istio-init', 'istio-proxy']);
    expect(d.spec.selector).toEqual({ matchLabels: { app: 'hello' } });
    expect(yamlOf(objects)).toMatchSnapshot();
  });

  test('legacy and CNI variants are schema-valid too', () => {
    for (const props of [{ nativeSidecars: false }, { cni: true }, { injectionMode: InjectionMode.WEBHOOK, revision: 'canary' }]) {
      const chart = Testing.chart();
      new Mesh(chart, 'mesh', { ...NO_CNI, ...props }).inject(kubeDeployment(chart), { holdApplicationUntilProxyStarts: true });
      synthValid(chart, '1.33');
    }
  });

  test('escape-hatch patches are applied before injection; injecting twice with the same options is a no-op', () => {
    const chart = Testing.chart();
    const m = new Mesh(chart, 'mesh', NO_CNI);
    const d = kubeDeployment(chart);
    m.inject(d);
    m.inject(d);
    d.addJsonPatch(JsonPatch.add('/spec/template/spec/containers/0/env', [{ name: 'A', value: '1' }]));
    const out = one(synthValid(chart), 'Deployment');
    expect(out.spec.template.spec.containers[0].env).toEqual([{ name: 'A', value: '1' }]);
    expect(out.spec.template.spec.initContainers).toHaveLength(2);
    expectError(() => m.inject(d, { concurrency: 1 }), 'the workload is already injected with other proxy options');
  });

  test('a CronJob (jobTemplate path) and a StatefulSet', () => {
    const chart = Testing.chart();
    const m = new Mesh(chart, 'mesh', NO_CNI);
    const cron = new ApiObject(chart, 'cron', {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'report', namespace: 'shop' },
      spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'report', image: 'r' }] } } } } },
    });
    const sts = new ApiObject(chart, 'sts', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'shop' },
      spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'db' }] } } },
    });
    m.inject(cron);
    SidecarInjector.inject(sts, m, { logLevel: ProxyLogLevel.INFO });
    const objects = synthValid(chart);
    const c = one(objects, 'CronJob').spec.jobTemplate.spec.template;
    expect(c.spec.initContainers.map((x: any) => x.name)).toEqual(['istio-init', 'istio-proxy']);
    expect(c.spec.initContainers[1].env.find((e: any) => e.name === 'ISTIO_META_OWNER').value)
      .toBe('kubernetes://apis/batch/v1/namespaces/shop/cronjobs/report');
    const s = one(objects, 'StatefulSet').spec.template;
    expect(s.spec.initContainers[1].args).toContain('--proxyLogLevel=info');
    expect(s.metadata.labels['service.istio.io/canonical-name']).toBe('db');
    expect(s.spec.initContainers[1].env.find((e: any) => e.name === 'ISTIO_META_WORKLOAD_NAME').value).toBe('db');
  });

  test('a cdk8s-plus Deployment', () => {
    const chart = Testing.chart();
    const m = new Mesh(chart, 'mesh', NO_CNI);
    const dep = new kplus.Deployment(chart, 'web', {
      containers: [{ name: 'web', image: 'web:v1', portNumber: 8080, securityContext: { user: 1000, group: 1000 } }],
    });
    m.inject(dep);
    const d = one(synthValid(chart), 'Deployment');
    expect(d.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['web']);
    expect(d.spec.template.spec.initContainers.map((c: any) => c.name)).toEqual(['istio-init', 'istio-proxy']);
    expect(d.spec.template.metadata.labels['security.istio.io/tlsMode']).toBe('istio');
  });

  test('not a workload', () => {
    const chart = Testing.chart();
    const svc = new ApiObject(chart, 'svc', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } });
    expectError(() => new Mesh(chart, 'mesh', NO_CNI).inject(svc), "kind 'Service' is invalid: must be a workload with a pod template");
  });
});

describe('fidelity to Istio 1.30.3 injection (issue 14)', () => {
  const envOf = (c: any, name: string) => c.env.find((e: any) => e.name === name);
  const names = (list: any[] = []) => list.map(c => c.name);

  test('PROXY_CONFIG carries the mesh default config: the revision discovery address, in proto field order', () => {
    const rev = injectPodTemplate(app(), mesh({ revision: '1-30' }), TARGET);
    expect(envOf(rev.spec.initContainers[1], 'PROXY_CONFIG').value).toBe('{"discoveryAddress":"istiod-1-30.istio-system.svc:15012"}\n');
    expect(envOf(injectPodTemplate(app(), mesh({ rootNamespace: 'mesh' }), TARGET).spec.initContainers[1], 'PROXY_CONFIG').value)
      .toBe('{"discoveryAddress":"istiod.mesh.svc:15012"}\n');
    // the pod's proxy.istio.io/config (YAML, proto field names accepted) is merged over the mesh default; values equal
    // to Istio's defaults are left out; fields come in declaration order, map keys sorted
    const m = mesh({
      revision: '1-30',
      defaultProxyConfig: { drainDuration: Duration.seconds(30), terminationDrainDuration: Duration.millis(1500), proxyMetadata: { B: '1', A: '2' } },
    });
    const yamlConfig = 'hold_application_until_proxy_starts: false\nconcurrency: 0\nproxyMetadata: {C: "3", A: "4"}\nstatusPort: 15020\n';
    const out = injectPodTemplate({ ...app(), metadata: { annotations: { 'proxy.istio.io/config': yamlConfig } } }, m, TARGET);
    expect(envOf(out.spec.initContainers[1], 'PROXY_CONFIG').value).toBe(
      '{"drainDuration":"30s","discoveryAddress":"istiod-1-30.istio-system.svc:15012","concurrency":0,' +
      '"proxyMetadata":{"A":"4","B":"1","C":"3"},"terminationDrainDuration":"1.500s","holdApplicationUntilProxyStarts":false}\n');
  });

  test('istio-proxy: GOMEMLIMIT and GOMAXPROCS from the limits (divisor 1), no --concurrency flag', () => {
    const p = injectPodTemplate(app(), mesh(), TARGET, { concurrency: 4 }).spec.initContainers[1];
    const i = p.env.findIndex((e: any) => e.name === 'GOMEMLIMIT');
    expect(p.env.slice(i - 1, i + 3).map((e: any) => e.name)).toEqual(['ISTIO_META_APP_CONTAINERS', 'GOMEMLIMIT', 'GOMAXPROCS', 'ISTIO_META_CLUSTER_ID']);
    expect(p.env[i + 1]).toEqual({ name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } });
    expect(p.env[i]).toEqual({ name: 'GOMEMLIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1' } } });
    expect(p.args).not.toContain('--concurrency');
    expect(envOf(p, 'PROXY_CONFIG').value).toBe('{"concurrency":4}\n');
  });

  test("a user's istio-init (or istio-validation) is merged into the injected one, never kept as a second", () => {
    const custom = { name: 'istio-init', image: 'auto', resources: { requests: { cpu: '10m' } }, env: [{ name: 'X', value: '1' }] };
    for (const props of [{}, { nativeSidecars: false }]) {
      const input = { ...app(), spec: { ...app().spec, initContainers: [custom, { name: 'migrate', image: 'm' }] } };
      const out = injectPodTemplate(input, mesh(props), TARGET);
      const inits = out.spec.initContainers;
      expect(names(inits)).toEqual(props.nativeSidecars === false ? ['migrate', 'istio-init'] : ['istio-init', 'istio-proxy', 'migrate']);
      const init = inits.find((c: any) => c.name === 'istio-init');
      expect(init.image).toBe(IMAGE);
      expect(init.args).toEqual(ISTIO_INIT.args);
      expect(init.resources).toEqual({ ...RESOURCES, requests: { cpu: '10m', memory: '128Mi' } });
      expect(init.env).toEqual([{ name: 'X', value: '1' }]);
      expect(init.securityContext).toEqual(ISTIO_INIT.securityContext);
    }
    const cni = injectPodTemplate({ ...app(), spec: { ...app().spec, initContainers: [{ ...custom, name: 'istio-validation' }] } }, mesh({ cni: true }), TARGET);
    expect(names(cni.spec.initContainers)).toEqual(['istio-validation', 'istio-proxy']);
    expect(cni.spec.initContainers[0].env).toEqual([{ name: 'X', value: '1' }]);
    // an image other than 'auto' is the user's choice
    const pinned = injectPodTemplate({ ...app(), spec: { ...app().spec, initContainers: [{ name: 'istio-init', image: 'mirror/proxyv2:1.30.3' }] } }, mesh(), TARGET);
    expect(pinned.spec.initContainers[0].image).toBe('mirror/proxyv2:1.30.3');
    // schema-valid in a chart: one istio-init, as the API server requires unique container names
    const chart = Testing.chart();
    const m = new Mesh(chart, 'mesh', NO_CNI);
    m.inject(new ApiObject(chart, 'd', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'hello', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'hello' } }, template: { ...app(), spec: { ...app().spec, initContainers: [custom] } } },
    }));
    expect(names(one(synthValid(chart), 'Deployment').spec.template.spec.initContainers)).toEqual(['istio-init', 'istio-proxy']);
  });

  test("the proxy UID of a user's istio-proxy is the one iptables excludes (istio-init -u; istio-validation runs as it)", () => {
    const withProxy = (extra: any = {}) => ({
      ...app(extra),
      spec: { containers: [...app(extra).spec.containers, { name: 'istio-proxy', image: 'auto', securityContext: { runAsUser: 1234, runAsGroup: 4321 } }] },
    });
    const out = injectPodTemplate(withProxy(), mesh(), TARGET);
    const [init, sidecar] = out.spec.initContainers;
    expect(init.args.slice(init.args.indexOf('-u'), init.args.indexOf('-u') + 2)).toEqual(['-u', '1234']);
    expect(init.securityContext.runAsUser).toBe(0); // istio-init itself stays root
    expect(sidecar.securityContext).toEqual({ ...PROXY_SECURITY, runAsUser: 1234, runAsGroup: 4321 });
    expect(names(out.spec.containers)).toEqual(['hello']);
    const cni = injectPodTemplate(withProxy(), mesh({ cni: true }), TARGET).spec.initContainers[0];
    expect(cni.name).toBe('istio-validation');
    expect(cni.args).toContain('1234');
    expect(cni.args).not.toContain('1337');
    expect(cni.securityContext).toEqual({ ...PROXY_SECURITY, runAsUser: 1234, runAsGroup: 4321 });
    // the app may not take the proxy's UID; the proxy may not run as root
    expectError(() => injectPodTemplate(withProxy({ securityContext: { runAsUser: 1234 } }), mesh(), TARGET),
      'spec.containers[hello].securityContext.runAsUser 1234 is invalid: UID 1234 is reserved for the Istio proxy');
    const root = { ...app(), spec: { containers: [...app().spec.containers, { name: 'istio-proxy', image: 'auto', securityContext: { runAsUser: 0 } }] } };
    expectError(() => injectPodTemplate(root, mesh(), TARGET), 'runAsUser 0 is invalid: the proxy must not run as root');
  });

  test('proxyMetadata (mesh-wide and per pod) is env of istio-init and istio-validation too', () => {
    const m = (props: any = {}) => mesh({ ...props, defaultProxyConfig: { proxyMetadata: { ISTIO_DUAL_STACK: 'true', ISTIO_META_DNS_CAPTURE: 'false' } } });
    const expected = [{ name: 'ISTIO_DUAL_STACK', value: 'true' }, { name: 'ISTIO_META_DNS_CAPTURE', value: 'true' }];
    const out = injectPodTemplate(app(), m(), TARGET, { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true' } });
    expect(out.spec.initContainers[0].env).toEqual(expected);
    expect(out.spec.initContainers[1].env.slice(-2)).toEqual(expected);
    expect(injectPodTemplate(app(), m({ cni: true }), TARGET, { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true' } }).spec.initContainers[0].env)
      .toEqual(expected);
    // none: no env at all
    expect(injectPodTemplate(app(), mesh(), TARGET).spec.initContainers[0].env).toBeUndefined();
  });

  test('mesh.inject with the gateway template: the port sysctl, no proxy resources or CPU annotations, no istio-ca-crl', () => {
    const chart = Testing.chart();
    const m = new Mesh(chart, 'mesh', NO_CNI);
    const gw = (id: string) => new ApiObject(chart, id, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: id, namespace: 'istio-ingress' },
      spec: {
        selector: { matchLabels: { istio: id } },
        template: { metadata: { labels: { istio: id } }, spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } },
      },
    });
    m.inject(gw('plain'), { template: SidecarTemplate.GATEWAY });
    m.inject(gw('sized'), { template: SidecarTemplate.GATEWAY, resources: { cpuRequest: '500m', memoryLimit: '1Gi' } });
    const objects = synthValid(chart);
    for (const name of ['plain', 'sized']) {
      const t = one(objects, 'Deployment', name).spec.template;
      expect(t.spec.securityContext).toEqual({ sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] });
      expect(names(t.spec.volumes)).not.toContain('istio-ca-crl');
      expect(t.spec.containers[0].volumeMounts.map((v: any) => v.name)).not.toContain('istio-ca-crl');
      expect(Object.keys(t.metadata.annotations).filter(k => k.startsWith('sidecar.istio.io/proxy'))).toEqual([]);
      expect(t.spec.initContainers).toBeUndefined();
    }
    expect(one(objects, 'Deployment', 'plain').spec.template.spec.containers[0].resources).toBeUndefined();
    expect(one(objects, 'Deployment', 'sized').spec.template.spec.containers[0].resources).toEqual({ limits: { memory: '1Gi' }, requests: { cpu: '500m' } });
    // the template reads neither the resource nor the readiness annotations: refused rather than ignored
    const gwPod = (annotations: any) => ({ metadata: { annotations: { 'inject.istio.io/templates': 'gateway', ...annotations } }, spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } });
    expectError(() => injectPodTemplate(gwPod({ 'sidecar.istio.io/proxyCPU': '1' }), mesh(), TARGET),
      "annotations['sidecar.istio.io/proxyCPU'] '1' is invalid: has no effect with the gateway template");
    expectError(() => injectPodTemplate(gwPod({ 'readiness.status.sidecar.istio.io/periodSeconds': '5' }), mesh(), TARGET),
      'has no effect with the gateway template');
    // the template's sysctls replace the pod's: other sysctls are refused
    const sysctl = { ...gwPod({}), spec: { ...gwPod({}).spec, securityContext: { runAsNonRoot: true, sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] } } };
    expectError(() => injectPodTemplate(sysctl, mesh(), TARGET), 'spec.securityContext.sysctls');
    const kept = { ...gwPod({}), spec: { ...gwPod({}).spec, securityContext: { runAsNonRoot: true } } };
    expect(injectPodTemplate(kept, mesh(), TARGET).spec.securityContext)
      .toEqual({ runAsNonRoot: true, sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] });
    // webhook mode: the resources go on the istio-proxy container too
    const hook = injectPodTemplate(gwPod({}), mesh({ injectionMode: InjectionMode.WEBHOOK }), TARGET, { resources: { cpuRequest: '1' } });
    expect(hook.spec.containers).toEqual([{ name: 'istio-proxy', image: 'auto', resources: { requests: { cpu: '1' } } }]);
    expect(hook.metadata.annotations).toEqual({ 'inject.istio.io/templates': 'gateway' });
  });

  test('mesh network: ISTIO_META_NETWORK last before the webhook additions, topology label; the pod label wins', () => {
    const input = { ...app({ readinessProbe: { httpGet: { path: '/r', port: 8080 } } }) };
    const out = injectPodTemplate(input, mesh({ network: 'network1' }), TARGET, { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true' } });
    expect(out.spec.initContainers[1].env.slice(-3).map((e: any) => e.name)).toEqual(['ISTIO_META_DNS_CAPTURE', 'ISTIO_META_NETWORK', 'ISTIO_KUBE_APP_PROBERS']);
    expect(envOf(out.spec.initContainers[1], 'ISTIO_META_NETWORK').value).toBe('network1');
    expect(out.metadata.labels['topology.istio.io/network']).toBe('network1');
    const own = injectPodTemplate({ ...app(), metadata: { labels: { 'topology.istio.io/network': 'west' } } }, mesh({ network: 'network1' }), TARGET);
    expect(envOf(own.spec.initContainers[1], 'ISTIO_META_NETWORK').value).toBe('west');
    expect(own.metadata.labels['topology.istio.io/network']).toBe('west');
    const none = injectPodTemplate(app(), mesh(), TARGET);
    expect(envOf(none.spec.initContainers[1], 'ISTIO_META_NETWORK')).toBeUndefined();
    expect(none.metadata.labels['topology.istio.io/network']).toBeUndefined();
  });

  test('mesh imagePullSecrets: on the pod before its own (the template is the merge patch), listed in the status', () => {
    const m = mesh({ imagePullSecrets: ['regcred', 'mirror'] });
    const out = injectPodTemplate({ ...app(), spec: { ...app().spec, imagePullSecrets: [{ name: 'mirror' }, { name: 'own' }] } }, m, TARGET);
    expect(out.spec.imagePullSecrets).toEqual([{ name: 'regcred' }, { name: 'mirror' }, { name: 'own' }]);
    expect(JSON.parse(out.metadata.annotations['sidecar.istio.io/status']).imagePullSecrets).toEqual(['regcred', 'mirror']);
    expect(injectPodTemplate(app(), mesh(), TARGET).spec.imagePullSecrets).toBeUndefined();
  });

  test('mesh holdApplicationUntilProxyStarts places the legacy proxy first; the pod setting wins', () => {
    const m = mesh({ nativeSidecars: false, defaultProxyConfig: { holdApplicationUntilProxyStarts: true } });
    const out = injectPodTemplate(app(), m, TARGET);
    expect(names(out.spec.containers)).toEqual(['istio-proxy', 'hello']);
    expect(out.spec.containers[0].lifecycle).toEqual({ postStart: { exec: { command: ['pilot-agent', 'wait'] } } });
    expect(envOf(out.spec.containers[0], 'PROXY_CONFIG').value).toBe('{"holdApplicationUntilProxyStarts":true}\n');
    const off = injectPodTemplate(app(), m, TARGET, { holdApplicationUntilProxyStarts: false });
    expect(names(off.spec.containers)).toEqual(['hello', 'istio-proxy']);
    expect(off.spec.containers[1].lifecycle).toBeUndefined();
  });

  test("merge order: injected volumes before the pod's own; the pod's istio-proxy env before the webhook's additions", () => {
    const input = {
      ...app({ readinessProbe: { httpGet: { path: '/r', port: 8080 } } }),
      spec: {
        containers: [
          ...app({ readinessProbe: { httpGet: { path: '/r', port: 8080 } } }).spec.containers,
          { name: 'istio-proxy', image: 'auto', env: [{ name: 'MY_FLAG', value: '1' }] },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    };
    const out = injectPodTemplate(input, mesh({ network: 'n1' }), TARGET);
    expect(names(out.spec.volumes)).toEqual([...VOLUMES.map(v => v.name), 'data']);
    expect(out.spec.initContainers[1].env.slice(-4).map((e: any) => e.name)).toEqual(['TRUST_DOMAIN', 'MY_FLAG', 'ISTIO_META_NETWORK', 'ISTIO_KUBE_APP_PROBERS']);
  });

  test("the pod's own tlsMode label is kept; HBONE proxy metadata adds the tunnel label", () => {
    const own = injectPodTemplate({ ...app(), metadata: { labels: { 'app': 'hello', 'security.istio.io/tlsMode': 'disabled' } } }, mesh(), TARGET);
    expect(own.metadata.labels['security.istio.io/tlsMode']).toBe('disabled');
    expect(own.metadata.labels['networking.istio.io/tunnel']).toBeUndefined();
    const hbone = injectPodTemplate(app(), mesh(), TARGET, { proxyMetadata: { ISTIO_META_ENABLE_HBONE: 'true' } });
    expect(hbone.metadata.labels['networking.istio.io/tunnel']).toBe('http');
  });

  test('a workload-name label names the workload; empty app labels count as unset', () => {
    const out = injectPodTemplate({ ...app(), metadata: { labels: { 'app': '', 'service.istio.io/workload-name': 'hello-api' } } }, mesh(), TARGET);
    expect(envOf(out.spec.initContainers[1], 'ISTIO_META_WORKLOAD_NAME').value).toBe('hello-api');
    expect(out.metadata.labels['service.istio.io/canonical-name']).toBe('hello');
  });

  test('a bare Pod with a generated name is named after its controller, as Istio derives it', () => {
    const pod = (ownerReferences: any[], labels: any = {}) => ({ metadata: { name: 'web-7d9f-x', generateName: 'web-7d9f-', labels, ownerReferences } });
    const ctrl = (kind: string, name: string, apiVersion = 'apps/v1') => ({ apiVersion, kind, name, uid: 'u', controller: true });
    expect(podOwner(pod([ctrl('ReplicaSet', 'web-7d9f')], { 'pod-template-hash': '7d9f' }))).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: undefined });
    expect(podOwner(pod([ctrl('Job', 'report-28012345', 'batch/v1')]))).toEqual({ apiVersion: 'batch/v1', kind: 'CronJob', name: 'report', namespace: undefined });
    expect(podOwner(pod([ctrl('Bar', 'thing', 'foo/v1')]))).toEqual({ apiVersion: 'foo/v1', kind: 'Bar', name: 'thing', namespace: undefined });
    expect(podOwner(pod([{ ...ctrl('Bar', 'thing', 'foo/v1'), controller: false }])).kind).toBe('Pod');
    expect(podOwner({ metadata: { name: 'p', ownerReferences: [ctrl('Bar', 'thing')] } }).name).toBe('p');
    // through mesh.inject
    const chart = Testing.chart();
    new Mesh(chart, 'mesh', NO_CNI).inject(new ApiObject(chart, 'p', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...pod([ctrl('ReplicaSet', 'web-7d9f')], { 'pod-template-hash': '7d9f' }).metadata, namespace: 'shop' },
      spec: { containers: [{ name: 'web', image: 'web' }] },
    }));
    const p = one(synthValid(chart), 'Pod');
    expect(envOf(p.spec.initContainers[1], 'ISTIO_META_OWNER').value).toBe('kubernetes://apis/apps/v1/namespaces/shop/deployments/web');
    expect(envOf(p.spec.initContainers[1], 'ISTIO_META_WORKLOAD_NAME').value).toBe('web');
    expect(p.metadata.labels['service.istio.io/canonical-name']).toBe('web');
  });

  test('hostNetwork pods are left uninjected, as Istio does; mesh.inject of one synthesizes it as written', () => {
    const hostNet = { spec: { hostNetwork: true, containers: [{ name: 'agent', image: 'agent' }] } };
    expect(injectPodTemplate(hostNet, mesh(), TARGET)).toEqual(hostNet);
    const chart = Testing.chart();
    const spec = { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: hostNet.spec } };
    new Mesh(chart, 'mesh', NO_CNI).inject(new ApiObject(chart, 'ds', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec }));
    expect(one(synthValid(chart), 'DaemonSet').spec).toEqual(spec);
  });

  test('included YAML with kind: List: every workload item is injected, other items are left alone', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-mesh-'));
    const file = path.join(dir, 'list.yaml');
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'hello', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'hello' } }, template: app() },
    };
    const agent = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { hostNetwork: true, containers: [{ name: 'a', image: 'a' }] } } },
    };
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'hello', namespace: 'shop' }, spec: { selector: { app: 'hello' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } };
    fs.writeFileSync(file, YAML.stringify({ apiVersion: 'v1', kind: 'List', items: [deployment, service, agent] }));
    try {
      // the Include itself, and the List object directly
      for (const pick of [(inc: Include) => inc, (inc: Include) => inc.apiObjects[0]]) {
        const chart = Testing.chart();
        const m = new Mesh(chart, 'mesh', NO_CNI);
        const inc = new Include(chart, 'included', { url: file });
        m.inject(pick(inc), { concurrency: 2 });
        const [list] = Testing.synth(chart);
        expect(list.kind).toBe('List');
        expectValid(list.items);
        const [d, svc, ds] = list.items;
        expect(names(d.spec.template.spec.initContainers)).toEqual(['istio-init', 'istio-proxy']);
        expect(envOf(d.spec.template.spec.initContainers[1], 'ISTIO_META_OWNER').value).toBe('kubernetes://apis/apps/v1/namespaces/shop/deployments/hello');
        expect(svc).toEqual(service);
        expect(ds).toEqual(agent);
      }
      // a List with no workload at all
      const chart = Testing.chart();
      fs.writeFileSync(file, YAML.stringify({ apiVersion: 'v1', kind: 'List', items: [service] }));
      const listOnly = new Include(chart, 'included', { url: file }).apiObjects[0];
      // refused where the mistake is made, not at synth
      expectError(() => new Mesh(chart, 'mesh', NO_CNI).inject(listOnly), "items 'Service' is invalid: the List holds no workload to inject");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad mesh-wide injection settings', () => {
    const bad = (props: any, message: string) => expectError(() => mesh(props), message);
    bad({ network: 'net work' }, "network 'net work' is invalid: must be a label value");
    bad({ imagePullSecrets: ['Reg_Cred'] }, "imagePullSecrets[0] 'Reg_Cred' is invalid: must be a Secret name");
    bad({ imagePullSecrets: ['a', 'a'] }, "imagePullSecrets[1] 'a' is invalid: must not repeat a Secret");
    bad({ defaultProxyConfig: { drainDuration: Duration.millis(1500) } }, "defaultProxyConfig.drainDuration '1500ms' is invalid: must be whole seconds");
    bad({ defaultProxyConfig: { concurrency: -1 } }, 'defaultProxyConfig.concurrency');
    bad({ defaultProxyConfig: { proxyMetadata: { 'A-B': 'x' } } }, "defaultProxyConfig.proxyMetadata key 'A-B' is invalid");
    const pc = (config: string) => () => injectPodTemplate({ ...app(), metadata: { annotations: { 'proxy.istio.io/config': config } } }, mesh(), TARGET);
    expectError(pc('{"concurency": 2}'), "annotations['proxy.istio.io/config'].concurency 2 is invalid: is not a ProxyConfig field");
    expectError(pc('drainDuration: 1m'), "annotations['proxy.istio.io/config'].drainDuration '1m' is invalid: must be a protobuf duration");
    expectError(pc('statusPort: 15999'), 'only 15020 is supported');
    expectError(pc('interceptionMode: TPROXY'), "only 'REDIRECT' is supported");
  });
});

describe('snapshots of injected pod templates', () => {
  const probed = () => app({ readinessProbe: { httpGet: { path: '/ready', port: 'http' } }, livenessProbe: { tcpSocket: { port: 8080 } } });
  const cases: Array<[string, any, any]> = [
    ['native (default)', {}, {}],
    ['legacy with hold', { nativeSidecars: false }, { holdApplicationUntilProxyStarts: true }],
    ['cni', { cni: true }, {}],
    ['revision', { revision: '1-30' }, {}],
    ['webhook', { injectionMode: InjectionMode.WEBHOOK, revision: '1-30' }, { resources: { cpuRequest: '50m' } }],
    ['gateway', {}, { template: SidecarTemplate.GATEWAY }],
  ];
  test.each(cases)('%s', (_name, meshProps, options) => {
    const template = options.template ? { metadata: { labels: { app: 'gw' } }, spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } } : probed();
    expect(yamlOf([injectPodTemplate(template, mesh(meshProps), TARGET, options)])).toMatchSnapshot();
  });
});
