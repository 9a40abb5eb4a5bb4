/**
 * Kubernetes Gateway API checks: IST0166 (selector on a Gateway's pods instead of targetRef) and IST0101 (HTTPRoute
 * backendRefs to missing Services). @internal
 */
import { arr, Model, stringMap } from '../model';

/** The label Istio puts on the pods it deploys for a Kubernetes Gateway. */
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
const POLICY_KINDS = ['AuthorizationPolicy', 'RequestAuthentication', 'Telemetry', 'WasmPlugin'];

export function analyzeK8sGateways(m: Model): void {
  for (const kind of POLICY_KINDS) {
    for (const p of m.ofKind(kind)) {
      const spec = p.obj.spec ?? {};
      if (spec.targetRef || arr(spec.targetRefs).length) continue;
      const sel = stringMap(spec.selector?.matchLabels);
      if (Object.keys(sel).length === 0) continue;
      let gateway: string | undefined = sel[GATEWAY_NAME_LABEL];
      if (!gateway) gateway = m.select(p.ns, sel).map(w => w.labels[GATEWAY_NAME_LABEL]).find(Boolean);
      if (gateway) {
        m.report('IST0166', p, `Ineffective selector on Kubernetes Gateway ${gateway}. Use the targetRef field (kind Gateway, name ${gateway}) instead.`);
      }
    }
  }
  for (const kind of ['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute']) {
    for (const r of m.ofKind(kind)) {
      for (const rule of arr(r.obj.spec?.rules)) {
        for (const b of arr(rule?.backendRefs)) {
          const isService = (b?.group ?? '') === '' && (b?.kind ?? 'Service') === 'Service';
          if (!isService || typeof b?.name !== 'string') continue;
          const ns = b.namespace ?? r.ns!;
          if (!m.exists('Service', ns, b.name)) {
            m.report('IST0101', r, `Referenced Service not found: "${ns}/${b.name}" (backendRef). Create the Service or fix the backendRef.`);
          }
        }
      }
    }
  }
}
