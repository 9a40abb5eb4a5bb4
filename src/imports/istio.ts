// Typed bindings of Istio's CRDs (generated into imports/ by `npx projen import`).
export * as networking from '../../imports/istio-networking.istio.io';
export * as security from '../../imports/istio-security.istio.io';
export * as telemetry from '../../imports/istio-telemetry.istio.io';
export * as extensions from '../../imports/istio-extensions.istio.io';
