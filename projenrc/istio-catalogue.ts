/**
 * Generates assets/istio-catalogue.json, Istio's annotation and label catalogue (names, the resource kinds each one
 * belongs on, feature status, deprecation) from istio/api at the pinned Istio version (annotation/annotations.yaml,
 * label/labels.yaml). The mesh analyzer reads it for IST0107, IST0108, IST0135 and IST0136. Like assets/crds/, the
 * file is generated at build time (before compile and test), git-ignored and shipped in the npm package.
 *
 * Source: ISTIO_API_DIR when set (a directory holding annotations.yaml and labels.yaml); else the team's offline
 * mirror ../shared/reference/istio-api when it exists; else the pinned files downloaded once into
 * .crds-cache/istio-api-<version>/.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ISTIO_VERSION } from './crd-source';

const ROOT = path.resolve(__dirname, '..');
const SHARED_MIRROR = path.join(ROOT, '..', 'shared', 'reference', 'istio-api');
const UPSTREAM: Record<string, string> = {
  'annotations.yaml': `https://raw.githubusercontent.com/istio/api/${ISTIO_VERSION}/annotation/annotations.yaml`,
  'labels.yaml': `https://raw.githubusercontent.com/istio/api/${ISTIO_VERSION}/label/labels.yaml`,
};

function sourceFile(file: string): string {
  const dir = process.env.ISTIO_API_DIR || (fs.existsSync(SHARED_MIRROR) ? SHARED_MIRROR : undefined);
  if (dir) {
    const f = path.resolve(ROOT, dir, file);
    if (!fs.existsSync(f)) throw new Error(`ISTIO_API_DIR=${dir}: missing ${file}`);
    return f;
  }
  const cached = path.join(ROOT, '.crds-cache', `istio-api-${ISTIO_VERSION}`, file);
  if (!fs.existsSync(cached)) {
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    try {
      execFileSync('curl', ['-fsSL', '--retry', '2', '--connect-timeout', '10', '-o', cached, UPSTREAM[file]], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e: any) {
      fs.rmSync(cached, { force: true });
      const why = String(e?.stderr ?? e?.message ?? e).trim().split('\n').pop();
      console.error(`cdk8s-mesh: cannot download istio/api ${file} (${why || 'curl failed'}). Without network, point ISTIO_API_DIR `
        + 'at a local folder holding annotations.yaml and labels.yaml (istio/api at the pinned version), e.g. '
        + '`ISTIO_API_DIR=../shared/reference/istio-api npm test`.');
      process.exit(1);
    }
  }
  return cached;
}

interface Item { name: string; featureStatus: string; deprecated: boolean; hidden: boolean; resources: string[] }

function read(file: string, key: 'annotations' | 'labels'): Item[] {
  const doc = YAML.parse(fs.readFileSync(sourceFile(file), 'utf8'));
  const list = doc?.[key];
  if (!Array.isArray(list) || list.length === 0) throw new Error(`${file}: no ${key} list`);
  return list.map((a: any) => {
    if (typeof a?.name !== 'string') throw new Error(`${file}: an entry without name`);
    return {
      name: a.name,
      featureStatus: String(a.featureStatus ?? ''),
      deprecated: a.deprecated === true,
      hidden: a.hidden === true,
      resources: Array.isArray(a.resources) ? a.resources.map(String) : [],
    };
  }).sort((x: Item, y: Item) => x.name.localeCompare(y.name));
}

const body = JSON.stringify({
  source: `istio/api ${ISTIO_VERSION}: annotation/annotations.yaml, label/labels.yaml`,
  version: ISTIO_VERSION,
  annotations: read('annotations.yaml', 'annotations'),
  labels: read('labels.yaml', 'labels'),
}, undefined, 1);
const out = path.join(ROOT, 'assets', 'istio-catalogue.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
if (!fs.existsSync(out) || fs.readFileSync(out, 'utf8') !== body) fs.writeFileSync(out, body);
const parsed = JSON.parse(body);
console.log(`assets/istio-catalogue.json: istio/api ${ISTIO_VERSION} (${parsed.annotations.length} annotations, ${parsed.labels.length} labels)`);
