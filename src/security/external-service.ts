import { invalid } from '../errors';
import { externalAddressProblem, externalHostProblem } from './external-host';

/** The protocol the proxy speaks to an external destination (ServiceEntry port protocol). */
export enum ExternalProtocol {
  /** Plain HTTP (the proxy sees requests; with `originateTls` it sends them over TLS). */
  HTTP = 'HTTP',
  /** HTTPS: TLS from the application, routed by SNI. */
  HTTPS = 'HTTPS',
  /** Any other TLS protocol, routed by SNI. */
  TLS = 'TLS',
  /** Opaque TCP, matched by address and port. */
  TCP = 'TCP',
}

/** Options of a plain-HTTP external destination. */
export interface ExternalHttpOptions {
  /**
   * TLS origination: the application calls `http://<host>:<port>` and the proxy opens a TLS connection to
   * `<host>:<tlsPort>` (DestinationRule tls mode SIMPLE with SNI `<host>`), so the application needs no TLS library
   * while the traffic leaves the pod encrypted, and the proxy still sees (and can authorize, retry, log) each request.
   * @default false
   */
  readonly originateTls?: boolean;
  /**
   * The port the proxy connects to when it originates TLS.
   * @default 443
   */
  readonly tlsPort?: number;
}

/**
 * A destination outside the mesh that meshed services may call: `ExternalService.https('api.stripe.com')`.
 *
 * Declared on the caller with `service.connectsToExternal(external)`; the caller's ZeroTrustNamespace then renders a
 * ServiceEntry (MESH_EXTERNAL, exported to the namespace only), the DestinationRule for TLS origination when asked,
 * the caller's Sidecar egress host and a NetworkPolicy egress rule. A NetworkPolicy works on addresses, not names, so
 * that rule allows the port to any address (`0.0.0.0/0`, `::/0`) unless the destination lists its `addresses`
 * (TCP): the host itself is enforced by the proxy (REGISTRY_ONLY), not by the NetworkPolicy.
 *
 * Hosts are lowercase fully qualified DNS names. A wildcard (`*.example.com`, a leading `*.` only) is allowed where
 * Istio can route without resolving the name: HTTPS, TLS and plain HTTP without TLS origination (resolution NONE).
 * Cluster-internal names (`<svc>.<ns>.svc`, `*.svc.<cluster domain>`, `*.cluster.local`, `kubernetes.default`)
 * are not external: declare those services in the mesh. Addresses must be real external blocks: not `0.0.0.0/0`
 * or `::/0` (nor anything broader than a /8 or an IPv6 /32), not loopback, link-local (cloud metadata
 * 169.254.169.254, fd00:ec2::254), unspecified or multicast, written canonically (`203.0.113.0/24`).
 *
 * A NetworkPolicy cannot restrict traffic by host name, only by address: without `addresses` the egress rule
 * allows the port to any address, and only the proxy (outbound traffic policy REGISTRY_ONLY) holds the workload to
 * the host. A workload that bypasses its proxy reaches any address on that port.
 */
export class ExternalService {
  /** An HTTPS destination (the application speaks TLS itself). */
  public static https(host: string, port: number = 443): ExternalService {
    return new ExternalService(ExternalProtocol.HTTPS, host, port, undefined, [], false);
  }

  /** A plain-HTTP destination, optionally with TLS originated by the proxy (`originateTls`). */
  public static http(host: string, port: number = 80, options: ExternalHttpOptions = {}): ExternalService {
    const originate = options.originateTls ?? false;
    if (!originate && options.tlsPort !== undefined) {
      invalid('ExternalService', 'tlsPort', options.tlsPort, 'is only used with originateTls: true');
    }
    return new ExternalService(ExternalProtocol.HTTP, host, port, originate ? options.tlsPort ?? 443 : undefined, [], originate);
  }

  /** A TLS destination other than HTTPS (e.g. a database with TLS), routed by SNI. */
  public static tls(host: string, port: number): ExternalService {
    return new ExternalService(ExternalProtocol.TLS, host, port, undefined, [], false);
  }

  /**
   * An opaque TCP destination. Give its `addresses` (IPs or CIDRs) when known: Istio then matches the traffic by
   * address, and the NetworkPolicy allows only those addresses. Without addresses Istio matches TCP traffic by port
   * alone (IST0134) unless DNS proxying with address auto-allocation is on.
   */
  public static tcp(host: string, port: number, addresses?: string[]): ExternalService {
    return new ExternalService(ExternalProtocol.TCP, host, port, undefined, addresses ?? [], false);
  }

  /** The DNS name the application calls. */
  public readonly host: string;
  /** The port the application calls. */
  public readonly port: number;
  /** The protocol. */
  public readonly protocol: ExternalProtocol;
  /** Whether the proxy originates TLS (plain HTTP from the app, TLS on the wire). */
  public readonly originateTls: boolean;
  /** The port the traffic leaves the pod on: `tlsPort` with TLS origination, else `port`. */
  public readonly wirePort: number;
  /** Known addresses (IPs or CIDRs) of a TCP destination; empty when not given. */
  public readonly addresses: string[];

  private constructor(protocol: ExternalProtocol, host: string, port: number, tlsPort: number | undefined,
    addresses: string[], originateTls: boolean) {
    checkExternalPort('port', port);
    if (tlsPort !== undefined) checkExternalPort('tlsPort', tlsPort);
    checkExternalHost(host, protocol, originateTls);
    if (!Array.isArray(addresses)) invalid('ExternalService', 'addresses', addresses, 'must be a list of IP addresses or CIDR blocks');
    for (const a of addresses) checkExternalAddress(a);
    this.protocol = protocol;
    this.host = host;
    this.port = port;
    this.originateTls = originateTls;
    this.wirePort = tlsPort ?? port;
    this.addresses = [...new Set(addresses)].sort();
  }

  /** Whether the host is a wildcard (`*.example.com`). */
  public get isWildcard(): boolean {
    return this.host.startsWith('*.');
  }

  /** The ServiceEntry port name, `<protocol>-<port>` (e.g. `https-443`). */
  public get portName(): string {
    return `${this.protocol.toLowerCase()}-${this.port}`;
  }
}

function checkExternalPort(field: string, port: number) {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    invalid('ExternalService', field, port, 'must be a whole number from 1 to 65535');
  }
}

function checkExternalAddress(a: string) {
  const problem = externalAddressProblem(a, 'omit addresses and the proxy holds the workload to the host');
  if (problem) invalid('ExternalService', 'addresses', a, problem);
}

function checkExternalHost(host: string, protocol: ExternalProtocol, originateTls: boolean) {
  const problem = externalHostProblem(host, { tcp: protocol === ExternalProtocol.TCP, originateTls });
  if (problem) invalid('ExternalService', 'host', host, problem);
}
