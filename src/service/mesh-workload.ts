import { ApiObject } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { MeshedService } from './meshed-service';
import { ServicePort } from './service-port';
import { checkMeshService, ConnectionOptions, IMeshService, IMeshWorkload, MeshConnection, resolveConnection } from './workload';
import { invalid } from '../errors';
import { IstioLabels } from '../mesh/constants';
import { IMesh } from '../mesh/mesh';
import { IMeshNamespace } from '../mesh/namespace';
import { MeshModel } from '../model/mesh-model';
import { ExternalService } from '../security/external-service';
import { injectWorkload } from '../sidecar/inject';
import { ProxyOptions } from '../sidecar/proxy-options';
import { checkDnsSubdomain, checkLabels } from '../validation';

const SERVICE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Properties of a MeshWorkload: an existing workload put into the mesh's access graph. */
export interface MeshWorkloadProps {
  /** The namespace the workload runs in (its mesh is the namespace's). */
  readonly namespace: IMeshNamespace;
  /**
   * The workload name: unique among the namespace's workloads, and the name of its Kubernetes Service when it has
   * `ports` (an RFC 1035 label then).
   */
  readonly name: string;
  /** Labels that select every pod of the workload (a Deployment's `spec.selector.matchLabels`). */
  readonly podSelector: { [key: string]: string };
  /**
   * The service account its pods run as: its mesh identity. `default` is refused: every pod of the namespace that
   * names no account shares it, so access granted to it would be granted to all of them.
   */
  readonly serviceAccountName: string;
  /**
   * The ports of its Service, when others call it (then it can be the target of `connectsTo`). The Service named
   * `name` must exist (e.g. cdk8s-plus `exposeViaService`) with these ports, or set `createService`.
   * @default - none: it only calls others
   */
  readonly ports?: ServicePort[];
  /**
   * Create the Service (named `name`, selecting `podSelector`, with `ports`) in this construct's chart.
   * @default false
   */
  readonly createService?: boolean;
}

/** Options of `MeshWorkload.fromWorkload`. */
export interface MeshWorkloadFromOptions {
  /** The namespace the workload runs in (must be the workload's `metadata.namespace` when it sets one). */
  readonly namespace: IMeshNamespace;
  /**
   * The workload name (and Service name when it has ports).
   * @default - the workload's `metadata.name`
   */
  readonly name?: string;
  /**
   * The ports of its Service, when others call it.
   * @default - none: it only calls others
   */
  readonly ports?: ServicePort[];
  /**
   * Create the Service for `ports`.
   * @default false
   */
  readonly createService?: boolean;
  /**
   * Inject the proxy at synth time (`mesh.inject`), with these proxy options.
   * @default true, with the mesh's proxy defaults
   */
  readonly inject?: boolean;
  /**
   * Per-workload proxy options, when injecting.
   * @default - the mesh's defaults
   */
  readonly proxy?: ProxyOptions;
  /**
   * Let the app containers add capabilities beyond NET_BIND_SERVICE, run privileged or share the node's PID
   * namespace (each lets an app bypass its proxy): the named opt-out of the injection's checks.
   * @default false
   */
  readonly allowPrivilegedApp?: boolean;
}

/**
 * An existing workload (a cdk8s-plus Deployment or StatefulSet, any version from cdk8s-plus-27 on, or a raw
 * ApiObject from an include or escape hatch) in the mesh's access graph: it calls and is called like a
 * MeshedService (`connectsTo`, `allowFrom`, `connectsToExternal`), so a ZeroTrustNamespace renders its
 * AuthorizationPolicy, NetworkPolicy and Sidecar from the same facts.
 *
 * ```ts
 * const legacy = new kplus.Deployment(chart, 'legacy', { metadata: { namespace: 'shop' }, serviceAccount, containers: [...] });
 * const w = MeshWorkload.fromWorkload(chart, 'legacy-in-mesh', legacy, { namespace: ns, ports: [ServicePort.http(8080)] });
 * w.connectsTo(reviews);
 * ```
 */
export class MeshWorkload extends Construct implements IMeshService {
  /**
   * Puts an existing workload into the mesh: reads its pod selector (`matchLabels`, or `spec.selector.matchLabels` of
   * a raw object), its service account and its name, and injects the proxy (unless `inject: false`).
   */
  public static fromWorkload(scope: Construct, id: string, workload: IConstruct, options: MeshWorkloadFromOptions): MeshWorkload {
    const path = `${scope.node.path}/${id}`;
    if (!options || !options.namespace) invalid(path, 'namespace', options?.namespace, 'must be a meshed namespace (ZeroTrustNamespace or MeshNamespace.fromName)');
    const read = readWorkload(path, workload);
    if (read.namespace !== undefined && read.namespace !== options.namespace.name) {
      invalid(path, 'namespace', options.namespace.name, `must be the workload's own namespace '${read.namespace}'`);
    }
    if (read.serviceAccountName === undefined) {
      invalid(path, 'workload serviceAccount', 'default',
        "must be set on the workload (its mesh identity): pods that name no account share the namespace's 'default' account, so access granted to it would reach all of them");
    }
    const w = new MeshWorkload(scope, id, {
      namespace: options.namespace,
      name: options.name ?? read.name,
      podSelector: read.podSelector,
      serviceAccountName: read.serviceAccountName,
      ports: options.ports,
      createService: options.createService,
    });
    if (options.inject ?? true) injectWorkload(workload, w.mesh, options.proxy ?? {}, options.allowPrivilegedApp ?? false);
    return w;
  }

  /** The workload name. */
  public readonly name: string;
  /** The namespace. */
  public readonly namespace: IMeshNamespace;
  /** The mesh. */
  public readonly mesh: IMesh;
  /** The service account. */
  public readonly serviceAccountName: string;
  /** The SPIFFE principal. */
  public readonly principal: string;
  /** The fully qualified host of its Service. */
  public readonly host: string;
  /** The Service this construct created (with `createService`). */
  public readonly service?: ApiObject;

  private readonly _selector: { [key: string]: string };
  private readonly _ports: ServicePort[];
  private readonly model: MeshModel;

  constructor(scope: Construct, id: string, props: MeshWorkloadProps) {
    super(scope, id);
    if (!props || !props.namespace || typeof props.namespace.name !== 'string' || !props.namespace.mesh) {
      invalid(this, 'namespace', props?.namespace, 'must be a meshed namespace (ZeroTrustNamespace or MeshNamespace.fromName)');
    }
    this.namespace = props.namespace;
    this.mesh = props.namespace.mesh;
    this.model = MeshModel.of(this);
    const ports = props.ports ?? [];
    if (!Array.isArray(ports)) invalid(this, 'ports', ports, 'must be a list of ServicePorts');
    for (const p of ports) if (!(p instanceof ServicePort)) invalid(this, 'ports', p, 'must be made with ServicePort.http(...), ServicePort.tcp(...) etc.');
    if (new Set(ports.map(p => p.port)).size !== ports.length) invalid(this, 'ports', ports.map(p => p.port), 'must have distinct port numbers');
    if (typeof props.name !== 'string' || props.name.length > 63 || !SERVICE_NAME.test(props.name)) {
      invalid(this, 'name', props.name, "must be an RFC 1035 label (lowercase letters, digits and '-', starting with a letter, at most 63 characters)");
    }
    this.name = props.name;
    checkLabels(this, 'podSelector', props.podSelector);
    if (!props.podSelector || Object.keys(props.podSelector).length === 0) invalid(this, 'podSelector', props.podSelector, 'must name at least one label: an empty selector matches every pod of the namespace');
    checkDnsSubdomain(this, 'serviceAccountName', props.serviceAccountName);
    if (props.serviceAccountName === 'default') {
      invalid(this, 'serviceAccountName', 'default',
        "must be the workload's own account: every pod of the namespace that names no account runs as 'default', so access granted to it would reach all of them");
    }
    if (props.createService && ports.length === 0) invalid(this, 'createService', true, 'needs ports');
    this.serviceAccountName = props.serviceAccountName;
    this.principal = this.mesh.principalFor(this.namespace.name, this.serviceAccountName);
    this.host = `${this.name}.${this.namespace.name}.svc.${this.mesh.clusterDomain}`;
    this._selector = { ...props.podSelector };
    this._ports = [...ports];
    if (props.createService) {
      this.service = new ApiObject(this, 'Service', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: this.name, namespace: this.namespace.name, labels: { [IstioLabels.APP]: this._selector[IstioLabels.APP] ?? this.name } },
        spec: {
          selector: { ...this._selector },
          ports: this._ports.map(p => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: 'TCP', appProtocol: p.appProtocol })),
        },
      } as any);
    }
    this.model.declareWorkload(this);
    if (this._ports.length) this.model.declareService(this);
  }

  /** The Service's ports (empty when it is only a caller). */
  public get ports(): ServicePort[] {
    return [...this._ports];
  }

  /** Labels that select the workload's pods. */
  public get podSelector(): { [key: string]: string } {
    return { ...this._selector };
  }

  /** Who may call it. */
  public get inboundRules(): MeshConnection[] {
    return [...this.model.inboundOf(this)];
  }

  /** What it calls. */
  public get outboundDependencies(): MeshConnection[] {
    return [...this.model.outboundOf(this)];
  }

  /** Declares that this workload calls `target` (see `MeshedService.connectsTo`). */
  public connectsTo(target: IMeshService, options: ConnectionOptions = {}): MeshConnection {
    checkMeshService(this, 'connectsTo target', target);
    const connection = target.allowFrom(this, options);
    if (!this.model.outboundOf(this).includes(connection)) this.model.declareEdge(connection);
    return connection;
  }

  /** Declares that this workload calls a destination outside the mesh. */
  public connectsToExternal(external: ExternalService): void {
    if (!(external instanceof ExternalService)) {
      invalid(this, 'connectsToExternal', external, 'must be made with ExternalService.https(...), .http(...), .tls(...) or .tcp(...)');
    }
    this.model.declareExternal(this, external);
  }

  /** Allows `caller` to call this workload's Service (it must have ports). */
  public allowFrom(caller: IMeshWorkload, options: ConnectionOptions = {}): MeshConnection {
    if (this._ports.length === 0) invalid(this, 'allowFrom', caller?.node?.path, `needs ports: ${this.name} was declared without a Service`);
    const connection = resolveConnection(this, caller, options);
    this.model.declareEdge(connection);
    return connection;
  }
}

interface ReadWorkload {
  readonly name: string;
  readonly namespace?: string;
  readonly podSelector: { [key: string]: string };
  readonly serviceAccountName?: string;
}

/** Reads name, namespace, selector and service account from a cdk8s-plus workload (any version) or a raw ApiObject. */
function readWorkload(path: string, workload: IConstruct): ReadWorkload {
  if (MeshedService.isMeshedService(workload)) invalid(path, 'workload', workload.node.path, 'is a MeshedService already: use it directly');
  const w = workload as any;
  // cdk8s-plus (27 and later): Workload.matchLabels, metadata.name/namespace, serviceAccount?.name
  if (w && typeof w.matchLabels === 'object' && w.metadata && typeof w.metadata.name === 'string') {
    return {
      name: w.metadata.name,
      namespace: w.metadata.namespace,
      podSelector: { ...w.matchLabels },
      serviceAccountName: w.serviceAccount?.name,
    };
  }
  if (ApiObject.isApiObject(workload)) {
    const json = (workload as ApiObject).toJson();
    const template = json.spec?.template ?? json.spec?.jobTemplate?.spec?.template;
    const selector = json.spec?.selector?.matchLabels ?? template?.metadata?.labels;
    if (!template || !selector) invalid(path, 'workload', `${json.kind} ${json.metadata?.name}`, 'must have a pod template and a selector (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job)');
    return {
      name: json.metadata.name,
      namespace: json.metadata.namespace,
      podSelector: { ...selector },
      serviceAccountName: template.spec?.serviceAccountName,
    };
  }
  return invalid(path, 'workload', String(workload), 'must be a cdk8s-plus workload (Deployment, StatefulSet, DaemonSet) or an ApiObject with a pod template');
}
