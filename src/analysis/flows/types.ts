/**
 * The public types of the flow analysis: which connections the mesh needs and whether they get through.
 */
import { Finding, ObjectRef } from '../finding';

/** Whether a flow gets through. */
export enum FlowVerdict {
  /** Every request of the flow can pass every layer. */
  ALLOWED = 'allowed',
  /** Some requests pass and some do not (a path-restricted rule, a JWT requirement, a denied backend). */
  PARTIAL = 'partial',
  /** No request passes; the reason names the layer and object that stop it. */
  DENIED = 'denied',
  /** The input does not tell (the destination's pods are not in it, an external authorizer decides, a rule depends on the source's address). */
  UNKNOWN = 'unknown',
}

/** Why a flow exists: what declares it. */
export enum MeshFlowKind {
  /** A workload's Sidecar imports the host: the workload intends to call it. */
  CALL = 'call',
  /** A gateway (Istio Gateway + VirtualService, or Gateway API route) forwards to the destination. */
  GATEWAY_ROUTE = 'gateway-route',
  /** A mesh VirtualService (or Gateway API route with a Service parent) sends callers of its host there. */
  ROUTE = 'route',
  /** A VirtualService mirrors callers' traffic there. */
  MIRROR = 'mirror',
  /** A meshed proxy fetches its configuration from istiod (port 15012). */
  CONTROL_PLANE = 'control-plane',
  /** A meshed proxy asks its CA (`CA_ADDR`) for certificates. */
  CERTIFICATE_AUTHORITY = 'ca',
  /** A meshed proxy sends traces, logs or metrics to an extension provider of the mesh config. */
  TELEMETRY = 'telemetry',
  /** The metrics scraper reads a meshed pod's ports 15020 and 15090. */
  SCRAPE = 'scrape',
}

/** One connection the mesh needs, and whether it gets through. */
export interface MeshFlow {
  /** What declares the flow. */
  readonly kind: MeshFlowKind;
  /** The source: `<namespace>/<workload name>`, or `<namespace>/*` for the scraper when its pods are unknown. */
  readonly source: string;
  /** The source's identity: `<trust domain>/ns/<namespace>/sa/<service account>` (`metrics scraper` for scraping). */
  readonly sourceIdentity: string;
  /** Whether the source has an Istio proxy. */
  readonly sourceMeshed: boolean;
  /** The destination host: a Service FQDN, an external host, or `<namespace>/<workload>` for scraping. */
  readonly destination: string;
  /** The destination port as the source calls it (the Service port). */
  readonly port: number;
  /**
   * The DestinationRule subset the route sends the flow to.
   * @default - every pod of the destination
   */
  readonly subset?: string;
  /** The verdict. */
  readonly verdict: FlowVerdict;
  /** Which rules allow it, or which layer and object deny it. */
  readonly reason: string;
  /** The object that declares the flow (a Sidecar, VirtualService, route, workload, mesh config). */
  readonly declaredBy: ObjectRef;
  /**
   * The layer that denies the flow: `Sidecar`, `NetworkPolicy egress`, `NetworkPolicy ingress`,
   * `PeerAuthentication`, `AuthorizationPolicy`.
   * @default - the flow is not denied
   */
  readonly deniedAt?: string;
  /**
   * The object that denies the flow.
   * @default - the flow is not denied, or no single object denies it
   */
  readonly deniedBy?: ObjectRef;
}

/** Options of the flow analysis. */
export interface FlowAnalysisOptions {
  /**
   * The mesh's trust domain, for the principals of AuthorizationPolicies.
   * @default - `trustDomain` of the mesh config in the input, else 'cluster.local'
   */
  readonly trustDomain?: string;
  /**
   * The namespace of the metrics scraper (Prometheus).
   * @default 'monitoring'
   */
  readonly scraperNamespace?: string;
  /**
   * The pod labels of the metrics scraper. When not given, any pod of the scraper namespace counts as the scraper.
   * @default - any pod of `scraperNamespace`
   */
  readonly scraperLabels?: { [key: string]: string };
  /**
   * Treat pods annotated `prometheus.io/scrape: "true"` as scrape targets even when the input has no
   * prometheus-operator monitor or rule (an annotation-driven Prometheus). Injection annotates every pod so by default.
   * @default false
   */
  readonly scrapeAnnotatedPods?: boolean;
}

/** Options of `analyzeFlows`. */
export interface AnalyzeFlowsOptions extends FlowAnalysisOptions {
  /**
   * The namespace of objects that have none.
   * @default 'default'
   */
  readonly defaultNamespace?: string;
  /**
   * Istio's root namespace.
   * @default 'istio-system'
   */
  readonly rootNamespace?: string;
  /**
   * The cluster DNS domain.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
}

/** The result of the flow analysis. */
export interface FlowAnalysisResult {
  /** Every flow the objects declare or the mesh needs, sorted by source, destination, port and kind. */
  readonly flows: MeshFlow[];
  /** The flow findings (MESH1xx codes), errors first. */
  readonly findings: Finding[];
}
