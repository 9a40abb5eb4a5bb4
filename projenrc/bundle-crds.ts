/**
 * Bundles the pinned upstream CRDs that the library installs (Istio's 15, and the Gateway API's standard channel
 * as an option) into assets/crds/*.json. assets/ is generated at build time and shipped in the npm package; it is
 * never committed.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { crdFile, PROJECTS, runScript } from './crd-source';

function readCrds(project: string, files: string[]): any[] {
  const crds: any[] = [];
  for (const file of files) {
    for (const doc of YAML.parseAllDocuments(fs.readFileSync(crdFile(project, file), 'utf8'))) {
      const obj = doc.toJSON();
      if (obj?.kind === 'CustomResourceDefinition') crds.push(obj);
    }
  }
  return crds.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

function write(name: string, project: string, files: string[]) {
  const crds = readCrds(project, files);
  const dir = path.resolve(__dirname, '..', 'assets', 'crds');
  fs.mkdirSync(dir, { recursive: true });
  const body = JSON.stringify({ project, version: PROJECTS[project].version, crds });
  const file = path.join(dir, `${name}.json`);
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== body) fs.writeFileSync(file, body);
  return crds.length;
}

/**
 * What the bundle is made of: this script, the pinned versions and each source file's path, size and mtime. When the
 * stamp written beside the bundle matches, the bundle is up to date and nothing is parsed (a fast `npm run example`).
 */
function sourceStamp(): string {
  const parts = [fs.readFileSync(__filename, 'utf8').length.toString()];
  for (const project of ['istio', 'gateway-api']) {
    for (const file of Object.keys(PROJECTS[project].files)) {
      const f = crdFile(project, file);
      const st = fs.statSync(f);
      parts.push(`${project}@${PROJECTS[project].version}:${f}:${st.size}:${st.mtimeMs}`);
    }
  }
  return parts.join('\n');
}

runScript(() => {
  const dir = path.resolve(__dirname, '..', 'assets', 'crds');
  const stampFile = path.resolve(__dirname, '..', '.crds-cache', 'assets-crds.stamp'); // git- and npm-ignored
  const stamp = sourceStamp();
  const outputs = ['istio.json', 'gateway-api.json'].map(f => path.join(dir, f));
  if (outputs.every(f => fs.existsSync(f)) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
    console.log(`assets/crds: up to date (istio ${PROJECTS.istio.version}, gateway-api ${PROJECTS['gateway-api'].version})`);
    return;
  }
  const n1 = write('istio', 'istio', Object.keys(PROJECTS.istio.files));
  const n2 = write('gateway-api', 'gateway-api', Object.keys(PROJECTS['gateway-api'].files));
  fs.mkdirSync(path.dirname(stampFile), { recursive: true });
  fs.writeFileSync(stampFile, stamp);
  console.log(`assets/crds: istio ${PROJECTS.istio.version} (${n1} CRDs), gateway-api ${PROJECTS['gateway-api'].version} (${n2} CRDs)`);
});
