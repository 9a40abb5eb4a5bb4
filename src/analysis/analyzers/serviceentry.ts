/**
 * ServiceEntry checks: IST0134, IST0177. @internal
 */
import { arr, Entry, Model, text } from '../model';

/** Protocols routed by destination address only: without addresses Istio cannot tell the hosts apart. */
const ADDRESS_PROTOCOLS = new Set(['', 'TCP']);

export function analyzeServiceEntries(m: Model): void {
  const protocolsOf = new Map<string, Map<string, Entry[]>>();
  for (const se of m.ofKind('ServiceEntry')) {
    const spec = se.obj.spec ?? {};
    const noAddresses = arr(spec.addresses).length === 0;
    for (const p of arr(spec.ports)) {
      const proto = text(p?.protocol ?? '').toUpperCase();
      if (noAddresses && ADDRESS_PROTOCOLS.has(proto)) {
        m.report('IST0134', se, `ServiceEntry addresses are required for port ${p?.number} (protocol ${proto || 'unset'}): without them all hosts on that port share one listener. Add spec.addresses, or use an HTTP/TLS protocol.`);
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
  for (const [k, byProto] of protocolsOf) {
    if (byProto.size < 2) continue;
    const all = [...byProto.entries()].map(([proto, es]) => `${proto || 'unset'} (${es.map(e => `${e.ns}/${e.name}`).join(', ')})`).join('; ');
    const seen = new Set<Entry>();
    for (const es of byProto.values()) {
      for (const se of es) {
        if (seen.has(se)) continue;
        seen.add(se);
        m.report('IST0177', se, `ServiceEntries declare ${k} with conflicting protocols: ${all}. Use one protocol for a host and port.`);
      }
    }
  }
}
