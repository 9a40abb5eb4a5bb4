/**
 * Facts about Istio gateways, the Kubernetes Gateway API and cert-manager that the gateway constructs use.
 *
 * Sources: Istio's gateway chart (manifests/charts/gateway) and `gateway` injection template, summarised in
 * shared/reference/istio-facts.md section a "gateway chart"; Istio's "Kubernetes Gateway API" task (deployment
 * methods: automated, and manual deployment linked through `spec.addresses` of type Hostname); Istio's "Egress
 * Gateways" task; the Gateway API v1.6 standard-channel CRDs. Written from those facts; nothing is copied.
 * @internal
 */

/** Default gateway names (gateway chart `.Values.name` fallback, and the egress gateway of Istio's tasks). */
export const DEFAULT_INGRESS_NAME = 'istio-ingressgateway';
export const DEFAULT_EGRESS_NAME = 'istio-egressgateway';
/** Istio recommends running gateways in their own namespace (Installing Gateways, "separate namespace"). */
export const DEFAULT_INGRESS_NAMESPACE = 'istio-ingress';
export const DEFAULT_EGRESS_NAMESPACE = 'istio-egress';
/** The prefix removed from the gateway name for the `istio` selector label (gateway chart). */
export const ISTIO_NAME_PREFIX = 'istio-';

/** Gateway chart defaults. */
export const GATEWAY_DEFAULTS = {
  /** HPA defaults: min 1, max 5, CPU 80%. */
  MIN_REPLICAS: 1,
  MAX_REPLICAS: 5,
  CPU_UTILIZATION: 80,
  /** Pod terminationGracePeriodSeconds. */
  TERMINATION_GRACE_PERIOD_SECONDS: 30,
  /** istio-proxy resources of the gateway chart. */
  RESOURCES: { cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '2000m', memoryLimit: '1024Mi' },
} as const;

/** The sysctl that lets the unprivileged proxy bind ports below 1024 (gateway chart pod securityContext). */
export const UNPRIVILEGED_PORT_SYSCTL = { name: 'net.ipv4.ip_unprivileged_port_start', value: '0' } as const;
/** The Service port that cloud load balancers health-check (gateway chart). */
// Istio's gateway chart names it status-port (cloud load balancers probe it); appProtocol http tells Istio's
// protocol selection what it is (else istioctl analyze reports IST0118).
export const STATUS_PORT_NAME = 'status-port';
/** Label of the gateway chart's pods: `istio.io/dataplane-mode: none` keeps ambient away from them. */
export const DATAPLANE_MODE_NONE = 'none';
/** `app.kubernetes.io/name` on the gateway's pods. */
export const APP_NAME_LABEL = 'app.kubernetes.io/name';

/** Kubernetes Gateway API. */
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';
/** ReferenceGrant's served storage version in the v1.6 standard channel. */
export const REFERENCE_GRANT_VERSION = 'gateway.networking.k8s.io/v1beta1';
/** Istio's GatewayClass. */
export const ISTIO_GATEWAY_CLASS = 'istio';
/**
 * With automated deployment Istio names the Deployment, Service and ServiceAccount `<gateway>-<class>` and labels
 * pods `gateway.networking.k8s.io/gateway-name: <gateway>`.
 */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
/** Service type of an automated Gateway API deployment (Istio annotation on the Gateway). */
export const SERVICE_TYPE_ANNOTATION = 'networking.istio.io/service-type';

/** cert-manager API. */
export const CERT_MANAGER_GROUP = 'cert-manager.io';
export const CERT_MANAGER_VERSION = 'cert-manager.io/v1';
/** cert-manager's minimum certificate duration and renewBefore. */
export const CERT_MIN_DURATION_HOURS = 1;
export const CERT_MIN_RENEW_BEFORE_MINUTES = 5;
/** Default lifetime of a gateway certificate issued through cert-manager (ACME issuers choose their own). */
export const DEFAULT_GATEWAY_CERT_DAYS = 90;

/**
 * Envoy's HTTP connection manager and its early header mutation extension, which mutates request headers before
 * the route is selected (Envoy API v3: `HttpConnectionManager.early_header_mutation_extensions`, extension
 * `envoy.http.early_header_mutation.header_mutation`). Checked in Istio's proxy at tag 1.30.3: the extension is in
 * `ENVOY_EXTENSIONS` of bazel/extension_config/extensions_build_config.bzl and not in `ISTIO_DISABLED_EXTENSIONS`, so
 * the istio/proxyv2 1.30.3 image registers it.
 */
export const HTTP_CONNECTION_MANAGER = 'envoy.filters.network.http_connection_manager';
export const HTTP_CONNECTION_MANAGER_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const EARLY_HEADER_MUTATION = 'envoy.http.early_header_mutation.header_mutation';
export const EARLY_HEADER_MUTATION_TYPE = 'type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation';
