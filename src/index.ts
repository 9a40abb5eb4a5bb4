// The public API of cdk8s-mesh. Re-exports only.

export * from './mesh/constants';
export * from './mesh/mesh';
export * from './service/service-port';

// Raw, typed bindings of the upstream CRDs, for escape hatches.
export * as istio from './imports/istio';
export * as certmanager from './imports/cert-manager';
export * as gatewayapi from './imports/gateway-api';
export * as argo from './imports/argo';
export * as monitoring from './imports/monitoring';
