/**
 * Argo CD facts used by the gitops constructs, in one place.
 *
 * Sources: Argo CD's user guide (docs/user-guide/sync-waves.md, sync-options.md, diffing.md,
 * docs/operator-manual/health.md, declarative-setup.md) and its CRDs (argoproj.io/v1alpha1, v3.5.1 in
 * shared/reference/crds/argo-cd). Kept here rather than in src/mesh/constants.ts because only the gitops folder reads them.
 * @internal
 */

/** Annotations Argo CD reads on the objects it syncs. */
export const ArgoCdAnnotations = {
  /** Integer wave; Argo CD applies lower waves first and waits for them to be healthy (default wave 0). */
  SYNC_WAVE: 'argocd.argoproj.io/sync-wave',
  /** Comma-separated per-resource sync options (e.g. `ServerSideApply=true,SkipDryRunOnMissingResource=true`). */
  SYNC_OPTIONS: 'argocd.argoproj.io/sync-options',
} as const;

/** Sync options (app-wide in spec.syncPolicy.syncOptions, or per resource in the sync-options annotation). */
export const ArgoCdSyncOptions = {
  /** Apply with Kubernetes server-side apply: no `last-applied-configuration` annotation, so no 256 KiB limit. */
  SERVER_SIDE_APPLY: 'ServerSideApply=true',
  /** Use `kubectl replace`/`create` instead of apply: also avoids the annotation, but replaces the whole object. */
  REPLACE: 'Replace=true',
  /** Do not fail the dry run when the kind's CRD does not exist yet (it is created earlier in the same sync). */
  SKIP_DRY_RUN_ON_MISSING_RESOURCE: 'SkipDryRunOnMissingResource=true',
  /** Create the destination namespace if missing. */
  CREATE_NAMESPACE: 'CreateNamespace=true',
  /** Delete pruned objects only after every wave has been applied and is healthy (make before break). */
  PRUNE_LAST: 'PruneLast=true',
  /** During sync, keep the live value of fields listed in ignoreDifferences instead of resetting them from Git. */
  RESPECT_IGNORE_DIFFERENCES: 'RespectIgnoreDifferences=true',
} as const;

/** The in-cluster API server as Argo CD names it. */
export const ARGOCD_IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';
/** The namespace Argo CD is installed in by its manifests. */
export const ARGOCD_DEFAULT_NAMESPACE = 'argocd';
/** Finalizer that makes deleting an Application delete its resources (cascading delete). */
export const ARGOCD_RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';
/** Argo CD's API group. */
export const ARGOCD_GROUP = 'argoproj.io';
/** Prefix of health check keys in argocd-cm: `resource.customizations.health.<group>_<kind>`. */
export const ARGOCD_HEALTH_KEY_PREFIX = 'resource.customizations.health.';

/**
 * Labels that mark istiod's own workload objects (istio-facts.md, section a: Deployment/Service/HPA/PDB `istiod` carry
 * `app: istiod` and `istio: pilot`).
 */
export const ISTIOD_LABELS: ReadonlyArray<readonly [string, string]> = [['app', 'istiod'], ['istio', 'pilot']];

/** The pod label Argo Rollouts writes into DestinationRule subsets and Services it manages. */
export const ROLLOUTS_POD_TEMPLATE_HASH = 'rollouts-pod-template-hash';

/**
 * Cluster-scoped kinds that are not defined by a CRD in the delivered charts, by `<group>/<kind>` ('' is core).
 * Kinds from CRDs in the delivered charts are classified by their CRD's `spec.scope`.
 */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  '/Namespace', '/PersistentVolume', '/Node',
  'apiextensions.k8s.io/CustomResourceDefinition',
  'apiregistration.k8s.io/APIService',
  'rbac.authorization.k8s.io/ClusterRole', 'rbac.authorization.k8s.io/ClusterRoleBinding',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'scheduling.k8s.io/PriorityClass',
  'storage.k8s.io/StorageClass', 'storage.k8s.io/CSIDriver',
  'networking.k8s.io/IngressClass',
  'node.k8s.io/RuntimeClass',
  'cert-manager.io/ClusterIssuer',
  'gateway.networking.k8s.io/GatewayClass',
  'argoproj.io/ClusterAnalysisTemplate',
]);
