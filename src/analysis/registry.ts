/**
 * The catalogue: every message code of `istioctl analyze` 1.30.3 (istio-facts.md, section e) plus cdk8s-mesh's own codes,
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

/** Every code, in code order. @internal */
export const CATALOGUE: readonly CatalogueEntry[] = [
  notApplicable('IST0001', 'InternalError', E, 'A bug in the analysis tooling itself. The CLI never crashes on input: unreadable documents are reported per file and document and the rest is analyzed.'),
  detected('IST0002', 'Deprecated', W, 'deprecation', 'The deprecations Istio 1.30.3 checks: CustomResourceDefinitions of the removed rbac.istio.io kinds, a Sidecar outboundTrafficPolicy.egressProxy, a VirtualService fault.delay.percent (use percentage).'),
  detected('IST0101', 'ReferencedResourceNotFound', E, 'virtualservice, gateway, sidecar, auth, telemetry, k8sgateway', 'Missing VirtualService gateways (a Gateway API Gateway is not one), destination and mirror hosts, ports and subsets; Gateway selectors and credentialName secrets (a cert-manager Certificate counts as the secret); Sidecar and Telemetry selectors; AuthorizationPolicy source namespaces; HTTPRoute backendRefs. exportTo as in Istio 1.30.3: a Service (annotation networking.istio.io/exportTo) or ServiceEntry counts only where it is exported to the namespaces of the VirtualService (its exportTo, else its own). Differs from Istio: `name.namespace` hosts resolve to the Service, and Gateway selectors match workload templates as well as Pods (Istio sees Pods only; `cdk8s-mesh analyze` adds its default istio=ingressgateway Pod and Service as istioctl does).'),
  detected('IST0102', 'NamespaceNotInjected', I, 'injection', 'A Namespace of the input (not the root namespace, not ambient) with neither istio-injection nor istio.io/rev label. cdk8s-mesh namespaces carry the revision label.'),
  detected('IST0103', 'PodMissingProxy', W, 'injection', 'A Pod of the input without an istio-proxy container in a namespace labelled istio-injection=enabled (not opted out, not hostNetwork). As in Istio, workload templates are not judged: their pods are injected when created.'),
  construction('IST0106', 'SchemaValidationError', E, 'Every object the constructs emit is built from the typed CRD bindings and validated in tests against the upstream schema (test/util synthValid). For hand-written YAML run `kubectl apply --dry-run=server`.'),
  detected('IST0107', 'MisplacedAnnotation', W, 'annotations', 'An Istio annotation on a kind it does not belong on, per Istio 1.30.3\'s catalogue (generated at build time from istio/api into assets/istio-catalogue.json). Checked on Namespace, Service, Pod and Deployment metadata as Istio does, and (beyond Istio) on workload pod templates as Pods.'),
  detected('IST0108', 'UnknownAnnotation', W, 'annotations', 'An annotation in Istio\'s namespace (prefix ending in istio.io, or kubernetes.io/ingress.class) that is not in the catalogue. sidecar.istio.io/status, istio.io/rev and gateway.istio.io/controller-version are ignored, as in Istio.'),
  detected('IST0109', 'ConflictingMeshGatewayVirtualServiceHosts', E, 'virtualservice', 'Mesh-bound VirtualServices (no gateways, or `mesh`) claiming the same resolved host in one exportTo scope: VirtualServices exported to different namespaces do not conflict; one exported everywhere conflicts with each scoped one whose host it matches. Reported once per VirtualService, as in Istio 1.30.3.'),
  detected('IST0110', 'ConflictingSidecarWorkloadSelectors', E, 'sidecar', 'Two Sidecars whose workloadSelectors select the same workload (matched through the label index).'),
  detected('IST0111', 'MultipleSidecarsWithoutWorkloadSelectors', E, 'sidecar', 'More than one selector-less Sidecar in a namespace.'),
  detected('IST0112', 'VirtualServiceDestinationPortSelectorRequired', E, 'virtualservice', 'A route destination without port to a Service (or ServiceEntry) that has several ports.'),
  detected('IST0116', 'DeploymentAssociatedToMultipleServices', W, 'service', 'An in-mesh workload template (istio-proxy container, the inject label or annotation, or its Namespace in the input labelled istio-injection=enabled) selected by Services of its namespace that give one service port different `protocol` fields (TCP, UDP, SCTP), as Istio 1.30.3 compares. Differs from Istio: every workload kind (Istio: Deployments), and istio.io/rev namespaces count as in the mesh.'),
  detected('IST0118', 'PortNameIsNotUnderNamingConvention', I, 'service', 'A Service port whose protocol Istio does not recognise: appProtocol when set, else the name up to the first `-`; UDP and the well-known TCP ports 25, 53, 3306, 27017 pass. Exempt as in Istio 1.30.3: Services labelled istio=*, release=istio, or gateway.istio.io/managed by Istio\'s controllers (waypoints, gateways); beyond Istio, kube-system, kube-public, kube-node-lease and local-path-storage.'),
  detected('IST0123', 'NamespaceMultipleInjectionLabels', W, 'injection', 'A Namespace with more than one injection label: istio-injection, plus istio.io/rev or istio.io/dataplane-mode, which count only when istio-injection is absent or enabled (Istio 1.30.3).'),
  detected('IST0125', 'InvalidAnnotation', W, 'annotations', 'An invalid value of an annotation Istio validates at injection: interceptionMode, status port, readiness probe numbers, include/exclude IP ranges (CIDR lists), inbound/outbound port lists, interface names, prometheus merge-metrics (boolean), proxy CPU/memory quantities. proxy.istio.io/config must be a YAML mapping; unlike Istio its fields are not validated.'),
  detected('IST0126', 'UnknownMeshNetworksServiceRegistry', E, 'controlplane', 'A meshNetworks endpoint `fromRegistry` (data.meshNetworks of an `istio` ConfigMap in the root namespace) naming neither Mock, Kubernetes, External nor a cluster of a Secret labelled istio/multiCluster=true.'),
  detected('IST0127', 'NoMatchingWorkloadsFound', W, 'auth', 'An AuthorizationPolicy (or RequestAuthentication / PeerAuthentication) selector that matches no workload in its namespace.'),
  detected('IST0128', 'NoServerCertificateVerificationDestinationLevel', W, 'destinationrule', 'DestinationRule (or subset) TLS mode SIMPLE/MUTUAL without caCertificates, credentialName or insecureSkipVerify.'),
  detected('IST0129', 'NoServerCertificateVerificationPortLevel', W, 'destinationrule', 'The same, in portLevelSettings.'),
  detected('IST0130', 'VirtualServiceUnreachableRule', W, 'virtualservice', 'Istio 1.30.3\'s rules for http, tcp and tls routes: a rule without match after another without match; a rule with matches after one without; a rule all of whose matches repeat earlier matches.'),
  detected('IST0131', 'VirtualServiceIneffectiveMatch', I, 'virtualservice', 'A match equal to an earlier one, in its rule or before (HTTP match names ignored); an HTTP URI prefix match after a shorter prefix whose port, method (GET when absent), authority, headers, query parameters and withoutHeaders cover it (Istio 1.30.3). An exact URI under an earlier prefix is not reported, as in Istio.'),
  detected('IST0132', 'VirtualServiceHostNotFoundInGateway', W, 'virtualservice', 'Once per VirtualService and gateway of spec.gateways when none of its hosts is served by a server of that Gateway (`namespace/host`, `.`, `*` and wildcards honoured). As in Istio 1.30.3 also when the Gateway is missing or is a Gateway API Gateway; a Gateway declared in existingObjects is not judged.'),
  construction('IST0133', 'SchemaWarning', W, 'Istio\'s validation warnings (e.g. deprecated or discouraged fields); the constructs emit only current fields, schema-validated in tests.'),
  detected('IST0134', 'ServiceEntryAddressesRequired', W, 'serviceentry', 'A ServiceEntry port with protocol TCP (or unset) and no spec.addresses, no status.addresses (allocated by istiod) and no DNS capture with auto-allocation in the mesh config (proxyMetadata ISTIO_META_DNS_CAPTURE with ISTIO_META_DNS_AUTO_ALLOCATE or PILOT_ENABLE_IP_AUTOALLOCATE in an `istio` ConfigMap of the root namespace).'),
  detected('IST0135', 'DeprecatedAnnotation', I, 'annotations', 'A deprecated annotation of the catalogue (sidecar.istio.io/inject is not reported when the label is set too, as in Istio 1.30.3).'),
  detected('IST0136', 'AlphaAnnotation', I, 'annotations', 'An annotation whose catalogue feature status is Alpha; only with `alphaAnnotations: true`, as istioctl leaves it out of its default set. CNI-set annotations on pods without istio-init are not reported.'),
  detected('IST0137', 'DeploymentConflictingPorts', W, 'service', 'Services selecting the same workload that map one targetPort from different ports.'),
  detected('IST0138', 'GatewayDuplicateCertificate', W, 'gateway', 'A Gateway sharing a certificate (same credentialName, or both without one and the same serverCertificate and privateKey) with another Gateway whose selector contains all of its labels (an empty selector covers every Gateway), as Istio 1.30.3; one finding per Gateway and certificate naming the others (Istio: one per pair).'),
  detected('IST0139', 'InvalidWebhook', E, 'webhook', 'Istio injection webhooks whose service is missing, or two injection webhooks (different configurations) with identical namespace and object selectors.'),
  detected('IST0140', 'IngressRouteRulesNotAffected', W, 'virtualservice', 'A gateway-bound VirtualService routes to a host without subset while a mesh VirtualService routes that host by subsets.'),
  notApplicable('IST0141', 'InsufficientPermissions', E, 'About the permissions of whoever installs into a live cluster.'),
  notApplicable('IST0142', 'UnsupportedKubernetesVersion', E, 'About a live cluster\'s version. Mesh.kubernetesVersion is validated against MIN_KUBERNETES_MINOR when the Mesh is created.'),
  notApplicable('IST0143', 'LocalhostListener', E, 'Needs the sockets a running application listens on.'),
  detected('IST0144', 'InvalidApplicationUID', W, 'injection', 'An application container (or its pod) running as UID 1337, the proxy\'s UID.'),
  detected('IST0145', 'ConflictingGateways', E, 'gateway', 'Servers on one port of Gateways selecting one workload (equal selectors, or one contained in the other with a workload both select) that repeat a host as written with the same bind; once per server. Differs from Istio: workload templates count as well as Pods.'),
  detected('IST0146', 'ImageAutoWithoutInjectionWarning', W, 'injection', 'A workload template with `image: auto` in a namespace (present in the input) that would not inject it.'),
  detected('IST0147', 'ImageAutoWithoutInjectionError', E, 'injection', 'The same on a bare Pod.'),
  detected('IST0148', 'NamespaceInjectionEnabledByDefault', I, 'injection', 'A Namespace without injection labels while the injector ConfigMap (istio-sidecar-injector[-<rev>], values.sidecarInjectorWebhook.enableNamespacesByDefault) injects every namespace. cdk8s-mesh never enables it.'),
  detected('IST0149', 'JwtClaimBasedRoutingWithoutRequestAuthN', E, 'virtualservice', 'A gateway-bound VirtualService matching `@request.auth.claims.*` headers with no RequestAuthentication for the gateway workload.'),
  detected('IST0150', 'ExternalNameServiceTypeInvalidPortName', W, 'service', 'An ExternalName Service port whose name has no recognised protocol prefix.'),
  detected('IST0151', 'EnvoyFilterUsesRelativeOperation', W, 'envoyfilter', 'A relative patch in an EnvoyFilter without priority (0 counts as unset): INSERT_BEFORE, INSERT_AFTER, REPLACE of a filter or virtual host, REMOVE outside routes. INSERT_FIRST is absolute and not reported (Istio 1.30.3).'),
  detected('IST0152', 'EnvoyFilterUsesReplaceOperationIncorrectly', E, 'envoyfilter', 'REPLACE outside HTTP_FILTER, NETWORK_FILTER and VIRTUAL_HOST.'),
  detected('IST0153', 'EnvoyFilterUsesAddOperationIncorrectly', E, 'envoyfilter', 'ADD applied to ROUTE_CONFIGURATION or HTTP_ROUTE.'),
  detected('IST0154', 'EnvoyFilterUsesRemoveOperationIncorrectly', E, 'envoyfilter', 'REMOVE applied to ROUTE_CONFIGURATION or HTTP_ROUTE.'),
  detected('IST0155', 'EnvoyFilterUsesRelativeOperationWithProxyVersion', W, 'envoyfilter', 'A relative patch without priority on a filter (patch value name, else the listener filterChain filter name) that an earlier patch matching a proxyVersion also patches; replaces IST0151 for that patch. EnvoyFilters are taken in namespace/name order.'),
  notApplicable('IST0156', 'UnsupportedGatewayAPIVersion', E, 'About the Gateway API CRDs installed in a live cluster; the CRD versions cdk8s-mesh ships are pinned.'),
  detected('IST0157', 'InvalidTelemetryProvider', W, 'telemetry', 'A Telemetry tracing/metrics/accessLogging entry with an empty providers list and no disable flag.'),
  detected('IST0158', 'PodsIstioProxyImageMismatchInNamespace', W, 'controlplane', 'Pods of the input in an injected namespace whose istio-proxy image is not the one their revision\'s injector ConfigMap configures (values.global hub, proxy.image, tag; variant suffixes accepted; pods with sidecar.istio.io/proxyImage skipped). At synth time the proxy image comes from the one Mesh.'),
  detected('IST0159', 'ConflictingTelemetryWorkloadSelectors', E, 'telemetry', 'Two Telemetries whose selectors select the same workload.'),
  detected('IST0160', 'MultipleTelemetriesWithoutWorkloadSelectors', E, 'telemetry', 'More than one selector-less (and targetRef-less) Telemetry in a namespace.'),
  detected('IST0161', 'InvalidGatewayCredential', E, 'gateway', 'A credentialName Secret of the input without a non-empty cert/key or tls.crt/tls.key pair, whose first PEM block is not a parseable certificate (node crypto.X509Certificate), or whose certificate is expired or not yet valid at the `now` option (default: the current time), as Istio 1.30.3 validates it.'),
  detected('IST0162', 'GatewayPortNotDefinedOnService', W, 'gateway', 'A Gateway server port that is neither a port nor a targetPort of the Services in front of the gateway workload.'),
  detected('IST0163', 'InvalidExternalControlPlaneConfig', W, 'webhook', 'An Istio webhook (istiod-default-validator, istio-validator*, istio-sidecar-injector*) with neither clientConfig.service nor url, or an unparseable url.'),
  detected('IST0164', 'ExternalControlPlaneAddressIsNotAHostname', I, 'webhook', 'The same webhooks with a url whose host is an IP address.'),
  detected('IST0165', 'ReferencedInternalGateway', W, 'virtualservice', 'A VirtualService referring to an implementation-generated `istio-autogenerated-k8s-gateway` Gateway.'),
  detected('IST0166', 'IneffectiveSelector', W, 'k8sgateway', 'An AuthorizationPolicy / RequestAuthentication / Telemetry / WasmPlugin selecting a Kubernetes Gateway\'s pods by selector and not by targetRef.'),
  detected('IST0167', 'IneffectivePolicy', W, 'sidecar', 'A Sidecar without selector in an ambient namespace (istio.io/dataplane-mode=ambient and no injection label), or selecting a Pod annotated ambient.istio.io/redirection=enabled; no IST0111 in ambient namespaces, as Istio 1.30.3.'),
  notApplicable('IST0168', 'UnknownUpgradeCompatibility', W, 'About upgrading a live installation between releases.'),
  notApplicable('IST0169', 'UpdateIncompatibility', W, 'About upgrading a live installation between releases.'),
  notApplicable('IST0170', 'MultiClusterInconsistentService', W, 'Compares a Service across the clusters of a live multi-cluster mesh.'),
  detected('IST0171', 'NegativeConditionStatus', W, 'status', 'Negative status conditions the input carries (manifests exported from a cluster): istio.io/WaypointBound False on Service, ServiceEntry, WorkloadEntry; ZtunnelAccepted or WaypointAccepted False (or WaypointAccepted PartiallyInvalid) on AuthorizationPolicy; Accepted, Programmed or ResolvedRefs False on Gateway API Gateways and HTTP/GRPC route parents.'),
  notApplicable('IST0172', 'FutureUnsupportedGatewayAPIVersion', W, 'About the Gateway API CRDs installed in a live cluster.'),
  detected('IST0173', 'DestinationRuleSubsetNotSelectPods', E, 'destinationrule', 'A subset whose labels, with the Service\'s selector, select no workload (reported when the Service selects at least one workload of the input). The node labels Istio adds (topology region, zone, subzone, kubernetes.io/hostname) come from the pod\'s Node when it is in the input, else from any Node of the input (any value when there is none); cluster and network labels always match.'),
  detected('IST0174', 'UnknownDestinationRuleHost', W, 'destinationrule', 'A DestinationRule host that matches no Service, ServiceEntry or declared existing object visible (exportTo) where the DestinationRule applies. Differs from Istio: a wildcard host covering a Service is accepted.'),
  detected('IST0175', 'JwksUriFetchUnrestricted', W, 'controlplane', 'RequestAuthentications in the input while an istiod Deployment (label app=istiod) of the input has no BLOCKED_CIDRS_IN_JWKS_URIS.'),
  detected('IST0176', 'GatewayAPICRDVersionBelowMinimum', W, 'status', 'A Gateway API CRD of the input whose gateway.networking.k8s.io/bundle-version is below Istio 1.30.3\'s minimum (grpcroutes 1.1.0, backendtlspolicies 1.4.0, tlsroutes 1.5.0).'),
  detected('IST0177', 'ConflictingServiceEntryProtocol', W, 'serviceentry', 'ServiceEntries visible in a common namespace (exportTo) giving one host and port number different protocols. Istio 1.30.3 defines the message, but none of its analyzers emits it.'),
  // cdk8s-mesh's own checks, beyond Istio's catalogue.
  detected('MESH001', 'DestinationRuleTlsBreaksStrictMtls', E, 'destinationrule', 'A DestinationRule setting tls mode DISABLE or SIMPLE to a Service whose workloads require STRICT mTLS (PeerAuthentication at workload, namespace or mesh level): that turns auto mTLS off and the server rejects the connection. A DestinationRule with a trafficPolicy but no tls keeps auto mTLS and is not reported.'),
  detected('MESH002', 'SpiffePrefixInPrincipal', E, 'auth', 'An AuthorizationPolicy principal written as `spiffe://...`: Istio compares principals without the scheme, so the rule never matches.'),
  detected('MESH003', 'HttpFieldsOnTcpPort', W, 'auth', 'An AuthorizationPolicy rule using HTTP-only fields (methods, paths, hosts, requestPrincipals, request.* conditions) that applies only to TCP ports: ALLOW rules then never match, DENY rules match more than meant.'),
  detected('MESH004', 'RouteWeightsNotHundred', W, 'virtualservice', 'Route destination weights within one route that are given but do not total 100.'),
  detected('MESH005', 'SidecarAnnotationInAmbient', W, 'ambient', 'A pod or workload template in ambient mode (labelled istio.io/dataplane-mode=ambient, annotated ambient.istio.io/redirection=enabled, or in a Namespace labelled ambient without injection label; no istio-proxy container, not labelled dataplane-mode none) with sidecar.istio.io/* annotations other than inject: no sidecar reads them.'),
  detected('MESH006', 'EnvoyFilterOnAmbientWorkload', W, 'ambient', 'An EnvoyFilter whose workloadSelector selects only ambient workloads: their pods run no Envoy, so it has no effect. The message names their waypoint (istio.io/use-waypoint on the pod, a Service selecting it, or the Namespace) to target with targetRefs, or says they have none. Selector-less EnvoyFilters still configure gateways and waypoints and are not reported.'),
  detected('MESH007', 'Layer7PolicyOnAmbientWorkload', W, 'ambient', 'An AuthorizationPolicy with a selector (not targetRefs) that selects ambient workloads and has rules with HTTP fields (methods, paths, hosts, requestPrincipals, request.* conditions): ztunnel enforces it at layer 4, so an ALLOW rule never matches and a DENY rule denies more than written. The message names the waypoint to attach the rules to, or says there is none.'),
  detected('MESH008', 'HttpPortOnWellKnownTcpPort', W, 'service', 'A Service port declared HTTP, HTTP2, gRPC or gRPC-Web (name prefix or appProtocol) on the well-known port of a protocol that is not HTTP (Redis 6379, PostgreSQL 5432, MySQL 3306, MongoDB 27017, Kafka 9092, ...): Istio would parse the bytes as HTTP and break the connections.'),
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
