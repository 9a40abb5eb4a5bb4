import { ApiObject, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import * as YAML from 'yaml';
import { Cni } from './constants';
import { invalid } from '../errors';
import { IstioAnnotations, IstioLabels, MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { IMesh, ResourceSettings } from '../mesh/mesh';
import { imagePullSecretRefs } from '../sidecar/mesh-settings';
import { checkDnsLabel, checkQuantity } from '../validation';

/** Options of `CniPlatform.custom()`: the node's CNI directories. */
export interface CniPathOptions {
  /**
   * The directory of the node's CNI plugin binaries.
   * @default '/opt/cni/bin'
   */
  readonly binDir?: string;
  /**
   * The directory of the node's CNI network configuration.
   * @default '/etc/cni/net.d'
   */
  readonly confDir?: string;
  /**
   * The directory of the node's network namespaces.
   * @default '/var/run/netns'
   */
  readonly netnsDir?: string;
}

/**
 * The Kubernetes platform the Istio CNI node agent runs on: where the node keeps its CNI binaries and configuration,
 * and the platform's extra objects. The variants are Istio 1.30.3's platform profiles
 * (manifests/charts/istio-cni/files/profile-platform-*.yaml).
 */
export class CniPlatform {
  /** A conformant cluster with the standard CNI paths (/opt/cni/bin, /etc/cni/net.d). */
  public static standard(): CniPlatform {
    return new CniPlatform('standard', {});
  }

  /**
   * Google Kubernetes Engine: CNI binaries in /home/kubernetes/bin, and a ResourceQuota that admits the agent's
   * system-node-critical pods outside kube-system.
   */
  public static gke(): CniPlatform {
    return new CniPlatform('gke', { binDir: '/home/kubernetes/bin', resourceQuota: true });
  }

  /** K3s: the CNI paths under /var/lib/rancher/k3s. */
  public static k3s(): CniPlatform {
    return new CniPlatform('k3s', { binDir: '/var/lib/rancher/k3s/data/cni', confDir: '/var/lib/rancher/k3s/agent/etc/cni/net.d' });
  }

  /** k3d (K3s in Docker): K3s' configuration directory, binaries in /bin. */
  public static k3d(): CniPlatform {
    return new CniPlatform('k3d', { binDir: '/bin', confDir: '/var/lib/rancher/k3s/agent/etc/cni/net.d' });
  }

  /** MicroK8s: the CNI paths of the snap. */
  public static microK8s(): CniPlatform {
    return new CniPlatform('microk8s', { binDir: '/var/snap/microk8s/current/opt/cni/bin', confDir: '/var/snap/microk8s/current/args/cni-network' });
  }

  /** minikube (Docker driver): network namespaces under /var/run/docker/netns. */
  public static minikube(): CniPlatform {
    return new CniPlatform('minikube', { netnsDir: '/var/run/docker/netns' });
  }

  /**
   * Red Hat OpenShift: multus runs the plugin (a standalone `istio-cni.conf`, not chained, and a
   * NetworkAttachmentDefinition `istio-cni` in namespace `default`), SELinux type `spc_t`, and the `privileged`
   * SecurityContextConstraints for the agent.
   */
  public static openShift(): CniPlatform {
    return new CniPlatform('openshift', {
      binDir: '/var/lib/cni/bin',
      confDir: '/etc/cni/multus/net.d',
      chained: false,
      confFileName: 'istio-cni.conf',
      multus: true,
      seLinuxType: 'spc_t',
      openShiftScc: true,
    });
  }

  /**
   * Any other platform (k0s, kind, a custom distribution): the node's CNI directories. Istio 1.30.3 has no profile
   * for it, so check your distribution's paths.
   */
  public static custom(paths: CniPathOptions): CniPlatform {
    return new CniPlatform('custom', { ...paths });
  }

  /** The platform's name (`standard`, `gke`, `k3s`, `k3d`, `microk8s`, `minikube`, `openshift`, `custom`). */
  public readonly name: string;
  /** The node's CNI binary directory. */
  public readonly binDir: string;
  /** The node's CNI configuration directory. */
  public readonly confDir: string;
  /** The node's network namespace directory. */
  public readonly netnsDir: string;
  /** Whether the plugin is chained into the node's CNI configuration (false: a standalone file). */
  public readonly chained: boolean;
  /** The CNI configuration file name, when the platform needs a fixed one. */
  public readonly confFileName?: string;
  /** Whether multus runs the plugin (the injector's `pilot.cni.provider: multus`). */
  public readonly multus: boolean;
  /** The SELinux type of the agent's container, when the platform needs one. */
  public readonly seLinuxType?: string;
  /** Whether a ResourceQuota admits the agent's system-node-critical pods (GKE). */
  public readonly resourceQuota: boolean;
  /** Whether the agent needs OpenShift's `privileged` SecurityContextConstraints. */
  public readonly openShiftScc: boolean;

  private constructor(name: string, o: CniPathOptions & {
    chained?: boolean; confFileName?: string; multus?: boolean; seLinuxType?: string; resourceQuota?: boolean; openShiftScc?: boolean;
  }) {
    this.name = name;
    this.binDir = o.binDir ?? Cni.BIN_DIR;
    this.confDir = o.confDir ?? Cni.CONF_DIR;
    this.netnsDir = o.netnsDir ?? Cni.NETNS_DIR;
    this.chained = o.chained ?? true;
    this.confFileName = o.confFileName;
    this.multus = o.multus ?? false;
    this.seLinuxType = o.seLinuxType;
    this.resourceQuota = o.resourceQuota ?? false;
    this.openShiftScc = o.openShiftScc ?? false;
  }
}

/** Options of the Istio CNI node agent, as `IstioControlPlane` installs it (`IstioControlPlaneProps.cni`). */
export interface IstioCniOptions {
  /**
   * The platform: its CNI paths and extra objects.
   * @default CniPlatform.standard()
   */
  readonly platform?: CniPlatform;
  /**
   * The namespace of the agent's DaemonSet, ConfigMap and ServiceAccount. The agent's pods are privileged (host
   * paths, NET_ADMIN, SYS_ADMIN): a namespace the control plane creates is then labelled Pod Security `privileged`.
   * @default - the mesh's root namespace (as Istio installs it)
   */
  readonly namespace?: string;
  /**
   * Namespaces whose pods the agent never touches.
   * @default ['kube-system']
   */
  readonly excludeNamespaces?: string[];
  /**
   * The agent's CPU and memory requests and limits.
   * @default - requests cpu 100m, memory 100Mi; no limits (Istio's default)
   */
  readonly resources?: ResourceSettings;
}

/** Properties of `IstioCni`. */
export interface IstioCniProps extends IstioCniOptions {
  /** The mesh whose pods the agent sets up (it must have `cni: true`). */
  readonly mesh: IMesh;
}

/**
 * The Istio CNI node agent, as Istio 1.30.3's istio-cni chart installs it by default: ServiceAccount `istio-cni`,
 * ConfigMap `istio-cni-config`, ClusterRoles `istio-cni` and `istio-cni-repair-role` with their bindings, and
 * DaemonSet `istio-cni-node` (plus the platform's ResourceQuota or NetworkAttachmentDefinition). It sets up each
 * meshed pod's traffic redirection when the pod's network is created, so pods need no NET_ADMIN init container, and
 * repairs pods that started before it was ready on their node.
 *
 * `IstioControlPlane` creates it when the mesh has `cni: true`. One per cluster: with several revisions, let one
 * control plane install it (`installCni: false` on the others).
 */
export class IstioCni extends Construct {
  /** The agent's namespace. */
  public readonly namespace: string;
  /** The platform. */
  public readonly platform: CniPlatform;
  /** The agent's ServiceAccount. */
  public readonly serviceAccount: k8s.KubeServiceAccount;
  /** The agent's configuration (read as its environment). */
  public readonly configMap: k8s.KubeConfigMap;
  /** The agent's DaemonSet (`istio-cni-node`). */
  public readonly daemonSet: ApiObject;
  /** Every object, in order. */
  public readonly objects: ApiObject[] = [];
  /** Whether the agent runs in ambient mode (redirects ambient pods to ztunnel). */
  private ambientOn = false;
  /** Creates the ambient mode's own objects (its ClusterRole and binding). */
  private readonly ambientObjects: () => void;

  constructor(scope: Construct, id: string, props: IstioCniProps) {
    super(scope, id);
    const mesh = props.mesh;
    if (!mesh.cni) invalid(this, 'mesh.cni', mesh.cni, 'must be true: the CNI agent serves meshes whose pods rely on it (Mesh({ cni: true }))');
    this.platform = props.platform ?? CniPlatform.standard();
    const p = this.platform;
    this.namespace = props.namespace ?? mesh.rootNamespace;
    checkDnsLabel(this, 'namespace', this.namespace);
    const exclude = props.excludeNamespaces ?? [...Cni.EXCLUDE_NAMESPACES];
    exclude.forEach((n, i) => checkDnsLabel(this, `excludeNamespaces[${i}]`, n));
    for (const [field, dir] of [['binDir', p.binDir], ['confDir', p.confDir], ['netnsDir', p.netnsDir]]) {
      if (typeof dir !== 'string' || !dir.startsWith('/') || dir.includes('..') || /\s/.test(dir)) {
        invalid(this, `platform.${field}`, dir, "must be an absolute host path such as '/opt/cni/bin'");
      }
    }
    const r = props.resources ?? { cpuRequest: Cni.CPU_REQUEST, memoryRequest: Cni.MEMORY_REQUEST };
    checkQuantity(this, 'resources.cpuRequest', r.cpuRequest);
    checkQuantity(this, 'resources.memoryRequest', r.memoryRequest);
    checkQuantity(this, 'resources.cpuLimit', r.cpuLimit);
    checkQuantity(this, 'resources.memoryLimit', r.memoryLimit);
    // The ambient mode of the agent (ztunnel redirection) is switched on by `_enableAmbient` (IstioControlPlane, when
    // the mesh or a namespace of it is ambient, declared before or after): the parts it changes are read at synth.
    const ambient = () => this.ambientOn;

    const labels = {
      [MANAGED_BY_LABEL]: MANAGED_BY,
      'app.kubernetes.io/part-of': 'istio',
      'app.kubernetes.io/name': Cni.NAME,
      'app.kubernetes.io/version': mesh.version,
      [IstioLabels.APP]: Cni.NAME,
      [IstioLabels.REV]: mesh.revisionLabel,
      'operator.istio.io/component': Cni.COMPONENT,
    };
    const ns = this.namespace;

    // Istio 1.30.3's istio-cni chart (serviceaccount.yaml): values.global.imagePullSecrets on the ServiceAccount
    this.serviceAccount = new k8s.KubeServiceAccount(this, 'sa', {
      metadata: { name: Cni.NAME, namespace: ns, labels },
      ...imagePullSecretRefs(mesh),
    });
    this.objects.push(this.serviceAccount);

    // ---- RBAC: read pods, nodes and namespaces; the repair controller (repairPods mode, the chart's default) needs
    // only events and pod reads; OpenShift adds the privileged SCC; ambient adds pod status and its own DaemonSet.
    const clusterRole = (cid: string, name: string, rules: k8s.PolicyRule[]) => {
      const role = new k8s.KubeClusterRole(this, cid, { metadata: { name, labels }, rules });
      const binding = new k8s.KubeClusterRoleBinding(this, `${cid}-binding`, {
        metadata: { name: name === Cni.REPAIR_ROLE ? Cni.REPAIR_BINDING : name, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ kind: 'ServiceAccount', name: Cni.NAME, namespace: ns }],
      });
      this.objects.push(role, binding);
    };
    clusterRole('clusterrole', Cni.NAME, [
      { apiGroups: [''], resources: ['pods', 'nodes', 'namespaces'], verbs: ['get', 'list', 'watch'] },
      ...(p.openShiftScc ? [{ apiGroups: ['security.openshift.io'], resources: ['securitycontextconstraints'], resourceNames: [Cni.OPENSHIFT_SCC], verbs: ['use'] }] : []),
    ]);
    clusterRole('repair-role', Cni.REPAIR_ROLE, [
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['watch', 'get', 'list'] },
    ]);
    this.ambientObjects = () => clusterRole('ambient-role', Cni.AMBIENT_ROLE, [
      { apiGroups: [''], resources: ['pods/status'], verbs: ['patch', 'update'] },
      { apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: [Cni.DAEMONSET], verbs: ['get'] },
    ]);

    // ---- configuration, read by the agent as environment (envFrom)
    const str = (b: boolean) => String(b);
    const data: { [key: string]: string } = {
      CURRENT_AGENT_VERSION: mesh.version,
      AMBIENT_ENABLED: Lazy.any({ produce: () => str(ambient()) }) as any,
      AMBIENT_ENABLEMENT_SELECTOR: YAML.stringify(Cni.AMBIENT_ENABLEMENT_SELECTORS),
      AMBIENT_DNS_CAPTURE: 'true',
      AMBIENT_IPV6: 'true',
      AMBIENT_RECONCILE_POD_RULES_ON_STARTUP: 'true',
      ENABLE_AMBIENT_DETECTION_RETRY: 'false',
      ...(p.confFileName ? { CNI_CONF_NAME: p.confFileName } : {}),
      ISTIO_OWNED_CNI_CONFIG: 'false',
      CHAINED_CNI_PLUGIN: str(p.chained),
      EXCLUDE_NAMESPACES: exclude.join(','),
      REPAIR_ENABLED: 'true',
      REPAIR_LABEL_PODS: 'false',
      REPAIR_DELETE_PODS: 'false',
      REPAIR_REPAIR_PODS: 'true',
      REPAIR_INIT_CONTAINER_NAME: Cni.REPAIR_INIT_CONTAINER,
      REPAIR_BROKEN_POD_LABEL_KEY: Cni.BROKEN_POD_LABEL_KEY,
      REPAIR_BROKEN_POD_LABEL_VALUE: Cni.BROKEN_POD_LABEL_VALUE,
      NATIVE_NFTABLES: 'false',
    };
    this.configMap = new k8s.KubeConfigMap(this, 'config', { metadata: { name: Cni.CONFIGMAP, namespace: ns, labels }, data });
    this.objects.push(this.configMap);

    // ---- the DaemonSet
    const selector = { 'k8s-app': Cni.DAEMONSET };
    const hostPath = (name: string, path: string, type?: string): k8s.Volume => ({ name, hostPath: { path, ...(type ? { type } : {}) } });
    const field = (name: string, fieldPath: string, apiVersion?: string): k8s.EnvVar =>
      ({ name, valueFrom: { fieldRef: { ...(apiVersion ? { apiVersion } : {}), fieldPath } } });
    const limit = (name: string, resource: string): k8s.EnvVar =>
      ({ name, valueFrom: { resourceFieldRef: { resource, divisor: k8s.Quantity.fromString('1') } } });
    const mounts = (): k8s.VolumeMount[] => [
      { mountPath: '/host/opt/cni/bin', name: 'cni-bin-dir' },
      // repairPods (the default) and ambient enter pod network namespaces through the host's /proc
      { mountPath: '/host/proc', name: 'cni-host-procfs', readOnly: true },
      { mountPath: '/host/etc/cni/net.d', name: 'cni-net-dir' },
      { mountPath: Cni.SOCKET_DIR, name: 'cni-socket-dir' },
      ...(ambient() ? [
        { mountPath: '/host/var/run/netns', mountPropagation: 'HostToContainer', name: 'cni-netns-dir' },
        { mountPath: Cni.ZTUNNEL_SOCKET_DIR, name: 'cni-ztunnel-sock-dir' },
      ] : []),
    ];
    const volumes = (): k8s.Volume[] => [
      hostPath('cni-bin-dir', p.binDir),
      hostPath('cni-host-procfs', Cni.PROC_DIR, 'Directory'),
      ...(ambient() ? [hostPath('cni-ztunnel-sock-dir', Cni.ZTUNNEL_SOCKET_DIR, 'DirectoryOrCreate')] : []),
      hostPath('cni-net-dir', p.confDir),
      hostPath('cni-socket-dir', Cni.SOCKET_DIR),
      // DirectoryOrCreate: the node's CNI may only create it when the first pod network is set up
      hostPath('cni-netns-dir', p.netnsDir, 'DirectoryOrCreate'),
    ];
    const quantity = (v?: string) => (v === undefined ? undefined : k8s.Quantity.fromString(v));
    const pick = (cpu?: string, memory?: string) => {
      const out: { [key: string]: k8s.Quantity } = {};
      if (cpu !== undefined) out.cpu = quantity(cpu)!;
      if (memory !== undefined) out.memory = quantity(memory)!;
      return Object.keys(out).length ? out : undefined;
    };
    const daemonSet: k8s.KubeDaemonSetProps = {
      metadata: { name: Cni.DAEMONSET, namespace: ns, labels: { ...labels, ...selector } },
      spec: {
        selector: { matchLabels: selector },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(1) } },
        template: {
          metadata: {
            labels: {
              ...selector,
              [IstioLabels.INJECT]: 'false',
              [IstioLabels.DATAPLANE_MODE]: 'none',
              [MANAGED_BY_LABEL]: MANAGED_BY,
              'app.kubernetes.io/part-of': 'istio',
              'app.kubernetes.io/name': Cni.NAME,
              'app.kubernetes.io/version': mesh.version,
              [IstioLabels.REV]: mesh.revisionLabel,
            },
            annotations: {
              [IstioLabels.INJECT]: 'false',
              'prometheus.io/scrape': 'true',
              'prometheus.io/port': String(Cni.METRICS_PORT),
              'prometheus.io/path': Cni.METRICS_PATH,
            },
          },
          spec: {
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            // scheduled on every node, tainted or not, and marked critical
            tolerations: [
              { effect: 'NoSchedule', operator: 'Exists' },
              { key: 'CriticalAddonsOnly', operator: 'Exists' },
              { effect: 'NoExecute', operator: 'Exists' },
            ],
            priorityClassName: Cni.PRIORITY_CLASS,
            serviceAccountName: Cni.NAME,
            terminationGracePeriodSeconds: Cni.TERMINATION_GRACE_SECONDS,
            containers: [{
              name: Cni.CONTAINER,
              image: `${mesh.hub}/${Cni.IMAGE}:${mesh.version}`,
              ports: [{ containerPort: Cni.METRICS_PORT, name: 'metrics', protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: Cni.READY_PATH, port: k8s.IntOrString.fromNumber(Cni.READY_PORT) } },
              securityContext: {
                // not privileged: root with exactly the capabilities the agent needs (the chart's choice)
                privileged: false,
                runAsGroup: 0,
                runAsUser: 0,
                runAsNonRoot: false,
                capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW', 'SYS_PTRACE', 'SYS_ADMIN', 'DAC_OVERRIDE'] },
                ...(p.seLinuxType ? { seLinuxOptions: { type: p.seLinuxType } } : {}),
              },
              command: ['install-cni'],
              args: [`--log_output_level=${Cni.LOG_LEVEL}`],
              envFrom: [{ configMapRef: { name: Cni.CONFIGMAP } }],
              env: [
                field('REPAIR_NODE_NAME', 'spec.nodeName'),
                { name: 'REPAIR_RUN_AS_DAEMON', value: 'true' },
                { name: 'REPAIR_SIDECAR_ANNOTATION', value: IstioAnnotations.STATUS },
                { name: 'ALLOW_SWITCH_TO_HOST_NS', value: 'true' },
                field('NODE_NAME', 'spec.nodeName', 'v1'),
                limit('GOMEMLIMIT', 'limits.memory'),
                limit('GOMAXPROCS', 'limits.cpu'),
                field('POD_NAME', 'metadata.name'),
                field('POD_NAMESPACE', 'metadata.namespace'),
              ],
              volumeMounts: mounts(),
              resources: { requests: pick(r.cpuRequest, r.memoryRequest), limits: pick(r.cpuLimit, r.memoryLimit) },
            }],
            volumes: volumes(),
          },
        },
      },
    };
    // Changed vs the chart's default: AppArmor `Unconfined` through the securityContext.appArmorProfile field
    // (Kubernetes 1.30+, which Istio 1.30 requires) instead of the deprecated
    // container.apparmor.security.beta.kubernetes.io annotation. cdk8s-plus-27's types predate the field, so the
    // DaemonSet is a plain ApiObject rendered from the typed props.
    const json = k8s.toJson_KubeDaemonSetProps(daemonSet)!;
    json.spec.template.spec.containers[0].securityContext.appArmorProfile = { type: 'Unconfined' };
    // the ambient mounts are decided at synth (plain host paths: their JSON is their typed form)
    json.spec.template.spec.containers[0].volumeMounts = Lazy.any({ produce: () => mounts() });
    json.spec.template.spec.volumes = Lazy.any({ produce: () => volumes() });
    this.daemonSet = new ApiObject(this, 'daemonset', { apiVersion: 'apps/v1', kind: 'DaemonSet', ...json } as any);
    this.objects.push(this.daemonSet);

    if (p.resourceQuota) {
      // GKE admits system-node-critical pods outside kube-system only under a quota for that priority class
      this.objects.push(new k8s.KubeResourceQuota(this, 'quota', {
        metadata: { name: Cni.RESOURCE_QUOTA, namespace: ns, labels },
        spec: {
          hard: { pods: k8s.Quantity.fromString(Cni.GKE_QUOTA_PODS) },
          scopeSelector: { matchExpressions: [{ operator: 'In', scopeName: 'PriorityClass', values: [Cni.PRIORITY_CLASS] }] },
        },
      }));
    }
    if (p.multus) {
      // multus finds the plugin through this attachment (pods are annotated k8s.v1.cni.cncf.io/networks: istio-cni)
      this.objects.push(new ApiObject(this, 'network-attachment', {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: Cni.NAME, namespace: Cni.MULTUS_NAD_NAMESPACE, labels },
      }));
    }
  }

  /**
   * Switches the agent to ambient mode, as the istio-cni chart's `ambient.enabled` does: AMBIENT_ENABLED, the
   * `istio-cni-ambient` ClusterRole and binding, the host's network namespaces and ztunnel's socket directory. Called
   * by IstioControlPlane when the mesh or a namespace of it is ambient.
   * @internal
   */
  public _enableAmbient(): void {
    if (this.ambientOn) return;
    this.ambientOn = true;
    this.ambientObjects();
  }
}
