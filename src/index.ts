// The public API of cdk8s-mesh. Re-exports only.

export * from './mesh/constants';
export * from './mesh/mesh';
export * from './mesh/namespace';
export * from './service/service-port';
export * from './analysis';
export * from './sidecar/proxy-options';
export { SidecarInjector } from './sidecar/inject';
export * from './control-plane/istio-control-plane';
export * from './control-plane/istio-cni';
export * from './certificates/mesh-certificates';
export type { RootTrustBundleOptions } from './certificates/trust-bundle';
export * from './service/workload';
export * from './service/workload-options';
export * from './service/workload-volume';
export * from './service/meshed-service';
export * from './service/mesh-workload';
export * from './traffic/traffic-policy';
export * from './traffic/resilience';
export * from './traffic/routing';
export * from './traffic/http-headers';
export * from './traffic/route-options';
export * from './traffic/local-rate-limit';
export * from './traffic/request-match';
export * from './traffic/canary-traffic';
export * from './traffic/canary-release';
export * from './observability/golden-signals';
export * from './gitops/argocd-delivery';
export * from './gitops/health-checks';
export * from './gitops/sync-policy';
export * from './gitops/sync-waves';

export * from './observability/telemetry-provider';
export * from './observability/mesh-telemetry';
export * from './observability/mesh-metrics-scraping';
export * from './observability/golden-signal-alerts';
export * from './observability/dashboards';
export * from './observability/mesh-diagram';
export * from './security/zero-trust-namespace';
export * from './security/external-service';
export * from './security/jwt';
export { GatewayTls, TlsVersion } from './certificates/gateway-tls';
export type { GatewayTlsOptions, CertManagerTlsOptions, MutualTlsOptions } from './certificates/gateway-tls';
export { GatewayServiceType } from './gateway/gateway-workload';
export type { GatewayWorkloadOptions } from './gateway/gateway-workload';
export { MeshGateway, RoutingApi, GatewayDeployment } from './gateway/mesh-gateway';
export type { MeshGatewayProps, GatewayListener, GatewayRouteInfo } from './gateway/mesh-gateway';
export { EgressGateway } from './gateway/egress-gateway';
export type { EgressGatewayProps } from './gateway/egress-gateway';
export { PathMatch } from './gateway/routes';
export type { GatewayRouteOptions, CorsPolicy, HttpRedirect } from './gateway/routes';

// Raw, typed bindings of the upstream CRDs, for escape hatches.
export * as istio from './imports/istio';
export * as certmanager from './imports/cert-manager';
export * as gatewayapi from './imports/gateway-api';
export * as argo from './imports/argo';
export * as monitoring from './imports/monitoring';
