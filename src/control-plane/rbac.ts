/**
 * The control plane's RBAC rules, after Istio 1.30.3's istio-discovery chart (templates/clusterrole.yaml, role.yaml,
 * reader-clusterrole.yaml at tag 1.30.3; istio-facts.md section a), trimmed to the features this install enables.
 * Every trim is noted where it happens; a feature switched on (a prop, or an istiod env switch such as
 * PILOT_ENABLE_ALPHA_GATEWAY_API) brings back exactly the rules the chart has for it.
 * @internal
 */
import { IstioGroups } from '../mesh/constants';

/** A PolicyRule. @internal */
export interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

/** The features that decide which rules istiod needs. @internal */
export interface RbacFeatures {
  /** Multicluster: remote secrets (istio-reader reads secrets cluster-wide) and MCS ServiceExport/ServiceImport. */
  readonly multicluster: boolean;
  /** istiod deploys gateways for Gateway API `Gateway` objects (PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER). */
  readonly gatewayDeploymentController: boolean;
  /** istiod may write its own self-signed CA into Secret istio-ca-secret (no plug-in CA). */
  readonly selfSignedCa: boolean;
  /**
   * Kubernetes MCS ServiceExport/ServiceImport informers (multicluster, or ENABLE_MCS_SERVICE_DISCOVERY /
   * ENABLE_MCS_AUTO_EXPORT / ENABLE_MCS_HOST / ENABLE_MCS_CLUSTER_LOCAL).
   * @default - same as multicluster
   */
  readonly mcs?: boolean;
  /** The MCS API group (istiod env MCS_API_GROUP). @default 'multicluster.x-k8s.io' */
  readonly mcsApiGroup?: string;
  /** Experimental Gateway API kinds (PILOT_ENABLE_ALPHA_GATEWAY_API). @default false */
  readonly alphaGatewayApi?: boolean;
  /** The Gateway API inference extension (ENABLE_GATEWAY_API_INFERENCE_EXTENSION). @default false */
  readonly inferenceExtension?: boolean;
}

/** The chart's default MCS API group (MCS_API_GROUP, Istio 1.30.3 pilot/pkg/features/experimental.go). @internal */
export const DEFAULT_MCS_API_GROUP = 'multicluster.x-k8s.io';

const READ = ['get', 'list', 'watch'];
const CRUD = ['get', 'watch', 'list', 'update', 'patch', 'create', 'delete'];

// Trimmed vs upstream: the legacy groups config/authentication/rbac.istio.io have no CRDs any more (nothing to watch),
// so only the four groups whose CRDs we install are listed.
const ISTIO_GROUPS = [IstioGroups.EXTENSIONS, IstioGroups.NETWORKING, IstioGroups.SECURITY, IstioGroups.TELEMETRY];

// Gateway API kinds (group gateway.networking.k8s.io) whose status istiod 1.30.3 writes, listenersets included (a
// standard v1 kind in 1.30.3). The experimental group gateway.networking.x-k8s.io (xbackendtrafficpolicies) is only
// read with PILOT_ENABLE_ALPHA_GATEWAY_API, so its rules come only with that switch.
const GATEWAY_API_STATUS = ['backendtlspolicies', 'gatewayclasses', 'gateways', 'grpcroutes', 'httproutes',
  'listenersets', 'referencegrants', 'tcproutes', 'tlsroutes', 'udproutes'].map(r => `${r}/status`);

function mcsRules(f: RbacFeatures): Rule[] {
  if (!(f.mcs ?? f.multicluster)) return [];
  const group = f.mcsApiGroup ?? DEFAULT_MCS_API_GROUP;
  return [
    { apiGroups: [group], resources: ['serviceexports'], verbs: ['get', 'watch', 'list', 'create', 'delete'] },
    { apiGroups: [group], resources: ['serviceimports'], verbs: READ },
  ];
}

/** istiod-clusterrole-<ns>. @internal */
export function istiodClusterRules(f: RbacFeatures): Rule[] {
  const rules: Rule[] = [
    // webhooks: istiod patches in its caBundle and flips the validator's failurePolicy
    { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
    { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], verbs: ['get', 'list', 'watch', 'update'] },
    // Istio config
    { apiGroups: ISTIO_GROUPS, resources: ['*'], verbs: READ },
    { apiGroups: [IstioGroups.NETWORKING], resources: ['workloadentries', 'workloadentries/status', 'serviceentries/status'], verbs: CRUD },
    { apiGroups: [IstioGroups.SECURITY], resources: ['authorizationpolicies/status'], verbs: CRUD },
    { apiGroups: [''], resources: ['services/status'], verbs: CRUD },
    // discovery
    { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ },
    { apiGroups: [''], resources: ['pods', 'nodes', 'services', 'namespaces', 'endpoints'], verbs: READ },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingressclasses'], verbs: READ },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['*'] },
    // istiod writes ConfigMap istio-ca-root-cert into every namespace
    { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get', 'list', 'watch', 'update'] },
    // gateway credentials (credentialName) live in any namespace: read-only, cluster-wide, as upstream
    { apiGroups: [''], resources: ['secrets'], verbs: READ },
    // authenticating proxies (CA and xDS)
    { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    // Gateway API (standard channel)
    { apiGroups: ['gateway.networking.k8s.io'], resources: ['*'], verbs: READ },
    { apiGroups: ['gateway.networking.k8s.io'], resources: GATEWAY_API_STATUS, verbs: ['update', 'patch'] },
    { apiGroups: ['gateway.networking.k8s.io'], resources: ['gatewayclasses'], verbs: ['create', 'update', 'patch', 'delete'] },
  ];
  if (f.alphaGatewayApi) {
    // Trimmed unless PILOT_ENABLE_ALPHA_GATEWAY_API: the experimental Gateway API group.
    rules.push(
      { apiGroups: ['gateway.networking.x-k8s.io'], resources: ['*'], verbs: READ },
      { apiGroups: ['gateway.networking.x-k8s.io'], resources: ['xbackendtrafficpolicies/status'], verbs: ['update', 'patch'] },
    );
  }
  if (f.inferenceExtension) {
    // Trimmed unless ENABLE_GATEWAY_API_INFERENCE_EXTENSION: InferencePools.
    rules.push(
      { apiGroups: ['inference.networking.k8s.io'], resources: ['inferencepools'], verbs: READ },
      { apiGroups: ['inference.networking.k8s.io'], resources: ['inferencepools/status'], verbs: ['update', 'patch'] },
    );
  }
  // Trimmed unless multicluster or an MCS switch: Kubernetes MCS ServiceExport/ServiceImport.
  rules.push(...mcsRules(f));
  return rules;
}

/** istiod-gateway-controller-<ns>: only with the Gateway API deployment controller. @internal */
export function gatewayControllerRules(): Rule[] {
  return [
    { apiGroups: ['apps'], resources: ['deployments'], verbs: CRUD },
    { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: CRUD },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: CRUD },
    { apiGroups: [''], resources: ['services'], verbs: CRUD },
    { apiGroups: [''], resources: ['serviceaccounts'], verbs: CRUD },
  ];
}

/** istio-reader-clusterrole-<ns> (remote clusters' view, used by istioctl and multicluster). @internal */
export function readerClusterRules(f: RbacFeatures): Rule[] {
  const core = ['endpoints', 'pods', 'services', 'nodes', 'replicationcontrollers', 'namespaces', 'configmaps'];
  // Trimmed unless multicluster: reading every Secret in the cluster is only needed for remote-secret discovery.
  if (f.multicluster) core.push('secrets');
  const rules: Rule[] = [
    { apiGroups: ISTIO_GROUPS, resources: ['*'], verbs: READ },
    { apiGroups: [''], resources: core.sort(), verbs: READ },
    { apiGroups: ['gateway.networking.k8s.io'], resources: ['gateways'], verbs: READ },
    { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
    { apiGroups: ['apps'], resources: ['replicasets'], verbs: READ },
    { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
  ];
  rules.push(...mcsRules(f));
  return rules;
}

/** Role istiod in the root namespace. @internal */
export function istiodNamespaceRules(f: RbacFeatures): Rule[] {
  return [
    // a dry-run create that checks the validating webhook works
    { apiGroups: [IstioGroups.NETWORKING], resources: ['gateways'], verbs: ['create'] },
    // Trimmed with a plug-in CA (cert-manager): istiod reads `cacerts` from its volume and never writes its own
    // self-signed root (istio-ca-secret), so it keeps read-only access (remote kubeconfigs, CA secret discovery).
    { apiGroups: [''], resources: ['secrets'], verbs: f.selfSignedCa ? ['create', 'get', 'watch', 'list', 'update', 'delete'] : READ },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['delete'] },
    // leader election
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update', 'patch', 'create'] },
  ];
}
