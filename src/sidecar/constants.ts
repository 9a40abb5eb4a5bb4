/**
 * Facts about what sidecar injection adds to a pod, for Istio 1.30.3.
 *
 * Source: the `sidecar` and `gateway` injection templates of istio-sidecar-injector (istiod chart:
 * manifests/charts/istio-control/istio-discovery/files/injection-template.yaml and gateway-injection-template.yaml) and
 * pkg/kube/inject (inject.go, webhook.go, template.go, app_probe.go), read at the 1.30.3 tag, and
 * shared/reference/istio-facts.md sections a (gateway chart) and b. Written from those facts; no template text is
 * copied. Where a fact was checked against the 1.30.3 tag specifically, its comment says so.
 * @internal
 */
import { IstioPorts, PROXY_UID } from '../mesh/constants';

/** Container names the injector adds (pkg/kube/inject: ProxyContainerName, InitContainerName, ValidationContainerName). */
export const PROXY_CONTAINER = 'istio-proxy';
export const INIT_CONTAINER = 'istio-init';
export const VALIDATION_CONTAINER = 'istio-validation';

/** `image: auto` marks a proxy container the injector must fill in (gateway chart). */
export const AUTO_IMAGE = 'auto';

/** Proxy user/group (values.global.proxy uid/gid; the iptables `-u` owner). */
export const PROXY_GID = PROXY_UID;

/** Default log levels (values.global.proxy.logLevel, componentLogLevel, global.logging.level). */
export const DEFAULT_PROXY_LOG_LEVEL = 'warning';
export const DEFAULT_COMPONENT_LOG_LEVEL = 'misc:error';
export const DEFAULT_AGENT_LOG_LEVEL = 'default:info';

/** Interception mode (sidecar.istio.io/interceptionMode default, ISTIO_META_INTERCEPTION_MODE). */
export const INTERCEPTION_REDIRECT = 'REDIRECT';

/** iptables defaults: include all outbound IP ranges and inbound ports, exclude none. */
export const DEFAULT_INCLUDE_OUTBOUND_IP_RANGES = '*';
export const DEFAULT_INCLUDE_INBOUND_PORTS = '*';
/** Inbound ports always excluded from capture (`-d`): Envoy Prometheus and health, then the status port. */
export const ALWAYS_EXCLUDED_INBOUND_PORTS: readonly number[] = [IstioPorts.ENVOY_PROMETHEUS, IstioPorts.HEALTH];

/** ISTIO_META_CLUSTER_ID default (values.global.multiCluster.clusterName). */
export const CLUSTER_ID = 'Kubernetes';
/** PILOT_CERT_PROVIDER default (values.global.pilotCertProvider). */
export const CERT_PROVIDER = 'istiod';

/** Proxy health endpoint served on the health port 15021. */
export const HEALTH_READY_PATH = '/healthz/ready';
/** Proxy readiness probe defaults (values.global.proxy.readiness*). */
export const READINESS = { periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 } as const;
/** Proxy startup probe defaults (values.global.proxy.startupProbe). */
export const STARTUP = { periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600 } as const;

/** The Envoy Prometheus container port of the proxy. */
export const ENVOY_PROM_PORT_NAME = 'http-envoy-prom';

/** The merged metrics endpoint of pilot-agent on the status port (prometheus merge). */
export const MERGED_METRICS_PATH = '/stats/prometheus';

/**
 * The volumes of the `gateway` template (Istio 1.30.3 gateway-injection-template.yaml): the sidecar's, without the
 * istio-ca-crl ConfigMap volume and its mount.
 */
export const GATEWAY_VOLUME_NAMES: readonly string[] = [
  'workload-socket', 'credential-socket', 'workload-certs', 'istio-envoy', 'istio-data', 'istio-podinfo', 'istio-token',
  'istiod-ca-cert',
];

/**
 * The pod sysctl the `gateway` template sets (Istio 1.30.3 gateway-injection-template.yaml, when
 * values.gateways.securityContext is unset), so the proxy can bind ports below 1024 without NET_BIND_SERVICE. The
 * template's `sysctls` list replaces the pod's (a strategic merge patch of a list without a merge key).
 */
export const GATEWAY_SYSCTL = { name: 'net.ipv4.ip_unprivileged_port_start', value: '0' } as const;

/** Service account token projected for the CA (istio-token volume). */
export const TOKEN_AUDIENCE = 'istio-ca';
export const TOKEN_EXPIRATION_SECONDS = 43200;
/** ConfigMaps istiod writes in every namespace. */
export const ROOT_CERT_CONFIGMAP = 'istio-ca-root-cert';
export const CRL_CONFIGMAP = 'istio-ca-crl';

/** Pod volumes the injector adds, in the order the template lists them, with the proxy's mount path. */
export const PROXY_VOLUMES: ReadonlyArray<{ readonly name: string; readonly mountPath: string; readonly source: any }> = [
  { name: 'workload-socket', mountPath: '/var/run/secrets/workload-spiffe-uds', source: { emptyDir: {} } },
  { name: 'credential-socket', mountPath: '/var/run/secrets/credential-uds', source: { emptyDir: {} } },
  { name: 'workload-certs', mountPath: '/var/run/secrets/workload-spiffe-credentials', source: { emptyDir: {} } },
  { name: 'istio-envoy', mountPath: '/etc/istio/proxy', source: { emptyDir: { medium: 'Memory' } } },
  { name: 'istio-data', mountPath: '/var/lib/istio/data', source: { emptyDir: {} } },
  {
    name: 'istio-podinfo',
    mountPath: '/etc/istio/pod',
    source: {
      downwardAPI: {
        items: [
          { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
          { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
        ],
      },
    },
  },
  {
    name: 'istio-token',
    mountPath: '/var/run/secrets/tokens',
    source: {
      projected: {
        sources: [{ serviceAccountToken: { audience: TOKEN_AUDIENCE, expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'istio-token' } }],
      },
    },
  },
  { name: 'istiod-ca-cert', mountPath: '/var/run/secrets/istio', source: { configMap: { name: ROOT_CERT_CONFIGMAP } } },
  { name: 'istio-ca-crl', mountPath: '/var/run/secrets/istio/crl', source: { configMap: { name: CRL_CONFIGMAP, optional: true } } },
];

/** The order of the proxy's volumeMounts (differs from the volume order). */
export const PROXY_MOUNT_ORDER: readonly string[] = [
  'workload-socket', 'credential-socket', 'workload-certs', 'istiod-ca-cert', 'istio-ca-crl',
  'istio-data', 'istio-envoy', 'istio-token', 'istio-podinfo',
];

/**
 * ISTIO_META_NETWORK: set from values.global.network, or the pod's topology.istio.io/network label, which wins
 * (Istio 1.30.3 pkg/kube/inject/inject.go extractClusterAndNetwork). The webhook then moves it to the end of the
 * proxy's env, after proxyMetadata (webhook.go overwriteClusterInfo/updateClusterEnvs), and labels the pod with it
 * (webhook.go applyMetadata).
 */
export const ENV_NETWORK = 'ISTIO_META_NETWORK';
export const LABEL_NETWORK = 'topology.istio.io/network';
/**
 * With proxyMetadata ISTIO_META_ENABLE_HBONE=true, the `sidecar` template labels the pod networking.istio.io/tunnel
 * (default `http`, the pod's own value wins) (Istio 1.30.3 injection-template.yaml).
 */
export const ENV_ENABLE_HBONE = 'ISTIO_META_ENABLE_HBONE';
export const LABEL_TUNNEL = 'networking.istio.io/tunnel';
export const TUNNEL_HTTP = 'http';
/** Pod label that overrides ISTIO_META_WORKLOAD_NAME in the `sidecar` template (Istio 1.30.3 injection-template.yaml). */
export const LABEL_WORKLOAD_NAME = 'service.istio.io/workload-name';
/**
 * Env the proxy gets from its own CPU and memory limits (Istio 1.30.3 injection-template.yaml and
 * gateway-injection-template.yaml: GOMEMLIMIT and GOMAXPROCS, both with divisor "1").
 */
export const LIMIT_ENV: ReadonlyArray<{ readonly name: string; readonly resource: string }> = [
  { name: 'GOMEMLIMIT', resource: 'limits.memory' },
  { name: 'GOMAXPROCS', resource: 'limits.cpu' },
];

/** Env var names pilot-agent reads that injection computes (pkg/kube/inject, pilot-agent status). */
export const ENV_APP_PROBERS = 'ISTIO_KUBE_APP_PROBERS';
export const ENV_PROMETHEUS_ANNOTATIONS = 'ISTIO_PROMETHEUS_ANNOTATIONS';

/** App probe paths served by pilot-agent on the status port (pilot-agent status FormatProberURL). */
export const probePath = {
  readiness: (c: string) => `/app-health/${c}/readyz`,
  liveness: (c: string) => `/app-health/${c}/livez`,
  startup: (c: string) => `/app-health/${c}/startupz`,
  preStop: (c: string) => `/app-lifecycle/${c}/prestopz`,
  postStart: (c: string) => `/app-lifecycle/${c}/poststartz`,
};

/** Annotations read by injection beyond those in IstioAnnotations (istio/api annotation package). */
export const InjectAnnotations = {
  READINESS_INITIAL_DELAY: 'readiness.status.sidecar.istio.io/initialDelaySeconds',
  READINESS_PERIOD: 'readiness.status.sidecar.istio.io/periodSeconds',
  READINESS_FAILURE_THRESHOLD: 'readiness.status.sidecar.istio.io/failureThreshold',
  PROMETHEUS_MERGE: 'prometheus.istio.io/merge-metrics',
  // Known and deliberately not supported at synth time (they change the pod in ways not modelled here).
  STATUS_PORT: 'status.sidecar.istio.io/port',
  USER_VOLUME: 'sidecar.istio.io/userVolume',
  USER_VOLUME_MOUNT: 'sidecar.istio.io/userVolumeMount',
  CAP_NET_BIND_SERVICE: 'sidecar.istio.io/capNetBindService',
  BOOTSTRAP_OVERRIDE: 'sidecar.istio.io/bootstrapOverride',
} as const;

/** Injection template names (inject.istio.io/templates). */
export const TEMPLATE_SIDECAR = 'sidecar';
export const TEMPLATE_GATEWAY = 'gateway';

/** Kubernetes namespaces the injector never injects (webhook IgnoredNamespaces). */
export const IGNORED_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'];

/**
 * ProxyConfig (istio.io/api mesh/v1alpha1/proxy.proto at the commit Istio 1.30.3 pins, 2e43f07b30b6): the JSON names of
 * its top-level fields in declaration order, which is the order golang/protobuf's jsonpb writes them in PROXY_CONFIG.
 */
export const PROXY_CONFIG_FIELDS: readonly string[] = [
  'configPath', 'binaryPath', 'serviceCluster', 'tracingServiceName', 'drainDuration', 'discoveryAddress',
  'discoveryRefreshDelay', 'zipkinAddress', 'statsdUdpAddress', 'envoyMetricsServiceAddress', 'proxyAdminPort',
  'availabilityZone', 'controlPlaneAuthPolicy', 'customConfigFile', 'statNameLength', 'concurrency',
  'proxyBootstrapTemplatePath', 'interceptionMode', 'tracing', 'sds', 'envoyAccessLogService', 'envoyMetricsService',
  'proxyMetadata', 'runtimeValues', 'statusPort', 'extraStatTags', 'gatewayTopology', 'terminationDrainDuration',
  'meshId', 'readinessProbe', 'proxyStatsMatcher', 'holdApplicationUntilProxyStarts', 'caCertificatesPem', 'image',
  'privateKeyProvider', 'proxyHeaders', 'fileFlushInterval', 'fileFlushMinSizeKb', 'statsCompression',
];

/**
 * ProxyConfig values PROXY_CONFIG leaves out because they equal mesh.DefaultProxyConfig() (Istio 1.30.3
 * pkg/config/mesh/mesh.go DefaultProxyConfig, pkg/kube/inject/template.go cleanProxyConfig).
 */
export const PROXY_CONFIG_DEFAULTS: { readonly [field: string]: string | number } = {
  configPath: './etc/istio/proxy',
  binaryPath: '/usr/local/bin/envoy',
  serviceCluster: 'istio-proxy',
  drainDuration: '45s',
  terminationDrainDuration: '5s',
  discoveryAddress: 'istiod.istio-system.svc:15012',
  controlPlaneAuthPolicy: 'MUTUAL_TLS',
  proxyAdminPort: 15000,
  statNameLength: 189,
  statusPort: 15020,
};
