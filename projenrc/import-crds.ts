/**
 * Regenerates imports/ with `cdk8s import`, from the pinned CRDs (see crd-source.ts).
 *
 * Only the newest served version of each kind is imported (e.g. networking.istio.io/v1, not v1alpha3/v1beta1):
 * the older ones are deprecated aliases, and importing them would triple the generated code for nothing.
 * Only the kinds this library emits are imported.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { crdFile } from './crd-source';

interface ImportModule {
  readonly name: string;
  readonly sources: Array<[project: string, file: string]>;
  /** CRD names (plural.group) to keep; all when omitted */
  readonly only?: string[];
}

const MODULES: ImportModule[] = [
  { name: 'istio', sources: [['istio', 'crd-all.gen.yaml']] },
  {
    name: 'cert-manager',
    sources: [['cert-manager', 'cert-manager.io_certificates.yaml'], ['cert-manager', 'cert-manager.io_issuers.yaml'],
      ['cert-manager', 'cert-manager.io_clusterissuers.yaml']],
  },
  {
    name: 'gateway-api',
    sources: ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'referencegrants', 'tlsroutes', 'tcproutes']
      .map(k => ['gateway-api', `gateway.networking.k8s.io_${k}.yaml`] as [string, string]),
  },
  { name: 'argocd', sources: [['argo-cd', 'application-crd.yaml'], ['argo-cd', 'appproject-crd.yaml']] },
  { name: 'argo-rollouts', sources: [['argo-rollouts', 'rollout-crd.yaml'], ['argo-rollouts', 'analysis-template-crd.yaml']] },
  {
    name: 'monitoring',
    sources: ['podmonitors', 'servicemonitors', 'prometheusrules']
      .map(k => ['prometheus-operator', `monitoring.coreos.com_${k}.yaml`] as [string, string]),
  },
];

const VERSION_RANK = (v: string) => {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
  if (!m) return -1;
  const stage = m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2;
  return parseInt(m[1], 10) * 1000 + stage * 100 + (m[3] ? parseInt(m[3], 10) : 0);
};

/** Keep only the newest served version of a CRD. */
export function newestVersionOnly(crd: any): any {
  const served = (crd.spec.versions as any[]).filter(v => v.served !== false);
  const newest = served.sort((a, b) => VERSION_RANK(b.name) - VERSION_RANK(a.name))[0];
  return { ...crd, spec: { ...crd.spec, versions: [{ ...newest, storage: true }] } };
}

function main() {
  const root = path.resolve(__dirname, '..');
  const out = path.join(root, 'imports');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-mesh-import-'));
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  for (const mod of MODULES) {
    const docs: any[] = [];
    for (const [project, file] of mod.sources) {
      for (const doc of YAML.parseAllDocuments(fs.readFileSync(crdFile(project, file), 'utf8'))) {
        const crd = doc.toJSON();
        if (crd?.kind !== 'CustomResourceDefinition') continue;
        if (mod.only && !mod.only.includes(crd.metadata.name)) continue;
        docs.push(newestVersionOnly(crd));
      }
    }
    const input = path.join(tmp, `${mod.name}.yaml`);
    fs.writeFileSync(input, docs.map(d => YAML.stringify(d)).join('---\n'));
    console.log(`cdk8s import ${mod.name}: ${docs.map(d => `${d.spec.names.kind}@${d.spec.versions[0].name}`).join(', ')}`);
    execFileSync(path.join(root, 'node_modules', '.bin', 'cdk8s'),
      ['import', `${mod.name}:=${input}`, '--language', 'typescript', '--output', out, '--no-check-upgrade'],
      { stdio: ['ignore', 'ignore', 'inherit'], cwd: tmp });
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const f of fs.readdirSync(out).sort()) console.log(`  imports/${f} (${fs.statSync(path.join(out, f)).size} bytes)`);
}

if (require.main === module) main();
