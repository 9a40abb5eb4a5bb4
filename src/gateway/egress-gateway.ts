import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { DEFAULT_EGRESS_NAME, DEFAULT_EGRESS_NAMESPACE } from './constants';
import { createGatewayWorkload, GatewayServiceType, GatewayWorkloadOptions, gatewaySelector, resolveGatewayPlacement } from './gateway-workload';
import { invalid } from '../errors';
import { IstioLabels, MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { IMesh } from '../mesh/mesh';
import { IMeshNamespace } from '../mesh/namespace';
import { MeshModel } from '../model/mesh-model';
import { ExternalProtocol, ExternalService } from '../security/external-service';
import { IMeshWorkload } from '../service/workload';

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
  readonly external: ExternalService;
  readonly host: string;
  /** The Gateway server protocol: TLS (passthrough by SNI) for HTTPS and TLS, HTTP for plain HTTP. */
  readonly serverProtocol: 'TLS' | 'HTTP';
  readonly port: number;
  readonly subset: string;
}

/**
 * A fixed exit for traffic to external hosts, as Istio's "Egress Gateways" task sets it up: per host a ServiceEntry,
 * a Gateway server on the egress gateway, and a VirtualService with two legs (sidecars -> egress gateway, egress
 * gateway -> the host); one DestinationRule gives the egress gateway a subset per host. The workload is the gateway
 * chart's, injected at synth time, behind a ClusterIP Service by default.
 *
 * External destinations are the same `ExternalService` values a workload declares with `connectsToExternal`: one
 * vocabulary for a host's protocol. In a ZeroTrustNamespace a workload that calls a host this gateway serves gets a
 * Sidecar importing the gateway's routing for the host and a NetworkPolicy that lets it reach the gateway's pods,
 * not the outside: the exit cannot be bypassed. (The egress gateway's own namespace must let it reach the outside.)
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
  private readonly model: MeshModel;

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
    this.model = MeshModel.of(this);
    this.model.declareWorkload(this);
    this.model.declareGateway({ workload: this, automated: false, egress: true });
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
          // one server per port (server port names are unique in a Gateway), with every host on it
          servers: this.ports().map(sp => {
            const on = this.hosts.filter(h => h.port === sp.port);
            return {
              port: { number: sp.port, name: sp.name, protocol: on[0].serverProtocol },
              hosts: [...new Set(on.map(h => h.host))].sort(),
              ...(on[0].serverProtocol === 'TLS' ? { tls: { mode: 'PASSTHROUGH' } } : {}),
            };
          }),
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

  /**
   * Routes the mesh's traffic to an external destination through this gateway: HTTPS and TLS pass through by SNI,
   * plain HTTP is proxied (and visible to the gateway). Workloads declare the same value with `connectsToExternal`.
   */
  public addExternalService(external: ExternalService): void {
    const field = `externalServices[${this.hosts.length}]`;
    if (!(external instanceof ExternalService)) invalid(this, field, external, 'must be made with ExternalService.https(...), .http(...) or .tls(...)');
    const host = external.host;
    if (external.isWildcard) invalid(this, `${field}.host`, host, 'must be a DNS name such as api.example.com (no wildcards: the egress gateway resolves the host)');
    if (external.protocol === ExternalProtocol.TCP) invalid(this, `${field}.protocol`, external.protocol, 'must be HTTPS, TLS or HTTP: an egress gateway routes by SNI or by HTTP host, and TCP carries neither');
    if (external.originateTls) invalid(this, `${field}.originateTls`, true, 'is not supported through an egress gateway yet: let the application speak TLS (ExternalService.https)');
    if (this.hosts.some(h => h.host === host && h.port === external.port)) invalid(this, `${field}.host`, host, 'must be added once per port');
    const serverProtocol = external.protocol === ExternalProtocol.HTTP ? 'HTTP' : 'TLS';
    const port = external.port;
    const clash = this.hosts.find(h => h.port === port && h.serverProtocol !== serverProtocol);
    if (clash) invalid(this, `${field}.port`, port, `is used by ${clash.host} with protocol ${clash.serverProtocol}: one port, one protocol`);
    const subset = `${host.replace(/\./g, '-')}-${port}`.slice(0, 63).replace(/-+$/, '');
    const h: ExternalHost = { external, host, serverProtocol, port, subset };
    this.hosts.push(h);
    const id = `${host}-${port}`;
    new ApiObject(this, `ServiceEntry-${id}`, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: this.meta(`${this.name}-${host}-${port}`.slice(0, 253)),
      spec: { hosts: [host], ports: [{ number: port, name: external.portName, protocol: external.protocol }], resolution: 'DNS', location: 'MESH_EXTERNAL' },
    } as any);
    const leg = (gateway: string, destination: any) => {
      const match = serverProtocol === 'TLS' ? { gateways: [gateway], port, sniHosts: [host] } : { gateways: [gateway], port };
      return { match: [match], route: [{ destination }] };
    };
    const rules = [
      leg('mesh', { host: this.serviceHost, subset: subset, port: { number: port } }),
      leg(this.name, { host, port: { number: port } }),
    ];
    new ApiObject(this, `VirtualService-${id}`, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: this.meta(`${this.name}-${host}-${port}`.slice(0, 253)),
      spec: { hosts: [host], gateways: ['mesh', this.name], [serverProtocol === 'TLS' ? 'tls' : 'http']: rules },
    } as any);
    // the fact: workloads calling this host go through this gateway's pods on `port`
    this.model.declareEgressRoute({ gateway: this, serviceHost: this.serviceHost, external, gatewayPort: port });
  }

  private meta(name: string) {
    return { name, namespace: this.namespace.name, labels: { ...this.labels } };
  }

  private ports(): Array<{ name: string; port: number }> {
    const seen = new Map<number, string>();
    for (const h of this.hosts) if (!seen.has(h.port)) seen.set(h.port, `${h.serverProtocol.toLowerCase()}-${h.port}`);
    return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([port, name]) => ({ name, port }));
  }
}
