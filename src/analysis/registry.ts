/**
 * The catalogue: every message code of `istioctl analyze` (istio-facts.md, section e) plus cdk8s-mesh's own codes,
 * each with its level and how cdk8s-mesh handles it. docs/analysis.md is generated from this table (and a test
 * checks that it has not drifted).
 */
import { FindingLevel } from './finding';

/** How cdk8s-mesh handles a catalogue code. @internal */
export type Handling =
  /** An analyzer in src/analysis/analyzers reports it. */
  | 'detected'
  /** The constructs cannot generate the problem. */
  | 'construction'
  /** It needs something a manifest does not have (a live cluster, its status, the installer). */
  | 'not-applicable'
  /** Could be checked on manifests but is not (yet). */
  | 'not-detected';

/** A catalogue entry. @internal */
export interface CatalogueEntry {
  readonly code: string;
  readonly name: string;
  readonly level: FindingLevel;
  readonly handling: Handling;
  /** The analyzer family (file in analyzers/) for detected codes. */
  readonly analyzer?: string;
  /** What the check does, or why it is impossible / not applicable. */
  readonly note: string;
}

const E = FindingLevel.ERROR;
const W = FindingLevel.WARNING;
const I = FindingLevel.INFO;

function detected(code: string, name: string, level: FindingLevel, analyzer: string, note: string): CatalogueEntry {
  return { code, name, level, handling: 'detected', analyzer, note };
}
function construction(code: string, name: string, level: FindingLevel, note: string): CatalogueEntry {
  return { code, name, level, handling: 'construction', note };
}
function notApplicable(code: string, name: string, level: FindingLevel, note: string): CatalogueEntry {
  return { code, name, level, handling: 'not-applicable', note };
}
function notDetected(code: string, name: string, level: FindingLevel, note: string): CatalogueEntry {
  return { code, name, level, handling: 'not-detected', note };
}

/** Every code, in code order. @internal */
export const CATALOGUE: readonly CatalogueEntry[] = [
  notApplicable('IST0001', 'InternalError', E, 'A bug in the analysis tooling itself. The CLI never crashes on input: unreadable documents are reported per file and document and the rest is analyzed.'),
  notDetected('IST0002', 'Deprecated', W, 'Needs the per-release list of deprecated fields. Our constructs emit only current (v1) APIs and fields.'),
  detected('IST0101', 'ReferencedResourceNotFound', E, 'virtualservice, gateway, sidecar, auth, telemetry, k8sgateway', 'Missing VirtualService gateways, destination hosts and subsets; Gateway selectors and credentialName secrets (a cert-manager Certificate counts as the secret); Sidecar and Telemetry selectors; AuthorizationPolicy source namespaces; HTTPRoute backendRefs.'),
  notDetected('IST0102', 'NamespaceNotInjected', I, 'Injection is decided per workload at synth time (sidecar/inject.ts) rather than by namespace label, so an unlabelled namespace is not a problem in itself.'),
  notApplicable('IST0103', 'PodMissingProxy', W, 'Needs running pods: it reports pods created before injection was enabled.'),
  construction('IST0106', 'SchemaValidationError', E, 'Every object the constructs emit is built from the typed CRD bindings and validated in tests against the upstream schema (test/util synthValid). For hand-written YAML run `kubectl apply --dry-run=server`.'),
  notDetected('IST0107', 'MisplacedAnnotation', W, 'Needs Istio\'s annotation catalogue (which kinds each annotation belongs to). Constructs set annotations from src/mesh/constants.ts on the right kind.'),
  notDetected('IST0108', 'UnknownAnnotation', W, 'Needs Istio\'s annotation catalogue. Constructs only use the annotation constants in src/mesh/constants.ts.'),
  detected('IST0109', 'ConflictingMeshGatewayVirtualServiceHosts', E, 'virtualservice', 'Several mesh-bound VirtualServices (no gateways, or `mesh`) claiming the same resolved host.'),
  detected('IST0110', 'ConflictingSidecarWorkloadSelectors', E, 'sidecar', 'Two Sidecars whose workloadSelectors select the same workload (matched through the label index).'),
  detected('IST0111', 'MultipleSidecarsWithoutWorkloadSelectors', E, 'sidecar', 'More than one selector-less Sidecar in a namespace.'),
  detected('IST0112', 'VirtualServiceDestinationPortSelectorRequired', E, 'virtualservice', 'A route destination without port to a Service (or ServiceEntry) that has several ports.'),
  detected('IST0116', 'DeploymentAssociatedToMultipleServices', W, 'service', 'A workload selected by several Services that give the same target port different protocols (Istio protocol selection, istio-facts section d).'),
  detected('IST0118', 'PortNameIsNotUnderNamingConvention', I, 'service', 'A Service port with neither appProtocol nor a recognised protocol prefix in its name (system namespaces skipped).'),
  detected('IST0123', 'NamespaceMultipleInjectionLabels', W, 'injection', 'A Namespace with both `istio-injection` and `istio.io/rev` labels.'),
  notDetected('IST0125', 'InvalidAnnotation', W, 'Needs Istio\'s annotation value formats. Constructs validate the annotation values they write.'),
  notApplicable('IST0126', 'UnknownMeshNetworksServiceRegistry', E, 'Reads meshNetworks of a running multi-network installation; cdk8s-mesh does not configure meshNetworks.'),
  detected('IST0127', 'NoMatchingWorkloadsFound', W, 'auth', 'An AuthorizationPolicy (or RequestAuthentication / PeerAuthentication) selector that matches no workload in its namespace.'),
  detected('IST0128', 'NoServerCertificateVerificationDestinationLevel', W, 'destinationrule', 'DestinationRule (or subset) TLS mode SIMPLE/MUTUAL without caCertificates, credentialName or insecureSkipVerify.'),
  detected('IST0129', 'NoServerCertificateVerificationPortLevel', W, 'destinationrule', 'The same, in portLevelSettings.'),
  detected('IST0130', 'VirtualServiceUnreachableRule', W, 'virtualservice', 'A route rule after a catch-all rule, or all of whose matches repeat or are shadowed by earlier matches.'),
  detected('IST0131', 'VirtualServiceIneffectiveMatch', I, 'virtualservice', 'A match that repeats an earlier one, or is shadowed by an earlier, more general one (e.g. prefix /api before prefix /api/v2 with the same other conditions).'),
  detected('IST0132', 'VirtualServiceHostNotFoundInGateway', W, 'virtualservice', 'A VirtualService host that no server of its (existing) Gateway serves, honouring `namespace/host` and wildcards.'),
  construction('IST0133', 'SchemaWarning', W, 'Istio\'s validation warnings (e.g. deprecated or discouraged fields); the constructs emit only current fields, schema-validated in tests.'),
  detected('IST0134', 'ServiceEntryAddressesRequired', W, 'serviceentry', 'A ServiceEntry with a TCP (or unset / other opaque) port and no addresses.'),
  notDetected('IST0135', 'DeprecatedAnnotation', I, 'Needs Istio\'s annotation catalogue; constructs use only current annotations.'),
  notDetected('IST0136', 'AlphaAnnotation', I, 'Not in istioctl\'s default set either; needs the annotation catalogue.'),
  detected('IST0137', 'DeploymentConflictingPorts', W, 'service', 'Services selecting the same workload that map one targetPort from different ports.'),
  detected('IST0138', 'GatewayDuplicateCertificate', W, 'gateway', 'One credentialName on servers of several Gateways of the same gateway workload.'),
  detected('IST0139', 'InvalidWebhook', E, 'webhook', 'Istio injection webhooks whose service is missing, or two injection webhooks (different configurations) with identical namespace and object selectors.'),
  detected('IST0140', 'IngressRouteRulesNotAffected', W, 'virtualservice', 'A gateway-bound VirtualService routes to a host without subset while a mesh VirtualService routes that host by subsets.'),
  notApplicable('IST0141', 'InsufficientPermissions', E, 'About the permissions of whoever installs into a live cluster.'),
  notApplicable('IST0142', 'UnsupportedKubernetesVersion', E, 'About a live cluster\'s version. Mesh.kubernetesVersion is validated against MIN_KUBERNETES_MINOR when the Mesh is created.'),
  notApplicable('IST0143', 'LocalhostListener', E, 'Needs the sockets a running application listens on.'),
  detected('IST0144', 'InvalidApplicationUID', W, 'injection', 'An application container (or its pod) running as UID 1337, the proxy\'s UID.'),
  detected('IST0145', 'ConflictingGateways', E, 'gateway', 'Gateways with the same selector and port whose hosts overlap.'),
  detected('IST0146', 'ImageAutoWithoutInjectionWarning', W, 'injection', 'A workload template with `image: auto` in a namespace (present in the input) that would not inject it.'),
  detected('IST0147', 'ImageAutoWithoutInjectionError', E, 'injection', 'The same on a bare Pod.'),
  notApplicable('IST0148', 'NamespaceInjectionEnabledByDefault', I, 'Depends on the installed injector\'s enableNamespacesByDefault; cdk8s-mesh never enables it.'),
  detected('IST0149', 'JwtClaimBasedRoutingWithoutRequestAuthN', E, 'virtualservice', 'A gateway-bound VirtualService matching `@request.auth.claims.*` headers with no RequestAuthentication for the gateway workload.'),
  detected('IST0150', 'ExternalNameServiceTypeInvalidPortName', W, 'service', 'An ExternalName Service port whose name has no recognised protocol prefix.'),
  detected('IST0151', 'EnvoyFilterUsesRelativeOperation', W, 'envoyfilter', 'INSERT_BEFORE/INSERT_AFTER/INSERT_FIRST patch in an EnvoyFilter without priority.'),
  detected('IST0152', 'EnvoyFilterUsesReplaceOperationIncorrectly', E, 'envoyfilter', 'REPLACE outside HTTP_FILTER / NETWORK_FILTER.'),
  detected('IST0153', 'EnvoyFilterUsesAddOperationIncorrectly', E, 'envoyfilter', 'ADD applied to ROUTE_CONFIGURATION or HTTP_ROUTE.'),
  detected('IST0154', 'EnvoyFilterUsesRemoveOperationIncorrectly', E, 'envoyfilter', 'REMOVE applied to ROUTE_CONFIGURATION or HTTP_ROUTE.'),
  detected('IST0155', 'EnvoyFilterUsesRelativeOperationWithProxyVersion', W, 'envoyfilter', 'A relative patch matching a proxyVersion, without priority (replaces IST0151 for that patch).'),
  notApplicable('IST0156', 'UnsupportedGatewayAPIVersion', E, 'About the Gateway API CRDs installed in a live cluster; the CRD versions cdk8s-mesh ships are pinned.'),
  detected('IST0157', 'InvalidTelemetryProvider', W, 'telemetry', 'A Telemetry tracing/metrics/accessLogging entry with an empty providers list and no disable flag.'),
  notApplicable('IST0158', 'PodsIstioProxyImageMismatchInNamespace', W, 'Needs running pods. At synth time the proxy image comes from the one Mesh object (Mesh.proxyImage).'),
  detected('IST0159', 'ConflictingTelemetryWorkloadSelectors', E, 'telemetry', 'Two Telemetries whose selectors select the same workload.'),
  detected('IST0160', 'MultipleTelemetriesWithoutWorkloadSelectors', E, 'telemetry', 'More than one selector-less (and targetRef-less) Telemetry in a namespace.'),
  detected('IST0161', 'InvalidGatewayCredential', E, 'gateway', 'A credentialName Secret present in the input without tls.crt/tls.key (or cert/key).'),
  detected('IST0162', 'GatewayPortNotDefinedOnService', W, 'gateway', 'A Gateway server port that is neither a port nor a targetPort of the Services in front of the gateway workload.'),
  notApplicable('IST0163', 'InvalidExternalControlPlaneConfig', W, 'External control plane (remote istiod URL) setups; cdk8s-mesh installs an in-cluster istiod.'),
  notApplicable('IST0164', 'ExternalControlPlaneAddressIsNotAHostname', I, 'External control plane setups only, as IST0163.'),
  detected('IST0165', 'ReferencedInternalGateway', W, 'virtualservice', 'A VirtualService referring to an implementation-generated `istio-autogenerated-k8s-gateway` Gateway.'),
  detected('IST0166', 'IneffectiveSelector', W, 'k8sgateway', 'An AuthorizationPolicy / RequestAuthentication / Telemetry / WasmPlugin selecting a Kubernetes Gateway\'s pods by selector and not by targetRef.'),
  notDetected('IST0167', 'IneffectivePolicy', W, 'Istio reports policy fields that have no effect in ambient mode; cdk8s-mesh targets sidecar mode.'),
  notApplicable('IST0168', 'UnknownUpgradeCompatibility', W, 'About upgrading a live installation between releases.'),
  notApplicable('IST0169', 'UpdateIncompatibility', W, 'About upgrading a live installation between releases.'),
  notApplicable('IST0170', 'MultiClusterInconsistentService', W, 'Compares a Service across the clusters of a live multi-cluster mesh.'),
  notApplicable('IST0171', 'NegativeConditionStatus', W, 'Reads status conditions, which only a live cluster has.'),
  notApplicable('IST0172', 'FutureUnsupportedGatewayAPIVersion', W, 'About the Gateway API CRDs installed in a live cluster.'),
  detected('IST0173', 'DestinationRuleSubsetNotSelectPods', E, 'destinationrule', 'A subset whose labels, with the Service\'s selector, select no workload (reported when the Service selects at least one workload of the input).'),
  detected('IST0174', 'UnknownDestinationRuleHost', W, 'destinationrule', 'A DestinationRule host that matches no Service, ServiceEntry or declared existing object.'),
  notApplicable('IST0175', 'JwksUriFetchUnrestricted', W, 'Reads istiod\'s BLOCKED_CIDRS_IN_JWKS_URIS environment in a live installation.'),
  notApplicable('IST0176', 'GatewayAPICRDVersionBelowMinimum', W, 'About the Gateway API CRDs installed in a live cluster.'),
  detected('IST0177', 'ConflictingServiceEntryProtocol', W, 'serviceentry', 'ServiceEntries giving the same host and port number different protocols.'),
  // cdk8s-mesh's own checks, beyond Istio's catalogue.
  detected('MESH001', 'DestinationRuleTlsBreaksStrictMtls', E, 'destinationrule', 'A DestinationRule setting tls mode DISABLE or SIMPLE to a Service whose workloads require STRICT mTLS (PeerAuthentication at workload, namespace or mesh level): that turns auto mTLS off and the server rejects the connection. A DestinationRule with a trafficPolicy but no tls keeps auto mTLS and is not reported.'),
  detected('MESH002', 'SpiffePrefixInPrincipal', E, 'auth', 'An AuthorizationPolicy principal written as `spiffe://...`: Istio compares principals without the scheme, so the rule never matches.'),
  detected('MESH003', 'HttpFieldsOnTcpPort', W, 'auth', 'An AuthorizationPolicy rule using HTTP-only fields (methods, paths, hosts, requestPrincipals, request.* conditions) that applies only to TCP ports: ALLOW rules then never match, DENY rules match more than meant.'),
  detected('MESH004', 'RouteWeightsNotHundred', W, 'virtualservice', 'Route destination weights within one route that are given but do not total 100.'),
  // Flow analysis (src/analysis/flows): run with the `flows` option or `cdk8s-mesh analyze --flows`.
  detected('MESH101', 'DeclaredFlowDenied', E, 'flows', 'A flow the objects declare (a Sidecar egress host, an Istio Gateway or Gateway API route, a mesh VirtualService route or mirror, a route through an egress gateway) that no request can pass: NetworkPolicy egress of the source or ingress of the destination, the source\'s Sidecar scope (REGISTRY_ONLY), STRICT PeerAuthentication against a plaintext source, or AuthorizationPolicy (DENY before ALLOW). The message names the layer and the object.'),
  detected('MESH102', 'ProxyCannotReachControlPlane', E, 'flows', 'A meshed proxy whose NetworkPolicies (its egress, the destination\'s ingress) block istiod (`istiod[-<rev>]` in the root namespace, port 15012) or its CA (`CA_ADDR`, e.g. istio-csr, judged on the Service\'s targetPort). Proxy-originated: Sidecar scoping and AuthorizationPolicy do not apply.'),
  detected('MESH103', 'TelemetryProviderUnreachable', W, 'flows', 'A meshed proxy that cannot reach a telemetry extension provider of the mesh config (opentelemetry, zipkin, envoyOtelAls...): blocked by NetworkPolicy, or its Sidecar does not import the provider host (Envoy then has no cluster for it).'),
  detected('MESH104', 'ScrapeTargetUnreachable', W, 'flows', 'When the input scrapes metrics (PodMonitor, ServiceMonitor or `prometheus.io/scrape` pods): a meshed pod whose ports 15020/15090 the scraper (namespace `monitoring` by default) cannot reach through NetworkPolicy.'),
  detected('MESH105', 'EgressGatewayBypass', W, 'flows', 'A NetworkPolicy that lets a source reach an external host directly on every address (0.0.0.0/0) while a VirtualService routes that host through an egress gateway: the gateway can be bypassed.'),
  detected('MESH106', 'ServicePortUnreachable', W, 'flows', 'A Service port that no source can reach: every pod behind it is isolated by NetworkPolicy ingress with no rule for the port, or its AuthorizationPolicies allow nothing on it.'),
];

const BY_CODE = new Map(CATALOGUE.map(e => [e.code, e]));

/** The catalogue entry of a code. @internal */
export function entryOf(code: string): CatalogueEntry {
  const e = BY_CODE.get(code);
  if (!e) throw new Error(`analysis: unknown message code ${code}`);
  return e;
}

/** The docs/analysis.md catalogue table, generated from CATALOGUE. @internal */
export function catalogueTable(): string {
  const handling = (e: CatalogueEntry) => {
    switch (e.handling) {
      case 'detected': return `detected (${e.analyzer}); test/${e.analyzer === 'flows' ? 'analysis-flows' : 'analysis'}.test.ts \`${e.code}\``;
      case 'construction': return 'impossible by construction';
      case 'not-applicable': return 'not applicable';
      case 'not-detected': return 'not detected';
    }
  };
  const rows = CATALOGUE.map(e => `| ${e.code} | ${e.name} | ${e.level} | ${handling(e)} | ${e.note.replace(/\|/g, '\\|')} |`);
  return ['| Code | Name | Level | Handling | Details |', '|---|---|---|---|---|', ...rows].join('\n') + '\n';
}
