import { Construct, IConstruct } from 'constructs';
import { ISTIO_CSR_DEFAULT_ADDRESS, ISTIO_CSR_DEFAULT_POD_LABELS, ISTIO_CSR_DEFAULT_POD_PORT } from '../control-plane/constants';
import { invalid } from '../errors';
import {
  CLUSTER_DOMAIN, DEFAULT_ISTIO_HUB, DEFAULT_ISTIO_VERSION, DEFAULT_KUBERNETES_VERSION, DEFAULT_ROOT_NAMESPACE,
  DEFAULT_TRUST_DOMAIN, IMAGE_PILOT, IMAGE_PROXY, MIN_KUBERNETES_MINOR, NATIVE_SIDECAR_MIN_KUBERNETES_MINOR,
} from './constants';
import { injectWorkload } from '../sidecar/inject';
import { resolveMeshInjection } from '../sidecar/mesh-settings';
import { MeshProxyConfig, ProxyOptions } from '../sidecar/proxy-options';
import { checkDnsLabel, checkLabels, checkPort, checkQuantity } from '../validation';
import { AMBIENT_ENABLE_HBONE, DataPlaneMode } from './data-plane';
import { InjectionMode } from './injection-mode';
import { RoutingApi } from './routing-api';

/** What the proxies do with traffic to destinations not in the service registry (meshConfig.outboundTrafficPolicy.mode). */
export enum OutboundTrafficPolicy {
  /** Let traffic to unknown destinations pass through (Istio's default). */
  ALLOW_ANY = 'ALLOW_ANY',
  /** Block traffic to destinations that are not services or ServiceEntries. */
  REGISTRY_ONLY = 'REGISTRY_ONLY',
}

/** CPU and memory requests and limits, as Kubernetes quantities. */
export interface ResourceSettings {
  /** @default - none */
  readonly cpuRequest?: string;
  /** @default - none */
  readonly memoryRequest?: string;
  /** @default - none */
  readonly cpuLimit?: string;
  /** @default - none */
  readonly memoryLimit?: string;
}

/** The attributes every construct reads from a mesh. */
export interface IMesh {
  /** The Istio version, e.g. `1.30.3`. */
  readonly version: string;
  /** The image registry, e.g. `docker.io/istio`. */
  readonly hub: string;
  /** The control plane revision; undefined for the default (unrevisioned) install. */
  readonly revision?: string;
  /** The trust domain, the first part of every workload's SPIFFE identity. */
  readonly trustDomain: string;
  /** The control plane's (and mesh config's root) namespace. */
  readonly rootNamespace: string;
  /** The targeted Kubernetes version, `major.minor`. */
  readonly kubernetesVersion: string;
  /** How proxies are injected. */
  readonly injectionMode: InjectionMode;
  /** Whether the Istio CNI node agent sets up traffic redirection (no NET_ADMIN init container). */
  readonly cni: boolean;
  /** Whether the proxy runs as a native sidecar (an init container with restartPolicy Always). */
  readonly nativeSidecars: boolean;
  /** The mesh-wide default data plane (sidecars or ambient); a ZeroTrustNamespace may choose its own. */
  readonly dataPlaneMode: DataPlaneMode;
  /** The mesh-wide outbound traffic policy. */
  readonly outboundTrafficPolicy: OutboundTrafficPolicy;
  /** The API the services' own routes are written in: Istio VirtualServices, or Gateway API routes attached to each Service (GAMMA). */
  readonly meshRouting: RoutingApi;
  /** Default resources of every proxy. */
  readonly proxyResources: ResourceSettings;
  /** The istiod Service name (`istiod` or `istiod-<revision>`). */
  readonly istiodServiceName: string;
  /** The address proxies use for xDS and certificates, e.g. `istiod.istio-system.svc:15012`. */
  readonly discoveryAddress: string;
  /** The address proxies send certificate requests to (`CA_ADDR`): istiod's discovery address unless an external CA is used. */
  readonly caAddress: string;
  /** The external CA's pods (namespace, ports, labels), or undefined when istiod signs workload certificates. */
  readonly caEndpoint?: CaEndpoint;
  /** The value of the `istio.io/rev` label/annotation: the revision, or `default`. */
  readonly revisionLabel: string;
  /** The proxy image, `<hub>/proxyv2:<version>`. */
  readonly proxyImage: string;
  /** The istiod image, `<hub>/pilot:<version>`. */
  readonly pilotImage: string;
  /** The cluster DNS domain. */
  readonly clusterDomain: string;
  /** The network of this cluster's workloads (Istio's `values.global.network`); undefined for a single network. */
  readonly network?: string;
  /** Image pull Secrets added to every injected pod (Istio's `values.global.imagePullSecrets`). */
  readonly imagePullSecrets: string[];
  /** Mesh-wide proxy defaults (`meshConfig.defaultConfig`), as given. */
  readonly defaultProxyConfig: MeshProxyConfig;

  /** The SPIFFE principal (without `spiffe://`) of a service account: `<trust domain>/ns/<namespace>/sa/<name>`. */
  principalFor(namespace: string, serviceAccount: string): string;
}

/** Mesh-wide settings. */
export interface MeshProps {
  /**
   * The Istio version, `major.minor.patch`.
   * @default '1.30.3'
   */
  readonly version?: string;
  /**
   * The registry of Istio's images.
   * @default 'docker.io/istio'
   */
  readonly hub?: string;
  /**
   * A named control plane revision (a DNS label such as `1-30`). Names and labels of the control plane objects get
   * the revision, as Istio's charts do, and workloads select it with `istio.io/rev`.
   * @default - the default revision
   */
  readonly revision?: string;
  /**
   * The trust domain.
   * @default 'cluster.local'
   */
  readonly trustDomain?: string;
  /**
   * The control plane's namespace (the mesh config's root namespace).
   * @default 'istio-system'
   */
  readonly rootNamespace?: string;
  /**
   * The Kubernetes version of the target cluster, `major.minor`. Istio 1.30 supports 1.32 and later; from 1.33,
   * proxies run as native sidecars by default.
   * @default '1.33'
   */
  readonly kubernetesVersion?: string;
  /**
   * How proxies are injected.
   * @default InjectionMode.SYNTH_TIME
   */
  readonly injectionMode?: InjectionMode;
  /**
   * Whether the Istio CNI node agent is installed and sets up traffic redirection (IstioControlPlane synthesizes the
   * agent). With CNI, pods need no NET_ADMIN/NET_RAW init container, so ZeroTrustNamespaces enforce the `restricted`
   * Pod Security level. `cni: false` is the named opt-out (clusters where no privileged node agent may run): pods
   * then carry `istio-init`, which adds NET_ADMIN and NET_RAW and runs as root, so ZeroTrustNamespaces enforce
   * `privileged`.
   * @default true
   */
  readonly cni?: boolean;
  /**
   * Whether proxies run as native sidecars (init containers with restartPolicy Always).
   * @default - true when kubernetesVersion is 1.33 or later, as Istio decides for 1.33+ kubelets
   */
  readonly nativeSidecars?: boolean;
  /**
   * The mesh-wide default data plane. `DataPlaneMode.AMBIENT` makes every ZeroTrustNamespace ambient unless it says
   * otherwise, and IstioControlPlane installs ztunnel and the CNI agent's ambient mode. A mixed mesh keeps the
   * default and switches namespaces one at a time (`ZeroTrustNamespace({ dataPlaneMode })`), which installs the
   * same. Ambient mode needs the Istio CNI agent (`cni: true`).
   * @default DataPlaneMode.SIDECAR
   */
  readonly dataPlaneMode?: DataPlaneMode;
  /**
   * The mesh-wide outbound traffic policy.
   * @default OutboundTrafficPolicy.ALLOW_ANY
   */
  readonly outboundTrafficPolicy?: OutboundTrafficPolicy;
  /**
   * The API every MeshedService's own routes (weights, matches, canaries, mirrors, timeouts, header changes, CORS,
   * rewrites) are written in. `RoutingApi.ISTIO`: a VirtualService per service. `RoutingApi.GATEWAY_API`: an
   * `HTTPRoute` (a `GRPCRoute` for gRPC ports) whose parent is the Service itself (the Gateway API's mesh support,
   * GAMMA), rendered from the same route model, with per-version backend Services (`<service>-<subset>`) and their
   * DestinationRules. It works with sidecars and in ambient namespaces (a waypoint applies the routes), so a team can
   * move its routing first and its data plane second. What the Gateway API standard channel cannot express (retries,
   * faults, direct responses, layer-4 routes, a controller's subsets...) is refused when it is declared.
   * @default RoutingApi.ISTIO
   */
  readonly meshRouting?: RoutingApi;
  /**
   * Default resources of every proxy.
   * @default - requests cpu 100m, memory 128Mi; limits cpu 2, memory 1Gi (Istio's defaults)
   */
  readonly proxyResources?: ResourceSettings;
  /**
   * The network this cluster's workloads are on, for multi-network meshes (Istio's `values.global.network`). Injected
   * proxies get `ISTIO_META_NETWORK` and their pods the `topology.istio.io/network` label; a pod's own
   * `topology.istio.io/network` label wins.
   * @default - a single network (none set)
   */
  readonly network?: string;
  /**
   * Names of image pull Secrets (in each workload's namespace) that injected pods get, to pull the proxy image from a
   * private registry (Istio's `values.global.imagePullSecrets`).
   * @default - none
   */
  readonly imagePullSecrets?: string[];
  /**
   * Mesh-wide proxy defaults (`meshConfig.defaultConfig`): drain durations, holdApplicationUntilProxyStarts,
   * concurrency, proxyMetadata. Each pod's `proxy.istio.io/config` (ProxyOptions) is merged over them.
   * @default - Istio's defaults
   */
  readonly defaultProxyConfig?: MeshProxyConfig;
  /**
   * The address proxies send their certificate requests to (`CA_ADDR`), when an external CA signs workload
   * certificates, e.g. istio-csr's `cert-manager-istio-csr.cert-manager.svc:443` (see `MeshCertificates.istioCsr`).
   * @default - istiod (the discovery address)
   */
  readonly caAddress?: string;
  /**
   * The port the CA's pods listen on, when it differs from the port of `caAddress` (a Service port): zero-trust
   * namespaces allow egress to it (a NetworkPolicy matches the pod's port, not the Service's).
   * @default - 6443 for istio-csr's default address (its chart maps Service port 443 to 6443), else the port of caAddress
   */
  readonly caPodPort?: number;
  /**
   * Labels of the CA's pods, to narrow the zero-trust namespaces' egress rule to them.
   * @default - `app: cert-manager-istio-csr` for istio-csr's default address, else every pod of the CA's namespace
   */
  readonly caPodLabels?: { [key: string]: string };
}

/** Where proxies send their certificate requests when it is not istiod: the pods behind `caAddress`. */
export interface CaEndpoint {
  /** The CA Service's namespace (from `<service>.<namespace>.svc[...]:<port>`), undefined when the host names none. */
  readonly namespace?: string;
  /** The Service port (from caAddress). */
  readonly servicePort: number;
  /** The port the CA's pods listen on. */
  readonly podPort: number;
  /** The CA pods' labels (empty: any pod of the namespace). */
  readonly podLabels: { [key: string]: string };
}

/** Attributes of a mesh defined elsewhere (another chart or repository). */
export interface MeshAttributes extends MeshProps {}

const VERSION = /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/;
const K8S_VERSION = /^1\.(\d+)$/;
// trust domains are SPIFFE trust domains: lowercase letters, digits, '.', '-', '_'
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;

/** Istio's default proxy resources (values.global.proxy.resources). */
export const DEFAULT_PROXY_RESOURCES: ResourceSettings = {
  cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '2', memoryLimit: '1Gi',
};

/** Resolves and validates mesh settings. @internal */
function resolve(path: string, props: MeshProps) {
  const version = props.version ?? DEFAULT_ISTIO_VERSION;
  if (!VERSION.test(version)) invalid(path, 'version', version, "must be an Istio release 'major.minor.patch', e.g. '1.30.3'");
  const hub = props.hub ?? DEFAULT_ISTIO_HUB;
  if (!/^[a-z0-9]([a-z0-9.:_-]*[a-z0-9])?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$/.test(hub)) {
    invalid(path, 'hub', hub, "must be an image registry path such as 'docker.io/istio' or 'gcr.io/istio-release'");
  }
  if (props.revision !== undefined) {
    checkDnsLabel(path, 'revision', props.revision);
    if (props.revision === 'default') invalid(path, 'revision', props.revision, "'default' is the unrevisioned control plane: omit revision instead");
  }
  const trustDomain = props.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  if (!TRUST_DOMAIN.test(trustDomain) || trustDomain.length > 255) {
    invalid(path, 'trustDomain', trustDomain, "must be a SPIFFE trust domain: lowercase letters, digits, '.', '-' and '_' (no scheme, no path)");
  }
  const rootNamespace = props.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  checkDnsLabel(path, 'rootNamespace', rootNamespace);
  const kubernetesVersion = props.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION;
  const k = K8S_VERSION.exec(kubernetesVersion);
  if (!k) invalid(path, 'kubernetesVersion', kubernetesVersion, "must be 'major.minor', e.g. '1.33'");
  const minor = parseInt(k![1], 10);
  if (minor < MIN_KUBERNETES_MINOR) {
    invalid(path, 'kubernetesVersion', kubernetesVersion, `Istio ${version} supports Kubernetes 1.${MIN_KUBERNETES_MINOR} and later`);
  }
  const nativeSidecars = props.nativeSidecars ?? minor >= NATIVE_SIDECAR_MIN_KUBERNETES_MINOR;
  const r = { ...DEFAULT_PROXY_RESOURCES, ...props.proxyResources };
  checkQuantity(path, 'proxyResources.cpuRequest', r.cpuRequest);
  checkQuantity(path, 'proxyResources.memoryRequest', r.memoryRequest);
  checkQuantity(path, 'proxyResources.cpuLimit', r.cpuLimit);
  checkQuantity(path, 'proxyResources.memoryLimit', r.memoryLimit);
  const injectionMode = props.injectionMode ?? InjectionMode.SYNTH_TIME;
  if (!Object.values(InjectionMode).includes(injectionMode)) {
    invalid(path, 'injectionMode', injectionMode, `must be one of ${Object.values(InjectionMode).join(', ')}`);
  }
  if (props.caAddress !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*:\d{1,5}$/.test(props.caAddress)) {
    invalid(path, 'caAddress', props.caAddress, "must be 'host:port', e.g. 'cert-manager-istio-csr.cert-manager.svc:443'");
  }
  if (props.caPodPort !== undefined) checkPort(path, 'caPodPort', props.caPodPort);
  if (props.caPodLabels !== undefined) checkLabels(path, 'caPodLabels', props.caPodLabels);
  if ((props.caPodPort !== undefined || props.caPodLabels !== undefined) && props.caAddress === undefined) {
    invalid(path, props.caPodPort !== undefined ? 'caPodPort' : 'caPodLabels', props.caPodPort ?? props.caPodLabels, 'applies to an external CA: set caAddress too');
  }
  const injection = resolveMeshInjection(path, props);
  const dataPlaneMode = props.dataPlaneMode ?? DataPlaneMode.SIDECAR;
  if (!Object.values(DataPlaneMode).includes(dataPlaneMode)) {
    invalid(path, 'dataPlaneMode', dataPlaneMode, `must be one of ${Object.values(DataPlaneMode).join(', ')}`);
  }
  if (dataPlaneMode === DataPlaneMode.AMBIENT && props.cni === false) {
    invalid(path, 'cni', false, 'must not be false with DataPlaneMode.AMBIENT: the Istio CNI agent redirects ambient pods\' traffic to ztunnel');
  }
  const outboundTrafficPolicy = props.outboundTrafficPolicy ?? OutboundTrafficPolicy.ALLOW_ANY;
  if (!Object.values(OutboundTrafficPolicy).includes(outboundTrafficPolicy)) {
    invalid(path, 'outboundTrafficPolicy', outboundTrafficPolicy, `must be one of ${Object.values(OutboundTrafficPolicy).join(', ')}`);
  }
  const meshRouting = props.meshRouting ?? RoutingApi.ISTIO;
  if (!Object.values(RoutingApi).includes(meshRouting)) {
    invalid(path, 'meshRouting', meshRouting, `must be one of ${Object.values(RoutingApi).join(', ')}`);
  }
  if (dataPlaneMode === DataPlaneMode.AMBIENT) {
    // Istio 1.30.3's ambient profile (manifests/helm-profiles/ambient.yaml): every Envoy of the mesh (sidecars,
    // gateways) also accepts HBONE, so ztunnel can reach them with mTLS from ambient pods; the user's value wins
    const meta = injection.defaultProxyConfig.proxyMetadata ?? {};
    (injection.defaultProxyConfig as any).proxyMetadata = { [AMBIENT_ENABLE_HBONE]: 'true', ...meta };
  }
  return {
    version,
    hub,
    revision: props.revision,
    trustDomain,
    rootNamespace,
    kubernetesVersion,
    nativeSidecars,
    cni: props.cni ?? true,
    injectionMode,
    dataPlaneMode,
    outboundTrafficPolicy,
    meshRouting,
    proxyResources: r,
    ...injection,
    caAddressOverride: props.caAddress,
    caPodPort: props.caPodPort,
    caPodLabels: props.caPodLabels,
  };
}

/** Everything derived from the settings, shared by Mesh and Mesh.fromAttributes. */
abstract class MeshBase extends Construct implements IMesh {
  public abstract readonly version: string;
  public abstract readonly hub: string;
  public abstract readonly revision?: string;
  public abstract readonly trustDomain: string;
  public abstract readonly rootNamespace: string;
  public abstract readonly kubernetesVersion: string;
  public abstract readonly injectionMode: InjectionMode;
  public abstract readonly cni: boolean;
  public abstract readonly nativeSidecars: boolean;
  public abstract readonly dataPlaneMode: DataPlaneMode;
  public abstract readonly outboundTrafficPolicy: OutboundTrafficPolicy;
  public abstract readonly meshRouting: RoutingApi;
  public abstract readonly proxyResources: ResourceSettings;
  public abstract readonly network?: string;
  public abstract readonly imagePullSecrets: string[];
  public abstract readonly defaultProxyConfig: MeshProxyConfig;
  public readonly clusterDomain = CLUSTER_DOMAIN;

  public get istiodServiceName(): string {
    return this.revision ? `istiod-${this.revision}` : 'istiod';
  }
  public get discoveryAddress(): string {
    return `${this.istiodServiceName}.${this.rootNamespace}.svc:15012`;
  }
  /** @internal */
  protected _caAddress?: string;
  /** @internal */
  protected _caPod: { port?: number; labels?: { [key: string]: string } } = {};
  /** The external CA's pods, or undefined when istiod signs certificates (caAddress is the discovery address). */
  public get caEndpoint(): CaEndpoint | undefined {
    if (this._caAddress === undefined || this._caAddress === this.discoveryAddress) return undefined;
    const [host, port] = this._caAddress.split(':');
    const parts = host.split('.');
    const servicePort = parseInt(port, 10);
    const istioCsr = this._caAddress === ISTIO_CSR_DEFAULT_ADDRESS;
    return {
      namespace: parts.length >= 3 && parts[2] === 'svc' ? parts[1] : undefined,
      servicePort,
      podPort: this._caPod.port ?? (istioCsr ? ISTIO_CSR_DEFAULT_POD_PORT : servicePort),
      podLabels: { ...(this._caPod.labels ?? (istioCsr ? ISTIO_CSR_DEFAULT_POD_LABELS : {})) },
    };
  }
  public get caAddress(): string {
    return this._caAddress ?? this.discoveryAddress;
  }
  public get revisionLabel(): string {
    return this.revision ?? 'default';
  }
  public get proxyImage(): string {
    return `${this.hub}/${IMAGE_PROXY}:${this.version}`;
  }
  public get pilotImage(): string {
    return `${this.hub}/${IMAGE_PILOT}:${this.version}`;
  }
  public principalFor(namespace: string, serviceAccount: string): string {
    return `${this.trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
  }
  /**
   * Adds the Istio proxy to a workload's pod template (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod, a
   * cdk8s-plus workload...) as `istioctl kube-inject` would, or, in webhook mode, the labels istiod's webhook selects
   * on. See `SidecarInjector` for the details (and why injected pods carry `sidecar.istio.io/inject: "false"`). A `List`
   * (included YAML with `kind: List`) or a cdk8s `Include` has each of its workloads injected.
   *
   * The app containers are checked as a MeshedService's are: no capabilities beyond NET_BIND_SERVICE (none as root),
   * not privileged, no hostPID, never UID/GID 1337: each would let the app rewrite or escape the traffic capture.
   * @param allowPrivilegedApp the named opt-out of those checks (never of UID 1337)
   */
  public inject(workload: IConstruct, options?: ProxyOptions, allowPrivilegedApp?: boolean): void {
    injectWorkload(workload, this, options ?? {}, allowPrivilegedApp ?? false);
  }
}

/**
 * The mesh: the settings every other construct reads (Istio version, revision, trust domain, injection mode...).
 *
 * A Mesh synthesizes nothing itself; `IstioControlPlane` installs it, and the other constructs take it as `mesh`.
 */
export class Mesh extends MeshBase {
  /**
   * Refers to a mesh defined elsewhere (another chart or repository), by its settings.
   */
  public static fromAttributes(scope: Construct, id: string, attrs: MeshAttributes = {}): IMesh {
    return new ImportedMesh(scope, id, attrs);
  }

  /** Whether `x` is a Mesh construct of this library. */
  public static isMesh(x: any): x is Mesh {
    return x instanceof MeshBase;
  }

  public readonly version: string;
  public readonly hub: string;
  public readonly revision?: string;
  public readonly trustDomain: string;
  public readonly rootNamespace: string;
  public readonly kubernetesVersion: string;
  public readonly injectionMode: InjectionMode;
  public readonly cni: boolean;
  public readonly nativeSidecars: boolean;
  public readonly dataPlaneMode: DataPlaneMode;
  public readonly outboundTrafficPolicy: OutboundTrafficPolicy;
  public readonly meshRouting: RoutingApi;
  public readonly proxyResources: ResourceSettings;
  public readonly network?: string;
  public readonly imagePullSecrets: string[];
  public readonly defaultProxyConfig: MeshProxyConfig;

  constructor(scope: Construct, id: string, props: MeshProps = {}) {
    super(scope, id);
    const r = resolve(this.node.path, props);
    this.version = r.version;
    this.hub = r.hub;
    this.revision = r.revision;
    this.trustDomain = r.trustDomain;
    this.rootNamespace = r.rootNamespace;
    this.kubernetesVersion = r.kubernetesVersion;
    this.injectionMode = r.injectionMode;
    this.cni = r.cni;
    this.nativeSidecars = r.nativeSidecars;
    this.dataPlaneMode = r.dataPlaneMode;
    this.outboundTrafficPolicy = r.outboundTrafficPolicy;
    this.meshRouting = r.meshRouting;
    this.proxyResources = r.proxyResources;
    this._caAddress = r.caAddressOverride;
    this.network = r.network;
    this.imagePullSecrets = r.imagePullSecrets;
    this.defaultProxyConfig = r.defaultProxyConfig;
    this._caPod = { port: r.caPodPort, labels: r.caPodLabels };
  }
}

/** A mesh defined elsewhere: the same resolved settings, nothing of its own to synthesize. */
class ImportedMesh extends Mesh {}
