import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { DEFAULT_EGRESS_NAME, DEFAULT_EGRESS_NAMESPACE } from './constants';
import { createGatewayWorkload, GatewayServiceType, GatewayWorkloadOptions, gatewaySelector, resolveGatewayPlacement } from './gateway-workload';
import { isGatewayHost } from './mesh-gateway';
import { invalid } from '../errors';
import { IstioLabels, MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { IMesh } from '../mesh/mesh';
import { IMeshNamespace } from '../mesh/namespace';
import { IMeshWorkload } from '../service/workload';
import { checkPort } from '../validation';

/** How traffic to an external host leaves the mesh. */
export enum ExternalProtocol {
  /** TLS originated by the application, passed through the egress gateway by SNI (HTTPS to the outside). */
  TLS = 'TLS',
  /** Plain HTTP (the egress gateway sees and can log every request). */
  HTTP = 'HTTP',
}

/** Options of `EgressGateway.addExternalHost`. */
export interface ExternalHostOptions {
  /**
   * The protocol.
   * @default ExternalProtocol.TLS
   */
  readonly protocol?: ExternalProtocol;
  /**
   * The port.
   * @default 443 for TLS, 80 for HTTP
   */
  readonly port?: number;
}

/** Properties of an EgressGateway. */
export interface EgressGatewayProps extends GatewayWorkloadOptions {
  /**
   * The mesh. Required unless `namespace` is given.
   * @default - the namespace's mesh
   */
  readonly mesh?: IMesh;
  /**
   * The egress gateway's namespace (must exist).
   * @default - `istio-egress` (referred to, not created)
   */
  readonly namespace?: IMeshNamespace;
  /**
   * The gateway name.
   * @default 'istio-egressgateway'
   */
  readonly name?: string;
}

interface ExternalHost {
  readonly host: string;
  readonly protocol: ExternalProtocol;
  readonly port: number;
  readonly subset: string;
}

/**
 * A fixed exit for traffic to external hosts, as Istio's "Egress Gateways" task sets it up: per host a ServiceEntry,
 * a Gateway server on the egress gateway, and a VirtualService with two legs (sidecars -> egress gateway, egress
 * gateway -> the host); one DestinationRule gives the egress gateway a subset per host. The workload is the gateway
 * chart's, injected at synth time, behind a ClusterIP Service by default.
 *
 * Pair it with `outboundTrafficPolicy: REGISTRY_ONLY` on the mesh and a NetworkPolicy that lets only the egress
 * gateway reach the outside, so the exit cannot be bypassed.
 */
export class EgressGateway extends Construct implements IMeshWorkload {
  /** The gateway name. */
  public readonly name: string;
  /** The namespace. */
  public readonly namespace: IMeshNamespace;
  /** The mesh. */
  public readonly mesh: IMesh;
  /** The service account. */
  public readonly serviceAccountName: string;
  /** The SPIFFE principal. */
  public readonly principal: string;
  /** Labels selecting the gateway pods. */
  public readonly podSelector: { [key: string]: string };
  /** The gateway's Service host. */
  public readonly serviceHost: string;
  /** The Istio Gateway. */
  public readonly gateway: ApiObject;
  /** The DestinationRule of the egress gateway's Service (one subset per external host). */
  public readonly destinationRule: ApiObject;

  private readonly hosts: ExternalHost[] = [];
  private readonly labels: { [key: string]: string };

  constructor(scope: Construct, id: string, props: EgressGatewayProps) {
    super(scope, id);
    const p = props ?? ({} as EgressGatewayProps);
    const placement = resolveGatewayPlacement(this, p, { namespace: DEFAULT_EGRESS_NAMESPACE, name: DEFAULT_EGRESS_NAME });
    this.namespace = placement.namespace;
    this.mesh = placement.mesh;
    const name = placement.name;
    this.name = name;
    this.serviceAccountName = name;
    this.principal = this.mesh.principalFor(this.namespace.name, name);
    this.podSelector = gatewaySelector(name);
    this.serviceHost = `${name}.${this.namespace.name}.svc.${this.mesh.clusterDomain}`;
    this.labels = { [IstioLabels.APP]: name, [MANAGED_BY_LABEL]: MANAGED_BY };
    createGatewayWorkload(this, {
      name,
      namespace: this.namespace.name,
      mesh: this.mesh,
      selector: this.podSelector,
      labels: this.labels,
      serviceType: p.serviceType ?? GatewayServiceType.CLUSTER_IP,
      ports: () => this.ports(),
      options: p,
    });
    this.gateway = new ApiObject(this, 'Gateway', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: this.meta(name),
      spec: Lazy.any({
        produce: () => ({
          selector: { ...this.podSelector },
          servers: this.hosts.map(h => ({
            port: { number: h.port, name: `${h.protocol.toLowerCase()}-${h.port}`, protocol: h.protocol },
            hosts: [h.host],
            ...(h.protocol === ExternalProtocol.TLS ? { tls: { mode: 'PASSTHROUGH' } } : {}),
          })),
        }),
      }),
    } as any);
    this.destinationRule = new ApiObject(this, 'DestinationRule', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: this.meta(name),
      spec: Lazy.any({ produce: () => ({ host: this.serviceHost, subsets: this.hosts.map(h => ({ name: h.subset })) }) }),
    } as any);
  }

  /** Routes the mesh's traffic to `host` (a DNS name) through this gateway. */
  public addExternalHost(host: string, options: ExternalHostOptions = {}): void {
    const field = `externalHosts[${this.hosts.length}]`;
    if (!isGatewayHost(host, false) || host.startsWith('*')) invalid(this, `${field}.host`, host, 'must be a DNS name such as api.example.com (no wildcards: the egress gateway resolves the host)');
    if (this.hosts.some(h => h.host === host)) invalid(this, `${field}.host`, host, 'must be added once');
    const protocol = options.protocol ?? ExternalProtocol.TLS;
    if (!Object.values(ExternalProtocol).includes(protocol)) invalid(this, `${field}.protocol`, protocol, `must be one of ${Object.values(ExternalProtocol).join(', ')}`);
    const port = options.port ?? (protocol === ExternalProtocol.TLS ? 443 : 80);
    checkPort(this, `${field}.port`, port);
    const clash = this.hosts.find(h => h.port === port && h.protocol !== protocol);
    if (clash) invalid(this, `${field}.port`, port, `is used by ${clash.host} with protocol ${clash.protocol}: one port, one protocol`);
    const subset = host.replace(/\./g, '-').slice(0, 63).replace(/-+$/, '');
    const h: ExternalHost = { host, protocol, port, subset };
    this.hosts.push(h);
    const portName = `${protocol.toLowerCase()}-${port}`;
    new ApiObject(this, `ServiceEntry-${host}`, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: this.meta(`${this.name}-${host}`),
      spec: { hosts: [host], ports: [{ number: port, name: portName, protocol }], resolution: 'DNS', location: 'MESH_EXTERNAL' },
    } as any);
    const leg = (gateway: string, destination: any) => {
      const match = protocol === ExternalProtocol.TLS ? { gateways: [gateway], port, sniHosts: [host] } : { gateways: [gateway], port };
      return { match: [match], route: [{ destination }] };
    };
    const rules = [
      leg('mesh', { host: this.serviceHost, subset: subset, port: { number: port } }),
      leg(this.name, { host, port: { number: port } }),
    ];
    new ApiObject(this, `VirtualService-${host}`, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: this.meta(`${this.name}-${host}`),
      spec: { hosts: [host], gateways: ['mesh', this.name], [protocol === ExternalProtocol.TLS ? 'tls' : 'http']: rules },
    } as any);
  }

  private meta(name: string) {
    return { name, namespace: this.namespace.name, labels: { ...this.labels } };
  }

  private ports(): Array<{ name: string; port: number }> {
    const seen = new Map<number, string>();
    for (const h of this.hosts) if (!seen.has(h.port)) seen.set(h.port, `${h.protocol.toLowerCase()}-${h.port}`);
    return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([port, name]) => ({ name, port }));
  }
}
