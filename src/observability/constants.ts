/**
 * Upstream facts used by the observability constructs, with where each comes from.
 * @internal
 */

/** Istio's built-in extension providers (present in every mesh config without being declared; Istio's MeshConfig defaults). */
export const BUILTIN_PROVIDER_PROMETHEUS = 'prometheus';
/** Istio's built-in file access log provider (writes to /dev/stdout in Istio's text format). */
export const BUILTIN_PROVIDER_ENVOY = 'envoy';

/** The Telemetry API group/version Istio serves (v1alpha1 is the storage version; v1 is served since Istio 1.22). */
export const TELEMETRY_API_VERSION = 'telemetry.istio.io/v1';

/** prometheus-operator's API group/version. */
export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';

/**
 * Istio's "Prometheus Operator" integration (istio.io, ops/integrations/prometheus, "Option 2: Prometheus Operator"):
 * the object names, the opt-out label and the scrape path of the sidecars' merged metrics (pilot-agent on the status
 * port 15020 serves `/stats/prometheus`; the injected pod only names port 15090, so the address comes from the
 * `prometheus.io/port` annotation injection adds).
 */
export const PROXY_POD_MONITOR_NAME = 'envoy-stats-monitor';
export const CONTROL_PLANE_SERVICE_MONITOR_NAME = 'istio-component-monitor';
/**
 * ztunnel's metrics (Istio 1.30.3, manifests/charts/ztunnel: container port 15020 `ztunnel-stats`, pods labelled
 * `app: ztunnel`; tests/integration/ambient/baseline_test.go scrapes its `/metrics`). Its pods are annotated
 * `prometheus.io/scrape` without a path, so the proxies' PodMonitor leaves them to this one.
 */
export const ZTUNNEL_POD_MONITOR_NAME = 'ztunnel-monitor';
export const ZTUNNEL_METRICS_PORT_NAME = 'ztunnel-stats';
export const ZTUNNEL_METRICS_PATH = '/metrics';
/** Pods with this label are not scraped by the proxies' PodMonitor. */
export const PROMETHEUS_IGNORE_LABEL = 'istio-prometheus-ignore';
/** The merged metrics path (the `prometheus.io/path` annotation injection adds). */
export const MERGED_METRICS_PATH = '/stats/prometheus';
/** The proxy container's name. */
export const PROXY_CONTAINER = 'istio-proxy';
/** istiod's monitoring port name (Service and container). */
export const ISTIOD_MONITORING_PORT_NAME = 'http-monitoring';
/** The default scrape interval Istio's example uses. */
export const DEFAULT_SCRAPE_INTERVAL_SECONDS = 15;

/** Grafana's dashboard sidecar (kiwigrid k8s-sidecar, grafana chart `sidecar.dashboards`): default label and value. */
export const GRAFANA_DASHBOARD_LABEL = 'grafana_dashboard';
export const GRAFANA_DASHBOARD_LABEL_VALUE = '1';
/** The grafana chart's annotation that picks the folder (`sidecar.dashboards.folderAnnotation`, commonly this name). */
export const GRAFANA_FOLDER_ANNOTATION = 'grafana_folder';
/** Grafana dashboard uids are at most 40 characters. */
export const GRAFANA_UID_MAX = 40;

/**
 * The Prometheus that scrapes the proxies when the app does not say which: prometheus-operator labels the pods of a
 * `Prometheus` resource `app.kubernetes.io/name: prometheus` (operator v0.93.0), and kube-prometheus and the
 * kube-prometheus-stack docs install into `monitoring`. Zero-trust namespaces let it in on the metrics ports.
 */
export const DEFAULT_SCRAPER = { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } } as const;

/**
 * Where the analysis of a canary (Argo Rollouts, Flagger) queries Prometheus by default: the Prometheus that scrapes
 * the proxies by default (`DEFAULT_SCRAPER`), through the `prometheus-operated` Service prometheus-operator creates
 * for every `Prometheus` in its namespace (port 9090, `web`; operator v0.93.0).
 */
export const DEFAULT_PROMETHEUS_ADDRESS = `http://prometheus-operated.${DEFAULT_SCRAPER.namespace}.svc:9090`;
