/**
 * The gateway workload as Istio's gateway chart renders it, with the `gateway` injection template applied at synth
 * time: ServiceAccount, Role + RoleBinding (read its TLS Secrets), Deployment, Service, HPA, PDB.
 * @internal
 */
import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import {
  APP_NAME_LABEL, DATAPLANE_MODE_NONE, GATEWAY_DEFAULTS, ISTIO_NAME_PREFIX, STATUS_PORT_NAME, UNPRIVILEGED_PORT_SYSCTL,
} from './constants';
import { invalid } from '../errors';
import { IstioAnnotations, IstioLabels, IstioPorts } from '../mesh/constants';
import { IMesh, ResourceSettings } from '../mesh/mesh';
import { IMeshNamespace, MeshNamespace } from '../mesh/namespace';
import { AUTO_IMAGE, ENVOY_PROM_PORT_NAME, PROXY_CONTAINER, TEMPLATE_GATEWAY } from '../sidecar/constants';
import { injectPodTemplate } from '../sidecar/inject';
import { ProxyOptions, SidecarTemplate } from '../sidecar/proxy-options';
import { checkInteger, compact } from '../validation';

/** How the gateway's Service is exposed. */
export enum GatewayServiceType {
  /** A cloud load balancer (the gateway chart's default for ingress). */
  LOAD_BALANCER = 'LoadBalancer',
  /** A port on every node. */
  NODE_PORT = 'NodePort',
  /** Cluster-internal only (egress gateways, or an ingress behind another load balancer). */
  CLUSTER_IP = 'ClusterIP',
}

/** Scaling and placement of the gateway pods. */
export interface GatewayWorkloadOptions {
  /**
   * Place the gateway in the mesh's root namespace anyway. Refused by default: istiod lets a gateway read every Secret
   * of its namespace, and the root namespace holds the mesh CA's keys (`cacerts`, `istio-ca-secret`).
   * @default false
   */
  readonly allowRootNamespace?: boolean;
  /**
   * Minimum replicas (HPA). With more than one, a PodDisruptionBudget keeps one pod available during drains.
   * @default 1
   */
  readonly minReplicas?: number;
  /**
   * Maximum replicas (HPA).
   * @default 5
   */
  readonly maxReplicas?: number;
  /**
   * Target average CPU utilization of the HPA, percent.
   * @default 80
   */
  readonly targetCpuUtilization?: number;
  /**
   * Proxy CPU and memory.
   * @default - the gateway chart's: 100m/128Mi requests, 2000m/1024Mi limits
   */
  readonly resources?: ResourceSettings;
  /**
   * Further proxy options (log level, concurrency...). The injection template is always the gateway template.
   * @default - none
   */
  readonly proxy?: ProxyOptions;
  /**
   * How the gateway's Service is exposed.
   * @default GatewayServiceType.LOAD_BALANCER for an ingress, CLUSTER_IP for an egress gateway
   */
  readonly serviceType?: GatewayServiceType;
  /**
   * Annotations of the gateway's Service, e.g. for cloud load balancers
   * (`service.beta.kubernetes.io/aws-load-balancer-type: nlb`).
   * @default - none
   */
  readonly serviceAnnotations?: { [key: string]: string };
}

/** @internal */
export interface GatewayWorkloadSpec {
  readonly name: string;
  readonly namespace: string;
  readonly mesh: IMesh;
  readonly selector: { [key: string]: string };
  readonly labels: { [key: string]: string };
  readonly serviceType: GatewayServiceType;
  /** The listener ports, read at synth time: [name, port]. */
  readonly ports: () => Array<{ name: string; port: number }>;
  readonly options: GatewayWorkloadOptions;
}

/** The objects of the workload. @internal */
export interface GatewayWorkloadObjects {
  readonly serviceAccount: ApiObject;
  readonly role: ApiObject;
  readonly roleBinding: ApiObject;
  readonly deployment: ApiObject;
  readonly service: ApiObject;
  readonly autoscaler: ApiObject;
  readonly podDisruptionBudget?: ApiObject;
}

/** Creates the gateway workload. @internal */
export function createGatewayWorkload(scope: Construct, spec: GatewayWorkloadSpec): GatewayWorkloadObjects {
  const o = spec.options;
  const min = o.minReplicas ?? GATEWAY_DEFAULTS.MIN_REPLICAS;
  const max = o.maxReplicas ?? Math.max(GATEWAY_DEFAULTS.MAX_REPLICAS, min);
  checkInteger(scope, 'minReplicas', min, 1, 1000);
  checkInteger(scope, 'maxReplicas', max, 1, 1000);
  if (max < min) invalid(scope, 'maxReplicas', max, `must be at least minReplicas (${min})`);
  const cpu = o.targetCpuUtilization ?? GATEWAY_DEFAULTS.CPU_UTILIZATION;
  checkInteger(scope, 'targetCpuUtilization', cpu, 1, 100);
  if (!Object.values(GatewayServiceType).includes(spec.serviceType)) {
    invalid(scope, 'serviceType', spec.serviceType, `must be one of ${Object.values(GatewayServiceType).join(', ')}`);
  }
  for (const k of Object.keys(o.serviceAnnotations ?? {})) {
    if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(k)) invalid(scope, 'serviceAnnotations', k, 'must be annotation keys: an optional DNS prefix and /, then a name');
  }
  if (o.proxy?.template !== undefined && o.proxy.template !== SidecarTemplate.GATEWAY) {
    invalid(scope, 'proxy.template', o.proxy.template, 'must be GATEWAY (or omitted): a gateway runs the gateway injection template');
  }
  const ns = spec.namespace;
  const meta = (name: string) => ({ name, namespace: ns, labels: { ...spec.labels } });

  const serviceAccount = new ApiObject(scope, 'ServiceAccount', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(spec.name) } as any);
  // istiod serves credentialName Secrets only to gateways whose service account may read them. Istio 1.30.3 checks
  // exactly one thing (pilot/pkg/credentials/kube, CredentialsController.Authorize): a SubjectAccessReview for verb
  // `list` on secrets in the gateway's namespace, with no resource name. So `list` is all the Role grants (the
  // gateway chart also grants get and watch), and it cannot be narrowed by resourceNames: a list is never limited
  // by name. The pod itself has no API token (automountServiceAccountToken: false), so only istiod's check uses it;
  // what bounds the exposure is the namespace: keep only gateway credentials there (never the mesh's root
  // namespace, see resolveGatewayPlacement).
  const role = new ApiObject(scope, 'Role', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: meta(spec.name),
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }],
  } as any);
  const roleBinding = new ApiObject(scope, 'RoleBinding', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(spec.name),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: spec.name },
    subjects: [{ kind: 'ServiceAccount', name: spec.name }],
  } as any);

  const resources = o.resources ?? o.proxy?.resources ?? { ...GATEWAY_DEFAULTS.RESOURCES };
  const proxy: ProxyOptions = { ...o.proxy, resources, template: SidecarTemplate.GATEWAY };
  const deployment = new ApiObject(scope, 'Deployment', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(spec.name),
    spec: Lazy.any({ produce: () => renderDeploymentSpec(scope, spec, proxy) }),
  } as any);

  const service = new ApiObject(scope, 'Service', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: compact({
      ...meta(spec.name),
      annotations: o.serviceAnnotations && Object.keys(o.serviceAnnotations).length ? sortedMap(o.serviceAnnotations) : undefined,
    }),
    spec: Lazy.any({
      produce: () => ({
        type: spec.serviceType,
        selector: { ...spec.selector },
        ports: [
          { name: STATUS_PORT_NAME, port: IstioPorts.HEALTH, targetPort: IstioPorts.HEALTH, protocol: 'TCP', appProtocol: 'http' },
          ...spec.ports().map(p => ({ name: p.name, port: p.port, targetPort: p.port, protocol: 'TCP' })),
        ],
      }),
    }),
  } as any);

  const autoscaler = new ApiObject(scope, 'HorizontalPodAutoscaler', {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(spec.name),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: spec.name },
      minReplicas: min,
      maxReplicas: max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }],
    },
  } as any);
  let podDisruptionBudget: ApiObject | undefined;
  if (min > 1) {
    podDisruptionBudget = new ApiObject(scope, 'PodDisruptionBudget', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(spec.name),
      spec: { minAvailable: 1, selector: { matchLabels: { ...spec.selector } } },
    } as any);
  }
  return { serviceAccount, role, roleBinding, deployment, service, autoscaler, podDisruptionBudget };
}

function renderDeploymentSpec(scope: Construct, spec: GatewayWorkloadSpec, proxy: ProxyOptions): any {
  const template = {
    metadata: {
      labels: {
        ...spec.selector,
        [APP_NAME_LABEL]: spec.name,
        [IstioLabels.DATAPLANE_MODE]: DATAPLANE_MODE_NONE,
      },
      annotations: { [IstioAnnotations.TEMPLATES]: TEMPLATE_GATEWAY },
    },
    spec: {
      serviceAccountName: spec.name,
      automountServiceAccountToken: false,
      // the container runtime's default seccomp profile (Pod Security Standards `restricted`), as every app pod has
      securityContext: { seccompProfile: { type: 'RuntimeDefault' }, sysctls: [{ ...UNPRIVILEGED_PORT_SYSCTL }] },
      terminationGracePeriodSeconds: GATEWAY_DEFAULTS.TERMINATION_GRACE_PERIOD_SECONDS,
      // the gateway chart's overlay: the injector fills in image, args, env, probes and volumes
      containers: [{
        name: PROXY_CONTAINER,
        image: AUTO_IMAGE,
        ports: [{ containerPort: IstioPorts.ENVOY_PROMETHEUS, name: ENVOY_PROM_PORT_NAME, protocol: 'TCP' }],
      }],
    },
  };
  const injected = injectPodTemplate(template, spec.mesh, { apiVersion: 'apps/v1', kind: 'Deployment', name: spec.name, namespace: spec.namespace }, proxy,
    scope.node.path);
  // replicas are the HPA's (left out, as the gateway chart does with autoscaling)
  return { selector: { matchLabels: { ...spec.selector } }, template: injected };
}

function sortedMap(m: { [key: string]: string }): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}


const GATEWAY_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Resolves and validates where a gateway lives and what it is called (shared by MeshGateway and EgressGateway):
 * the namespace (default: a namespace of that name in the mesh), the mesh (which must agree with the namespace's),
 * and the name (an RFC 1035 label, as a Service name must be).
 *
 * A gateway is refused in the mesh's root namespace unless `allowRootNamespace` is set: istiod lets a gateway read
 * every Secret of its namespace (it checks `list` on secrets, see the Role above), and the root namespace holds the
 * mesh CA's keys (Secrets `cacerts`, `istio-ca-secret`, the cert-manager root `istio-root-ca`).
 * @internal
 */
export function resolveGatewayPlacement(scope: Construct,
  p: { namespace?: IMeshNamespace; mesh?: IMesh; name?: string; allowRootNamespace?: boolean },
  defaults: { namespace: string; name: string }): { namespace: IMeshNamespace; mesh: IMesh; name: string } {
  if (!p.namespace && !p.mesh) invalid(scope, 'mesh', undefined, 'must be given when no namespace is');
  const namespace = p.namespace ?? MeshNamespace.fromName(scope, 'namespace', { name: defaults.namespace, mesh: p.mesh! });
  const mesh = p.mesh ?? namespace.mesh;
  if (p.mesh && p.namespace && p.mesh.trustDomain !== p.namespace.mesh.trustDomain) {
    invalid(scope, 'mesh.trustDomain', p.mesh.trustDomain, `must match the namespace's mesh ('${p.namespace.mesh.trustDomain}')`);
  }
  if (namespace.name === mesh.rootNamespace && !p.allowRootNamespace) {
    invalid(scope, 'namespace', namespace.name, `must not be the mesh's root namespace: a gateway may read every Secret of its namespace, and '${mesh.rootNamespace}' holds the mesh CA's keys (cacerts, istio-ca-secret); give the gateway a namespace of its own (opt-out: allowRootNamespace)`);
  }
  const name = p.name ?? defaults.name;
  if (typeof name !== 'string' || name.length > 63 || !GATEWAY_NAME.test(name)) {
    invalid(scope, 'name', name, "must be a Service name (RFC 1035 label): lowercase letters, digits and '-', starting with a letter, at most 63 characters");
  }
  return { namespace, mesh, name };
}

/** The gateway chart's pod selector: `istio: <name without 'istio-'>`, `app: <name>`. @internal */
export function gatewaySelector(name: string): { [key: string]: string } {
  return { [IstioLabels.ISTIO]: name.startsWith(ISTIO_NAME_PREFIX) ? name.slice(ISTIO_NAME_PREFIX.length) : name, [IstioLabels.APP]: name };
}
