/**
 * Service port checks: IST0116, IST0118, IST0137, IST0150. @internal
 */
import { arr, Entry, Model, text } from '../model';
import { protocolOfName, protocolOfServicePort } from '../protocol';

const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

export function analyzeServices(m: Model): void {
  for (const svc of m.ofKind('Service')) {
    if (SYSTEM_NAMESPACES.has(svc.ns!)) continue;
    const externalName = svc.obj.spec?.type === 'ExternalName';
    for (const p of arr(svc.obj.spec?.ports)) {
      if (protocolOfName(p?.appProtocol) || protocolOfName(p?.name)) continue;
      if (text(p?.protocol ?? 'TCP').toUpperCase() === 'UDP') continue;
      const desc = `${p?.name ? `"${p.name}"` : '(unnamed)'} (port: ${p?.port}, targetPort: ${p?.targetPort ?? p?.port})`;
      if (externalName) {
        m.report('IST0150', svc, `Port name ${desc} of this ExternalName Service has no valid protocol prefix, so Istio treats its traffic as TCP. Name it <protocol>[-suffix], e.g. http-web or tcp-db.`);
      } else {
        m.report('IST0118', svc, `Port name ${desc} doesn't follow the naming convention of Istio port: name it <protocol>[-suffix] (e.g. http-web, grpc-api, tcp-db) or set appProtocol.`);
      }
    }
  }
  // IST0116 / IST0137: Services selecting the same workload.
  for (const w of m.workloads) {
    const services = m.servicesSelecting(w);
    if (services.length < 2) continue;
    const named = new Map<string, number>();
    for (const c of arr(w.podSpec.containers)) {
      for (const p of arr(c?.ports)) if (p?.name && typeof p.containerPort === 'number') named.set(p.name, p.containerPort);
    }
    const byTarget = new Map<string, Array<{ svc: Entry; port: any }>>();
    for (const svc of services) {
      for (const port of arr(svc.obj.spec?.ports)) {
        const t = port?.targetPort ?? port?.port;
        const target = typeof t === 'string' && named.has(t) ? String(named.get(t)) : text(t);
        const l = byTarget.get(target) ?? [];
        l.push({ svc, port });
        byTarget.set(target, l);
      }
    }
    for (const [target, uses] of byTarget) {
      if (new Set(uses.map(u => u.svc)).size < 2) continue;
      const protocols = new Set(uses.map(u => protocolOfServicePort(u.port)).filter(p => p !== undefined));
      const names = [...new Set(uses.map(u => u.svc.name))].sort().join(', ');
      if (protocols.size > 1) {
        m.report('IST0116', w.entry, `This workload is associated with multiple services (${names}) using target port ${target} but different protocols: ${[...protocols].sort().join(', ')}. Give the port one protocol in every Service.`);
      }
      const ports = new Set(uses.map(u => u.port?.port));
      if (ports.size > 1) {
        m.report('IST0137', w.entry, `This workload is associated with multiple services (${names}) using target port ${target} but different ports: ${[...ports].sort().join(', ')}. Use the same service port for the target port in every Service.`);
      }
    }
  }
}
