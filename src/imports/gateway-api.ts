// Typed bindings of the Kubernetes Gateway API CRDs, standard channel (generated into imports/ by `npx projen import`).
export * from '../../imports/gateway-api-gateway.networking.k8s.io';
