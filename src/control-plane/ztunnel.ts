import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { CniPlatform } from './istio-cni';
import { Ztunnel as Z } from '../ambient/constants';
import { invalid } from '../errors';
import { IstioLabels, MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { AMBIENT_ENABLE_HBONE } from '../mesh/data-plane';
import { IMesh, ResourceSettings } from '../mesh/mesh';
import { imagePullSecretRefs } from '../sidecar/mesh-settings';
import { checkDnsLabel, checkQuantity } from '../validation';

/** Options of the ztunnel node proxy. */
export interface ZtunnelOptions {
  /**
   * The namespace ztunnel runs in (istiod trusts its ServiceAccount there to request certificates for the pods of
   * its node: `CA_TRUSTED_NODE_ACCOUNTS`).
   * @default - the mesh's root namespace
   */
  readonly namespace?: string;
  /**
   * The platform: GKE gets a ResourceQuota that admits ztunnel's system-node-critical pods outside kube-system,
   * OpenShift the `privileged` SecurityContextConstraints and SELinux type `spc_t`.
   * @default CniPlatform.standard()
   */
  readonly platform?: CniPlatform;
  /**
   * ztunnel's CPU and memory requests and limits.
   * @default - requests cpu 200m, memory 512Mi; no limits (Istio's default)
   */
  readonly resources?: ResourceSettings;
}

/** Properties of `Ztunnel`. */
export interface ZtunnelProps extends ZtunnelOptions {
  /** The mesh whose ambient pods it serves (it must have `cni: true`). */
  readonly mesh: IMesh;
}

/**
 * ztunnel, the node proxy of ambient mode, as Istio 1.30.3's ztunnel chart installs it for the ambient profile:
 * ServiceAccount `ztunnel` and DaemonSet `ztunnel` (plus ResourceQuota `ztunnel` on GKE, ClusterRole and
 * ClusterRoleBinding `ztunnel` on OpenShift). On every node it tunnels the ambient pods' connections over HBONE (mTLS,
 * port 15008), with certificates for the pods' identities it requests from istiod (or the mesh's external CA), and
 * enforces their layer-4 AuthorizationPolicies. It talks to the control plane of the mesh's revision.
 *
 * `IstioControlPlane` creates it when the mesh or any ZeroTrustNamespace of it is ambient (with the CNI agent in
 * ambient mode and istiod's ambient settings).
 */
export class Ztunnel extends Construct {
  /** ztunnel's namespace. */
  public readonly namespace: string;
  /** The ServiceAccount istiod trusts as a node proxy. */
  public readonly serviceAccount: k8s.KubeServiceAccount;
  /** The DaemonSet. */
  public readonly daemonSet: ApiObject;
  /** Every object, in order. */
  public readonly objects: ApiObject[] = [];

  constructor(scope: Construct, id: string, props: ZtunnelProps) {
    super(scope, id);
    const mesh = props.mesh;
    if (!mesh.cni) invalid(this, 'mesh.cni', mesh.cni, 'must be true: the Istio CNI agent redirects ambient pods\' traffic to ztunnel');
    const p = props.platform ?? CniPlatform.standard();
    const ns = props.namespace ?? mesh.rootNamespace;
    checkDnsLabel(this, 'namespace', ns);
    this.namespace = ns;
    const r = props.resources ?? { cpuRequest: Z.CPU_REQUEST, memoryRequest: Z.MEMORY_REQUEST };
    checkQuantity(this, 'resources.cpuRequest', r.cpuRequest);
    checkQuantity(this, 'resources.memoryRequest', r.memoryRequest);
    checkQuantity(this, 'resources.cpuLimit', r.cpuLimit);
    checkQuantity(this, 'resources.memoryLimit', r.memoryLimit);

    const labels = {
      [MANAGED_BY_LABEL]: MANAGED_BY,
      'app.kubernetes.io/part-of': 'istio',
      'app.kubernetes.io/name': Z.NAME,
      'app.kubernetes.io/version': mesh.version,
      [IstioLabels.REV]: mesh.revisionLabel,
    };
    // the chart annotates its objects with the revision they belong to
    const annotations = mesh.revision ? { [IstioLabels.REV]: mesh.revision } : undefined;
    const meta = (namespaced: boolean) => ({
      name: Z.NAME, ...(namespaced ? { namespace: ns } : {}), labels, ...(annotations ? { annotations } : {}),
    });

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'sa', {
      metadata: meta(true),
      ...imagePullSecretRefs(mesh),
    });
    this.objects.push(this.serviceAccount);

    if (p.openShiftScc) {
      // templates/rbac.yaml: only OpenShift needs cluster rights (the privileged SCC)
      const role = new k8s.KubeClusterRole(this, 'clusterrole', {
        metadata: meta(false),
        rules: [{ apiGroups: ['security.openshift.io'], resources: ['securitycontextconstraints'], resourceNames: [Z.OPENSHIFT_SCC], verbs: ['use'] }],
      });
      const binding = new k8s.KubeClusterRoleBinding(this, 'clusterrolebinding', {
        metadata: meta(false),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: Z.NAME },
        subjects: [{ kind: 'ServiceAccount', name: Z.NAME, namespace: ns }],
      });
      this.objects.push(role, binding);
    }

    // the control plane of the mesh's revision; certificates from the mesh's CA (istiod unless external)
    const field = (name: string, fieldPath: string): k8s.EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });
    // meshConfig.defaultConfig.proxyMetadata, with the ambient profile's HBONE switch
    const proxyMetadata: { [key: string]: string } = { [AMBIENT_ENABLE_HBONE]: 'true', ...mesh.defaultProxyConfig.proxyMetadata };
    const env: k8s.EnvVar[] = [
      { name: 'CA_ADDRESS', value: mesh.caAddress },
      { name: 'XDS_ADDRESS', value: mesh.discoveryAddress },
      ...(mesh.network ? [{ name: 'NETWORK', value: mesh.network }] : []),
      { name: 'RUST_LOG', value: Z.LOG_LEVEL },
      { name: 'RUST_BACKTRACE', value: '1' },
      { name: 'ISTIO_META_CLUSTER_ID', value: Z.CLUSTER_ID },
      { name: 'INPOD_ENABLED', value: 'true' },
      { name: 'TERMINATION_GRACE_PERIOD_SECONDS', value: String(Z.TERMINATION_GRACE_SECONDS) },
      field('POD_NAME', 'metadata.name'),
      field('POD_NAMESPACE', 'metadata.namespace'),
      field('NODE_NAME', 'spec.nodeName'),
      field('INSTANCE_IP', 'status.podIP'),
      field('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      ...Object.keys(proxyMetadata).sort().map(name => ({ name, value: proxyMetadata[name] })),
      { name: 'ZTUNNEL_CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: k8s.Quantity.fromString('1') } } },
    ];
    const pick = (cpu?: string, memory?: string) => {
      const out: { [key: string]: k8s.Quantity } = {};
      if (cpu !== undefined) out.cpu = k8s.Quantity.fromString(cpu);
      if (memory !== undefined) out.memory = k8s.Quantity.fromString(memory);
      return Object.keys(out).length ? out : undefined;
    };
    const selector = { [IstioLabels.APP]: Z.NAME };
    const props2: k8s.KubeDaemonSetProps = {
      metadata: meta(true),
      spec: {
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: k8s.IntOrString.fromNumber(1), maxUnavailable: k8s.IntOrString.fromNumber(0) } },
        selector: { matchLabels: selector },
        template: {
          metadata: {
            labels: {
              [IstioLabels.INJECT]: 'false',
              [IstioLabels.DATAPLANE_MODE]: 'none',
              ...selector,
              ...labels,
            },
            annotations: {
              [IstioLabels.INJECT]: 'false',
              ...(mesh.revision ? { [IstioLabels.REV]: mesh.revision } : {}),
              'prometheus.io/port': String(Z.STATS_PORT),
              'prometheus.io/scrape': 'true',
            },
          },
          spec: {
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            serviceAccountName: Z.NAME,
            tolerations: [
              { effect: 'NoSchedule', operator: 'Exists' },
              { key: 'CriticalAddonsOnly', operator: 'Exists' },
              { effect: 'NoExecute', operator: 'Exists' },
            ],
            containers: [{
              name: Z.CONTAINER,
              image: `${mesh.hub}/${Z.IMAGE}:${mesh.version}`,
              ports: [{ containerPort: Z.STATS_PORT, name: 'ztunnel-stats', protocol: 'TCP' }],
              resources: { requests: pick(r.cpuRequest, r.memoryRequest), limits: pick(r.cpuLimit, r.memoryLimit) },
              securityContext: {
                // the chart's: root with NET_ADMIN (TPROXY), SYS_ADMIN (setns into pod network namespaces), NET_RAW;
                // SYS_ADMIN forces allowPrivilegeEscalation true
                allowPrivilegeEscalation: true,
                privileged: false,
                capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'SYS_ADMIN', 'NET_RAW'] },
                readOnlyRootFilesystem: true,
                runAsGroup: 1337,
                runAsNonRoot: false,
                runAsUser: 0,
                ...(p.seLinuxType ? { seLinuxOptions: { type: p.seLinuxType } } : {}),
              },
              readinessProbe: { httpGet: { port: k8s.IntOrString.fromNumber(Z.READY_PORT), path: Z.READY_PATH } },
              args: ['proxy', 'ztunnel'],
              env,
              volumeMounts: [
                { mountPath: '/var/run/secrets/istio', name: 'istiod-ca-cert' },
                { mountPath: '/var/run/secrets/tokens', name: 'istio-token' },
                { mountPath: Z.SOCKET_DIR, name: 'cni-ztunnel-sock-dir' },
                { mountPath: '/tmp', name: 'tmp' },
              ],
            }],
            priorityClassName: Z.PRIORITY_CLASS,
            terminationGracePeriodSeconds: Z.TERMINATION_GRACE_SECONDS,
            volumes: [
              {
                name: 'istio-token',
                projected: { sources: [{ serviceAccountToken: { path: 'istio-token', expirationSeconds: Z.TOKEN_EXPIRATION_SECONDS, audience: Z.TOKEN_AUDIENCE } }] },
              },
              { name: 'istiod-ca-cert', configMap: { name: Z.CA_ROOT_CONFIGMAP } },
              // a directory, not the socket: the CNI agent may not have created it yet
              { name: 'cni-ztunnel-sock-dir', hostPath: { path: Z.SOCKET_DIR, type: 'DirectoryOrCreate' } },
              // readOnlyRootFilesystem: a writable /tmp
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
      },
    };
    this.daemonSet = new ApiObject(this, 'daemonset', { apiVersion: 'apps/v1', kind: 'DaemonSet', ...k8s.toJson_KubeDaemonSetProps(props2) } as any);
    this.objects.push(this.daemonSet);

    if (p.resourceQuota) {
      // profile-platform-gke: system-node-critical pods outside kube-system need a quota for that priority class
      this.objects.push(new k8s.KubeResourceQuota(this, 'quota', {
        metadata: { name: Z.NAME, namespace: ns, labels },
        spec: {
          hard: { pods: k8s.Quantity.fromString(Z.GKE_QUOTA_PODS) },
          scopeSelector: { matchExpressions: [{ operator: 'In', scopeName: 'PriorityClass', values: [Z.PRIORITY_CLASS] }] },
        },
      }));
    }
  }
}
