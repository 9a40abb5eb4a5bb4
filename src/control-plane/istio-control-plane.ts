import { ApiObject, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import * as YAML from 'yaml';
import {
  CA_ROOT_CONFIGMAP, CACERTS_MOUNT, CACERTS_SECRET, CNI_NOT_READY_TAINT, DEFAULT_VALIDATOR_NAME,
  DEFAULT_VALIDATOR_WEBHOOK, INJECTION_WEBHOOK_PATH, InjectionWebhooks, INJECTOR_CONFIG_KEY, INJECTOR_CONFIGMAP,
  INJECTOR_VALUES_KEY, ISTIO_CA_AUDIENCE, ISTIO_TOKEN_EXPIRATION_SECONDS, ISTIOD_APP, ISTIOD_CA_MOUNT, ISTIOD_CONTAINER,
  ISTIOD_DEFAULT_CPU_REQUEST, ISTIOD_DEFAULT_CPU_TARGET, ISTIOD_DEFAULT_MAX_REPLICAS, ISTIOD_DEFAULT_MEMORY_REQUEST,
  ISTIOD_DEFAULT_MIN_REPLICAS, ISTIOD_ISTIO_LABEL, ISTIOD_KEEPALIVE_MAX_SERVER_CONNECTION_AGE, ISTIOD_READY_PATH,
  ISTIOD_TLS_MOUNT, ISTIOD_TLS_SECRET, KUBECONFIG_MOUNT, KUBECONFIG_SECRET, MESH_CONFIGMAP, MESH_CONFIGMAP_KEY,
  MESH_NETWORKS_KEY, OPERATOR_COMPONENT, GO_FALSE, GO_TRUE, IstiodEnvSwitches, OPERATOR_COMPONENT_LABEL,
  PATH_NORMALIZATION, READER_SERVICE_ACCOUNT, REV_VALIDATOR_WEBHOOK, VALIDATION_WEBHOOK_PATH, WEBHOOK_SERVICE_PORT,
} from './constants';
import { loadCrdBundle, UpstreamCrd } from './crds';
import { gatewayInjectionTemplate, kubeGatewayTemplate, TEMPLATE_GATEWAY, TEMPLATE_KUBE_GATEWAY } from './injection-templates';
import { chartInjectorValues } from './injector-values';
import { IstioCni, IstioCniOptions } from './istio-cni';
import { gatewayControllerRules, istiodClusterRules, istiodNamespaceRules, readerClusterRules, RbacFeatures, Rule } from './rbac';
import { Ztunnel, ZtunnelOptions } from './ztunnel';
import { MeshCertificates, MeshCertificatesConfig } from '../certificates/mesh-certificates';
import { invalid } from '../errors';
import {
  DEFAULT_CLUSTER_ID, IMAGE_PROXY, IstioAnnotations, IstioGroups, IstioLabels, IstioPorts, MANAGED_BY,
  MANAGED_BY_LABEL,
} from '../mesh/constants';
import { DataPlaneMode } from '../mesh/data-plane';
import { InjectionMode } from '../mesh/injection-mode';
import { IMesh, ResourceSettings } from '../mesh/mesh';
import { MeshModel } from '../model/mesh-model';
import { imagePullSecretRefs } from '../sidecar/mesh-settings';
import { meshProxyConfig } from '../sidecar/proxy-config';
import { checkDnsSubdomain, checkInteger, checkLabels, checkQuantity, sortKeys } from '../validation';

/** The encoding of Envoy's access log (meshConfig.accessLogEncoding). */
export enum AccessLogEncoding {
  /** Plain text lines (Istio's default format). */
  TEXT = 'TEXT',
  /** One JSON object per line. */
  JSON = 'JSON',
}

/** The kinds of mesh-wide default providers (meshConfig.defaultProviders). */
export enum DefaultProviderKind {
  /** Metrics providers, e.g. `prometheus`. */
  METRICS = 'metrics',
  /** Tracing providers. */
  TRACING = 'tracing',
  /** Access logging providers, e.g. `envoy`. */
  ACCESS_LOGGING = 'accessLogging',
}

/** Mesh-wide default providers, by name (built-in ones or `addExtensionProvider` names). */
export interface MeshDefaultProviders {
  /**
   * Metrics providers.
   * @default ['prometheus']
   */
  readonly metrics?: string[];
  /**
   * Tracing providers.
   * @default - none
   */
  readonly tracing?: string[];
  /**
   * Access logging providers.
   * @default - none
   */
  readonly accessLogging?: string[];
}

/** istiod's HorizontalPodAutoscaler. */
export interface IstiodAutoscaling {
  /**
   * The minimum number of replicas; above 1, a PodDisruptionBudget (minAvailable 1) is added.
   * @default 1
   */
  readonly minReplicas?: number;
  /**
   * The maximum number of replicas.
   * @default 5
   */
  readonly maxReplicas?: number;
  /**
   * The average CPU utilisation (percent of the request) the autoscaler aims for.
   * @default 80
   */
  readonly cpuTargetPercent?: number;
}

/** Properties of `IstioControlPlane`. */
export interface IstioControlPlaneProps {
  /** The mesh this control plane runs (version, revision, trust domain, root namespace...). */
  readonly mesh: IMesh;
  /**
   * Where istiod's signing CA comes from.
   * @default - istiod creates a self-signed root (Istio's default), or uses a `cacerts` Secret you create
   */
  readonly certificates?: MeshCertificates;
  /**
   * A fixed number of istiod replicas (turns autoscaling off). Above 1, a PodDisruptionBudget (minAvailable 1) is
   * added. Cannot be combined with `autoscaling`.
   * @default - autoscaling from 1 to 5 replicas at 80% CPU
   */
  readonly replicas?: number;
  /**
   * istiod's autoscaling. Cannot be combined with `replicas`.
   * @default - min 1, max 5, 80% CPU (Istio's default)
   */
  readonly autoscaling?: IstiodAutoscaling;
  /**
   * istiod's CPU and memory requests and limits (Kubernetes quantities).
   * @default - requests cpu 500m, memory 2048Mi; no limits (Istio's default)
   */
  readonly resources?: ResourceSettings;
  /**
   * Whether every proxy writes an access log (meshConfig.accessLogFile).
   * @default false
   */
  readonly accessLogging?: boolean;
  /**
   * Where proxies write the access log, when `accessLogging` is on.
   * @default '/dev/stdout'
   */
  readonly accessLogFile?: string;
  /**
   * The access log's encoding, when `accessLogging` is on.
   * @default AccessLogEncoding.TEXT
   */
  readonly accessLogEncoding?: AccessLogEncoding;
  /**
   * Mesh-wide default providers (meshConfig.defaultProviders); more can be added with `addDefaultProvider`.
   * @default - metrics: ['prometheus']
   */
  readonly defaultProviders?: MeshDefaultProviders;
  /**
   * Extra mesh config, deep-merged over what this construct renders (an escape hatch for fields not modelled here).
   * @default - none
   */
  readonly meshConfigOverrides?: { [key: string]: any };
  /**
   * Extra environment variables for istiod (feature flags), added after Istio's own, sorted by name. They cannot
   * replace a variable this construct sets.
   * @default - none
   */
  readonly env?: { [name: string]: string };
  /**
   * Node selector of the istiod pods.
   * @default - none
   */
  readonly nodeSelector?: { [key: string]: string };
  /**
   * Extra tolerations of the istiod pods (istiod always tolerates `cni.istio.io/not-ready`).
   * @default - none
   */
  readonly tolerations?: k8s.Toleration[];
  /**
   * Affinity of the istiod pods.
   * @default - none
   */
  readonly affinity?: k8s.Affinity;
  /**
   * Whether to install Istio's CustomResourceDefinitions (and the istio-reader service account of Istio's base chart).
   * Turn off for a second revision in the same cluster, or when the CRDs are managed elsewhere.
   * @default true
   */
  readonly installCrds?: boolean;
  /**
   * Whether to create the root namespace. Turn off for a second revision in the same namespace.
   * @default true
   */
  readonly createNamespace?: boolean;
  /**
   * Whether istiod deploys gateways for Gateway API `Gateway` objects (the gateway deployment controller), which
   * needs the `istiod-gateway-controller` ClusterRole: create and delete Deployments, Services and ServiceAccounts
   * in every namespace. By default it is on only when the app declares a gateway of this mesh that Istio deploys
   * (`MeshGateway` with `GatewayDeployment.ISTIO_AUTOMATED`), declared before or after the control plane; otherwise
   * the role is not created and istiod runs with `PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER=false`. `true`
   * grants it regardless (automated gateways declared in another app); `false` refuses automated gateways.
   * @default - on exactly when an automated gateway of this mesh is declared in the app
   */
  readonly gatewayDeploymentController?: boolean;
  /**
   * Multicluster: remote-secret discovery and Kubernetes MCS. When off (the default), the RBAC that only
   * multicluster needs (the reader's cluster-wide Secret access, ServiceExport/ServiceImport) is left out.
   * @default false
   */
  readonly multicluster?: boolean;
  /**
   * The injection templates istiod's webhook renders (the `templates` of the `istio-sidecar-injector` ConfigMap), by
   * name (`sidecar`, `gateway`...), as Go templates from the Istio release matching the mesh version (its chart file
   * `istio-discovery/files/injection-template.yaml` is `sidecar`). This library injects at synth time and ships no
   * templates; with `InjectionMode.WEBHOOK` they are required.
   * @default - none (synth-time injection)
   */
  readonly injectionTemplates?: { [name: string]: string };
  /**
   * The Istio CNI node agent's options, when the mesh has `cni: true` (its platform, namespace, resources).
   * @default - CniPlatform.standard() in the mesh's root namespace
   */
  readonly cni?: IstioCniOptions;
  /**
   * Whether this control plane installs the Istio CNI node agent of a mesh with `cni: true`. The agent is one per
   * cluster: turn off for a second revision.
   * @default true
   */
  readonly installCni?: boolean;
  /**
   * ztunnel's options (namespace, resources; its platform is the CNI agent's), for ambient mode: the control plane
   * that installs the CNI agent installs ztunnel, the agent's ambient mode and istiod's ambient settings when the mesh
   * (`Mesh({ dataPlaneMode: DataPlaneMode.AMBIENT })`) or any ZeroTrustNamespace of it is ambient.
   * @default - the mesh's root namespace, Istio's default resources
   */
  readonly ztunnel?: ZtunnelOptions;
  /**
   * Extra injector values, deep-merged over the `values` key of the `istio-sidecar-injector` ConfigMap that the
   * webhook's templates read.
   * @default - none
   */
  readonly injectorValues?: { [key: string]: any };
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function deepMerge(base: any, over: any): any {
  if (over === undefined) return base;
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: any = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
    return out;
  }
  return over;
}

function yaml(value: any): string {
  return YAML.stringify(sortKeys(value), { lineWidth: 0 });
}

function quantities(r: ResourceSettings): k8s.ResourceRequirements {
  const pick = (cpu?: string, memory?: string) => {
    const out: { [key: string]: k8s.Quantity } = {};
    if (cpu !== undefined) out.cpu = k8s.Quantity.fromString(cpu);
    if (memory !== undefined) out.memory = k8s.Quantity.fromString(memory);
    return out;
  };
  const requests = pick(r.cpuRequest, r.memoryRequest);
  const limits = pick(r.cpuLimit, r.memoryLimit);
  return {
    requests: Object.keys(requests).length ? requests : undefined,
    limits: Object.keys(limits).length ? limits : undefined,
  };
}

/**
 * Istio's control plane: everything a minimal production install of istiod has (Istio's `base` and `istiod`
 * charts), built from the mesh's settings.
 *
 * It synthesizes the root namespace, Istio's 15 CRDs, istiod's service accounts and least-privilege RBAC, the mesh
 * config (`istio`) and injector (`istio-sidecar-injector`) ConfigMaps, the injection and validation webhooks, and
 * the istiod Deployment, Service, HorizontalPodAutoscaler and (with more than one replica) PodDisruptionBudget. A
 * mesh revision renames and relabels the objects as Istio does (`istiod-1-30`, `istio.io/rev: 1-30`).
 *
 * Every object is reachable as a property (escape hatch: `addJsonPatch`).
 */
export class IstioControlPlane extends Construct {
  /** The mesh this control plane runs. */
  public readonly mesh: IMesh;
  /** The name of istiod's Deployment, Service and ServiceAccount (`istiod` or `istiod-<revision>`). */
  public readonly istiodName: string;
  /** The root namespace, when created here. */
  public readonly namespace?: k8s.KubeNamespace;
  /**
   * Istio's CustomResourceDefinitions (empty when `installCrds` is off). Their specs are Istio's as bundled, rendered
   * once per process and shared: the spec in `toJson()` is read-only; change a CRD with `addJsonPatch`.
   */
  public readonly crds: ApiObject[];
  /** istiod's ServiceAccount. */
  public readonly istiodServiceAccount: k8s.KubeServiceAccount;
  /** The istio-reader ServiceAccount (with `installCrds`). */
  public readonly readerServiceAccount?: k8s.KubeServiceAccount;
  /** The mesh config ConfigMap (`istio[-<rev>]`). */
  public readonly meshConfigMap: k8s.KubeConfigMap;
  /** The injector ConfigMap (`istio-sidecar-injector[-<rev>]`). */
  public readonly injectorConfigMap: k8s.KubeConfigMap;
  /** The sidecar injection webhook. */
  public readonly injectionWebhook: k8s.KubeMutatingWebhookConfiguration;
  /** The per-revision validation webhook (`istio-validator[-<rev>]-<ns>`). */
  public readonly validationWebhook: k8s.KubeValidatingWebhookConfiguration;
  /** The default validation webhook (`istiod-default-validator`), for the default revision only. */
  public readonly defaultValidationWebhook?: k8s.KubeValidatingWebhookConfiguration;
  /** istiod's Deployment. */
  public readonly istiodDeployment: k8s.KubeDeployment;
  /** istiod's Service. */
  public readonly istiodService: k8s.KubeService;
  /** istiod's HorizontalPodAutoscaler (unless `replicas` is set). */
  public readonly autoscaler?: k8s.KubeHorizontalPodAutoscalerV2;
  /** istiod's PodDisruptionBudget (with more than one replica). */
  public readonly podDisruptionBudget?: k8s.KubePodDisruptionBudget;
  /** How the certificate setup configured istiod. */
  public readonly certificatesConfig: MeshCertificatesConfig;
  /** The Istio CNI node agent (when the mesh has `cni: true` and `installCni` is on). */
  public readonly cni?: IstioCni;
  /** ztunnel, once the mesh or a namespace of it is ambient (and this control plane installs the CNI agent). */
  public get ztunnel(): Ztunnel | undefined {
    return this.ztunnelNode;
  }

  private readonly props: IstioControlPlaneProps;
  private readonly extensionProviders = new Map<string, { [key: string]: any }>();
  /** Whether istiod's gateway deployment controller is on (its ClusterRole created). */
  private gatewayControllerOn = false;
  /** ztunnel, created when ambient mode is first needed. */
  private ztunnelNode?: Ztunnel;
  private readonly defaultProviders: { [kind: string]: string[] };

  /** The injector config as written (see the injector ConfigMap). */
  private injectorConfigText?: string;

  constructor(scope: Construct, id: string, props: IstioControlPlaneProps) {
    super(scope, id);
    const mesh = props.mesh;
    this.mesh = mesh;
    this.props = props;
    const ns = mesh.rootNamespace;
    const rev = mesh.revision;
    const revSuffix = rev ? `-${rev}` : '';
    this.istiodName = `${ISTIOD_APP}${revSuffix}`;

    // ---- validation
    if (props.replicas !== undefined && props.autoscaling !== undefined) {
      invalid(this, 'replicas', props.replicas, 'set either replicas (a fixed count) or autoscaling, not both');
    }
    checkInteger(this, 'replicas', props.replicas, 1, 100);
    const autoscaling = props.replicas === undefined ? {
      min: props.autoscaling?.minReplicas ?? ISTIOD_DEFAULT_MIN_REPLICAS,
      max: props.autoscaling?.maxReplicas ?? ISTIOD_DEFAULT_MAX_REPLICAS,
      cpu: props.autoscaling?.cpuTargetPercent ?? ISTIOD_DEFAULT_CPU_TARGET,
    } : undefined;
    if (autoscaling) {
      checkInteger(this, 'autoscaling.minReplicas', autoscaling.min, 1, 100);
      checkInteger(this, 'autoscaling.maxReplicas', autoscaling.max, 1, 100);
      checkInteger(this, 'autoscaling.cpuTargetPercent', autoscaling.cpu, 1, 100);
      if (autoscaling.min > autoscaling.max) {
        invalid(this, 'autoscaling.minReplicas', autoscaling.min, `must not exceed autoscaling.maxReplicas (${autoscaling.max})`);
      }
    }
    const resources: ResourceSettings = props.resources ?? { cpuRequest: ISTIOD_DEFAULT_CPU_REQUEST, memoryRequest: ISTIOD_DEFAULT_MEMORY_REQUEST };
    checkQuantity(this, 'resources.cpuRequest', resources.cpuRequest);
    checkQuantity(this, 'resources.memoryRequest', resources.memoryRequest);
    checkQuantity(this, 'resources.cpuLimit', resources.cpuLimit);
    checkQuantity(this, 'resources.memoryLimit', resources.memoryLimit);
    checkLabels(this, 'nodeSelector', props.nodeSelector);
    if (props.accessLogEncoding !== undefined && !Object.values(AccessLogEncoding).includes(props.accessLogEncoding)) {
      invalid(this, 'accessLogEncoding', props.accessLogEncoding, `must be one of ${Object.values(AccessLogEncoding).join(', ')}`);
    }
    if (props.accessLogFile !== undefined && (props.accessLogFile.trim() === '' || !props.accessLogFile.startsWith('/'))) {
      invalid(this, 'accessLogFile', props.accessLogFile, "must be an absolute path such as '/dev/stdout'");
    }
    if (mesh.injectionMode === InjectionMode.WEBHOOK && Object.keys(props.injectionTemplates ?? {}).length === 0) {
      invalid(this, 'injectionTemplates', props.injectionTemplates,
        "are required with InjectionMode.WEBHOOK: give Istio's injection templates for the mesh version (at least 'sidecar'), since istiod injects from them and this library ships none");
    }
    this.defaultProviders = {
      [DefaultProviderKind.METRICS]: [...(props.defaultProviders?.metrics ?? ['prometheus'])],
      [DefaultProviderKind.TRACING]: [...(props.defaultProviders?.tracing ?? [])],
      [DefaultProviderKind.ACCESS_LOGGING]: [...(props.defaultProviders?.accessLogging ?? [])],
    };
    for (const [kind, names] of Object.entries(this.defaultProviders)) {
      for (const n of names) this.checkProviderName(`defaultProviders.${kind}`, n);
    }

    // ---- certificates
    this.certificatesConfig = props.certificates?.bind(this, mesh)
      ?? { istiodEnv: {}, cacertsRequired: false, istiodIsCa: true, istiodSelfSigns: true };
    const certs = this.certificatesConfig;
    if (certs.caAddress !== undefined && mesh.caAddress !== certs.caAddress) {
      invalid(this, 'mesh.caAddress', mesh.caAddress,
        `must be '${certs.caAddress}' with this certificate setup, so that proxies request certificates from the external CA: set caAddress on the Mesh`);
    }

    const switches = this.envSwitches(props.env ?? {});
    const features: RbacFeatures = {
      multicluster: props.multicluster ?? false,
      gatewayDeploymentController: props.gatewayDeploymentController ?? false,
      selfSignedCa: certs.istiodSelfSigns,
      ...switches,
      mcs: (props.multicluster ?? false) || (switches.mcs ?? false),
    };

    // ---- labels
    const common: { [key: string]: string } = {
      [MANAGED_BY_LABEL]: MANAGED_BY,
      'app.kubernetes.io/part-of': 'istio',
      'app.kubernetes.io/name': ISTIOD_APP,
      'app.kubernetes.io/version': mesh.version,
      [IstioLabels.APP]: ISTIOD_APP,
      [IstioLabels.REV]: mesh.revisionLabel,
      [OPERATOR_COMPONENT_LABEL]: OPERATOR_COMPONENT,
    };
    const meta = (name: string, namespaced = true) => ({ name, ...(namespaced ? { namespace: ns } : {}), labels: { ...common } });
    const namespaced: ApiObject[] = [];

    // ---- CNI: validated here, created after the namespace
    const installCni = mesh.cni && (props.installCni ?? true);
    if (!mesh.cni && (props.cni !== undefined || props.installCni)) {
      invalid(this, props.cni !== undefined ? 'cni' : 'installCni', props.cni ?? props.installCni,
        'needs a mesh with cni: true (Mesh({ cni: true })): without it pods carry istio-init and no CNI agent is installed');
    }
    if (installCni) {
      // the agent is one per cluster (a DaemonSet on every node): a second control plane (revision) must not add one
      MeshModel.of(this).claim(this, 'istio-cni', 'cluster', 'installCni', 'true (the default with a cni mesh)',
        other => `must be false: ${other} already installs the Istio CNI node agent, one per cluster; set installCni: false on this control plane`);
    }
    const cniInRoot = installCni && (props.cni?.namespace ?? ns) === ns;

    // ---- namespace
    if (props.createNamespace ?? true) {
      this.namespace = new k8s.KubeNamespace(this, 'namespace', {
        metadata: {
          name: ns,
          labels: {
            [MANAGED_BY_LABEL]: MANAGED_BY,
            'app.kubernetes.io/part-of': 'istio',
            // istiod and gateways meet `baseline`; app pods with NET_ADMIN init containers do not belong here. The
            // Istio CNI agent does not (host paths, NET_ADMIN, SYS_ADMIN): where it runs the namespace is `privileged`.
            // so does ztunnel (NET_ADMIN, SYS_ADMIN), which comes when a namespace turns ambient (read at synth)
            'pod-security.kubernetes.io/enforce': Lazy.any({
              produce: () => (cniInRoot || this.ztunnelNode?.namespace === ns ? 'privileged' : 'baseline'),
            }) as any,
            'pod-security.kubernetes.io/warn': 'restricted',
          },
        },
      });
    }

    // ---- CRDs (Istio's base chart)
    const installCrds = props.installCrds ?? true;
    this.crds = [];
    if (installCrds) {
      const bundle = loadCrdBundle('istio');
      const crdScope = new Construct(this, 'crds');
      for (const crd of bundle.crds) {
        this.crds.push(new UpstreamCrd(crdScope, crd.metadata.name, {
          apiVersion: crd.apiVersion,
          kind: crd.kind,
          metadata: {
            name: crd.metadata.name,
            // standard labels instead of upstream's helm-era ones; annotations as upstream
            labels: {
              [MANAGED_BY_LABEL]: MANAGED_BY,
              'app.kubernetes.io/part-of': 'istio',
              'app.kubernetes.io/name': 'istio-crds',
              'app.kubernetes.io/version': bundle.version,
            },
            ...(crd.metadata.annotations ? { annotations: crd.metadata.annotations } : {}),
          },
        }, crd));
      }
    }

    // ---- service accounts
    // Istio 1.30.3's charts (istio-discovery and base serviceaccount.yaml) give the ServiceAccounts
    // values.global.imagePullSecrets: the pods that run as them pull from the mesh's registry
    const pullSecrets = imagePullSecretRefs(mesh);
    this.istiodServiceAccount = new k8s.KubeServiceAccount(this, 'istiod-sa', { metadata: meta(this.istiodName), ...pullSecrets });
    namespaced.push(this.istiodServiceAccount);
    if (installCrds) {
      this.readerServiceAccount = new k8s.KubeServiceAccount(this, 'reader-sa', {
        // a base-chart object shared by every revision: no revision labels
        metadata: { name: READER_SERVICE_ACCOUNT, namespace: ns, labels: { [MANAGED_BY_LABEL]: MANAGED_BY, 'app.kubernetes.io/part-of': 'istio', [IstioLabels.APP]: 'istio-reader' } },
        ...pullSecrets,
      });
      namespaced.push(this.readerServiceAccount);
    }

    // ---- RBAC
    const clusterRole = (cid: string, name: string, rules: Rule[], sa: string, app = ISTIOD_APP) => {
      const labels = { ...common, [IstioLabels.APP]: app };
      const role = new k8s.KubeClusterRole(this, cid, { metadata: { name, labels }, rules });
      new k8s.KubeClusterRoleBinding(this, `${cid}-binding`, {
        metadata: { name, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
      });
      return role;
    };
    clusterRole('istiod-clusterrole', `istiod-clusterrole${revSuffix}-${ns}`, istiodClusterRules(features), this.istiodName);
    // Trimmed vs upstream while the Gateway API deployment controller is off: no rights on Deployments/Services/...
    // By default it comes on (role and env) when the app declares an automated gateway of this mesh (a model fact).
    const grantController = () => {
      if (this.gatewayControllerOn) return;
      this.gatewayControllerOn = true;
      clusterRole('gateway-controller', `istiod-gateway-controller${revSuffix}-${ns}`, gatewayControllerRules(), this.istiodName);
    };
    if (features.gatewayDeploymentController) grantController();
    MeshModel.of(this).subscribe(f => {
      if (f.type !== 'gateway' || !f.gateway.automated) return;
      const gm = f.gateway.workload.mesh;
      if (gm.rootNamespace !== mesh.rootNamespace || (gm.revision ?? '') !== (mesh.revision ?? '')) return;
      if (props.gatewayDeploymentController === false) {
        invalid(this, 'gatewayDeploymentController', false,
          `must not be false: ${f.gateway.workload.node.path} is a gateway Istio deploys (GatewayDeployment.ISTIO_AUTOMATED); use GatewayDeployment.SYNTH_TIME or leave the controller on`);
      }
      grantController();
    });
    clusterRole('reader-clusterrole', `istio-reader-clusterrole${revSuffix}-${ns}`, readerClusterRules(features), READER_SERVICE_ACCOUNT, 'istio-reader');
    const role = new k8s.KubeRole(this, 'istiod-role', { metadata: meta(this.istiodName), rules: istiodNamespaceRules(features) });
    const roleBinding = new k8s.KubeRoleBinding(this, 'istiod-rolebinding', {
      metadata: meta(this.istiodName),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: this.istiodName },
      subjects: [{ kind: 'ServiceAccount', name: this.istiodName, namespace: ns }],
    });
    namespaced.push(role, roleBinding);

    // ---- mesh config
    this.meshConfigMap = new k8s.KubeConfigMap(this, 'mesh-config', {
      metadata: meta(`${MESH_CONFIGMAP}${revSuffix}`),
      data: {
        [MESH_CONFIGMAP_KEY]: Lazy.any({ produce: () => yaml(this.meshConfig) }),
        [MESH_NETWORKS_KEY]: yaml({ networks: {} }),
      },
    });
    // ---- injector config
    this.injectorConfigMap = new k8s.KubeConfigMap(this, 'injector-config', {
      metadata: meta(`${INJECTOR_CONFIGMAP}${revSuffix}`),
      data: {
        [INJECTOR_VALUES_KEY]: JSON.stringify(sortKeys(this.injectorValues()), undefined, 2),
        // rendered when first synthesized, once (its gateway templates are the costliest text of the control plane)
        [INJECTOR_CONFIG_KEY]: Lazy.any({ produce: () => (this.injectorConfigText ??= yaml(this.injectorConfig())) }),
      },
    });
    namespaced.push(this.meshConfigMap, this.injectorConfigMap);

    // ---- webhooks
    const service = (path: string) => ({ name: this.istiodName, namespace: ns, path, port: WEBHOOK_SERVICE_PORT });
    const injectionBase = {
      clientConfig: { service: service(INJECTION_WEBHOOK_PATH) },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
      failurePolicy: 'Fail',
      reinvocationPolicy: 'Never',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
    };
    const notFalse = { key: IstioLabels.INJECT, operator: 'NotIn', values: ['false'] };
    const revIn = { key: IstioLabels.REV, operator: 'In', values: [mesh.revisionLabel] };
    const revAbsent = { key: IstioLabels.REV, operator: 'DoesNotExist' };
    const injectionAbsent = { key: IstioLabels.INJECTION, operator: 'DoesNotExist' };
    const entry = (name: string, namespaceExprs: any[], objectExprs: any[]): k8s.MutatingWebhook => ({
      name, ...injectionBase, namespaceSelector: { matchExpressions: namespaceExprs }, objectSelector: { matchExpressions: objectExprs },
    });
    // istio-facts.md section a: the four entries (only the two `rev.` ones for a named revision)
    const webhooks: k8s.MutatingWebhook[] = [
      entry(InjectionWebhooks.REV_NAMESPACE, [revIn, injectionAbsent], [notFalse]),
      entry(InjectionWebhooks.REV_OBJECT, [revAbsent, injectionAbsent], [notFalse, revIn]),
    ];
    if (!rev) {
      webhooks.push(
        entry(InjectionWebhooks.NAMESPACE, [{ key: IstioLabels.INJECTION, operator: 'In', values: ['enabled'] }], [notFalse]),
        entry(InjectionWebhooks.OBJECT, [injectionAbsent, revAbsent], [{ key: IstioLabels.INJECT, operator: 'In', values: ['true'] }, revAbsent]),
      );
    }
    this.injectionWebhook = new k8s.KubeMutatingWebhookConfiguration(this, 'injection-webhook', {
      metadata: meta(`${INJECTOR_CONFIGMAP}${revSuffix}${ns === 'istio-system' ? '' : `-${ns}`}`, false),
      webhooks,
    });
    const validationBase = {
      clientConfig: { service: service(VALIDATION_WEBHOOK_PATH) },
      rules: [{
        operations: ['CREATE', 'UPDATE'],
        apiGroups: [IstioGroups.SECURITY, IstioGroups.NETWORKING, IstioGroups.TELEMETRY, IstioGroups.EXTENSIONS],
        apiVersions: ['*'],
        resources: ['*'],
      }],
      // Ignore until istiod has patched in its caBundle; istiod then switches it to Fail
      failurePolicy: 'Ignore',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
    };
    this.validationWebhook = new k8s.KubeValidatingWebhookConfiguration(this, 'validation-webhook', {
      metadata: meta(`istio-validator${revSuffix}-${ns}`, false),
      webhooks: [{ name: REV_VALIDATOR_WEBHOOK, ...validationBase, objectSelector: { matchExpressions: [revIn] } }],
    });
    if (!rev) {
      this.defaultValidationWebhook = new k8s.KubeValidatingWebhookConfiguration(this, 'default-validation-webhook', {
        metadata: meta(DEFAULT_VALIDATOR_NAME, false),
        webhooks: [{ name: DEFAULT_VALIDATOR_WEBHOOK, ...validationBase }],
      });
    }

    // ---- istiod
    const selector: { [key: string]: string } = rev
      ? { [IstioLabels.APP]: ISTIOD_APP, [IstioLabels.REV]: rev }
      : { [IstioLabels.ISTIO]: ISTIOD_ISTIO_LABEL };
    const serviceSelector: { [key: string]: string } = rev ? selector : { [IstioLabels.APP]: ISTIOD_APP, [IstioLabels.ISTIO]: ISTIOD_ISTIO_LABEL };
    const podLabels = {
      ...common,
      [IstioLabels.INJECT]: 'false',
      [IstioLabels.ISTIO]: ISTIOD_ISTIO_LABEL,
      [IstioLabels.DATAPLANE_MODE]: 'none',
    };
    const env = this.istiodEnv(certs);
    const r = quantities(resources);
    this.istiodDeployment = new k8s.KubeDeployment(this, 'istiod', {
      metadata: meta(this.istiodName),
      spec: {
        // replicas are the autoscaler's when autoscaling
        replicas: autoscaling ? undefined : props.replicas,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: k8s.IntOrString.fromString('100%'), maxUnavailable: k8s.IntOrString.fromString('25%') } },
        selector: { matchLabels: selector },
        template: {
          metadata: {
            labels: podLabels,
            annotations: {
              [IstioAnnotations.PROMETHEUS_PORT]: String(IstioPorts.ISTIOD_MONITORING),
              [IstioAnnotations.PROMETHEUS_SCRAPE]: 'true',
              [IstioAnnotations.INJECT]: 'false',
            },
          },
          spec: {
            serviceAccountName: this.istiodName,
            // Added vs upstream: the RuntimeDefault seccomp profile, so istiod meets the `restricted` Pod Security level
            securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
            tolerations: [{ key: CNI_NOT_READY_TAINT, operator: 'Exists' }, ...(props.tolerations ?? [])],
            nodeSelector: props.nodeSelector,
            affinity: props.affinity,
            containers: [{
              name: ISTIOD_CONTAINER,
              image: mesh.pilotImage,
              args: [
                'discovery',
                `--monitoringAddr=:${IstioPorts.ISTIOD_MONITORING}`,
                '--log_output_level=default:info',
                '--domain', mesh.clusterDomain,
                '--keepaliveMaxServerConnectionAge', ISTIOD_KEEPALIVE_MAX_SERVER_CONNECTION_AGE,
              ],
              ports: [
                { containerPort: IstioPorts.ISTIOD_DEBUG, name: 'http-debug', protocol: 'TCP' },
                { containerPort: IstioPorts.XDS_PLAINTEXT, name: 'grpc-xds', protocol: 'TCP' },
                { containerPort: IstioPorts.XDS_TLS, name: 'tls-xds', protocol: 'TCP' },
                { containerPort: IstioPorts.ISTIOD_WEBHOOK, name: 'https-webhooks', protocol: 'TCP' },
                { containerPort: IstioPorts.ISTIOD_MONITORING, name: 'http-monitoring', protocol: 'TCP' },
              ],
              readinessProbe: {
                httpGet: { path: ISTIOD_READY_PATH, port: k8s.IntOrString.fromNumber(IstioPorts.ISTIOD_DEBUG) },
                initialDelaySeconds: 1,
                periodSeconds: 3,
                timeoutSeconds: 5,
              },
              env,
              resources: r,
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'istio-token', mountPath: '/var/run/secrets/tokens', readOnly: true },
                { name: 'local-certs', mountPath: '/var/run/secrets/istio-dns' },
                { name: 'cacerts', mountPath: CACERTS_MOUNT, readOnly: true },
                { name: 'istio-kubeconfig', mountPath: KUBECONFIG_MOUNT, readOnly: true },
                { name: 'istio-csr-dns-cert', mountPath: ISTIOD_TLS_MOUNT, readOnly: true },
                { name: 'istio-csr-ca-configmap', mountPath: ISTIOD_CA_MOUNT, readOnly: true },
              ],
            }],
            volumes: [
              { name: 'local-certs', emptyDir: { medium: 'Memory' } },
              {
                name: 'istio-token',
                projected: { sources: [{ serviceAccountToken: { audience: ISTIO_CA_AUDIENCE, expirationSeconds: ISTIO_TOKEN_EXPIRATION_SECONDS, path: 'istio-token' } }] },
              },
              // With a cert-manager CA the Secret is required: istiod waits for it instead of self-signing a root.
              { name: 'cacerts', secret: { secretName: CACERTS_SECRET, optional: !certs.cacertsRequired } },
              { name: 'istio-kubeconfig', secret: { secretName: KUBECONFIG_SECRET, optional: true } },
              { name: 'istio-csr-dns-cert', secret: { secretName: ISTIOD_TLS_SECRET, optional: true } },
              { name: 'istio-csr-ca-configmap', configMap: { name: CA_ROOT_CONFIGMAP, defaultMode: 420, optional: true } },
            ],
          },
        },
      },
    });
    this.istiodService = new k8s.KubeService(this, 'istiod-service', {
      metadata: meta(this.istiodName),
      spec: {
        type: 'ClusterIP',
        selector: serviceSelector,
        ports: [
          { port: IstioPorts.XDS_PLAINTEXT, name: 'grpc-xds', protocol: 'TCP' },
          { port: IstioPorts.XDS_TLS, name: 'https-dns', protocol: 'TCP' },
          { port: WEBHOOK_SERVICE_PORT, name: 'https-webhook', targetPort: k8s.IntOrString.fromNumber(IstioPorts.ISTIOD_WEBHOOK), protocol: 'TCP' },
          { port: IstioPorts.ISTIOD_MONITORING, name: 'http-monitoring', protocol: 'TCP' },
        ],
      },
    });
    namespaced.push(this.istiodDeployment, this.istiodService);
    if (autoscaling) {
      this.autoscaler = new k8s.KubeHorizontalPodAutoscalerV2(this, 'istiod-hpa', {
        metadata: meta(this.istiodName),
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.istiodName },
          minReplicas: autoscaling.min,
          maxReplicas: autoscaling.max,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: autoscaling.cpu } } }],
        },
      });
      namespaced.push(this.autoscaler);
    }
    const minReplicas = autoscaling ? autoscaling.min : props.replicas!;
    if (minReplicas > 1) {
      this.podDisruptionBudget = new k8s.KubePodDisruptionBudget(this, 'istiod-pdb', {
        metadata: meta(this.istiodName),
        spec: { minAvailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
      });
      namespaced.push(this.podDisruptionBudget);
    }

    // ---- the Istio CNI node agent
    if (installCni) {
      this.cni = new IstioCni(this, 'cni', { mesh, ...props.cni });
      if (this.namespace && cniInRoot) this.cni.node.addDependency(this.namespace);
    }

    // ---- ambient mode (Istio 1.30.3's ambient profile): ztunnel, the CNI agent's ambient mode, istiod's
    // PILOT_ENABLE_AMBIENT and its trust in ztunnel's account (CA_TRUSTED_NODE_ACCOUNTS: ztunnel requests the
    // certificates of its node's pods); and istiod deploys the waypoints. On when the mesh is ambient, or when a
    // namespace of this mesh turns ambient or needs a waypoint (model facts, declared before or after).
    const cni = this.cni;
    const enableAmbient = () => {
      if (this.ztunnelNode || !cni) return;
      MeshModel.of(this).claim(this, 'ztunnel', 'cluster', 'installCni', 'true (the control plane that installs the node agents)',
        other => `must be false: ${other} already installs ztunnel, one per cluster`);
      const zt = new Ztunnel(this, 'ztunnel', { mesh, platform: props.cni?.platform, ...props.ztunnel });
      this.ztunnelNode = zt;
      if (this.namespace && zt.namespace === ns) zt.node.addDependency(this.namespace);
      cni._enableAmbient();
      env.push({ name: 'CA_TRUSTED_NODE_ACCOUNTS', value: `${zt.namespace}/${zt.serviceAccount.name}` }, { name: 'PILOT_ENABLE_AMBIENT', value: 'true' });
    };
    if (props.ztunnel !== undefined && !installCni) {
      invalid(this, 'ztunnel', JSON.stringify(props.ztunnel), 'needs the CNI agent installed by this control plane (cni mesh, installCni): ztunnel comes with it');
    }
    const mine = (root: string, revision?: string) => root === mesh.rootNamespace && (revision ?? '') === (mesh.revision ?? '');
    if (mesh.dataPlaneMode === DataPlaneMode.AMBIENT) enableAmbient();
    MeshModel.of(this).subscribe(f => {
      if (f.type === 'ambient-namespace' && mine(f.namespace.rootNamespace, f.namespace.revision)) enableAmbient();
      if (f.type === 'waypoint' && mine(f.waypoint.rootNamespace, f.waypoint.revision)) {
        if (props.gatewayDeploymentController === false) {
          invalid(this, 'gatewayDeploymentController', false,
            `must not be false: istiod deploys the waypoint of namespace '${f.waypoint.namespace}' (ambient, layer 7)`);
        }
        grantController();
      }
    });

    // ordering: CRDs and the namespace first, then what lives in it; certificates before istiod mounts them
    for (const o of namespaced) {
      if (this.namespace) o.node.addDependency(this.namespace);
    }
    const certScope = this.node.tryFindChild('certificates');
    if (certScope) this.istiodDeployment.node.addDependency(certScope);
    if (this.namespace && certScope) certScope.node.addDependency(this.namespace);
  }

  /**
   * The final mesh config (the `mesh` key of the `istio` ConfigMap), including providers added after construction.
   */
  public get meshConfig(): { [key: string]: any } {
    const p = this.props;
    const mesh = this.mesh;
    const providers: { [kind: string]: string[] } = {};
    for (const [kind, names] of Object.entries(this.defaultProviders)) {
      if (names.length) providers[kind] = [...names];
    }
    const config: { [key: string]: any } = {
      // the same defaults synth-time injection writes into PROXY_CONFIG, so istiod's own view (gateways it renders,
      // webhook injection) agrees
      defaultConfig: meshProxyConfig(mesh),
      defaultProviders: providers,
      enablePrometheusMerge: true,
      outboundTrafficPolicy: { mode: mesh.outboundTrafficPolicy },
      // authorization policies match paths as the application reads them: %2F/%5C decoded, '//' merged, dot
      // segments removed (Istio's security best practices); requireJwt's exceptPaths rely on it
      pathNormalization: { normalization: PATH_NORMALIZATION },
      rootNamespace: mesh.rootNamespace,
      trustDomain: mesh.trustDomain,
    };
    if (p.accessLogging) {
      config.accessLogFile = p.accessLogFile ?? '/dev/stdout';
      config.accessLogEncoding = p.accessLogEncoding ?? AccessLogEncoding.TEXT;
    }
    if (this.extensionProviders.size) {
      config.extensionProviders = [...this.extensionProviders.keys()].sort().map(name => ({ name, ...this.extensionProviders.get(name) }));
    }
    return sortKeys(deepMerge(config, p.meshConfigOverrides));
  }

  /**
   * Adds an extension provider to the mesh config (meshConfig.extensionProviders), e.g.
   * `addExtensionProvider('otel', { opentelemetry: { service: 'otel-collector.observability.svc.cluster.local', port: 4317 } })`.
   *
   * @param name the provider's name, referenced by Telemetry resources and default providers
   * @param config the provider's settings: exactly one key, the provider type (`opentelemetry`, `envoyOtelAls`,
   *   `envoyFileAccessLog`, `prometheus`, `zipkin`, `envoyExtAuthzHttp`...)
   */
  public addExtensionProvider(name: string, config: { [key: string]: any }): void {
    this.checkProviderName('extensionProviders name', name);
    if (this.extensionProviders.has(name)) invalid(this, 'extensionProviders name', name, 'must be unique: a provider with this name was already added');
    const keys = Object.keys(config ?? {});
    if (keys.length !== 1 || typeof config[keys[0]] !== 'object' || config[keys[0]] === null) {
      invalid(this, `extensionProviders['${name}']`, config, 'must have exactly one key, the provider type, e.g. { opentelemetry: { service, port } }');
    }
    this.extensionProviders.set(name, sortKeys(config));
  }

  /** Makes a provider (built-in or added with `addExtensionProvider`) a mesh-wide default of a kind. */
  public addDefaultProvider(kind: DefaultProviderKind, name: string): void {
    if (!Object.values(DefaultProviderKind).includes(kind)) {
      invalid(this, 'defaultProviders kind', kind, `must be one of ${Object.values(DefaultProviderKind).join(', ')}`);
    }
    this.checkProviderName(`defaultProviders.${kind}`, name);
    const list = this.defaultProviders[kind];
    if (!list.includes(name)) list.push(name);
  }

  private checkProviderName(field: string, name: string) {
    if (typeof name !== 'string' || !/^[a-zA-Z0-9][-a-zA-Z0-9_.]*$/.test(name) || name.length > 253) {
      invalid(this, field, name, "must be a provider name: letters, digits, '-', '_' and '.'");
    }
  }

  /**
   * The user's istiod env switches that start informers: each brings the RBAC it needs (Istio 1.30.3's clusterrole
   * rules for it). Switches this install cannot serve are refused by name.
   */
  private envSwitches(env: { [name: string]: string }): Pick<RbacFeatures, 'alphaGatewayApi' | 'inferenceExtension' | 'mcs' | 'mcsApiGroup'> {
    const bool = (name: string): boolean => {
      const v = env[name];
      if (v === undefined) return false;
      if (GO_TRUE.includes(v)) return true;
      if (GO_FALSE.includes(v)) return false;
      return invalid(this, `env['${name}']`, v, `must be a boolean as istiod reads it: one of ${[...GO_TRUE, ...GO_FALSE].join(', ')}`);
    };
    const S = IstiodEnvSwitches;
    if (env[S.DEPLOYMENT_CONTROLLER] !== undefined) {
      invalid(this, 'env', S.DEPLOYMENT_CONTROLLER, 'is owned by the gatewayDeploymentController prop, which also decides the gateway controller RBAC: set that instead');
    }
    if (bool(S.CLUSTER_TRUST_BUNDLE)) {
      invalid(this, 'env', S.CLUSTER_TRUST_BUNDLE,
        `is not supported: proxies of this library read the mesh root from ConfigMap ${CA_ROOT_CONFIGMAP}, not from a ClusterTrustBundle; leave it unset`);
    }
    if (env[S.EXTERNAL_CA] !== undefined && env[S.EXTERNAL_CA] !== '') {
      invalid(this, 'env', S.EXTERNAL_CA,
        'is not supported (it needs Kubernetes CSR signers and their RBAC): for an external CA use MeshCertificates.istioCsr() or MeshCertificates.fromIssuer()');
    }
    const mcs = S.MCS.some(bool);
    const group = env[S.MCS_API_GROUP];
    if (group !== undefined) checkDnsSubdomain(this, `env['${S.MCS_API_GROUP}']`, group);
    return { alphaGatewayApi: bool(S.ALPHA_GATEWAY_API), inferenceExtension: bool(S.INFERENCE_EXTENSION), mcs, mcsApiGroup: group };
  }

  /** istiod's environment, in Istio's order: its own variables, then the certificate setup's, then the user's. */
  private istiodEnv(certs: MeshCertificatesConfig): k8s.EnvVar[] {
    const mesh = this.mesh;
    const field = (name: string, fieldPath: string): k8s.EnvVar => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });
    const head: k8s.EnvVar[] = [
      { name: 'REVISION', value: mesh.revisionLabel },
      { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
      field('POD_NAME', 'metadata.name'),
      field('POD_NAMESPACE', 'metadata.namespace'),
      field('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      { name: 'KUBECONFIG', value: `${KUBECONFIG_MOUNT}/config` },
      // Trimmed vs upstream: CA_TRUSTED_NODE_ACCOUNTS (istio-system/ztunnel) lets ztunnel request certificates for
      // other identities; it is added (with PILOT_ENABLE_AMBIENT) only when ambient mode is installed.
    ];
    const middle: { [name: string]: string } = { ...certs.istiodEnv };
    if (this.props.gatewayDeploymentController !== true) {
      // off unless an automated gateway of this mesh is declared (read at synth time: it may come later)
      middle.PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER = Lazy.any({ produce: () => String(this.gatewayControllerOn) }) as any;
    }
    if (mesh.injectionMode === InjectionMode.WEBHOOK) {
      // the webhook places proxies exactly as the synth-time injector would
      middle.ENABLE_NATIVE_SIDECARS = String(mesh.nativeSidecars);
    }
    const tail: k8s.EnvVar[] = [
      { name: 'PILOT_TRACE_SAMPLING', value: '1' },
      { name: 'PILOT_ENABLE_ANALYSIS', value: 'false' },
      { name: 'CLUSTER_ID', value: DEFAULT_CLUSTER_ID },
      { name: 'PLATFORM', value: '' },
    ];
    const taken = new Set([...head, ...tail].map(e => e.name).concat(Object.keys(middle)));
    const user = this.props.env ?? {};
    for (const [name, value] of Object.entries(user)) {
      if (!ENV_NAME.test(name)) invalid(this, 'env', name, "must be an environment variable name: letters, digits, '_', '-' and '.', not starting with a digit");
      if (taken.has(name)) invalid(this, 'env', name, 'is set by the control plane itself and cannot be replaced here (use the istiodDeployment escape hatch)');
      if (typeof value !== 'string') invalid(this, `env['${name}']`, value, 'must be a string');
    }
    const sorted = (m: { [name: string]: string }) => Object.keys(m).sort().map(name => ({ name, value: m[name] }));
    return [...head, ...sorted(middle), ...sorted(user), ...tail];
  }

  /**
   * The `values` key of the injector ConfigMap: the settings istiod's injection templates read. Every key of Istio
   * 1.30.3's chart is rendered (chart defaults, see injector-values.ts), with the mesh's settings where it has them.
   */
  private injectorValues(): { [key: string]: any } {
    const mesh = this.mesh;
    const props = this.props;
    const pr = mesh.proxyResources;
    const webhook = mesh.injectionMode === InjectionMode.WEBHOOK;
    const pick = (m: { [key: string]: string | undefined }) => {
      const out: { [key: string]: string } = {};
      for (const [k, v] of Object.entries(m)) if (v !== undefined) out[k] = v;
      return out;
    };
    const fromMesh = {
      global: {
        caAddress: mesh.caAddress === mesh.discoveryAddress ? '' : mesh.caAddress,
        hub: mesh.hub,
        tag: mesh.version,
        istioNamespace: mesh.rootNamespace,
        // the chart's default is empty (istiod and the templates then use 'Kubernetes'); a non-empty name moves
        // ISTIO_META_CLUSTER_ID to the end of the injected env (Istio 1.30.3 injection template)
        multiCluster: { clusterName: '' },
        network: mesh.network ?? '',
        imagePullSecrets: [...mesh.imagePullSecrets],
        proxy: {
          autoInject: webhook ? 'enabled' : 'disabled',
          clusterDomain: mesh.clusterDomain,
          image: IMAGE_PROXY,
          statusPort: IstioPorts.STATUS,
          resources: {
            requests: pick({ cpu: pr.cpuRequest, memory: pr.memoryRequest }),
            limits: pick({ cpu: pr.cpuLimit, memory: pr.memoryLimit }),
          },
        },
        proxy_init: { image: IMAGE_PROXY },
      },
      pilot: {
        cni: { enabled: mesh.cni, provider: props.cni?.platform?.multus ? 'multus' : 'default' },
        env: webhook ? { ENABLE_NATIVE_SIDECARS: String(mesh.nativeSidecars) } : {},
      },
      revision: mesh.revision ?? '',
    };
    // resources are replaced as a whole: the mesh's are the proxies' resources, not a patch of the chart's
    const values = deepMerge(chartInjectorValues(), fromMesh);
    values.global.proxy.resources = fromMesh.global.proxy.resources;
    return deepMerge(values, this.props.injectorValues);
  }

  /** The `config` key of the injector ConfigMap. */
  private injectorConfig(): { [key: string]: any } {
    const webhook = this.mesh.injectionMode === InjectionMode.WEBHOOK;
    const templates = {
      // Istio 1.30.3 installs `gateway` and `kube-gateway` beside `sidecar`: gateway pods ask for the first, and
      // istiod's Gateway API deployment controller renders the second (GatewayDeployment.ISTIO_AUTOMATED). This
      // library renders both from the mesh's settings; `injectionTemplates` may replace them by name.
      [TEMPLATE_GATEWAY]: gatewayInjectionTemplate(this.mesh),
      [TEMPLATE_KUBE_GATEWAY]: kubeGatewayTemplate(this.mesh),
      ...(this.props.injectionTemplates ?? {
        // a Go template comment: renders nothing. Pods are injected at synth time (already carry
        // sidecar.istio.io/status, which istiod's injector skips); give `injectionTemplates` to let istiod inject.
        sidecar: '{{- /* cdk8s-mesh injects proxies at synth time; no webhook templates are installed */ -}}\n',
      }),
    };
    return {
      // with synth-time injection the webhook never injects on its own (pods opt in explicitly, if at all)
      policy: webhook ? 'enabled' : 'disabled',
      defaultTemplates: ['sidecar'],
      alwaysInjectSelector: [],
      neverInjectSelector: [],
      injectedAnnotations: {},
      templates,
    };
  }
}
