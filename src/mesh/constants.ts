/**
 * Upstream facts (names, ports, labels, annotations, defaults) in one place.
 *
 * Sources: Istio's charts (manifests/charts/base, istio-control/istio-discovery, gateway), its injection template
 * (`sidecar` and `gateway` templates in istio-sidecar-injector) and pkg/config/constants; summarised in
 * shared/reference/istio-facts.md. Every construct reads these constants; none repeats the literal.
 */

/** The Istio release this version of cdk8s-mesh is built and tested against. */
export const DEFAULT_ISTIO_VERSION = '1.30.3';
/** Istio's image registry (values.global.hub). */
export const DEFAULT_ISTIO_HUB = 'docker.io/istio';
/** Istio's root namespace (values.global.istioNamespace, meshConfig.rootNamespace). */
export const DEFAULT_ROOT_NAMESPACE = 'istio-system';
/** meshConfig.trustDomain default. */
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
/** The Kubernetes version targeted by default (Istio 1.30 supports 1.32+). */
export const DEFAULT_KUBERNETES_VERSION = '1.33';
/** The oldest Kubernetes minor version Istio 1.30 supports. */
export const MIN_KUBERNETES_MINOR = 32;
/** The Kubernetes minor version from which Istio injects native sidecars by default (ENABLE_NATIVE_SIDECARS=auto). */
export const NATIVE_SIDECAR_MIN_KUBERNETES_MINOR = 33;
/** values.global.proxy.clusterDomain / --domain suffix. */
export const CLUSTER_DOMAIN = 'cluster.local';
/** values.global.multiCluster.clusterName default, ISTIO_META_CLUSTER_ID. */
export const DEFAULT_CLUSTER_ID = 'Kubernetes';

/** Images: `<hub>/<name>:<tag>`. */
export const IMAGE_PILOT = 'pilot';
export const IMAGE_PROXY = 'proxyv2';

/** Ports used by the proxy and the control plane (istio-facts.md, section d). */
export const IstioPorts = {
  /** Envoy admin, localhost only */
  PROXY_ADMIN: 15000,
  /** outbound capture (proxyListenPort) */
  OUTBOUND_CAPTURE: 15001,
  /** iptables probe */
  IPTABLES_PROBE: 15002,
  /** debug */
  DEBUG: 15004,
  /** inbound capture (proxyInboundListenPort) */
  INBOUND_CAPTURE: 15006,
  /** HBONE tunnel */
  HBONE: 15008,
  /** HBONE (legacy) */
  HBONE_LEGACY: 15009,
  /** pilot-agent: merged metrics, app probes (statusPort) */
  STATUS: 15020,
  /** health checks */
  HEALTH: 15021,
  /** DNS proxy */
  DNS: 15053,
  /** Envoy Prometheus */
  ENVOY_PROMETHEUS: 15090,
  /** istiod: plaintext xDS */
  XDS_PLAINTEXT: 15010,
  /** istiod: xDS and CA over TLS */
  XDS_TLS: 15012,
  /** istiod: monitoring */
  ISTIOD_MONITORING: 15014,
  /** istiod: webhook server */
  ISTIOD_WEBHOOK: 15017,
  /** istiod: debug / readiness */
  ISTIOD_DEBUG: 8080,
} as const;

/** App ports Istio reserves for the proxy; an application must not listen on them (istio-facts.md, section d). */
export const RESERVED_PORTS: readonly number[] = [15000, 15001, 15002, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090];

/** UID and GID the proxy runs as; application containers must not use it (IST0144). */
export const PROXY_UID = 1337;

/** Labels Istio reads or writes. */
export const IstioLabels = {
  REV: 'istio.io/rev',
  INJECTION: 'istio-injection',
  INJECT: 'sidecar.istio.io/inject',
  TLS_MODE: 'security.istio.io/tlsMode',
  CANONICAL_NAME: 'service.istio.io/canonical-name',
  CANONICAL_REVISION: 'service.istio.io/canonical-revision',
  DATAPLANE_MODE: 'istio.io/dataplane-mode',
  APP: 'app',
  VERSION: 'version',
  ISTIO: 'istio',
} as const;

/** Annotations Istio reads or writes. */
export const IstioAnnotations = {
  STATUS: 'sidecar.istio.io/status',
  INJECT: 'sidecar.istio.io/inject',
  TEMPLATES: 'inject.istio.io/templates',
  PROXY_CONFIG: 'proxy.istio.io/config',
  NATIVE_SIDECAR: 'sidecar.istio.io/nativeSidecar',
  PROXY_CPU: 'sidecar.istio.io/proxyCPU',
  PROXY_MEMORY: 'sidecar.istio.io/proxyMemory',
  PROXY_CPU_LIMIT: 'sidecar.istio.io/proxyCPULimit',
  PROXY_MEMORY_LIMIT: 'sidecar.istio.io/proxyMemoryLimit',
  PROXY_IMAGE: 'sidecar.istio.io/proxyImage',
  LOG_LEVEL: 'sidecar.istio.io/logLevel',
  COMPONENT_LOG_LEVEL: 'sidecar.istio.io/componentLogLevel',
  AGENT_LOG_LEVEL: 'sidecar.istio.io/agentLogLevel',
  INTERCEPTION_MODE: 'sidecar.istio.io/interceptionMode',
  REWRITE_APP_HTTP_PROBERS: 'sidecar.istio.io/rewriteAppHTTPProbers',
  INCLUDE_OUTBOUND_IP_RANGES: 'traffic.sidecar.istio.io/includeOutboundIPRanges',
  EXCLUDE_OUTBOUND_IP_RANGES: 'traffic.sidecar.istio.io/excludeOutboundIPRanges',
  INCLUDE_INBOUND_PORTS: 'traffic.sidecar.istio.io/includeInboundPorts',
  EXCLUDE_INBOUND_PORTS: 'traffic.sidecar.istio.io/excludeInboundPorts',
  INCLUDE_OUTBOUND_PORTS: 'traffic.sidecar.istio.io/includeOutboundPorts',
  EXCLUDE_OUTBOUND_PORTS: 'traffic.sidecar.istio.io/excludeOutboundPorts',
  DEFAULT_CONTAINER: 'kubectl.kubernetes.io/default-container',
  DEFAULT_LOGS_CONTAINER: 'kubectl.kubernetes.io/default-logs-container',
  PROMETHEUS_SCRAPE: 'prometheus.io/scrape',
  PROMETHEUS_PORT: 'prometheus.io/port',
  PROMETHEUS_PATH: 'prometheus.io/path',
} as const;

/** Istio's CRD API groups. */
export const IstioGroups = {
  NETWORKING: 'networking.istio.io',
  SECURITY: 'security.istio.io',
  TELEMETRY: 'telemetry.istio.io',
  EXTENSIONS: 'extensions.istio.io',
} as const;

/** Labels every object of this library carries. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'cdk8s-mesh';
