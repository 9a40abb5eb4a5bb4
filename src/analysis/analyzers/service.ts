/**
 * Service port checks: IST0116, IST0118, IST0137, IST0150. @internal
 */
import { IstioLabels } from '../../mesh/constants';
import { arr, Entry, Model, stringMap, text, Workload } from '../model';
import { isHttpProtocol, protocolOfName, protocolOfServicePort } from '../protocol';

const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);
/** Ports Istio 1.30.3 treats as TCP when the name says nothing (pkg/config/kube ConvertProtocol). */
const WELL_KNOWN_TCP_PORTS = new Set([25, 53, 3306, 27017]);
/** `gateway.istio.io/managed` values of Services Istio deploys itself (waypoints, east-west and Gateway API gateways). */
const GATEWAY_MANAGED = 'gateway.istio.io/managed';
const ISTIO_MANAGED_VALUES = new Set(['istio.io-gateway-controller', 'istio.io-mesh-controller', 'istio.io-eastwest-controller']);

/**
 * Whether Istio 1.30.3 recognises a Service port's protocol (ConvertProtocol): UDP; otherwise appProtocol when set,
 * else the name, up to the first `-`; else a well-known TCP port.
 */
function portProtocolKnown(p: any): boolean {
  if (text(p?.protocol ?? 'TCP').toUpperCase() === 'UDP') return true;
  const name = typeof p?.appProtocol === 'string' ? p.appProtocol : p?.name;
  if (protocolOfName(name)) return true;
  return WELL_KNOWN_TCP_PORTS.has(Number(p?.port));
}

/**
 * Services of Istio's own control plane and gateways, which Istio 1.30.3 exempts from the port naming check: a label
 * `istio` (any value), `release: istio`, or `gateway.istio.io/managed` set by Istio's gateway controllers.
 */
function istioOwned(svc: Entry): boolean {
  const labels = stringMap(svc.obj.metadata?.labels);
  return 'istio' in labels || labels.release === 'istio' || ISTIO_MANAGED_VALUES.has(labels[GATEWAY_MANAGED] ?? '');
}

/**
 * Whether a workload is in the mesh the way Istio 1.30.3 decides it (util.inMesh): an istio-proxy container; else
 * the `sidecar.istio.io/inject` label, then annotation; else its Namespace (in the input) labelled
 * `istio-injection=enabled` (or with a revision label).
 */
function inMesh(m: Model, w: Workload): boolean {
  if ([...arr(w.podSpec.containers), ...arr(w.podSpec.initContainers)].some((c: any) => c?.name === 'istio-proxy' && c?.image)) return true;
  const label = w.labels[IstioLabels.INJECT];
  if (label !== undefined) return label === 'true';
  const anno = stringMap(w.podMetadata.annotations)[IstioLabels.INJECT];
  if (anno !== undefined) return anno === 'true';
  const ns = m.get('Namespace', undefined, w.ns);
  if (!ns) return false;
  const nsLabels = stringMap(ns.obj.metadata?.labels);
  return nsLabels[IstioLabels.INJECTION] === 'enabled' || (nsLabels[IstioLabels.INJECTION] === undefined && !!nsLabels[IstioLabels.REV]);
}

/**
 * Well-known ports of protocols that are not HTTP (IANA registrations and the servers' defaults): a port declared
 * HTTP there is almost always a mistake, and Istio would then parse the bytes as HTTP and break the connection.
 */
const WELL_KNOWN_NON_HTTP_PORTS: ReadonlyMap<number, string> = new Map([
  [25, 'SMTP'], [53, 'DNS'], [1433, 'SQL Server'], [1521, 'Oracle'], [2181, 'ZooKeeper'], [3306, 'MySQL'],
  [5432, 'PostgreSQL'], [5672, 'AMQP'], [6379, 'Redis'], [9042, 'Cassandra'], [9092, 'Kafka'], [11211, 'memcached'],
  [27017, 'MongoDB'],
]);

export function analyzeServices(m: Model): void {
  for (const svc of m.ofKind('Service')) {
    if (SYSTEM_NAMESPACES.has(svc.ns!) || istioOwned(svc)) continue;
    for (const p of arr(svc.obj.spec?.ports)) {
      const known = WELL_KNOWN_NON_HTTP_PORTS.get(Number(p?.port)) ?? WELL_KNOWN_NON_HTTP_PORTS.get(Number(p?.targetPort));
      const proto = protocolOfServicePort(p);
      if (known && proto !== undefined && isHttpProtocol(proto)) {
        m.report('MESH008', svc, `Port "${text(p?.name)}" (port: ${p?.port}) is declared ${proto} on ${known}'s well-known port: Istio will parse the traffic as HTTP and break ${known} connections. Declare it tcp (ServicePort.tcp) unless it really serves HTTP.`);
      }
    }
    const externalName = svc.obj.spec?.type === 'ExternalName';
    for (const p of arr(svc.obj.spec?.ports)) {
      if (portProtocolKnown(p)) continue;
      const desc = `${p?.name ? `"${p.name}"` : '(unnamed)'} (port: ${p?.port}, targetPort: ${p?.targetPort ?? p?.port})`;
      if (externalName) {
        m.report('IST0150', svc, `Port name ${desc} of this ExternalName Service has no valid protocol prefix, so Istio treats its traffic as TCP. Name it <protocol>[-suffix], e.g. http-web or tcp-db.`);
      } else {
        m.report('IST0118', svc, `Port name ${desc} doesn't follow the naming convention of Istio port: name it <protocol>[-suffix] (e.g. http-web, grpc-api, tcp-db) or set appProtocol.`);
      }
    }
  }
  // IST0116 / IST0137: Services selecting the same in-mesh workload template (Istio 1.30.3 checks Deployments; we
  // check every workload kind). IST0116 compares, per Service port number, the port's `protocol` (TCP, UDP, SCTP).
  for (const w of m.workloads) {
    if (w.isPod || w.labels[GATEWAY_MANAGED] === 'istio.io-mesh-controller' || !inMesh(m, w)) continue;
    const services = m.servicesSelecting(w);
    if (services.length < 2) continue;
    const named = new Map<string, number>();
    for (const c of arr(w.podSpec.containers)) {
      for (const p of arr(c?.ports)) if (p?.name && typeof p.containerPort === 'number') named.set(p.name, p.containerPort);
    }
    const byPort = new Map<string, Map<string, Set<string>>>();
    const byTarget = new Map<string, Map<string, Set<string>>>();
    for (const svc of services) {
      for (const port of arr(svc.obj.spec?.ports)) {
        const num = text(port?.port);
        const proto = text(port?.protocol || 'TCP').toUpperCase();
        const protos = byPort.get(num) ?? new Map<string, Set<string>>();
        protos.set(proto, (protos.get(proto) ?? new Set<string>()).add(svc.name));
        byPort.set(num, protos);
        const t = port?.targetPort;
        // named target ports are resolved through the containers' ports (Istio 1.30.3 compares the names as written)
        const target = t === undefined || t === null || t === 0 || t === '' || t === '0' ? num
          : typeof t === 'string' && named.has(t) ? String(named.get(t)) : text(t);
        const ports = byTarget.get(target) ?? new Map<string, Set<string>>();
        ports.set(num, (ports.get(num) ?? new Set<string>()).add(svc.name));
        byTarget.set(target, ports);
      }
    }
    for (const [port, protos] of byPort) {
      if (protos.size < 2) continue;
      const names = [...new Set([...protos.values()].flatMap(x => [...x]))].sort().join(', ');
      m.report('IST0116', w.entry, `This workload is associated with multiple services (${names}) using port ${port} but different protocols: ${[...protos.keys()].sort().join(', ')}. Give the port one protocol in every Service.`);
    }
    for (const [target, ports] of byTarget) {
      if (ports.size < 2) continue;
      const names = [...new Set([...ports.values()].flatMap(x => [...x]))].sort().join(', ');
      m.report('IST0137', w.entry, `This workload is associated with multiple services (${names}) using target port ${target} but different ports: ${[...ports.keys()].sort().join(', ')}. Use the same service port for the target port in every Service.`);
    }
  }
}
