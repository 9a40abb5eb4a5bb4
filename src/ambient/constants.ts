/**
 * Upstream names and defaults of Istio's ambient mode, from Istio 1.30.3 (manifests/charts/ztunnel,
 * manifests/charts/istio-cni, manifests/charts/istio-control/istio-discovery/files/waypoint.yaml,
 * pilot/pkg/serviceregistry/kube/conversion.go) and the Istio docs "Ambient and Kubernetes NetworkPolicy".
 * @internal
 */

/** The namespace (or pod) label that puts workloads in ambient mode. */
export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';
/** Its value for ambient workloads. */
export const DATAPLANE_MODE_AMBIENT = 'ambient';
/** The Service or Namespace label that sends traffic through a waypoint (its Gateway name). */
export const USE_WAYPOINT_LABEL = 'istio.io/use-waypoint';
/** The Gateway label that says which traffic a waypoint handles. */
export const WAYPOINT_FOR_LABEL = 'istio.io/waypoint-for';
/** Waypoints handle traffic addressed to services (istio.io/waypoint-for: service, Istio's default). */
export const WAYPOINT_FOR_SERVICE = 'service';
/** The GatewayClass of waypoints (istiod deploys them). */
export const WAYPOINT_CLASS = 'istio-waypoint';
/** The waypoint's Gateway name (and ServiceAccount: GatewaySA is the Gateway name). */
export const WAYPOINT_NAME = 'waypoint';
/** The waypoint listener: HBONE on 15008, named `mesh`. */
export const WAYPOINT_LISTENER = { name: 'mesh', port: 15008, protocol: 'HBONE' } as const;
/** The label istiod's gateway deployment controller puts on a Gateway's pods. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
/** HBONE: the port ztunnels, waypoints and ambient pods tunnel mesh traffic on. */
export const HBONE_PORT = 15008;
/**
 * The link-local address ztunnel's in-pod redirection SNATs kubelet health probes to (the istio-cni agent's
 * 169.254.7.127): a default-deny ingress NetworkPolicy must admit it, or ambient pods never become ready.
 */
export const KUBELET_PROBE_SNAT = '169.254.7.127/32';

/** ztunnel, as the ztunnel chart renders it (values.yaml defaults, templates/daemonset.yaml). */
export const Ztunnel = {
  NAME: 'ztunnel',
  IMAGE: 'ztunnel',
  CONTAINER: 'istio-proxy',
  STATS_PORT: 15020,
  READY_PORT: 15021,
  READY_PATH: '/healthz/ready',
  CPU_REQUEST: '200m',
  MEMORY_REQUEST: '512Mi',
  TERMINATION_GRACE_SECONDS: 30,
  LOG_LEVEL: 'info',
  CLUSTER_ID: 'Kubernetes',
  PRIORITY_CLASS: 'system-node-critical',
  SOCKET_DIR: '/var/run/ztunnel',
  CA_ROOT_CONFIGMAP: 'istio-ca-root-cert',
  TOKEN_AUDIENCE: 'istio-ca',
  TOKEN_EXPIRATION_SECONDS: 43200,
  /** profile-platform-gke: a ResourceQuota for system-node-critical pods outside kube-system. */
  GKE_QUOTA_PODS: '5000',
  OPENSHIFT_SCC: 'privileged',
} as const;
