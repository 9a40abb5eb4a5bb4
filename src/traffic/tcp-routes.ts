import { Construct } from 'constructs';
import { invalid } from '../errors';
import { PortProtocol, ServicePort } from '../service/service-port';
import type { IMeshService, ServiceVersion } from '../service/workload';
import { checkInteger, compact } from '../validation';
import { WeightedDestination } from './routing';

/**
 * One layer-4 route of a service: the connections to one of its TCP, TLS or HTTPS ports (ports the proxy does not
 * read as HTTP) split between versions, per connection (Istio's "TCP traffic shifting" task). Rendered as a
 * VirtualService `tcp` route (TCP, MONGO, REDIS, MYSQL ports) or `tls` route (TLS and HTTPS ports, matched on the
 * port and on the service's host as SNI).
 */
export interface TcpRouteRule {
  /** The service port (a non-HTTP port of the service). */
  readonly port: ServicePort;
  /** Where the connections go; weights add up to 100. */
  readonly destinations: WeightedDestination[];
}

/** Whether Istio routes this port with VirtualService `tls` routes (HTTPS, TLS), as Protocol.IsTLS in Istio 1.30.3. @internal */
export function isTlsPort(port: ServicePort): boolean {
  return port.protocol === PortProtocol.TLS || port.protocol === PortProtocol.HTTPS;
}

/**
 * Checks layer-4 routes against the service: one rule per non-HTTP port of the service, versions of the service,
 * whole weights adding up to 100. `isVersion` says whether a version belongs to the service. @internal
 */
export function checkTcpRoutes(scope: Construct, self: IMeshService, rules: TcpRouteRule[], isVersion: (v: ServiceVersion) => boolean): void {
  if (!Array.isArray(rules) || rules.length === 0) invalid(scope, 'tcpRoutes', rules, 'must list at least one rule');
  const seenPorts = new Set<number>();
  rules.forEach((r, i) => {
    const field = `tcpRoutes[${i}]`;
    const own = r?.port && self.ports.find(p => p.port === r.port.port && p.name === r.port.name);
    if (!own) invalid(scope, `${field}.port`, r?.port ? `${r.port.name}/${r.port.port}` : undefined, `must be a port of ${self.host}: ${self.ports.map(p => `${p.name}/${p.port}`).join(', ')}`);
    if (own.isHttp) invalid(scope, `${field}.port`, `${own.name}/${own.port}`, 'must be a TCP, TLS or HTTPS port: HTTP and gRPC ports take HTTP routes');
    if (seenPorts.has(own.port)) invalid(scope, `${field}.port`, own.port, 'must have one rule per port');
    seenPorts.add(own.port);
    const dests = r.destinations;
    if (!Array.isArray(dests) || dests.length === 0) invalid(scope, `${field}.destinations`, dests, 'must list at least one destination');
    let sum = 0;
    const names = new Set<string>();
    dests.forEach((d, j) => {
      const df = `${field}.destinations[${j}]`;
      if (!d?.version || !isVersion(d.version)) invalid(scope, `${df}.version`, d?.version?.name ?? d?.version, `must be a version of ${self.host}`);
      if (names.has(d.version.subsetName)) invalid(scope, `${df}.version`, d.version.name, 'must appear once per route');
      names.add(d.version.subsetName);
      const w = d.weight ?? (dests.length === 1 ? 100 : undefined);
      if (w === undefined) invalid(scope, `${df}.weight`, undefined, 'must be set when a route has several destinations');
      checkInteger(scope, `${df}.weight`, w, 0, 100);
      sum += w;
    });
    if (sum !== 100) invalid(scope, `${field}.destinations`, `weights adding up to ${sum}`, 'weights must add up to 100');
  });
}

/**
 * Renders the VirtualService `tcp` and `tls` lists of a service from its layer-4 rules, in the order of the service's
 * ports. A `tls` match names the service host as SNI (Istio requires one SNI host per TLS match, within the
 * VirtualService hosts). @internal
 */
export function renderMeshTcpRoutes(self: IMeshService, rules: TcpRouteRule[]): { tcp?: any[]; tls?: any[] } {
  const tcp: any[] = [];
  const tls: any[] = [];
  const multiPort = self.ports.length > 1;
  for (const port of self.ports) {
    const rule = rules.find(r => r.port.port === port.port);
    if (!rule) continue;
    const route = rule.destinations.map(d => compact({
      destination: compact({ host: self.host, subset: d.version.subsetName, port: multiPort ? { number: port.port } : undefined }),
      weight: rule.destinations.length > 1 ? d.weight ?? 100 : undefined,
    }));
    if (isTlsPort(port)) tls.push({ match: [{ port: port.port, sniHosts: [self.host] }], route });
    else tcp.push({ match: [{ port: port.port }], route });
  }
  return compact({ tcp, tls });
}
