/**
 * Bundles the pinned upstream CRDs that the library installs (Istio's 15, and the Gateway API's standard channel
 * as an option) into assets/crds/*.json. assets/ is generated at build time and shipped in the npm package; it is
 * never committed.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { crdFile, PROJECTS } from './crd-source';

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

const n1 = write('istio', 'istio', Object.keys(PROJECTS.istio.files));
const n2 = write('gateway-api', 'gateway-api', Object.keys(PROJECTS['gateway-api'].files));
console.log(`assets/crds: istio ${PROJECTS.istio.version} (${n1} CRDs), gateway-api ${PROJECTS['gateway-api'].version} (${n2} CRDs)`);
