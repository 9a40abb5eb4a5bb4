import { ApiObject, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { invalid } from '../errors';
import { Probe, renderResources, renderSecurity, WorkloadSecurityOptions } from './workload-options';
import { renderVolumes, WorkloadVolume } from './workload-volume';
import { USE_WAYPOINT_LABEL } from '../ambient/constants';
import { GATEWAY_API_VERSION } from '../gateway/constants';
import { IstioLabels, MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { isAmbient } from '../mesh/data-plane';
import { IMesh, ResourceSettings } from '../mesh/mesh';
import { IMeshNamespace } from '../mesh/namespace';
import { RoutingApi } from '../mesh/routing-api';
import { ExternalService } from '../security/external-service';
import { optionAnnotations, validateAnnotations } from '../sidecar/annotations';
import { injectPodTemplate } from '../sidecar/inject';
import { ProxyOptions } from '../sidecar/proxy-options';
import { gammaRouteKind, renderGammaRoute } from '../traffic/gamma-routes';
import { checkRouteExtras, MeshRouteContext, renderMeshHttpRoutes } from '../traffic/mesh-routes';
import { hasResilience, pickRouteResilience, renderResilience, RouteResilience } from '../traffic/resilience';
import { hasRouteOptions, MeshRouteOptions, renderRouteOptions } from '../traffic/route-options';
import { HttpRouteRule } from '../traffic/routing';
import { checkTcpRoutes, renderMeshTcpRoutes, TcpRouteRule } from '../traffic/tcp-routes';
import { renderSubsetTrafficPolicy, renderTrafficPolicy, TrafficPolicy, TrafficPolicySettings } from '../traffic/traffic-policy';
import { checkDnsSubdomain, checkInteger, checkLabels, checkLabelValue, compact, isDnsLabel } from '../validation';
import { ServicePort } from './service-port';
import { checkMeshService, ConnectionOptions, IMeshService, IMeshWorkload, MeshConnection, resolveConnection, ServiceVersion } from './workload';
import { MeshModel } from '../model/mesh-model';

/** Kubernetes Service names are RFC 1035 labels: they start with a letter. */
const SERVICE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const ROUTE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** What each version of a service runs. Options not given on `addVersion` are taken from the service's props. */
export interface WorkloadVersionOptions {
  /** The container image, e.g. `docker.io/istio/examples-bookinfo-reviews-v1:1.20.2`. */
  readonly image: string;
  /**
   * Number of pods.
   * @default 1 (for `addVersion`: the service's replicas)
   */
  readonly replicas?: number;
  /**
   * Environment variables of the app container (for `addVersion`: merged over the service's).
   * @default - none
   */
  readonly env?: { [name: string]: string };
  /**
   * The container entrypoint.
   * @default - the image's (for `addVersion`: the service's)
   */
  readonly command?: string[];
  /**
   * The entrypoint's arguments.
   * @default - the image's (for `addVersion`: the service's)
   */
  readonly args?: string[];
  /**
   * CPU and memory of the app container (requests must not exceed limits).
   * @default - none (for `addVersion`: the service's)
   */
  readonly resources?: ResourceSettings;
  /**
   * Extra pod labels (not `app` or `version`, which the service sets; for `addVersion`: merged over the service's).
   * @default - none
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * Pod annotations (for `addVersion`: merged over the service's).
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };
  /**
   * Per-workload proxy options (resources, log level, traffic capture...), passed to sidecar injection.
   * @default - the mesh's proxy defaults (for `addVersion`: the service's)
   */
  readonly proxy?: ProxyOptions;
  /**
   * Volumes mounted into the app container: scratch space (`WorkloadVolume.emptyDir`) for apps that write to disk
   * while the root filesystem stays read-only, or files from a ConfigMap or Secret (for `addVersion`: the service's
   * when not given).
   * @default - none
   */
  readonly volumes?: WorkloadVolume[];
}

/** Properties of a MeshedService. */
export interface MeshedServiceProps extends WorkloadVersionOptions, RouteResilience, MeshRouteOptions {
  /** The namespace the service runs in; the mesh is taken from it. */
  readonly namespace: IMeshNamespace;
  /**
   * The mesh. Only needed to pass a different object for the same mesh; it must match the namespace's mesh
   * (trust domain, root namespace, revision).
   * @default - the namespace's mesh
   */
  readonly mesh?: IMesh;
  /**
   * The service name: Service, `app` label, container and (by default) service account name. An RFC 1035 label.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * The first version: the `version` label of its pods and its DestinationRule subset.
   * @default 'v1'
   */
  readonly version?: string;
  /** The ports the service exposes (at least one; distinct names, ports and target ports). */
  readonly ports: ServicePort[];
  /**
   * Readiness probe of the app container.
   * @default - none
   */
  readonly readinessProbe?: Probe;
  /**
   * Liveness probe of the app container.
   * @default - none
   */
  readonly livenessProbe?: Probe;
  /**
   * Security settings of the app container.
   * @default - non-root, no privilege escalation, all capabilities dropped, read-only root filesystem, RuntimeDefault seccomp
   */
  readonly securityContext?: WorkloadSecurityOptions;
  /**
   * The service account (the workload's identity) to create and run as. Not `default`: every pod of the namespace
   * that names no account runs as it, and would get this service's access. Unique among the services of a namespace
   * (a shared account is a shared identity: use `sharedIdentity`).
   * @default - the service name
   */
  readonly serviceAccountName?: string;
  /**
   * Run as another service's ServiceAccount: both services then have the same identity (principal), so each may make
   * every call the other is allowed to make. An explicit choice (two services naming one `serviceAccountName` are
   * refused); the ServiceAccount is emitted once, by that service. Same namespace; not with `serviceAccountName`.
   * @default - an identity of its own
   */
  readonly sharedIdentity?: MeshedService;
  /**
   * Mount a Kubernetes API token into the app container. The proxy does not need it (Istio mounts its own token).
   * @default false
   */
  readonly automountServiceAccountToken?: boolean;
  /**
   * Client-side traffic policy for calls to this service (DestinationRule `trafficPolicy`).
   * @default - TLS ISTIO_MUTUAL, Istio's defaults otherwise
   */
  readonly trafficPolicy?: TrafficPolicy;
}

interface VersionState {
  readonly version: ServiceVersion;
  readonly options: WorkloadVersionOptions;
}

/**
 * A workload that joins the mesh: a ServiceAccount (its identity), one Deployment per version (pods injected with
 * the proxy at synth time), a Service, a DestinationRule with one subset per version, and a VirtualService when
 * routes or resilience settings need one.
 *
 * Every name, label, port and host is computed once here and read by the other constructs through the public
 * model: `host`, `ports`, `principal`, `podSelector`, `versions`, `inboundRules`, `outboundDependencies`,
 * `httpRoutes`.
 *
 * Routing hook (for CanaryRelease and the like): `replaceHttpRoutes(rules)` replaces the default route (every request to
 * every version) with match and weighted-destination rules; the VirtualService is rendered from `httpRoutes` at
 * synth time, and the service's resilience settings (timeout, retries, fault, mirror) are added to every rule.
 * With `Mesh({ meshRouting: RoutingApi.GATEWAY_API })` the same rules are rendered as an HTTPRoute (a GRPCRoute for a
 * gRPC port) attached to the Service (`gatewayApiRoutes`), and versions are reached through per-version backend
 * Services (`versionBackend`).
 */
export class MeshedService extends Construct implements IMeshService {
  /** Whether `x` is a MeshedService. */
  public static isMeshedService(x: any): x is MeshedService {
    return x instanceof MeshedService;
  }

  /** The service name (Service, `app` label, container name). */
  public readonly name: string;
  /** The namespace. */
  public readonly namespace: IMeshNamespace;
  /** The mesh. */
  public readonly mesh: IMesh;
  /** The fully qualified host, `<name>.<namespace>.svc.<cluster domain>`. */
  public readonly host: string;
  /** The service account name. */
  public readonly serviceAccountName: string;
  /** The SPIFFE principal, `<trust domain>/ns/<namespace>/sa/<service account>`. */
  public readonly principal: string;
  /** The ServiceAccount (v1); with `sharedIdentity`, the other service's (emitted there). */
  public readonly serviceAccount: ApiObject;
  /** The Service (v1). */
  public readonly service: ApiObject;
  /** The DestinationRule (networking.istio.io/v1), rendered at synth time. */
  public readonly destinationRule: ApiObject;
  /** The client-side traffic policy given in props. */
  public readonly trafficPolicy?: TrafficPolicy;
  /** The resilience settings applied to every HTTP route. */
  public readonly resilience: RouteResilience;

  private readonly _ports: ServicePort[];
  private readonly props: MeshedServiceProps;
  private readonly _versions: VersionState[] = [];
  private readonly model: MeshModel;
  /** Per-version backend Services (Gateway API routes name Services, not subsets), once a route asks for them. */
  private _versionBackends?: Map<string, ApiObject>;
  private readonly labels: { [key: string]: string };
  private _virtualService?: ApiObject;
  /** The Gateway API routes attached to the Service (mesh routing GATEWAY_API), once routes need them. */
  private _gatewayApiRoutes?: ApiObject[];
  private _routes?: HttpRouteRule[];
  /** Who set the routes (construct path), once they are set: the routes have one owner. */
  private _routesOwner?: string;
  private _tcpRoutes?: TcpRouteRule[];
  private _tcpRoutesOwner?: string;
  /** Traffic policies of single versions (DestinationRule subsets), by subset name. */
  private readonly _subsetPolicies = new Map<string, TrafficPolicySettings>();
  private readonly _controllerSubsets: ServiceVersion[] = [];

  constructor(scope: Construct, id: string, props: MeshedServiceProps) {
    super(scope, id);
    this.props = props;
    this.model = MeshModel.of(this);
    if (!props.namespace || typeof props.namespace.name !== 'string' || !props.namespace.mesh) {
      invalid(this, 'namespace', props.namespace, 'must be a meshed namespace (ZeroTrustNamespace or MeshNamespace.fromName)');
    }
    this.namespace = props.namespace;
    const nsMesh = props.namespace.mesh;
    if (props.mesh && props.mesh !== nsMesh) {
      for (const f of ['trustDomain', 'rootNamespace', 'revision'] as const) {
        if (props.mesh[f] !== nsMesh[f]) {
          invalid(this, `mesh.${f}`, props.mesh[f], `must match the namespace's mesh ('${nsMesh[f]}'): a workload joins its namespace's mesh`);
        }
      }
    }
    this.mesh = props.mesh ?? nsMesh;

    const name = props.name ?? id;
    if (typeof name !== 'string' || name.length > 63 || !SERVICE_NAME.test(name)) {
      invalid(this, 'name', name, "must be a Service name (RFC 1035 label): lowercase letters, digits and '-', starting with a letter, at most 63 characters" +
        (props.name === undefined ? '; set `name` when the construct id is not one' : ''));
    }
    this.name = name;
    this.model.claim(this, 'workload', `${this.namespace.name}/${name}`, 'name', name, other => `must be unique in namespace '${this.namespace.name}': ${other} already uses it`);
    this.host = `${name}.${this.namespace.name}.svc.${this.mesh.clusterDomain}`;
    const shared = props.sharedIdentity;
    if (shared !== undefined) {
      if (!MeshedService.isMeshedService(shared)) invalid(this, 'sharedIdentity', String(shared), 'must be a MeshedService (the one whose ServiceAccount this service runs as)');
      if (props.serviceAccountName !== undefined) invalid(this, 'serviceAccountName', props.serviceAccountName, `must not be given with sharedIdentity: the account is ${shared.node.path}'s ('${shared.serviceAccountName}')`);
      if (shared.namespace.name !== this.namespace.name) {
        invalid(this, 'sharedIdentity', shared.node.path, `must be a service of namespace '${this.namespace.name}', not '${shared.namespace.name}': a ServiceAccount is namespaced`);
      }
    }
    this.serviceAccountName = shared?.serviceAccountName ?? props.serviceAccountName ?? name;
    checkDnsSubdomain(this, 'serviceAccountName', this.serviceAccountName);
    if (this.serviceAccountName === 'default') {
      invalid(this, 'serviceAccountName', 'default',
        "must not be 'default': every pod of the namespace that names no ServiceAccount runs as it and would get this service's access (and the namespace's own default ServiceAccount would be overwritten); give the service an account of its own");
    }
    if (!shared) {
      this.model.claim(this, 'service-account', `${this.namespace.name}/${this.serviceAccountName}`, 'serviceAccountName', this.serviceAccountName,
        other => `is already the identity of ${other}: services sharing a ServiceAccount share their access; make it explicit with sharedIdentity (naming that service), or give this service an account of its own`);
    }
    this.principal = this.mesh.principalFor(this.namespace.name, this.serviceAccountName);
    this.labels = { [IstioLabels.APP]: name, [MANAGED_BY_LABEL]: MANAGED_BY };

    this._ports = this.checkPorts(props.ports);
    this.trafficPolicy = props.trafficPolicy;
    this.resilience = pickRouteResilience(props);
    // validate now (errors point at the props), render again at synth time
    renderTrafficPolicy(this, props.trafficPolicy ?? {}, this._ports);
    renderResilience(this, this.resilience, this, true);
    renderRouteOptions(this, props, this._ports);
    if (props.readinessProbe) props.readinessProbe._render(this, 'readinessProbe', this._ports[0].targetPort, false);
    if (props.livenessProbe) props.livenessProbe._render(this, 'livenessProbe', this._ports[0].targetPort, true);
    renderSecurity(this, props.securityContext ?? {});

    const meta = (objName: string) => ({ name: objName, namespace: this.namespace.name, labels: { ...this.labels } });
    this.serviceAccount = shared ? shared.serviceAccount : new ApiObject(this, 'ServiceAccount', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta(this.serviceAccountName),
      automountServiceAccountToken: props.automountServiceAccountToken ?? false,
    } as any);
    this.service = new ApiObject(this, 'Service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name),
      spec: {
        selector: this.podSelector,
        ports: this._ports.map(p => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: 'TCP', appProtocol: p.appProtocol })),
      },
    } as any);
    this.destinationRule = new ApiObject(this, 'DestinationRule', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: meta(name),
      spec: Lazy.any({ produce: () => this.renderDestinationRule() }),
    } as any);
    // ambient: the Service names the waypoint its traffic goes through, once the model gives it one (any layer-7
    // feature of the service, declared before or after; none for layer-4 services)
    if (isAmbient(this.namespace)) {
      this.service.metadata.addLabel(USE_WAYPOINT_LABEL, Lazy.any({ produce: () => this.model.waypointOf(this)?.name }) as any);
      // a namespace referred to by name (MeshNamespace.fromName) declares nothing itself: its services say it is ambient
      this.model.declareAmbientNamespace({ name: this.namespace.name, rootNamespace: this.mesh.rootNamespace, revision: this.mesh.revision });
    }
    if (hasResilience(this.resilience) || hasRouteOptions(props)) this.ensureVirtualService();

    this.addVersion(props.version ?? 'v1', props);
    // the facts: this workload, its service, and whom it mirrors to (every caller of this service also calls the mirror)
    this.model.declareWorkload(this);
    this.model.declareService(this);
    if (props.mirror) {
      const target = props.mirror.service;
      const port = props.mirror.port ? target.ports.find(p => p.port === props.mirror!.port!.port)! : target.ports.find(p => p.isHttp)!;
      this.model.declareMirror(this, target, port);
    }
  }

  /** The Service's ports. */
  public get ports(): ServicePort[] {
    return [...this._ports];
  }

  /** Labels that select every pod of the service, all versions: `{ app: <name> }`. */
  public get podSelector(): { [key: string]: string } {
    return { [IstioLabels.APP]: this.name };
  }

  /** The versions, in the order they were added (the first is the one from props). */
  public get versions(): ServiceVersion[] {
    return this._versions.map(v => v.version);
  }

  /**
   * The VirtualService (networking.istio.io/v1), if resilience settings or custom routes need one; never with the
   * mesh's `meshRouting` GATEWAY_API (see `gatewayApiRoutes`).
   */
  public get virtualService(): ApiObject | undefined {
    return this._virtualService;
  }

  /**
   * With the mesh's `meshRouting` GATEWAY_API: the HTTPRoutes (GRPCRoutes for gRPC ports) attached to the Service,
   * one per HTTP port, if resilience settings or custom routes need them; none otherwise.
   */
  public get gatewayApiRoutes(): ApiObject[] {
    return [...(this._gatewayApiRoutes ?? [])];
  }

  /** Whether the service's own routes are Gateway API routes (the mesh's `meshRouting`). */
  private get gammaRouting(): boolean {
    return this.mesh.meshRouting === RoutingApi.GATEWAY_API;
  }

  /** Who may call this service (one entry per `connectsTo`/`allowFrom`, in the order they were declared). */
  public get inboundRules(): MeshConnection[] {
    return [...this.model.inboundOf(this)];
  }

  /** What this service calls (one entry per `connectsTo`, or `allowFrom` naming this service as caller). */
  public get outboundDependencies(): MeshConnection[] {
    return [...this.model.outboundOf(this)];
  }

  /** Destinations outside the mesh this service calls (one entry per `connectsToExternal`, in declaration order). */
  public get externalDependencies(): ExternalService[] {
    return [...this.model.externalsOfWorkload(this)];
  }

  /**
   * The HTTP routes the VirtualService is rendered from: the rules given to `replaceHttpRoutes`, or by default a single
   * catch-all rule to every version (`[{}]`).
   */
  public get httpRoutes(): HttpRouteRule[] {
    return this._routes ? [...this._routes] : [{}];
  }

  /** The layer-4 routes (TCP, TLS and HTTPS ports) given to `replaceTcpRoutes`; none by default. */
  public get tcpRoutes(): TcpRouteRule[] {
    return (this._tcpRoutes ?? []).map(r => ({ port: r.port, destinations: [...r.destinations] }));
  }

  /** The version with this name, or undefined. */
  public findVersion(version: string): ServiceVersion | undefined {
    return this._versions.find(v => v.version.name === version)?.version;
  }

  /**
   * Adds a DestinationRule subset whose pods a controller picks, e.g. the `stable` and `canary` subsets of an Argo
   * Rollout (the controller adds `rollouts-pod-template-hash` to their labels). The subset is named
   * `subset.subsetName` and selects `subset.selector`; routes may send traffic to it like to a version. It is not
   * listed in `versions` and gets no Deployment: `subset.deployment` is the controller's workload (e.g. the Rollout).
   */
  public addControllerSubset(subset: ServiceVersion): void {
    if (!subset || !isDnsLabel(subset.subsetName)) invalid(this, 'subset', subset?.subsetName, 'must have a DNS label subsetName');
    const taken = [...this._versions.map(v => v.version), ...this._controllerSubsets].find(v => v.subsetName === subset.subsetName);
    if (taken) invalid(this, 'subset', subset.subsetName, `must differ from the subsets of the service (taken by '${taken.name}')`);
    checkLabels(this, 'subset selector', subset.selector);
    this._controllerSubsets.push(subset);
  }

  /**
   * Runs another version of the service: its own Deployment (`<name>-<subset>`) with pods labelled
   * `version=<version>`, and its own DestinationRule subset. The Service keeps selecting every version; route
   * traffic between versions with `replaceHttpRoutes` (or a CanaryRelease).
   */
  public addVersion(version: string, options: WorkloadVersionOptions): ServiceVersion {
    checkLabelValue(this, 'version', version);
    if (version === '') invalid(this, 'version', version, 'must not be empty');
    if (this.findVersion(version)) invalid(this, 'version', version, 'must be unique: the service already runs this version');
    const subsetName = version.toLowerCase().replace(/[._]/g, '-');
    if (!isDnsLabel(subsetName)) invalid(this, 'version', version, 'must turn into a DNS label subset name');
    const clash = this._versions.find(v => v.version.subsetName === subsetName);
    if (clash) invalid(this, 'version', version, `must differ from '${clash.version.name}' after lowercasing and replacing '.' and '_' with '-' (both give subset '${subsetName}')`);
    if (options.proxy !== undefined && isAmbient(this.namespace)) {
      invalid(this, 'proxy', JSON.stringify(options.proxy),
        `has no effect in ambient namespace '${this.namespace.name}': its pods carry no proxy (ztunnel and waypoints carry their traffic); drop it, or keep the namespace on sidecars`);
    }
    const first = this._versions.length === 0;
    const base: WorkloadVersionOptions = first ? { image: options.image } : this.props;
    const merged: WorkloadVersionOptions = {
      image: options.image,
      replicas: options.replicas ?? (first ? undefined : base.replicas),
      env: first ? options.env : { ...base.env, ...options.env },
      command: options.command ?? base.command,
      args: options.args ?? base.args,
      resources: options.resources ?? base.resources,
      podLabels: first ? options.podLabels : { ...base.podLabels, ...options.podLabels },
      podAnnotations: first ? options.podAnnotations : { ...base.podAnnotations, ...options.podAnnotations },
      proxy: options.proxy ?? base.proxy,
      volumes: options.volumes ?? base.volumes,
    };
    renderVolumes(this, merged.volumes); // validate now: errors point at the construct that was given them
    const proxyAnnotations = optionAnnotations(this.node.path, merged.proxy ?? {});
    validateAnnotations(this.node.path, { ...merged.podAnnotations, ...proxyAnnotations });
    const field = first ? '' : `versions['${version}'].`;
    if (typeof merged.image !== 'string' || !/^\S+$/.test(merged.image)) invalid(this, `${field}image`, merged.image, 'must be a container image reference without spaces');
    const replicas = merged.replicas ?? 1;
    checkInteger(this, `${field}replicas`, replicas, 0, 2147483647);
    for (const k of Object.keys(merged.env ?? {})) {
      if (!ENV_NAME.test(k)) invalid(this, `${field}env`, k, "must be an environment variable name: letters, digits, '_', '-' and '.', not starting with a digit");
    }
    checkLabels(this, `${field}podLabels`, merged.podLabels);
    for (const k of [IstioLabels.APP, IstioLabels.VERSION]) {
      if (merged.podLabels && k in merged.podLabels) invalid(this, `${field}podLabels`, k, `must not set '${k}': the service sets it from its name and versions`);
    }
    renderResources(this, merged.resources);

    const deploymentName = `${this.name}-${subsetName}`;
    checkDnsSubdomain(this, 'deployment name', deploymentName);
    const selector = { [IstioLabels.APP]: this.name, [IstioLabels.VERSION]: version };
    const deployment = new ApiObject(this, `Deployment-${subsetName}`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: deploymentName, namespace: this.namespace.name, labels: { ...this.labels, [IstioLabels.VERSION]: version } },
      spec: Lazy.any({ produce: () => this.renderDeploymentSpec(state) }),
    } as any);
    const sv: ServiceVersion = { name: version, subsetName, selector, image: merged.image, replicas, deployment };
    const state: VersionState = { version: sv, options: merged };
    this._versions.push(state);
    if (this._versionBackends) this.makeVersionBackend(sv);
    return sv;
  }

  /**
   * The per-version backend Service of `version` (`<service>-<subset>`, selecting `{app, version}`), for routing APIs
   * that name Services rather than subsets (the Gateway API). Asking for one makes the service create a backend
   * Service for every version, now and when versions are added, in this service's own chart and namespace.
   * @returns the Service name
   */
  public versionBackend(version: ServiceVersion): string {
    if (!this._versions.some(v => v.version === version)) invalid(this, 'versionBackend version', version?.name ?? version, `must be a version of ${this.name}: ${this.versions.map(v => v.name).join(', ')}`);
    this.enableVersionBackends();
    return `${this.name}-${version.subsetName}`;
  }

  /** From now on every version, present and future, has a backend Service. */
  private enableVersionBackends() {
    if (this._versionBackends) return;
    this._versionBackends = new Map();
    for (const v of this._versions) this.makeVersionBackend(v.version);
  }

  private makeVersionBackend(v: ServiceVersion) {
    if (this._versionBackends!.has(v.subsetName)) return;
    const backend = new ApiObject(this, `Service-${v.subsetName}`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: `${this.name}-${v.subsetName}`,
        namespace: this.namespace.name,
        labels: { ...this.labels, [IstioLabels.VERSION]: v.name },
      },
      spec: {
        selector: { ...v.selector },
        ports: this._ports.map(q => ({ name: q.name, port: q.port, targetPort: q.targetPort, protocol: 'TCP', appProtocol: q.appProtocol })),
      },
    } as any);
    this._versionBackends!.set(v.subsetName, backend);
    if (this.gammaRouting) {
      // mesh routes send the service's traffic to the backend: its callers must know the host (their Sidecar's
      // egress hosts); in ambient, the backend goes through the service's waypoint too, and the service's layer-7
      // policy is attached to it there, so it holds however the version is called
      this.model.declareRouteBackend(this, `${this.name}-${v.subsetName}.${this.namespace.name}.svc.${this.mesh.clusterDomain}`);
      if (isAmbient(this.namespace)) {
        backend.metadata.addLabel(USE_WAYPOINT_LABEL, Lazy.any({ produce: () => this.model.waypointOf(this)?.name }) as any);
      }
    }
    // a route to the backend host is not a route to the service's host: without a DestinationRule of its own the
    // backend would lose the service's affinity, connection pool, outlier detection and TLS (and the version's own
    // policy), so each backend host gets the policy the version's subset has
    new ApiObject(this, `DestinationRule-${v.subsetName}`, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: {
        name: `${this.name}-${v.subsetName}`,
        namespace: this.namespace.name,
        labels: { ...this.labels, [IstioLabels.VERSION]: v.name },
      },
      spec: Lazy.any({
        produce: () => ({
          host: `${this.name}-${v.subsetName}.${this.namespace.name}.svc.${this.mesh.clusterDomain}`,
          trafficPolicy: this.renderVersionTrafficPolicy(v),
        }),
      }),
    } as any);
  }

  /** The effective traffic policy of one version: the service's, with the version's own settings on top. */
  private renderVersionTrafficPolicy(v: ServiceVersion): any {
    const base = renderTrafficPolicy(this, this.trafficPolicy ?? {}, this._ports);
    const own = this._subsetPolicies.get(v.subsetName);
    if (!own) return base;
    const field = `versions['${v.subsetName}'].trafficPolicy`;
    return { ...base, ...renderSubsetTrafficPolicy(this, field, own, this.trafficPolicy ?? {}, this._ports) };
  }

  /**
   * Sets the client-side traffic policy of one version (its DestinationRule subset), e.g. a tighter connection pool
   * or a different load balancer for a canary. Settings not given are inherited from the service's `trafficPolicy`
   * (field by field, as for port settings), so the subset keeps the service's TLS and outlier detection.
   */
  public setVersionTrafficPolicy(version: ServiceVersion, policy: TrafficPolicySettings): void {
    const own = version && (this.findVersion(version.name) === version || this._controllerSubsets.includes(version));
    if (!own) invalid(this, 'setVersionTrafficPolicy version', version?.name ?? version, `must be a version of ${this.name}: ${this.versions.map(v => v.name).join(', ')}`);
    const field = `versions['${version.name}'].trafficPolicy`;
    if (this._subsetPolicies.has(version.subsetName)) invalid(this, field, 'set twice', 'must be set once per version');
    if (!policy || typeof policy !== 'object') invalid(this, field, policy, 'must be traffic policy settings');
    renderSubsetTrafficPolicy(this, field, policy, this.trafficPolicy ?? {}, this._ports); // validate now
    this._subsetPolicies.set(version.subsetName, policy);
  }

  /**
   * Replaces the HTTP routes to this service (the default is one catch-all route to every version). This is the
   * hook for traffic shifting: a CanaryRelease sets e.g.
   * `[{ matches: [{ headers: { 'x-canary': StringMatch.exact('1') } }], destinations: [{ version: v2 }] },
   *   { destinations: [{ version: v1, weight: 90 }, { version: v2, weight: 10 }] }]`.
   * The service's timeout, retries, fault and mirror settings are added to every rule. Creates the VirtualService
   * when there is none yet. The service must have an HTTP port.
   *
   * The routes have one owner: they can be set once per service (by your code or by one CanaryRelease); a second
   * call is an error naming the first owner, rather than silently overwriting its routes.
   * @param owner the construct that owns the routes, named in the error a second writer gets
   */
  public replaceHttpRoutes(rules: HttpRouteRule[], owner?: IConstruct): void {
    const who = owner?.node?.path ? `'${owner.node.path}'` : 'an earlier replaceHttpRoutes call';
    if (this._routesOwner !== undefined) {
      invalid(this, 'httpRoutes', owner?.node?.path ?? 'replaced again',
        `are already set by ${this._routesOwner}: the routes of a service have one owner (your replaceHttpRoutes call or one CanaryRelease), and a second writer would silently overwrite them; set all the rules in one call`);
    }
    this.checkRoutes(rules);
    if (this.gammaRouting) this.checkGammaRoutes(rules);
    this._routesOwner = who;
    this._routes = rules.map(r => ({
      ...r,
      matches: r.matches ? [...r.matches] : undefined,
      destinations: r.destinations ? [...r.destinations] : undefined,
    }));
    if (this.gammaRouting && rules.some(r => r.destinations?.length || r.mirror)) this.enableVersionBackends();
    this.ensureVirtualService();
  }

  /**
   * Replaces the layer-4 routes of this service's TCP, TLS and HTTPS ports (by default the Service balances their
   * connections over every version): one rule per port splits its connections between versions by weight (Istio's
   * "TCP traffic shifting"), rendered as VirtualService `tcp` routes, and `tls` routes matched on the service host
   * as SNI for TLS and HTTPS ports. Creates the VirtualService when there is none yet. Like the HTTP routes, the
   * layer-4 routes have one owner.
   * @param owner the construct that owns the routes, named in the error a second writer gets
   */
  public replaceTcpRoutes(rules: TcpRouteRule[], owner?: IConstruct): void {
    if (this._tcpRoutesOwner !== undefined) {
      invalid(this, 'tcpRoutes', owner?.node?.path ?? 'replaced again',
        `are already set by ${this._tcpRoutesOwner}: the routes of a service have one owner, and a second writer would silently overwrite them; set all the rules in one call`);
    }
    checkTcpRoutes(this, this, rules, v => !!this.findVersion(v.name) || this._controllerSubsets.includes(v));
    if (this.gammaRouting) {
      invalid(this, 'tcpRoutes', owner?.node?.path ?? 'set',
        "are layer-4 routes (TCPRoute, TLSRoute), which the Gateway API standard channel cannot attach to a Service: set the mesh's meshRouting to RoutingApi.ISTIO");
    }
    this._tcpRoutesOwner = owner?.node?.path ? `'${owner.node.path}'` : 'an earlier replaceTcpRoutes call';
    this._tcpRoutes = rules.map(r => ({ port: r.port, destinations: [...r.destinations] }));
    this.ensureVirtualService();
  }

  /**
   * Declares that this service calls `target`: one fact, read by the policy constructs to allow the call
   * (AuthorizationPolicy, NetworkPolicy) and to scope this service's egress (Sidecar). Recorded on both sides:
   * here in `outboundDependencies`, on the target in `inboundRules`.
   * @returns the recorded connection
   */
  public connectsTo(target: IMeshService, options: ConnectionOptions = {}): MeshConnection {
    checkMeshService(this, 'connectsTo target', target);
    const connection = target.allowFrom(this, options);
    // an IMeshService implemented outside this library may not declare its edges: the model must still have it
    if (!this.model.outboundOf(this).includes(connection)) this.model.declareEdge(connection);
    return connection;
  }

  /**
   * Declares that this service calls a destination outside the mesh (`ExternalService.https('api.stripe.com')`).
   * The service's ZeroTrustNamespace turns it into a ServiceEntry, the service's Sidecar egress host, a
   * NetworkPolicy egress rule and, for `originateTls`, a DestinationRule. (A separate method rather than an overload
   * of `connectsTo`: an external destination has no identity, pods or inbound rules, so `connectsTo` keeps accepting
   * only meshed services.)
   */
  public connectsToExternal(external: ExternalService): void {
    if (!(external instanceof ExternalService)) {
      invalid(this, 'connectsToExternal', external, 'must be made with ExternalService.https(...), .http(...), .tls(...) or .tcp(...)');
    }
    this.model.declareExternal(this, external);
  }

  /**
   * Allows `caller` (a MeshedService, a MeshGateway or another meshed workload) to call this service. Recorded in
   * `inboundRules`, and in the caller's `outboundDependencies` when the caller is a MeshedService.
   * @returns the recorded connection
   */
  public allowFrom(caller: IMeshWorkload, options: ConnectionOptions = {}): MeshConnection {
    const connection = resolveConnection(this, caller, options);
    this.model.declareEdge(connection);
    return connection;
  }

  private checkPorts(ports: ServicePort[]): ServicePort[] {
    if (!Array.isArray(ports) || ports.length === 0) invalid(this, 'ports', ports, 'must list at least one ServicePort');
    const names = new Set<string>();
    const numbers = new Set<number>();
    const targets = new Set<number>();
    for (const p of ports) {
      if (!(p instanceof ServicePort)) invalid(this, 'ports', p, 'must be made with ServicePort.http(...), ServicePort.tcp(...) etc.');
      if (names.has(p.name)) invalid(this, 'ports', p.name, 'must have distinct names: give one a nameSuffix, e.g. ServicePort.http(8080, { nameSuffix: \'admin\' })');
      if (numbers.has(p.port)) invalid(this, 'ports', p.port, 'must have distinct port numbers');
      if (targets.has(p.targetPort)) invalid(this, 'ports', `targetPort ${p.targetPort}`, 'must have distinct target ports (the container listens once per port)');
      names.add(p.name);
      numbers.add(p.port);
      targets.add(p.targetPort);
    }
    return [...ports];
  }

  private checkRoutes(rules: HttpRouteRule[]) {
    if (!this._ports.some(p => p.isHttp)) {
      invalid(this, 'httpRoutes', 'set', `are HTTP-only, but ports ${this._ports.map(p => `${p.name}/${p.port}`).join(', ')} do not speak HTTP`);
    }
    if (!Array.isArray(rules) || rules.length === 0) invalid(this, 'httpRoutes', rules, 'must list at least one rule');
    const names = new Set<string>();
    rules.forEach((r, i) => {
      const field = `httpRoutes[${i}]`;
      if (r.name !== undefined) {
        if (!ROUTE_NAME.test(r.name) || r.name.length > 50) invalid(this, `${field}.name`, r.name, "must be lowercase letters, digits, '-' and '.', at most 50 characters");
        if (names.has(r.name)) invalid(this, `${field}.name`, r.name, 'must be unique among the routes');
        names.add(r.name);
      }
      if (!r.matches?.length && i !== rules.length - 1) {
        invalid(this, `${field}.matches`, 'none', 'a route without matches catches every request, so it must be the last route');
      }
      for (const [j, m] of (r.matches ?? []).entries()) {
        if (!m || Object.values(m).every(v => v === undefined)) invalid(this, `${field}.matches[${j}]`, m, 'must set at least one condition (omit matches to match every request)');
      }
      const dests = r.destinations ?? [];
      const seen = new Set<string>();
      let sum = 0;
      for (const [j, d] of dests.entries()) {
        const df = `${field}.destinations[${j}]`;
        if (!d || !d.version || !(this.findVersion(d.version.name) || this._controllerSubsets.includes(d.version))) {
          invalid(this, `${df}.version`, d.version?.name ?? d.version, `must be a version of ${this.name}: ${this.versions.map(v => v.name).join(', ')}`);
        }
        if (seen.has(d.version.name)) invalid(this, `${df}.version`, d.version.name, 'must appear once per route');
        seen.add(d.version.name);
        const w = d.weight ?? (dests.length === 1 ? 100 : undefined);
        if (w === undefined) invalid(this, `${df}.weight`, undefined, 'must be set when a route has several destinations');
        checkPercent0to100Integer(this, `${df}.weight`, w);
        sum += w;
      }
      if (dests.length > 0 && sum !== 100) invalid(this, `${field}.destinations`, `weights adding up to ${sum}`, 'weights must add up to 100');
      if (r.mirror) {
        if (!r.mirror.version || !(this.findVersion(r.mirror.version.name) || this._controllerSubsets.includes(r.mirror.version))) {
          invalid(this, `${field}.mirror.version`, r.mirror.version?.name ?? r.mirror.version, `must be a version of ${this.name}: ${this.versions.map(v => v.name).join(', ')}`);
        }
        if (r.mirror.weight !== undefined && (typeof r.mirror.weight !== 'number' || !(r.mirror.weight >= 0 && r.mirror.weight <= 100))) {
          invalid(this, `${field}.mirror.weight`, r.mirror.weight, 'must be a percentage from 0 to 100');
        }
      }
    });
    checkRouteExtras(this.routeContext(), rules);
  }

  /**
   * What the route renderers read about this service: a gateway that routes to the service renders its ingress
   * routes from the same rules and settings, so ingress and mesh traffic follow one route table.
   * @internal
   */
  public _routeContext(): MeshRouteContext {
    return this.routeContext();
  }

  /** What the route renderers read about this service. */
  private routeContext(): MeshRouteContext {
    return { scope: this, self: this, resilience: this.resilience, options: { headers: this.props.headers, cors: this.props.cors } };
  }

  /**
   * Gateway API mesh routing: refuses at declaration what the routes cannot express (each HTTP port's route rendered
   * once from the rules; rendered again at synth time).
   */
  private checkGammaRoutes(rules: HttpRouteRule[]) {
    for (const port of this._ports.filter(p => p.isHttp)) this.renderGammaRoute(rules, port);
  }

  private renderGammaRoute(rules: HttpRouteRule[], port: ServicePort): any {
    return renderGammaRoute({
      ctx: this.routeContext(),
      rules,
      port,
      backendOf: subset => (this._versions.some(v => v.version.subsetName === subset) ? `${this.name}-${subset}` : undefined),
    });
  }

  /** Gateway API mesh routing: one route per HTTP port, attached to the Service (on that port when it has several). */
  private ensureGatewayApiRoutes() {
    if (this._gatewayApiRoutes) return;
    this.checkGammaRoutes(this.httpRoutes);
    const http = this._ports.filter(p => p.isHttp);
    this._gatewayApiRoutes = http.map(port => {
      const kind = gammaRouteKind(port);
      return new ApiObject(this, `${kind}-${port.name}`, {
        apiVersion: GATEWAY_API_VERSION,
        kind,
        metadata: { name: http.length > 1 ? `${this.name}-${port.name}` : this.name, namespace: this.namespace.name, labels: { ...this.labels } },
        spec: Lazy.any({ produce: () => this.renderGammaRoute(this.httpRoutes, port) }),
      } as any);
    });
  }

  private ensureVirtualService() {
    if (this._virtualService || this._gatewayApiRoutes) return;
    // routes are layer 7: in an ambient namespace a waypoint applies them
    this.model.declareLayer7(this.namespace.name, this, 'routes');
    if (this.gammaRouting) return this.ensureGatewayApiRoutes();
    this._virtualService = new ApiObject(this, 'VirtualService', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: this.name, namespace: this.namespace.name, labels: { ...this.labels } },
      spec: Lazy.any({
        produce: () => ({
          hosts: [this.host],
          ...(this._ports.some(p => p.isHttp) ? { http: this.renderHttpRoutes() } : {}),
          ...renderMeshTcpRoutes(this, this._tcpRoutes ?? []),
        }),
      }),
    } as any);
  }

  private renderDestinationRule(): any {
    return compact({
      host: this.host,
      trafficPolicy: renderTrafficPolicy(this, this.trafficPolicy ?? {}, this._ports),
      subsets: [
        ...this._versions.map(v => ({ name: v.version.subsetName, labels: { [IstioLabels.VERSION]: v.version.name } })),
        ...this._controllerSubsets.map(v => ({ name: v.subsetName, labels: { ...v.selector } })),
      ].map(subset => {
        const policy = this._subsetPolicies.get(subset.name);
        if (!policy) return subset;
        const field = `versions['${subset.name}'].trafficPolicy`;
        const trafficPolicy = renderSubsetTrafficPolicy(this, field, policy, this.trafficPolicy ?? {}, this._ports);
        return Object.keys(trafficPolicy).length ? { ...subset, trafficPolicy } : subset;
      }),
    });
  }

  private renderHttpRoutes(): any[] {
    return renderMeshHttpRoutes(this.routeContext(), this.httpRoutes);
  }

  private renderDeploymentSpec(state: VersionState): any {
    const o = state.options;
    const v = state.version;
    const security = renderSecurity(this, this.props.securityContext ?? {});
    const defaultPort = this._ports[0].targetPort;
    const vols = renderVolumes(this, o.volumes);
    const container = compact({
      name: this.name,
      image: o.image,
      command: o.command?.length ? [...o.command] : undefined,
      args: o.args?.length ? [...o.args] : undefined,
      env: Object.keys(o.env ?? {}).sort().map(k => ({ name: k, value: o.env![k] })),
      ports: this._ports.map(p => ({ name: p.name, containerPort: p.targetPort, protocol: 'TCP' })),
      resources: renderResources(this, o.resources),
      readinessProbe: this.props.readinessProbe?._render(this, 'readinessProbe', defaultPort, false),
      livenessProbe: this.props.livenessProbe?._render(this, 'livenessProbe', defaultPort, true),
      securityContext: security.container,
      volumeMounts: vols.mounts,
    });
    const template = {
      metadata: compact({
        labels: { ...o.podLabels, ...v.selector },
        annotations: o.podAnnotations && Object.keys(o.podAnnotations).length ? { ...o.podAnnotations } : undefined,
      }),
      spec: {
        serviceAccountName: this.serviceAccountName,
        automountServiceAccountToken: this.props.automountServiceAccountToken ?? false,
        securityContext: security.pod,
        containers: [container],
        ...(vols.volumes ? { volumes: vols.volumes } : {}),
      },
    };
    // ambient pods carry no proxy: ztunnel on the node carries their traffic
    const injected = isAmbient(this.namespace) ? template : injectPodTemplate(template, this.mesh,
      { apiVersion: 'apps/v1', kind: 'Deployment', name: `${this.name}-${v.subsetName}`, namespace: this.namespace.name }, o.proxy ?? {}, this.node.path,
      this.props.securityContext?.allowPrivilegedApp === true);
    return {
      replicas: v.replicas,
      selector: { matchLabels: { ...v.selector } },
      template: injected,
    };
  }
}

function checkPercent0to100Integer(scope: Construct, field: string, value: number) {
  checkInteger(scope, field, value, 0, 100);
}
