/**
 * Facts about what sidecar injection adds to a pod, for Istio 1.30.
 *
 * Source: the `sidecar` and `gateway` injection templates of istio-sidecar-injector (istiod chart) and
 * pkg/kube/inject (app_probe.go, webhook.go), summarised in shared/reference/istio-facts.md sections a (gateway chart)
 * and b. Written from those facts; no template text is copied.
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
