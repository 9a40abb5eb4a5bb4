/**
 * IST0002, the deprecations Istio 1.30.3 checks (deprecation.FieldAnalyzer): CustomResourceDefinitions of the removed
 * rbac.istio.io kinds, a Sidecar's outboundTrafficPolicy.egressProxy, and VirtualService fault delays given as
 * `percent` rather than `percentage`. @internal
 */
import { arr, Model } from '../model';

/** Custom resource kinds removed from Istio (group rbac.istio.io). */
const REMOVED_KINDS = new Set(['ClusterRbacConfig', 'RbacConfig', 'ServiceRole', 'ServiceRoleBinding']);

export function analyzeDeprecations(m: Model): void {
  for (const crd of m.ofKind('CustomResourceDefinition')) {
    const group = crd.obj.spec?.group;
    const kind = crd.obj.spec?.names?.kind;
    if (group === 'rbac.istio.io' && REMOVED_KINDS.has(kind)) {
      m.report('IST0002', crd, `Deprecated: Custom resource type ${group} ${kind} is removed. Use AuthorizationPolicy (security.istio.io) instead.`);
    }
  }
  for (const sc of m.ofKind('Sidecar')) {
    if (sc.obj.spec?.outboundTrafficPolicy?.egressProxy) {
      m.report('IST0002', sc, 'Deprecated: OutboundTrafficPolicy.EgressProxy ignored. Route egress through an egress gateway with a VirtualService instead.');
    }
  }
  for (const vs of m.ofKind('VirtualService')) {
    if (arr(vs.obj.spec?.http).some((r: any) => typeof r?.fault?.delay?.percent === 'number' && r.fault.delay.percent > 0)) {
      m.report('IST0002', vs, 'Deprecated: HTTPRoute.fault.delay.percent is deprecated; use HTTPRoute.fault.delay.percentage.');
    }
  }
}
