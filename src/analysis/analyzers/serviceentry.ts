/**
 * ServiceEntry checks: IST0134, IST0177. @internal
 */
import * as YAML from 'yaml';
import { arr, Entry, Model, stringMap, text, visibilityOf, Visibility } from '../model';

/** Protocols routed by destination address only: without addresses Istio cannot tell the hosts apart. */
const ADDRESS_PROTOCOLS = new Set(['', 'TCP']);

/** Whether two visibilities share a namespace. */
function overlap(a: Visibility, b: Visibility): boolean {
  if (a === '*') return b === '*' || b.size > 0;
  if (b === '*') return a.size > 0;
  for (const n of a) if (b.has(n)) return true;
  return false;
}

/**
 * Whether the mesh config (the `istio` ConfigMap of the root namespace, or a revision's `istio-<rev>`, in the input)
 * captures DNS and auto-allocates addresses for ServiceEntries: `defaultConfig.proxyMetadata` with
 * `ISTIO_META_DNS_CAPTURE: "true"` and `ISTIO_META_DNS_AUTO_ALLOCATE` or `PILOT_ENABLE_IP_AUTOALLOCATE` `"true"` (the
 * keys Istio 1.30.3's serviceentry.ProtocolAddressesAnalyzer reads).
 */
export function dnsAutoAllocated(m: Model): boolean {
  for (const cm of m.ofKind('ConfigMap')) {
    if (cm.ns !== m.rootNamespace || !(cm.name === 'istio' || cm.name.startsWith('istio-'))) continue;
    const mesh = cm.obj.data?.mesh;
    if (typeof mesh !== 'string') continue;
    let parsed: any;
    try {
      parsed = YAML.parse(mesh);
    } catch {
      continue;
    }
    const md = stringMap(parsed?.defaultConfig?.proxyMetadata);
    if (md.ISTIO_META_DNS_CAPTURE !== 'true') continue;
    if (md.ISTIO_META_DNS_AUTO_ALLOCATE === 'true' || md.PILOT_ENABLE_IP_AUTOALLOCATE === 'true') return true;
  }
  return false;
}

export function analyzeServiceEntries(m: Model): void {
  const autoAllocated = dnsAutoAllocated(m);
  const protocolsOf = new Map<string, Map<string, Entry[]>>();
  for (const se of m.ofKind('ServiceEntry')) {
    const spec = se.obj.spec ?? {};
    // Addresses given, allocated by istiod (status.addresses, Istio 1.30.3) or auto-allocated by the DNS proxy.
    const noAddresses = arr(spec.addresses).length === 0 && arr(se.obj.status?.addresses).length === 0 && !autoAllocated;
    for (const p of arr(spec.ports)) {
      const proto = text(p?.protocol ?? '').toUpperCase();
      if (noAddresses && ADDRESS_PROTOCOLS.has(proto)) {
        m.report('IST0134', se, `ServiceEntry addresses are required for port ${p?.number} (protocol ${proto || 'unset'}): without them all hosts on that port share one listener. Add spec.addresses, use an HTTP/TLS protocol, or enable DNS capture with address auto-allocation.`);
      }
      if (typeof p?.number !== 'number') continue;
      for (const h of arr(spec.hosts)) {
        const k = `${h}:${p.number}`;
        const byProto = protocolsOf.get(k) ?? new Map<string, Entry[]>();
        const l = byProto.get(proto) ?? [];
        if (!l.includes(se)) l.push(se);
        byProto.set(proto, l);
        protocolsOf.set(k, byProto);
      }
    }
  }
  // IST0177 (a message of Istio 1.30.3's catalogue that none of its analyzers emits): only ServiceEntries visible in a
  // common namespace (exportTo) conflict.
  for (const [k, byProto] of protocolsOf) {
    if (byProto.size < 2) continue;
    const entries = [...byProto.entries()].flatMap(([proto, es]) => es.map(se => ({ proto, se, v: visibilityOf(se.obj, se.ns!) })));
    const seen = new Set<Entry>();
    for (const a of entries) {
      const clashing = entries.filter(b => b.proto !== a.proto && overlap(a.v, b.v));
      if (clashing.length === 0 || seen.has(a.se)) continue;
      seen.add(a.se);
      const all = [a, ...clashing].map(x => `${x.proto || 'unset'} (${x.se.ns}/${x.se.name})`).join('; ');
      m.report('IST0177', a.se, `ServiceEntries declare ${k} with conflicting protocols where they are both visible: ${all}. Use one protocol for a host and port.`);
    }
  }
}
