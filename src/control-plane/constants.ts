/**
 * Upstream facts of Istio's control plane install (base and istiod charts) and of the plug-in CA, in one place.
 *
 * Source: Istio's charts `manifests/charts/base` and `manifests/charts/istio-control/istio-discovery`, and
 * `security/pkg/pki/ca` (plug-in CA layout), as summarised in shared/reference/istio-facts.md sections a and c; the
 * istio-csr address comes from cert-manager's istio-csr conventions. Control-plane-specific, so kept next to the
 * control plane; mesh-wide facts stay in src/mesh/constants.ts.
 * @internal
 */

/** The istiod pod label `istio: pilot` (Deployment/Service/PDB selector of the default revision). */
export const ISTIOD_APP = 'istiod';
/** `istio: pilot` */
export const ISTIOD_ISTIO_LABEL = 'pilot';
/** `operator.istio.io/component: Pilot`, which istioctl uses to find the control plane. */
export const OPERATOR_COMPONENT_LABEL = 'operator.istio.io/component';
export const OPERATOR_COMPONENT = 'Pilot';

/** The istiod container name. */
export const ISTIOD_CONTAINER = 'discovery';

/** The mesh config ConfigMap (`istio[-<rev>]`) and its keys. */
export const MESH_CONFIGMAP = 'istio';
export const MESH_CONFIGMAP_KEY = 'mesh';
export const MESH_NETWORKS_KEY = 'meshNetworks';
/** The injector ConfigMap (`istio-sidecar-injector[-<rev>]`) and its keys. */
export const INJECTOR_CONFIGMAP = 'istio-sidecar-injector';
export const INJECTOR_CONFIG_KEY = 'config';
export const INJECTOR_VALUES_KEY = 'values';

/** The istio-reader service account (base chart), used by multicluster remote secrets. */
export const READER_SERVICE_ACCOUNT = 'istio-reader-service-account';

/** Webhooks. */
export const INJECTION_WEBHOOK_PATH = '/inject';
export const VALIDATION_WEBHOOK_PATH = '/validate';
/** The istiod Service port that fronts the webhook server (container port 15017). */
export const WEBHOOK_SERVICE_PORT = 443;
export const DEFAULT_VALIDATOR_NAME = 'istiod-default-validator';
export const DEFAULT_VALIDATOR_WEBHOOK = 'validation.istio.io';
export const REV_VALIDATOR_WEBHOOK = 'rev.validation.istio.io';
export const InjectionWebhooks = {
  REV_NAMESPACE: 'rev.namespace.sidecar-injector.istio.io',
  REV_OBJECT: 'rev.object.sidecar-injector.istio.io',
  NAMESPACE: 'namespace.sidecar-injector.istio.io',
  OBJECT: 'object.sidecar-injector.istio.io',
} as const;

/** istiod container args (the chart's defaults). */
export const ISTIOD_KEEPALIVE_MAX_SERVER_CONNECTION_AGE = '30m';
/** istiod readiness probe: httpGet /ready on 8080. */
export const ISTIOD_READY_PATH = '/ready';

/** istiod default resources: requests cpu 500m, memory 2048Mi, no limits. */
export const ISTIOD_DEFAULT_CPU_REQUEST = '500m';
export const ISTIOD_DEFAULT_MEMORY_REQUEST = '2048Mi';
/** istiod HPA defaults: min 1, max 5, CPU utilisation 80%. */
export const ISTIOD_DEFAULT_MIN_REPLICAS = 1;
export const ISTIOD_DEFAULT_MAX_REPLICAS = 5;
export const ISTIOD_DEFAULT_CPU_TARGET = 80;

/** The toleration istiod carries so it can start before the CNI agent is ready. */
export const CNI_NOT_READY_TAINT = 'cni.istio.io/not-ready';

/** The audience and lifetime of the projected token proxies and istiod use with the CA. */
export const ISTIO_CA_AUDIENCE = 'istio-ca';
export const ISTIO_TOKEN_EXPIRATION_SECONDS = 43200;

/** Plug-in CA: the Secret istiod reads its signing CA from, and where it is mounted (ROOT_CA_DIR). */
export const CACERTS_SECRET = 'cacerts';
/** The cert-manager Certificate of the mesh's root CA (MeshCertificates.certManager()): also its Secret's name. */
export const ROOT_CA_CERTIFICATE = 'istio-root-ca';
export const CACERTS_MOUNT = '/etc/cacerts';
/** istio-csr / external DNS cert for istiod's own serving certificate. */
export const ISTIOD_TLS_SECRET = 'istiod-tls';
export const ISTIOD_TLS_MOUNT = '/var/run/secrets/istiod/tls';
/** The root certificate ConfigMap istiod publishes into every namespace. */
export const CA_ROOT_CONFIGMAP = 'istio-ca-root-cert';
export const ISTIOD_CA_MOUNT = '/var/run/secrets/istiod/ca';
/** The remote-cluster kubeconfig Secret and its mount (KUBECONFIG). */
export const KUBECONFIG_SECRET = 'istio-kubeconfig';
export const KUBECONFIG_MOUNT = '/var/run/secrets/remote';
/** The secret istiod writes its self-signed CA into when no plug-in CA is mounted. */
export const SELF_SIGNED_CA_SECRET = 'istio-ca-secret';
/** The SPIFFE service account name Istio uses for its CA identity (spiffe://<td>/ns/<ns>/sa/citadel). */
export const CA_IDENTITY_SERVICE_ACCOUNT = 'citadel';
/** istio-csr's CA endpoint in the default cert-manager install (cert-manager-istio-csr chart). */
export const ISTIO_CSR_DEFAULT_ADDRESS = 'cert-manager-istio-csr.cert-manager.svc:443';
/**
 * The pods behind istio-csr's default Service (cert-manager's `cert-manager-istio-csr` chart v0.14: Service port 443
 * -> container port `app.server.serving.port` 6443; pods labelled `app: cert-manager-istio-csr`). A NetworkPolicy
 * matches the pod's port, not the Service's, so egress to the CA must allow 6443.
 */
export const ISTIO_CSR_DEFAULT_POD_PORT = 6443;
/** The label of istio-csr's pods in the default install (same chart). */
export const ISTIO_CSR_DEFAULT_POD_LABELS: { readonly [key: string]: string } = { app: 'cert-manager-istio-csr' };

/** Namespaces the injector never touches (and the optional `auto.` webhook excludes). */
export const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'];

/**
 * istiod env switches that start informers (and so need RBAC), or that this install cannot serve. Names and defaults
 * from Istio 1.30.3 pilot/pkg/features (experimental.go, pilot.go) and pilot/pkg/bootstrap/istio_ca.go.
 */
export const IstiodEnvSwitches = {
  /** Experimental Gateway API kinds (gateway.networking.x-k8s.io). Default false. */
  ALPHA_GATEWAY_API: 'PILOT_ENABLE_ALPHA_GATEWAY_API',
  /** Gateway API inference extension (inference.networking.k8s.io InferencePools). Default false. */
  INFERENCE_EXTENSION: 'ENABLE_GATEWAY_API_INFERENCE_EXTENSION',
  /** Kubernetes MCS switches (ServiceExport/ServiceImport informers). Default false. */
  MCS: ['ENABLE_MCS_AUTO_EXPORT', 'ENABLE_MCS_CLUSTER_LOCAL', 'ENABLE_MCS_HOST', 'ENABLE_MCS_SERVICE_DISCOVERY'],
  /** The MCS API group. Default multicluster.x-k8s.io. */
  MCS_API_GROUP: 'MCS_API_GROUP',
  /** ClusterTrustBundle root distribution instead of ConfigMap istio-ca-root-cert. Default false. */
  CLUSTER_TRUST_BUNDLE: 'ENABLE_CLUSTER_TRUST_BUNDLE_API',
  /** An external CA through Kubernetes CSRs (certificates.k8s.io). Default '' (istiod's own CA). */
  EXTERNAL_CA: 'EXTERNAL_CA',
  /** The Gateway API deployment controller; the `gatewayDeploymentController` prop owns it. Default true. */
  DEPLOYMENT_CONTROLLER: 'PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER',
} as const;

/** The values Go's strconv.ParseBool accepts (how istiod reads boolean env), by meaning. */
export const GO_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
export const GO_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/**
 * The Istio CNI node agent (Istio 1.30.3, manifests/charts/istio-cni: values.yaml, templates/*.yaml and the
 * files/profile-platform-*.yaml platform profiles, read at tag 1.30.3).
 */
export const Cni = {
  /** The chart's base name (`name` helper): ServiceAccount, ClusterRole(s), ConfigMap prefix. */
  NAME: 'istio-cni',
  /** The DaemonSet (a fixed name the CNI plugin falls back on). */
  DAEMONSET: 'istio-cni-node',
  CONFIGMAP: 'istio-cni-config',
  REPAIR_ROLE: 'istio-cni-repair-role',
  REPAIR_BINDING: 'istio-cni-repair-rolebinding',
  AMBIENT_ROLE: 'istio-cni-ambient',
  RESOURCE_QUOTA: 'istio-cni-resource-quota',
  /** `operator.istio.io/component: Cni`. */
  COMPONENT: 'Cni',
  /** The install-cni image, `<hub>/install-cni:<tag>`. */
  IMAGE: 'install-cni',
  CONTAINER: 'install-cni',
  /** Ports: metrics 15014 (Prometheus), readiness /readyz on 8000. */
  METRICS_PORT: 15014,
  READY_PORT: 8000,
  READY_PATH: '/readyz',
  METRICS_PATH: '/metrics',
  /** Default resources: requests cpu 100m, memory 100Mi. */
  CPU_REQUEST: '100m',
  MEMORY_REQUEST: '100Mi',
  TERMINATION_GRACE_SECONDS: 30,
  PRIORITY_CLASS: 'system-node-critical',
  /** The chart's agent log level (its global.logging.level). */
  LOG_LEVEL: 'info',
  /** Namespaces the agent leaves alone (excludeNamespaces). */
  EXCLUDE_NAMESPACES: ['kube-system'],
  /** Host paths: the default CNI bin, conf and netns dirs, the agent's socket dir, procfs, ztunnel's socket dir. */
  BIN_DIR: '/opt/cni/bin',
  CONF_DIR: '/etc/cni/net.d',
  NETNS_DIR: '/var/run/netns',
  SOCKET_DIR: '/var/run/istio-cni',
  PROC_DIR: '/proc',
  ZTUNNEL_SOCKET_DIR: '/var/run/ztunnel',
  /** The repair controller (sidecar mode): the init container it watches and the label it would set. */
  REPAIR_INIT_CONTAINER: 'istio-validation',
  BROKEN_POD_LABEL_KEY: 'cni.istio.io/uninitialized',
  BROKEN_POD_LABEL_VALUE: 'true',
  /** The GKE ResourceQuota: system-node-critical pods outside kube-system (profile-platform-gke). */
  GKE_QUOTA_PODS: '5000',
  /** OpenShift: the SCC the agent uses, and multus' NetworkAttachmentDefinition (in namespace `default`). */
  OPENSHIFT_SCC: 'privileged',
  MULTUS_NAD_NAMESPACE: 'default',
  /** Ambient (not switched on yet): pods or namespaces labelled istio.io/dataplane-mode=ambient (values.ambient). */
  AMBIENT_ENABLEMENT_SELECTORS: [
    { podSelector: { matchLabels: { 'istio.io/dataplane-mode': 'ambient' } } },
    {
      podSelector: { matchExpressions: [{ key: 'istio.io/dataplane-mode', operator: 'NotIn', values: ['none'] }] },
      namespaceSelector: { matchLabels: { 'istio.io/dataplane-mode': 'ambient' } },
    },
  ],
} as const;

/**
 * The mesh config's path normalization (meshConfig.pathNormalization.normalization; Istio 1.30.3
 * mesh/v1alpha1/config.proto ProxyPathNormalization, default BASE): DECODE_AND_MERGE_SLASHES decodes %2F, %2f, %5C
 * and %5c, merges '//' and then normalizes dot segments, so authorization paths are matched as applications read
 * them (istio.io "Security Best Practices", "Understand path normalization in authorization policy").
 */
export const PATH_NORMALIZATION = 'DECODE_AND_MERGE_SLASHES';
