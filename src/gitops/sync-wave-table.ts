/**
 * The sync wave table behind `SyncWaves` and the helpers that write Argo CD annotations. Internal.
 * @internal
 */
import { ISTIOD_LABELS } from './argocd-constants';

/** The waves, by stage (documented on SyncWaves). @internal */
export const WAVE = {
  FOUNDATION: -9,
  ACCESS: -8,
  ISSUERS: -7,
  CERTIFICATES: -6,
  CONTROL_PLANE: -5,
  MESH_POLICY: -4,
  DESTINATIONS: -3,
  /** A release's new version (CanaryRelease's canary Deployment): ready before the routes that send it traffic. */
  CANARY_WORKLOADS: -3,
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

/**
 * Per-resource sync options merged into an `argocd.argoproj.io/sync-options` value, keeping what is there (an option
 * the user set explicitly, either value, wins). Returns undefined when nothing changes.
 * @internal
 */
export function mergeSyncOptions(current: string | undefined, options: string[]): string | undefined {
  const list = current ? current.split(',').map(s => s.trim()).filter(s => s) : [];
  let changed = false;
  for (const o of options) {
    const key = o.split('=')[0];
    if (!list.some(x => x.split('=')[0] === key)) {
      list.push(o);
      changed = true;
    }
  }
  return changed ? list.join(',') : undefined;
}
