import { canonicalCidr, nonExternalBlock, parseCidr } from '../validation';

/**
 * The rule of every external destination's host in the library (`ExternalService`, telemetry collectors outside the
 * cluster). @internal
 */

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether a host names something inside the cluster (Kubernetes service DNS, the API server). */
function clusterInternal(labels: string[]): boolean {
  const last = labels.length - 1;
  return labels[last] === 'svc'
    || labels.some((l, i) => i >= 2 && l === 'svc') // <service>.<namespace>.svc.<cluster domain>
    || labels.slice(-2).join('.') === 'cluster.local'
    || (labels[0] === 'kubernetes' && labels[1] === 'default');
}

/**
 * What is wrong with an external host, if anything (undefined when it is fine): the rule of every external
 * destination of the library (`ExternalService`, telemetry collectors outside the cluster). @internal
 */
export function externalHostProblem(host: string, o: { readonly tcp: boolean; readonly originateTls: boolean }): string | undefined {
  const what = "must be a lowercase fully qualified DNS name such as 'api.example.com' (labels of letters, digits and '-', at most 253 characters)";
  if (typeof host !== 'string' || host.length === 0 || host.length > 253) return what;
  const wildcard = host.startsWith('*.');
  const labels = (wildcard ? host.slice(2) : host).split('.');
  if (labels.length < 2 || labels.some(l => l.length > 63 || !LABEL.test(l)) || /^\d+$/.test(labels[labels.length - 1])) {
    return what + (host.includes('*') ? "; a wildcard is allowed only as a leading '*.' label" : '');
  }
  if (clusterInternal(host.split('.'))) {
    return "is a cluster-internal name (Kubernetes service DNS '*.svc', '*.svc.<cluster domain>', '*.cluster.local' or the API server 'kubernetes.default'), not an external destination: declare the service in the mesh";
  }
  if (wildcard) {
    if (o.tcp) {
      return 'must not be a wildcard for TCP: TCP carries no host name to match on; give the exact host and its addresses';
    }
    if (o.originateTls) {
      return 'must not be a wildcard with originateTls: the proxy needs one concrete name to resolve and to send as SNI';
    }
  }
  return undefined;
}

/** How one declaration speaks to an external host and port (a telemetry collector, a `connectsToExternal`). @internal */
export interface ExternalPortUse {
  readonly host: string;
  /** The ServiceEntry port number. */
  readonly port: number;
  /** The ServiceEntry port protocol (`GRPC`, `HTTP`, `HTTPS`, `TLS`, `TCP`). */
  readonly protocol?: string;
  /** Whether a DestinationRule makes the proxy originate TLS on that port (tls mode SIMPLE). */
  readonly originateTls?: boolean;
}

/** Why a collector and an external destination cannot share a host (`collectorDestinationClash`). @internal */
export type CollectorClash = 'ports' | 'protocol' | 'destination-rules' | 'tls';

/**
 * Why a telemetry collector outside the cluster and a workload's external destination cannot both be declared, if
 * they cannot (undefined when they can). They can share a host only on one port, with one protocol and one TLS
 * setting:
 *
 * - `ports`: same host, another port. A proxy keeps one ServiceEntry per host: the one of its own namespace before
 *   an imported one (Istio 1.30.3 pilot/pkg/model/sidecar.go selectServices, "pick the one in the configNamespace";
 *   appendSidecarServices merges ports only within one namespace). The workload's namespace would lose the
 *   collector's port, and with it the cluster the tracer or access log sends to (`outbound|<port>||<host>`).
 * - `protocol`: same host and port, another protocol. The two ServiceEntries (the collector's in the root
 *   namespace, exported to every namespace; the destination's in its namespace) give one port two protocols where
 *   both are visible (IST0177).
 * - `destination-rules`: both originate TLS to the host. Each has a DestinationRule for it, and Istio 1.30.3 takes
 *   the one of the proxy's own namespace before the root namespace's (pilot/pkg/model/push_context.go
 *   destinationRule), so the collector's TLS setting would not reach that namespace's proxies.
 * - `tls`: same host, port and protocol, TLS on one side only. The collector's mesh-wide DestinationRule would
 *   originate TLS on the workload's plain text too, or the workload's namespace's would on the collector's.
 * @internal
 */
export function collectorDestinationClash(collector: ExternalPortUse, destination: ExternalPortUse): CollectorClash | undefined {
  if (collector.host !== destination.host) return undefined;
  if (collector.port !== destination.port) return 'ports';
  if ((collector.protocol ?? 'TCP') !== (destination.protocol ?? 'TCP')) return 'protocol';
  if (collector.originateTls && destination.originateTls) return 'destination-rules';
  if (!!collector.originateTls !== !!destination.originateTls) return 'tls';
  return undefined;
}

/**
 * The message of a `collectorDestinationClash`, naming both declarations: `collector` as "telemetry provider 'x'",
 * `destination` as "<workload path>'s connectsToExternal". @internal
 */
export function collectorClashMessage(clash: CollectorClash, c: ExternalPortUse & { readonly provider: string },
  d: ExternalPortUse & { readonly caller: string }): string {
  const C = `telemetry provider '${c.provider}'`;
  const D = `${d.caller}'s connectsToExternal`;
  const tls = (u: ExternalPortUse) => (u.originateTls ? 'TLS (originated by the proxy)' : 'plain text');
  switch (clash) {
    case 'ports':
      return `${C} sends to ${c.host}:${c.port}, ${D} calls port ${d.port}: a proxy keeps the ServiceEntry of its own namespace for a host, so that namespace's proxies would lose the collector's port and export nothing; share a collector's host only on its port, with its protocol`;
    case 'protocol':
      return `${C} speaks ${c.protocol ?? 'TCP'} to ${c.host}:${c.port}, ${D} ${d.protocol ?? 'TCP'}: one protocol per host and port (IST0177)`;
    case 'destination-rules':
      return `${C} and ${D} both originate TLS to ${c.host}: the DestinationRule of the workload's namespace would take precedence over the collector's mesh-wide one for that namespace's proxies; one DestinationRule per external host`;
    default:
      return `${C} speaks ${tls(c)} to ${c.host}:${c.port}, ${D} ${tls(d)}: one's DestinationRule would apply to the other's traffic; one TLS setting per host and port`;
  }
}

/** The broadest blocks an external destination may name: a /8 (IPv4) or a /32 (IPv6), a regional allocation. */
const MIN_PREFIX = { 4: 8, 6: 32 } as const;

/**
 * What is wrong with an external address (an IP or a CIDR block), if anything (undefined when it is fine): the rule
 * of every external address of the library (`ExternalService` addresses, telemetry collectors' `addresses`). Not
 * every address (`0.0.0.0/0`, `::/0`; `everyAddress` says what to do instead), nothing broader than a /8 (IPv6 /32),
 * not loopback, link-local (cloud metadata), unspecified or multicast, CIDR blocks written canonically. @internal
 */
export function externalAddressProblem(a: string, everyAddress: string): string | undefined {
  const c = typeof a === 'string' ? parseCidr(a) : undefined;
  if (c === undefined) {
    return "must be an IPv4 or IPv6 address or CIDR block, e.g. '203.0.113.10', '203.0.113.0/24' or '2001:db8::/48'";
  }
  if (c.prefix === 0) return `must not be every address (0.0.0.0/0, ::/0): that is no restriction; ${everyAddress}`;
  if (c.prefix < MIN_PREFIX[c.family]) {
    return `must not be broader than a /${MIN_PREFIX[c.family]} for IPv${c.family}: list the destination's own blocks`;
  }
  const reserved = nonExternalBlock(c);
  if (reserved) return `is not an external address: it overlaps ${reserved}`;
  if (c.hasPrefix && canonicalCidr(c) !== a.toLowerCase()) {
    return `must be written canonically, with the host bits zero: '${canonicalCidr(c)}'`;
  }
  return undefined;
}
