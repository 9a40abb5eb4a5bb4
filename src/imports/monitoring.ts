// Typed bindings of prometheus-operator's CRDs (generated into imports/ by `npx projen import`).
export * from '../../imports/monitoring-monitoring.coreos.com';
