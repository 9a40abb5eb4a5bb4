/**
 * Istio Gateway checks: IST0101 (selector, credentialName), IST0138, IST0145, IST0161, IST0162. @internal
 */
import { arr, canonical, Entry, hostsIntersect, Model, stringMap, text } from '../model';

const TLS_KEY_PAIRS = [['tls.crt', 'tls.key'], ['cert', 'key']];

function hostOnly(h: string): string {
  const i = h.indexOf('/');
  return i < 0 ? h : h.slice(i + 1);
}

export function analyzeGateways(m: Model): void {
  const gateways = m.ofKind('Gateway').filter(g => text(g.obj.apiVersion ?? '').startsWith('networking.istio.io/'));
  // Secrets provided by cert-manager Certificates count as existing.
  const certSecrets = new Set(m.ofKind('Certificate').map(c => `${c.ns}/${c.obj.spec?.secretName}`));
  const byCredential = new Map<string, Entry[]>();
  const bySelectorPort = new Map<string, Array<{ gw: Entry; hosts: string[] }>>();

  for (const gw of gateways) {
    const spec = gw.obj.spec ?? {};
    const selector = stringMap(spec.selector);
    const pods = m.select(undefined, selector);
    const selectorText = Object.entries(selector).map(([k, v]) => `${k}=${v}`).sort().join(',');
    if (pods.length === 0 && Object.keys(selector).length > 0) {
      m.report('IST0101', gw, `Referenced selector not found: "${selectorText}". No gateway workload carries these labels; fix the selector or deploy the gateway.`);
    }
    // Secrets live in the gateway workload's namespace.
    const secretNs = pods.length ? pods[0].ns : gw.ns!;
    const servicePorts = gatewayServicePorts(m, pods);
    for (const server of arr(spec.servers)) {
      const cred = server?.tls?.credentialName;
      if (typeof cred === 'string' && cred && !cred.includes('://')) {
        const secret = m.get('Secret', secretNs, cred);
        if (!secret && !m.exists('Secret', secretNs, cred) && !certSecrets.has(`${secretNs}/${cred}`)) {
          m.report('IST0101', gw, `Referenced credentialName not found: "${cred}" in namespace ${secretNs}. Create the TLS Secret there (e.g. with a cert-manager Certificate).`);
        } else if (secret && !hasKeyPair(secret)) {
          m.report('IST0161', gw, `Invalid gateway credential: Secret ${secretNs}/${cred} has neither tls.crt/tls.key nor cert/key. Store the certificate and key under those keys.`);
        }
        const k = `${selectorText}\0${cred}`;
        const l = byCredential.get(k) ?? [];
        if (!l.includes(gw)) l.push(gw);
        byCredential.set(k, l);
      }
      const port = server?.port?.number;
      if (typeof port === 'number') {
        const k = `${canonical(selector)}\0${port}`;
        const l = bySelectorPort.get(k) ?? [];
        l.push({ gw, hosts: arr(server.hosts).filter((h: any) => typeof h === 'string').map(hostOnly) });
        bySelectorPort.set(k, l);
        if (servicePorts && !servicePorts.has(port)) {
          m.report('IST0162', gw, `The gateway is listening on a target port (port ${port}) that is not defined in the Service of its workload. Add the port to the gateway Service (as port or targetPort) or change the server port.`);
        }
      }
    }
  }

  for (const [k, list] of byCredential) {
    if (list.length < 2) continue;
    const cred = k.split('\0')[1];
    for (const gw of list) {
      const others = list.filter(o => o !== gw).map(o => `${o.ns}/${o.name}`).join(', ');
      m.report('IST0138', gw, `Duplicate certificate "${cred}" in gateways ${others} and this one may cause 404s when clients reuse HTTP/2 connections. Put the hosts on one Gateway or use one certificate per Gateway.`);
    }
  }

  for (const [k, entries] of bySelectorPort) {
    const distinct = new Set(entries.map(e => e.gw));
    if (distinct.size < 2) continue;
    const port = k.split('\0')[1];
    // Exact hosts through a map; wildcard hosts (rare) against the group: no pairwise pass over plain hosts.
    const exact = new Map<string, Entry[]>();
    const wild: Array<{ host: string; gw: Entry }> = [];
    for (const e of entries) {
      for (const h of e.hosts) {
        if (h.includes('*')) {wild.push({ host: h, gw: e.gw });} else {
          const l = exact.get(h) ?? [];
          if (!l.includes(e.gw)) l.push(e.gw);
          exact.set(h, l);
        }
      }
    }
    const conflicts = new Map<Entry, Map<Entry, string>>();
    const add = (x: Entry, y: Entry, host: string) => {
      if (x === y) return;
      const mx = conflicts.get(x) ?? new Map<Entry, string>();
      if (!mx.has(y)) mx.set(y, host);
      conflicts.set(x, mx);
    };
    for (const [h, gws] of exact) for (const x of gws) for (const y of gws) add(x, y, h);
    for (const w of wild) {
      for (const e of entries) for (const h of e.hosts) if (hostsIntersect(w.host, h)) { add(w.gw, e.gw, w.host); add(e.gw, w.gw, w.host); }
    }
    for (const gw of distinct) {
      for (const [other, host] of conflicts.get(gw) ?? []) {
        m.report('IST0145', gw, `Conflict with gateway ${other.ns}/${other.name} (same workload selector, port ${port}, overlapping host "${host}"). Merge the servers into one Gateway or use distinct hosts.`);
      }
    }
  }
}

function hasKeyPair(secret: Entry): boolean {
  const keys = new Set([...Object.keys(secret.obj.data ?? {}), ...Object.keys(secret.obj.stringData ?? {})]);
  return TLS_KEY_PAIRS.some(([c, k]) => keys.has(c) && keys.has(k));
}

/** Port and targetPort numbers of the Services in front of the gateway pods; undefined when there is none. */
function gatewayServicePorts(m: Model, pods: ReturnType<Model['select']>): Set<number> | undefined {
  const services = new Set<Entry>();
  for (const p of pods) for (const s of m.servicesSelecting(p)) services.add(s);
  if (services.size === 0) return undefined;
  const out = new Set<number>();
  for (const s of services) {
    for (const p of arr(s.obj.spec?.ports)) {
      if (typeof p?.port === 'number') out.add(p.port);
      if (typeof p?.targetPort === 'number') out.add(p.targetPort);
      else if (typeof p?.targetPort === 'string' && /^\d+$/.test(p.targetPort)) out.add(Number(p.targetPort));
    }
  }
  return out;
}
