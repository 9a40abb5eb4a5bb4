/**
 * The one pinned source of upstream CRDs and schemas.
 *
 * imports/ (typed bindings), assets/ (CRDs bundled into the package) and the test schemas are all read from here,
 * so they can never disagree. With CRDS_DIR set, files are read from that directory, laid out one folder per
 * project (istio/, cert-manager/, gateway-api/, argo-cd/, argo-rollouts/, flagger/, prometheus-operator/, kubernetes/).
 * Without CRDS_DIR, a sibling ../shared/reference/crds (the team's offline mirror, same layout) is used when it
 * exists; otherwise the pinned release files are downloaded once into .crds-cache/<project>-<version>/.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface CrdProject {
  /** folder name under CRDS_DIR */
  readonly dir: string;
  readonly version: string;
  /** file name -> upstream URL of that file at the pinned version */
  readonly files: Record<string, string>;
}

const gh = (repo: string, ref: string, file: string) => `https://raw.githubusercontent.com/${repo}/${ref}/${file}`;

export const ISTIO_VERSION = '1.30.3';
export const CERT_MANAGER_VERSION = 'v1.21.1';
export const GATEWAY_API_VERSION = 'v1.6.1';
export const ARGO_CD_VERSION = 'v3.5.1';
export const ARGO_ROLLOUTS_VERSION = 'v1.9.1';
export const PROMETHEUS_OPERATOR_VERSION = 'v0.93.0';
export const TRUST_MANAGER_VERSION = 'v0.24.0';
export const FLAGGER_VERSION = 'v1.44.0';
export const KUBERNETES_SCHEMA_VERSIONS = ['1.27.0', '1.33.0'];

const certManagerFiles = ['cert-manager.io_certificates.yaml', 'cert-manager.io_certificaterequests.yaml',
  'cert-manager.io_issuers.yaml', 'cert-manager.io_clusterissuers.yaml'];
const gatewayApiFiles = ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'referencegrants',
  'backendtlspolicies', 'listenersets', 'tcproutes', 'tlsroutes', 'udproutes'].map(k => `gateway.networking.k8s.io_${k}.yaml`);
const argoCdFiles = ['application-crd.yaml', 'appproject-crd.yaml'];
const rolloutsFiles = ['rollout-crd.yaml', 'analysis-template-crd.yaml', 'cluster-analysis-template-crd.yaml', 'analysis-run-crd.yaml'];
const promFiles = ['podmonitors', 'servicemonitors', 'prometheusrules'].map(k => `monitoring.coreos.com_${k}.yaml`);

export const PROJECTS: Record<string, CrdProject> = {
  'istio': {
    dir: 'istio',
    version: ISTIO_VERSION,
    files: { 'crd-all.gen.yaml': gh('istio/istio', ISTIO_VERSION, 'manifests/charts/base/files/crd-all.gen.yaml') },
  },
  'cert-manager': {
    dir: 'cert-manager',
    version: CERT_MANAGER_VERSION,
    files: Object.fromEntries(certManagerFiles.map(f => [f, gh('cert-manager/cert-manager', CERT_MANAGER_VERSION, `deploy/crds/${f}`)])),
  },
  'gateway-api': {
    dir: 'gateway-api',
    version: GATEWAY_API_VERSION,
    files: Object.fromEntries(gatewayApiFiles.map(f => [f, gh('kubernetes-sigs/gateway-api', GATEWAY_API_VERSION, `config/crd/standard/${f}`)])),
  },
  'argo-cd': {
    dir: 'argo-cd',
    version: ARGO_CD_VERSION,
    files: Object.fromEntries(argoCdFiles.map(f => [f, gh('argoproj/argo-cd', ARGO_CD_VERSION, `manifests/crds/${f}`)])),
  },
  'argo-rollouts': {
    dir: 'argo-rollouts',
    version: ARGO_ROLLOUTS_VERSION,
    files: Object.fromEntries(rolloutsFiles.map(f => [f, gh('argoproj/argo-rollouts', ARGO_ROLLOUTS_VERSION, `manifests/crds/${f}`)])),
  },
  'prometheus-operator': {
    dir: 'prometheus-operator',
    version: PROMETHEUS_OPERATOR_VERSION,
    files: Object.fromEntries(promFiles.map(f => [f, gh('prometheus-operator/prometheus-operator', PROMETHEUS_OPERATOR_VERSION, `example/prometheus-operator-crd/${f}`)])),
  },
  'trust-manager': {
    dir: 'trust-manager',
    version: TRUST_MANAGER_VERSION,
    files: { 'trust.cert-manager.io_bundles.yaml': gh('cert-manager/trust-manager', TRUST_MANAGER_VERSION, 'deploy/crds/trust.cert-manager.io_bundles.yaml') },
  },
  'flagger': {
    dir: 'flagger',
    version: FLAGGER_VERSION,
    files: { 'crd.yaml': gh('fluxcd/flagger', FLAGGER_VERSION, 'artifacts/flagger/crd.yaml') },
  },
  'kubernetes': {
    dir: 'kubernetes',
    version: KUBERNETES_SCHEMA_VERSIONS.join('+'),
    files: Object.fromEntries(KUBERNETES_SCHEMA_VERSIONS.map(v => [`k8s-v${v}-_definitions.json`,
      gh('cdk8s-team/cdk8s', 'master', `kubernetes-schemas/v${v}/_definitions.json`)])),
  },
};

/** The pinned CRDs cannot be read (no local copy, no network): the message says what is missing and what to do. */
export class CrdSourceError extends Error {}

/** Runs a build script; a missing source prints one line (no stack trace) and exits 1. */
export function runScript(main: () => void): void {
  try {
    main();
  } catch (e) {
    if (!(e instanceof CrdSourceError)) throw e;
    console.error(`cdk8s-mesh: ${e.message}`);
    process.exit(1);
  }
}

const ROOT = path.resolve(__dirname, '..');
const SHARED_MIRROR = '../shared/reference/crds';

/** Absolute path of one upstream file, downloading it into the cache when CRDS_DIR is not set. */
export function crdFile(project: keyof typeof PROJECTS | string, file: string): string {
  const p = PROJECTS[project];
  if (!p) throw new Error(`unknown CRD project '${project}'`);
  if (!(file in p.files)) throw new Error(`${project}: '${file}' is not one of the pinned files`);
  const local = process.env.CRDS_DIR || (fs.existsSync(path.join(ROOT, SHARED_MIRROR)) ? SHARED_MIRROR : undefined);
  if (local) {
    const f = path.resolve(ROOT, local, p.dir, file);
    if (!fs.existsSync(f)) throw new CrdSourceError(`CRDS_DIR=${local}: missing ${p.dir}/${file}`);
    return f;
  }
  const cached = path.join(ROOT, '.crds-cache', `${p.dir}-${p.version}`, file);
  if (!fs.existsSync(cached)) {
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    // synchronous download through curl keeps callers simple (jest setup, build scripts)
    try {
      execFileSync('curl', ['-fsSL', '--retry', '2', '--connect-timeout', '10', '-o', cached, p.files[file]], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e: any) {
      fs.rmSync(cached, { force: true });
      const why = String(e?.stderr ?? e?.message ?? e).trim().split('\n').pop();
      throw new CrdSourceError(`cannot download ${p.dir}/${file} (${why || 'curl failed'}). Without network, point CRDS_DIR at a `
        + 'local copy laid out one folder per project (istio/, cert-manager/, gateway-api/, ...), e.g. '
        + '`CRDS_DIR=../shared/reference/crds npm run example`; see projenrc/crd-source.ts for the pinned files.');
    }
  }
  return cached;
}

/** Every pinned file of a project. */
export function crdFiles(project: string): string[] {
  return Object.keys(PROJECTS[project].files).map(f => crdFile(project, f));
}
