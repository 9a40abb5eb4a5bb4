// Typed bindings of cert-manager's CRDs (generated into imports/ by `npx projen import`).
export * from '../../imports/cert-manager-cert-manager.io';
