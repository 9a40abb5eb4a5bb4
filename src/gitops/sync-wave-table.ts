/**
 * The sync wave table behind `SyncWaves` and the helpers that write Argo CD annotations. Internal.
 * @internal
 */
import { ApiObject } from 'cdk8s';
import { ArgoCdAnnotations, ISTIOD_LABELS } from './argocd-constants';

/** The waves, by stage (documented on SyncWaves). @internal */
export const WAVE = {
  FOUNDATION: -9,
  ACCESS: -8,
  ISSUERS: -7,
  CERTIFICATES: -6,
  CONTROL_PLANE: -5,
  MESH_POLICY: -4,
  DESTINATIONS: -3,
  ROUTES: -2,
  GATEWAYS: -1,
  WORKLOADS: 0,
  APPLICATIONS: 10,
} as const;

/** The wave of a kind, WORKLOADS for a kind not in the table. @internal */
export function waveOfKind(kind: string): number {
  return SYNC_WAVE_TABLE[kind] ?? WAVE.WORKLOADS;
}

/** Kinds that belong to the control plane when they carry istiod's labels. @internal */
const CONTROL_PLANE_WORKLOAD_KINDS = new Set(['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']);

function stage(wave: number, kinds: string[]): Array<[string, number]> {
  return kinds.map(k => [k, wave]);
}

/** The wave table, kind -> wave (documented on SyncWaves). @internal */
export const SYNC_WAVE_TABLE: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries([
  ...stage(WAVE.FOUNDATION, ['Namespace', 'CustomResourceDefinition']),
  ...stage(WAVE.ACCESS, ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ConfigMap',
    'Secret', 'ResourceQuota', 'LimitRange', 'PriorityClass', 'AppProject']),
  ...stage(WAVE.ISSUERS, ['ClusterIssuer', 'Issuer']),
  ...stage(WAVE.CERTIFICATES, ['Certificate']),
  ...stage(WAVE.CONTROL_PLANE, ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'GatewayClass']),
  ...stage(WAVE.MESH_POLICY, ['PeerAuthentication', 'RequestAuthentication', 'AuthorizationPolicy', 'Sidecar',
    'Telemetry', 'EnvoyFilter', 'WasmPlugin', 'ProxyConfig', 'NetworkPolicy', 'ReferenceGrant', 'PodMonitor',
    'ServiceMonitor', 'PrometheusRule', 'AnalysisTemplate', 'ClusterAnalysisTemplate']),
  ...stage(WAVE.DESTINATIONS, ['ServiceEntry', 'WorkloadEntry', 'WorkloadGroup', 'DestinationRule']),
  ...stage(WAVE.ROUTES, ['VirtualService', 'HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute', 'UDPRoute']),
  ...stage(WAVE.GATEWAYS, ['Gateway']),
  ...stage(WAVE.WORKLOADS, ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod',
    'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Rollout']),
  ...stage(WAVE.APPLICATIONS, ['Application']),
]));

/** The wave of an object given its kind and a label reader. @internal */
export function waveOf(kind: string, label: (key: string) => string | undefined): number {
  if (CONTROL_PLANE_WORKLOAD_KINDS.has(kind) && ISTIOD_LABELS.some(([k, v]) => label(k) === v)) {
    return WAVE.CONTROL_PLANE;
  }
  return waveOfKind(kind);
}

/** The annotations an object carries now (set through metadata or props). @internal */
export function annotationsOf(obj: ApiObject): Record<string, string> {
  return obj.metadata.toJson().annotations ?? {};
}

/**
 * Sets the sync wave on an object unless one is already set (a wave set by the user wins).
 * @internal
 */
export function ensureSyncWave(obj: ApiObject, wave: number) {
  if (annotationsOf(obj)[ArgoCdAnnotations.SYNC_WAVE] === undefined) {
    obj.metadata.addAnnotation(ArgoCdAnnotations.SYNC_WAVE, String(wave));
  }
}

/**
 * Adds per-resource sync options to an object's `argocd.argoproj.io/sync-options`, keeping what is there.
 * @internal
 */
export function addSyncOptions(obj: ApiObject, options: string[]) {
  const current = annotationsOf(obj)[ArgoCdAnnotations.SYNC_OPTIONS];
  const list = current ? current.split(',').map(s => s.trim()).filter(s => s) : [];
  let changed = false;
  for (const o of options) {
    const key = o.split('=')[0];
    // an option the user set explicitly (either value) wins
    if (!list.some(x => x.split('=')[0] === key)) {
      list.push(o);
      changed = true;
    }
  }
  if (changed) obj.metadata.addAnnotation(ArgoCdAnnotations.SYNC_OPTIONS, list.join(','));
}
