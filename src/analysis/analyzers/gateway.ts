/**
 * Istio Gateway checks: IST0101 (selector, credentialName), IST0138, IST0145, IST0161, IST0162. @internal
 */
import { X509Certificate } from 'crypto';
import { arr, canonical, Entry, Model, stringMap, text, Workload } from '../model';

/** Certificate and key entries of a gateway credential Secret, in the order Istio 1.30.3 tries them (ExtractCertInfo). */
const TLS_KEY_PAIRS = [['cert', 'key'], ['tls.crt', 'tls.key']];

/** The problem with a credential Secret Istio 1.30.3 would reject (SecretAnalyzer), or undefined when it is valid. */
export function credentialProblem(secret: any, now: Date): string | undefined {
  const read = (k: string): string | undefined => {
    const d = secret?.data?.[k];
    if (typeof d === 'string') return Buffer.from(d, 'base64').toString('utf8');
    const sd = secret?.stringData?.[k];
    return typeof sd === 'string' ? sd : undefined;
  };
  const pair = TLS_KEY_PAIRS.find(([c, k]) => read(c) && read(k));
  if (!pair) {
    const empty = TLS_KEY_PAIRS.find(([c, k]) => read(c) !== undefined && read(k) !== undefined);
    return empty ? `has keys ${empty[0]} and ${empty[1]}, but they are empty` : 'has neither tls.crt/tls.key nor cert/key';
  }
  // Istio parses the first PEM block of the certificate and checks that every certificate in it is valid now.
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(read(pair[0])!);
  if (!pem) return `has a ${pair[0]} that is not a PEM certificate`;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem[0]);
  } catch (e: any) {
    return `has a ${pair[0]} that cannot be parsed (${e?.message ?? e})`;
  }
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (now.getTime() > to) return `holds a certificate that expired on ${new Date(to).toISOString()}`;
  if (now.getTime() < from) return `holds a certificate that is not valid before ${new Date(from).toISOString()}`;
  return undefined;
}

/** Whether every label of `a` is in `b` with the same value (Istio 1.30.3 gateway.selectorSubset). */
function selectorSubset(a: Record<string, string>, b: Record<string, string>): boolean {
  return Object.entries(a).every(([k, v]) => b[k] === v);
}

interface TlsServer { readonly gw: Entry; readonly selector: Record<string, string>; readonly key: string }

export function analyzeGateways(m: Model): void {
  const gateways = m.ofKind('Gateway').filter(g => text(g.obj.apiVersion ?? '').startsWith('networking.istio.io/'));
  // Secrets provided by cert-manager Certificates count as existing.
  const certSecrets = new Set(m.ofKind('Certificate').map(c => `${c.ns}/${c.obj.spec?.secretName}`));
  const now = m.options.now ?? new Date();
  /** TLS servers by certificate: `cred:<credentialName>` or `file:<serverCertificate>\0<privateKey>`. */
  const byCertificate = new Map<string, TlsServer[]>();
  /** Servers by port, with the workloads their Gateway selects. */
  const byPort = new Map<number, Array<{ gw: Entry; selector: Record<string, string>; hosts: string[]; bind: string }>>();
  const selected = new Map<Entry, Set<Workload>>();

  for (const gw of gateways) {
    const spec = gw.obj.spec ?? {};
    const selector = stringMap(spec.selector);
    const pods = m.select(undefined, selector);
    selected.set(gw, new Set(pods));
    const selectorText = Object.entries(selector).map(([k, v]) => `${k}=${v}`).sort().join(',');
    if (pods.length === 0 && Object.keys(selector).length > 0) {
      m.report('IST0101', gw, `Referenced selector not found: "${selectorText}". No gateway workload carries these labels; fix the selector or deploy the gateway.`);
    }
    // Secrets live in the gateway workload's namespace.
    const secretNs = pods.length ? pods[0].ns : gw.ns!;
    const servicePorts = gatewayServicePorts(m, pods);
    for (const server of arr(spec.servers)) {
      const tls = server?.tls;
      const cred = tls?.credentialName;
      if (typeof cred === 'string' && cred && !cred.includes('://')) {
        const secret = m.get('Secret', secretNs, cred);
        if (!secret && !m.exists('Secret', secretNs, cred) && !certSecrets.has(`${secretNs}/${cred}`)) {
          m.report('IST0101', gw, `Referenced credentialName not found: "${cred}" in namespace ${secretNs}. Create the TLS Secret there (e.g. with a cert-manager Certificate).`);
        } else if (secret) {
          const problem = credentialProblem(secret.obj, now);
          if (problem) {
            m.report('IST0161', gw, `Invalid gateway credential: Secret ${secretNs}/${cred} ${problem}. Store a valid PEM certificate and its key under tls.crt/tls.key (or cert/key).`);
          }
        }
      }
      // IST0138 compares credentialName, or (both without one) serverCertificate and privateKey files.
      const certKey = typeof cred === 'string' && cred ? `cred:${cred}`
        : typeof tls?.serverCertificate === 'string' && tls.serverCertificate && typeof tls?.privateKey === 'string' && tls.privateKey
          ? `file:${tls.serverCertificate}\0${tls.privateKey}` : undefined;
      if (certKey) {
        const l = byCertificate.get(certKey) ?? [];
        l.push({ gw, selector, key: certKey });
        byCertificate.set(certKey, l);
      }
      const port = server?.port?.number;
      if (typeof port === 'number') {
        const l = byPort.get(port) ?? [];
        l.push({ gw, selector, hosts: arr(server.hosts).filter((h: any) => typeof h === 'string'), bind: text(server.bind ?? '') });
        byPort.set(port, l);
        if (servicePorts && !servicePorts.has(port)) {
          m.report('IST0162', gw, `The gateway is listening on a target port (port ${port}) that is not defined in the Service of its workload. Add the port to the gateway Service (as port or targetPort) or change the server port.`);
        }
      }
    }
  }

  // IST0138 (Istio 1.30.3 gateway.CertificateAnalyzer): a Gateway shares a certificate with another Gateway whose
  // selector includes every label of its own (an empty selector covers all Gateways).
  for (const [certKey, servers] of byCertificate) {
    const label = certKey.startsWith('cred:') ? `"${certKey.slice(5)}"` : `files ${certKey.slice(5).split('\0').join(' and ')}`;
    // one finding per Gateway and certificate, naming the others (Istio reports each pair; the list keeps the output
    // linear in the number of Gateways)
    const done = new Set<Entry>();
    for (const a of servers) {
      if (done.has(a.gw)) continue;
      done.add(a.gw);
      const others = [...new Set(servers.filter(b => b.gw !== a.gw && selectorSubset(a.selector, b.selector)).map(b => `${b.gw.ns}/${b.gw.name}`))].sort();
      if (others.length === 0) continue;
      const shown = others.length > 5 ? `${others.slice(0, 5).join(', ')} and ${others.length - 5} more` : others.join(', ');
      m.report('IST0138', a.gw, `Duplicate certificate ${label} in gateways ${a.gw.ns}/${a.gw.name} and ${shown} (same gateway workload) may cause 404s when clients reuse HTTP/2 connections. Put the hosts on one Gateway or use one certificate per Gateway.`);
    }
  }

  // IST0145 (Istio 1.30.3 gateway.ConflictingGatewayAnalyzer): servers on the same port of Gateways selecting the same
  // workload (equal selectors, or one contained in the other that select a common workload) that repeat a host (as
  // written) with the same bind address. Reported once per server.
  const sharesWorkload = (a: { gw: Entry; selector: Record<string, string> }, b: { gw: Entry; selector: Record<string, string> }) => {
    if (canonical(a.selector) === canonical(b.selector)) return true;
    if (!selectorSubset(a.selector, b.selector) && !selectorSubset(b.selector, a.selector)) return false;
    const sa = selected.get(a.gw)!;
    for (const w of selected.get(b.gw)!) if (sa.has(w)) return true;
    return false;
  };
  for (const [port, servers] of [...byPort.entries()].sort(([x], [y]) => x - y)) {
    if (new Set(servers.map(s => s.gw)).size < 2) continue;
    // host+bind -> servers, so only servers that share a host are compared
    const byHost = new Map<string, typeof servers>();
    for (const s of servers) {
      for (const h of s.hosts) {
        const l = byHost.get(`${h}\0${s.bind}`) ?? [];
        l.push(s);
        byHost.set(`${h}\0${s.bind}`, l);
      }
    }
    for (const s of servers) {
      const conflicting = new Set<Entry>();
      for (const h of s.hosts) {
        for (const o of byHost.get(`${h}\0${s.bind}`) ?? []) if (o.gw !== s.gw && sharesWorkload(s, o)) conflicting.add(o.gw);
      }
      if (conflicting.size === 0) continue;
      const names = [...conflicting].map(g => `${g.ns}/${g.name}`).sort().join(', ');
      const sel = Object.entries(s.selector).map(([k, v]) => `${k}=${v}`).sort().join(',');
      m.report('IST0145', s.gw, `Conflict with gateways ${names} (workload selector ${sel}, port ${port}, hosts ${s.hosts.join(', ')}). Merge the servers into one Gateway or use distinct hosts.`);
    }
  }
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
