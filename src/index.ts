// The public API of cdk8s-mesh. Re-exports only.

export * from './mesh/constants';
export * from './mesh/mesh';
export * from './mesh/namespace';
export * from './service/service-port';
export * from './analysis';
export * from './sidecar/proxy-options';
export { SidecarInjector } from './sidecar/inject';
export * from './control-plane/istio-control-plane';
export * from './certificates/mesh-certificates';
export * from './service/workload';
export * from './service/workload-options';
export * from './service/meshed-service';
export * from './traffic/traffic-policy';
export * from './traffic/resilience';
export * from './traffic/routing';
export * from './gitops/argocd-delivery';
export * from './gitops/health-checks';
export * from './gitops/sync-policy';
export * from './gitops/sync-waves';

// Raw, typed bindings of the upstream CRDs, for escape hatches.
export * as istio from './imports/istio';
export * as certmanager from './imports/cert-manager';
export * as gatewayapi from './imports/gateway-api';
export * as argo from './imports/argo';
export * as monitoring from './imports/monitoring';
