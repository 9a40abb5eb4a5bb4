import { ApiObject } from 'cdk8s';
import { SYNC_WAVE_TABLE, WAVE, waveOf, waveOfKind } from './sync-wave-table';

/**
 * The order in which Argo CD applies what this library synthesizes: the `argocd.argoproj.io/sync-wave` of every kind.
 *
 * Argo CD applies the objects of one wave, waits until they are healthy, then moves to the next wave; lower waves
 * first. The table is make-before-break: whatever an object refers to exists (and is healthy) before the object.
 *
 * | wave | stage | kinds |
 * |---|---|---|
 * | -9 | FOUNDATION | Namespace, CustomResourceDefinition |
 * | -8 | ACCESS | ServiceAccount, ClusterRole, ClusterRoleBinding, Role, RoleBinding, ConfigMap, Secret, ResourceQuota, LimitRange, PriorityClass, AppProject |
 * | -7 | ISSUERS | ClusterIssuer, Issuer (cert-manager) |
 * | -6 | CERTIFICATES | Certificate: issued (Ready) before the gateways that mount its Secret start |
 * | -5 | CONTROL_PLANE | MutatingWebhookConfiguration, ValidatingWebhookConfiguration, GatewayClass, and istiod's Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget (labelled `app: istiod` or `istio: pilot`) |
 * | -4 | MESH_POLICY | PeerAuthentication, RequestAuthentication, AuthorizationPolicy, Sidecar, Telemetry, EnvoyFilter, WasmPlugin, ProxyConfig, NetworkPolicy, ReferenceGrant, PodMonitor, ServiceMonitor, PrometheusRule, AnalysisTemplate, ClusterAnalysisTemplate |
 * | -3 | DESTINATIONS | ServiceEntry, WorkloadEntry, WorkloadGroup, DestinationRule |
 * | -3 | CANARY_WORKLOADS | a CanaryRelease's canary Deployment (annotated with its wave by the release) |
 * | -2 | ROUTES | VirtualService, HTTPRoute, GRPCRoute, TCPRoute, TLSRoute, UDPRoute |
 * | -1 | GATEWAYS | Gateway (networking.istio.io and gateway.networking.k8s.io) |
 * | 0 | WORKLOADS | Deployment, StatefulSet, DaemonSet, Job, CronJob, Service, HorizontalPodAutoscaler, PodDisruptionBudget, Rollout, and every kind not listed here |
 * | 10 | APPLICATIONS | Application (an app-of-apps root orders its children from 10 upwards) |
 *
 * Why this order:
 * - Policies (mTLS, authorization, network policies) exist before the workloads they protect: no window where a new
 *   pod runs without them.
 * - DestinationRules (and their subsets) come before the VirtualServices that route to those subsets; Istio's docs
 *   warn that routing to a subset that does not exist yet gives 503s.
 * - A release's new version is running and ready before the routes that send it traffic (a canary share or a
 *   blue/green switch to pods that are not ready yet fails those requests); its stable version is already running.
 * - Routes exist before the gateway listener opens, so a new listener never serves a host without routes.
 * - istiod and its webhooks are up before any workload is created, so every pod is injected.
 */
export class SyncWaves {
  /** Namespaces and CustomResourceDefinitions. */
  public static readonly FOUNDATION: number = WAVE.FOUNDATION;
  /** Identity and plain configuration: ServiceAccounts, RBAC, ConfigMaps, Secrets, AppProjects. */
  public static readonly ACCESS: number = WAVE.ACCESS;
  /** cert-manager Issuers and ClusterIssuers. */
  public static readonly ISSUERS: number = WAVE.ISSUERS;
  /** cert-manager Certificates. */
  public static readonly CERTIFICATES: number = WAVE.CERTIFICATES;
  /** istiod and its admission webhooks, GatewayClasses. */
  public static readonly CONTROL_PLANE: number = WAVE.CONTROL_PLANE;
  /** Security and telemetry configuration: PeerAuthentication, AuthorizationPolicy, Sidecar, monitors, analysis templates. */
  public static readonly MESH_POLICY: number = WAVE.MESH_POLICY;
  /** ServiceEntries, WorkloadEntries and DestinationRules. */
  public static readonly DESTINATIONS: number = WAVE.DESTINATIONS;
  /** A CanaryRelease's canary Deployment: ready before the routes that send it traffic (the wave of DESTINATIONS). */
  public static readonly CANARY_WORKLOADS: number = WAVE.CANARY_WORKLOADS;
  /** VirtualServices and Gateway API routes. */
  public static readonly ROUTES: number = WAVE.ROUTES;
  /** Istio and Gateway API Gateways. */
  public static readonly GATEWAYS: number = WAVE.GATEWAYS;
  /** Workloads and Services, and every kind the table does not list. */
  public static readonly WORKLOADS: number = WAVE.WORKLOADS;
  /** Argo CD Applications. */
  public static readonly APPLICATIONS: number = WAVE.APPLICATIONS;

  /**
   * The wave of a kind (istiod's own Deployment/Service are classified by `forObject`, which reads labels).
   *
   * @param kind the object's kind, e.g. `DestinationRule`
   * @returns the wave from the table, or `SyncWaves.WORKLOADS` for a kind not in the table
   */
  public static of(kind: string): number {
    return waveOfKind(kind);
  }

  /**
   * The wave this library gives an object: `of(kind)`, except istiod's Deployment, Service, HorizontalPodAutoscaler and
   * PodDisruptionBudget (labelled `app: istiod` or `istio: pilot`), which are part of the control plane.
   *
   * @param obj the object
   */
  public static forObject(obj: ApiObject): number {
    return waveOf(obj.kind, (k) => obj.metadata.getLabel(k));
  }

  /** The whole table, kind -> wave, as a copy. */
  public static table(): { [kind: string]: number } {
    return { ...SYNC_WAVE_TABLE };
  }

  private constructor() {}
}

