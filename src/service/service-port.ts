import { invalid } from '../errors';
import { RESERVED_PORTS } from '../mesh/constants';

/**
 * The application protocol of a port, as Istio's protocol selection understands it
 * (Service port name prefix or appProtocol; istio-facts.md, section d).
 */
export enum PortProtocol {
  HTTP = 'HTTP',
  HTTP2 = 'HTTP2',
  HTTPS = 'HTTPS',
  GRPC = 'GRPC',
  GRPC_WEB = 'GRPC_WEB',
  TCP = 'TCP',
  TLS = 'TLS',
  MONGO = 'MONGO',
  REDIS = 'REDIS',
  MYSQL = 'MYSQL',
}

/** The port-name prefix Istio reads for each protocol. */
const PREFIX: Record<PortProtocol, string> = {
  [PortProtocol.HTTP]: 'http',
  [PortProtocol.HTTP2]: 'http2',
  [PortProtocol.HTTPS]: 'https',
  [PortProtocol.GRPC]: 'grpc',
  [PortProtocol.GRPC_WEB]: 'grpc-web',
  [PortProtocol.TCP]: 'tcp',
  [PortProtocol.TLS]: 'tls',
  [PortProtocol.MONGO]: 'mongo',
  [PortProtocol.REDIS]: 'redis',
  [PortProtocol.MYSQL]: 'mysql',
};

/** The Kubernetes appProtocol value for each protocol. */
const APP_PROTOCOL: Record<PortProtocol, string> = {
  [PortProtocol.HTTP]: 'http',
  [PortProtocol.HTTP2]: 'kubernetes.io/h2c',
  [PortProtocol.HTTPS]: 'https',
  [PortProtocol.GRPC]: 'grpc',
  [PortProtocol.GRPC_WEB]: 'grpc-web',
  [PortProtocol.TCP]: 'tcp',
  [PortProtocol.TLS]: 'tls',
  [PortProtocol.MONGO]: 'mongo',
  [PortProtocol.REDIS]: 'redis',
  [PortProtocol.MYSQL]: 'mysql',
};

/** Options of a service port. */
export interface ServicePortOptions {
  /**
   * The port the container listens on.
   * @default - the same as the service port
   */
  readonly targetPort?: number;
  /**
   * A suffix for the port name: the name becomes `<protocol>-<suffix>` (e.g. `http-web`), so Istio still reads
   * the protocol from it.
   * @default - the name is the protocol prefix alone (e.g. `http`)
   */
  readonly nameSuffix?: string;
}

/**
 * A port of a meshed service, typed by protocol so that its name and appProtocol are always ones Istio's protocol
 * selection understands: `ServicePort.http(9080)` is named `http` with appProtocol `http`.
 */
export class ServicePort {
  /** An HTTP/1.1 port. */
  public static http(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(PortProtocol.HTTP, port, options);
  }
  /** A cleartext HTTP/2 port. */
  public static http2(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(PortProtocol.HTTP2, port, options);
  }
  /** A port on which the application itself serves TLS-encrypted HTTP. */
  public static https(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(PortProtocol.HTTPS, port, options);
  }
  /** A gRPC port. */
  public static grpc(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(PortProtocol.GRPC, port, options);
  }
  /** A gRPC-Web port. */
  public static grpcWeb(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(PortProtocol.GRPC_WEB, port, options);
  }
  /** An opaque TCP port (needed for server-first protocols such as most databases). */
  public static tcp(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(PortProtocol.TCP, port, options);
  }
  /** A port on which the application serves TLS that the proxy passes through. */
  public static tls(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(PortProtocol.TLS, port, options);
  }
  /** A port of any protocol Istio knows. */
  public static of(protocol: PortProtocol, port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(protocol, port, options);
  }

  /** The Service port. */
  public readonly port: number;
  /** The container port. */
  public readonly targetPort: number;
  /** The protocol. */
  public readonly protocol: PortProtocol;
  /** The port name, `<protocol prefix>[-<suffix>]`. */
  public readonly name: string;
  /** The Kubernetes appProtocol. */
  public readonly appProtocol: string;

  private constructor(protocol: PortProtocol, port: number, options: ServicePortOptions) {
    if (!Object.values(PortProtocol).includes(protocol)) {
      invalid('ServicePort', 'protocol', protocol, `must be one of ${Object.values(PortProtocol).join(', ')}`);
    }
    checkAppPort('port', port);
    const target = options.targetPort ?? port;
    checkAppPort('targetPort', target);
    const prefix = PREFIX[protocol];
    let name = prefix;
    if (options.nameSuffix !== undefined) {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.nameSuffix) || prefix.length + 1 + options.nameSuffix.length > 15) {
        invalid('ServicePort', 'nameSuffix', options.nameSuffix,
          `must be lowercase letters, digits and '-', and '${prefix}-<suffix>' at most 15 characters (an IANA service name)`);
      }
      name = `${prefix}-${options.nameSuffix}`;
    }
    this.port = port;
    this.targetPort = target;
    this.protocol = protocol;
    this.name = name;
    this.appProtocol = APP_PROTOCOL[protocol];
  }

  /** Whether Istio handles this port at layer 7 (HTTP semantics: routes, retries, HTTP authorization rules). */
  public get isHttp(): boolean {
    return [PortProtocol.HTTP, PortProtocol.HTTP2, PortProtocol.GRPC, PortProtocol.GRPC_WEB].includes(this.protocol);
  }
}

function checkAppPort(field: string, port: number) {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    invalid('ServicePort', field, port, 'must be a whole number from 1 to 65535');
  }
  if (RESERVED_PORTS.includes(port)) {
    invalid('ServicePort', field, port, `is reserved for Istio's proxy (${RESERVED_PORTS.join(', ')}); use another port`);
  }
}
