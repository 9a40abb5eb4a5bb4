/**
 * Checks of what a manifest's `status` and CRD annotations say, when the input carries them (objects exported from a
 * cluster): IST0171 (Istio 1.30.3 conditions.ConditionAnalyzer) and IST0176 (k8sgateway.CRDVersionAnalyzer).
 * @internal
 */
import { arr, Entry, Model, text } from '../model';

/** Negative conditions reported per kind: condition type -> the status that is negative (Istio 1.30.3). */
const NEGATIVE: Record<string, Record<string, string>> = {
  'Service': { 'istio.io/WaypointBound': 'False' },
  'ServiceEntry': { 'istio.io/WaypointBound': 'False' },
  'WorkloadEntry': { 'istio.io/WaypointBound': 'False' },
  'AuthorizationPolicy': { ZtunnelAccepted: 'False', WaypointAccepted: 'False' },
  'Gateway.k8s': { Accepted: 'False', Programmed: 'False', ResolvedRefs: 'False' },
  'HTTPRoute': { Accepted: 'False', Programmed: 'False', ResolvedRefs: 'False' },
  'GRPCRoute': { Accepted: 'False', Programmed: 'False', ResolvedRefs: 'False' },
};

/**
 * The minimum Gateway API bundle version (annotation `gateway.networking.k8s.io/bundle-version` of the CRD) that
 * Istio 1.30.3 processes, per CRD (pkg/config/schema/gatewayapi MinimumCRDVersions).
 */
const MINIMUM_GATEWAY_API_CRDS: Record<string, [number, number, number]> = {
  'grpcroutes.gateway.networking.k8s.io': [1, 1, 0],
  'backendtlspolicies.gateway.networking.k8s.io': [1, 4, 0],
  'tlsroutes.gateway.networking.k8s.io': [1, 5, 0],
};
const BUNDLE_VERSION = 'gateway.networking.k8s.io/bundle-version';

function conditionsOf(e: Entry): any[] {
  const status = e.obj.status;
  if (!status || typeof status !== 'object') return [];
  if (e.kind === 'HTTPRoute' || e.kind === 'GRPCRoute') return arr(status.parents).flatMap((p: any) => arr(p?.conditions));
  return arr(status.conditions);
}

/** `v1.2.3[-pre]` as [1, 2, 3], or undefined. */
function semver(v: string): [number, number, number] | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

export function analyzeStatus(m: Model): void {
  for (const kind of ['Service', 'ServiceEntry', 'WorkloadEntry', 'AuthorizationPolicy', 'Gateway', 'HTTPRoute', 'GRPCRoute']) {
    for (const e of m.ofKind(kind)) {
      const api = text(e.obj.apiVersion ?? '');
      if (kind === 'Gateway' && !api.startsWith('gateway.networking.k8s.io/')) continue;
      const negative = NEGATIVE[kind === 'Gateway' ? 'Gateway.k8s' : kind];
      for (const c of conditionsOf(e)) {
        const type = text(c?.type ?? '');
        const bad = negative[type] !== undefined && negative[type] === text(c?.status ?? '');
        const partial = kind === 'AuthorizationPolicy' && type === 'WaypointAccepted' && c?.reason === 'PartiallyInvalid';
        if (bad || partial) {
          m.report('IST0171', e, `The status condition ${type} is ${text(c?.status ?? '')} (reason ${text(c?.reason ?? '') || 'none'}): ${text(c?.message ?? '') || 'no message'}. Fix what the condition names.`);
        }
      }
    }
  }
  for (const crd of m.ofKind('CustomResourceDefinition')) {
    const min = MINIMUM_GATEWAY_API_CRDS[crd.name];
    const bv = crd.obj.metadata?.annotations?.[BUNDLE_VERSION];
    if (!min || typeof bv !== 'string') continue;
    const v = semver(bv);
    if (!v) continue;
    const below = v[0] !== min[0] ? v[0] < min[0] : v[1] !== min[1] ? v[1] < min[1] : v[2] < min[2];
    if (below) {
      m.report('IST0176', crd, `The Gateway API CRD ${crd.name} is at bundle version ${bv}, below the minimum ${min.join('.')} that Istio 1.30.3 processes: istiod ignores it. Install Gateway API ${min.join('.')} or later.`);
    }
  }
}
