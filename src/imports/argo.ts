// Typed bindings of Argo CD's and Argo Rollouts' CRDs (generated into imports/ by `npx projen import`).
export * as cd from '../../imports/argocd-argoproj.io';
export * as rollouts from '../../imports/argo-rollouts-argoproj.io';
