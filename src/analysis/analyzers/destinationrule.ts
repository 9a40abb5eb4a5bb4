/**
 * DestinationRule checks: IST0128, IST0129, IST0173, IST0174, MESH001. @internal
 */
import { arr, Entry, lookupNamespaces, Model, stringMap, Workload } from '../model';
import { effectiveMtlsMode } from './auth';

const VERIFYING_MODES = new Set(['SIMPLE', 'MUTUAL']);

/**
 * Labels Istio adds to every endpoint from its node (Istio 1.30.3, pilot serviceregistry/util/label AugmentLabels):
 * a subset may select on them although no pod carries them.
 */
const NODE_LABELS = ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone'];
const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** Labels Istio derives from the cluster and network, which a manifest cannot tell. */
const UNKNOWABLE_LABELS = new Set(['topology.istio.io/cluster', 'topology.istio.io/network']);

/**
 * Whether a workload can carry a subset's labels: its own labels, plus the topology labels of its node. A bare Pod
 * whose `nodeName` is a Node of the input gets that Node's labels and name; any other workload may run on any Node
 * of the input (or anywhere, when the input has no Node).
 */
function canMatch(m: Model, w: Workload, labels: Record<string, string>): boolean {
  const nodes = m.ofKind('Node');
  const nodeName = w.podSpec.nodeName;
  const node = typeof nodeName === 'string' ? nodes.find(n => n.name === nodeName) : undefined;
  const candidates = node ? [node] : nodes;
  const onNode = (n: Entry | undefined) => {
    const nl = n ? stringMap(n.obj.metadata?.labels) : {};
    return Object.entries(labels).every(([k, v]) => {
      if (w.labels[k] === v) return true;
      if (UNKNOWABLE_LABELS.has(k)) return true;
      if (!n) return NODE_LABELS.includes(k) || k === HOSTNAME_LABEL;
      if (k === HOSTNAME_LABEL) return n.name === v;
      return NODE_LABELS.includes(k) && nl[k] === v;
    });
  };
  return candidates.length === 0 ? onNode(undefined) : candidates.some(onNode);
}

/** Whether a ClientTLSSettings leaves the server certificate unverified. */
function unverified(tls: any): boolean {
  if (!tls || !VERIFYING_MODES.has(tls.mode)) return false;
  return !tls.caCertificates && !tls.credentialName && tls.insecureSkipVerify !== true;
}

export function analyzeDestinationRules(m: Model): void {
  for (const dr of m.ofKind('DestinationRule')) {
    const spec = dr.obj.spec ?? {};
    const host = typeof spec.host === 'string' ? spec.host : undefined;
    const fqdn = host ? m.resolveHost(host, dr.ns!) : undefined;
    const policies: Array<{ where: string; policy: any }> = [{ where: '', policy: spec.trafficPolicy }];
    for (const s of arr(spec.subsets)) policies.push({ where: ` (subset ${s?.name})`, policy: s?.trafficPolicy });

    for (const { where, policy } of policies) {
      if (unverified(policy?.tls)) {
        m.report('IST0128', dr, `DestinationRule ${dr.ns}/${dr.name}${where} has TLS mode ${policy.tls.mode} but no caCertificates (or credentialName) to validate the server identity for host ${host}. Set tls.caCertificates or tls.credentialName.`);
      }
      for (const pl of arr(policy?.portLevelSettings)) {
        if (unverified(pl?.tls)) {
          m.report('IST0129', dr, `DestinationRule ${dr.ns}/${dr.name}${where} has TLS mode ${pl.tls.mode} on port ${pl?.port?.number} but no caCertificates (or credentialName) to validate the server identity for host ${host}. Set tls.caCertificates or tls.credentialName.`);
        }
      }
    }

    if (!host || !fqdn) continue;
    // exportTo: only hosts visible where this DestinationRule applies count (Istio 1.30.3 util.GetDestinationHost).
    const from = lookupNamespaces(dr.obj, dr.ns!);
    if (host.includes('*') ? !m.wildcardHostExists(host, from) : !m.hostExists(fqdn, from)) {
      const hidden = (host.includes('*') ? m.wildcardHostExists(host) : m.hostExists(fqdn)) ? ' (it exists, but is not exported to this namespace)' : '';
      m.report('IST0174', dr, `DestinationRule for host "${host}" does not match any Service or ServiceEntry${hidden}, so it has no effect. Fix the host, or add the Service/ServiceEntry.`);
      continue;
    }
    const svc = m.serviceFor(fqdn, from);
    if (!svc) continue;
    const selected = m.workloadsOf(svc);
    if (selected.length > 0) {
      for (const s of arr(spec.subsets)) {
        const labels = stringMap(s?.labels);
        if (!selected.some(w => canMatch(m, w, labels))) {
          m.report('IST0173', dr, `The subset ${s?.name} defined in the DestinationRule does not select any pods of Service ${svc.ns}/${svc.name}, which leads to 503 UH (NoHealthyUpstream). Fix the subset labels or deploy the pods.`);
        }
      }
    }
    checkStrictMtls(m, dr, svc, selected, policies);
  }
}

/** MESH001: tls DISABLE/SIMPLE towards workloads that only accept mTLS. */
function checkStrictMtls(m: Model, dr: Entry, svc: Entry, selected: Workload[], policies: Array<{ where: string; policy: any }>): void {
  const mode = effectiveMtlsMode(m, svc.ns!, selected);
  if (mode !== 'STRICT') return;
  for (const { where, policy } of policies) {
    const settings = [{ at: '', tls: policy?.tls }, ...arr(policy?.portLevelSettings).map((pl: any) => ({ at: ` on port ${pl?.port?.number}`, tls: pl?.tls }))];
    for (const { at, tls } of settings) {
      if (tls?.mode === 'DISABLE' || tls?.mode === 'SIMPLE') {
        m.report('MESH001', dr, `DestinationRule ${dr.ns}/${dr.name}${where} sets tls mode ${tls.mode}${at} for ${svc.name}.${svc.ns}, whose workloads require STRICT mTLS: this overrides auto mTLS and the server rejects the connection. Remove the tls block (auto mTLS) or use ISTIO_MUTUAL.`);
      }
    }
  }
}
