/**
 * Istio's CustomResourceDefinitions, read at runtime from assets/crds/istio.json (bundled at build time by
 * `npx projen crds` from the pinned upstream release; shipped in the npm package, never committed).
 * @internal
 */
import * as fs from 'fs';
import * as path from 'path';

/** The bundled CRD file of a project. @internal */
export interface CrdBundle {
  readonly project: string;
  readonly version: string;
  readonly crds: any[];
}

const cache = new Map<string, CrdBundle>();

/**
 * The package root: the first directory above `from` that holds a package.json. Works from src/ (ts-jest, ts-node)
 * and from lib/src/ (compiled).
 * @internal
 */
export function packageRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cdk8s-mesh: no package.json above ${from}`);
    dir = up;
  }
}

/** Loads (once per process) a bundled CRD file, e.g. `istio`. @internal */
export function loadCrdBundle(name: string): CrdBundle {
  let bundle = cache.get(name);
  if (!bundle) {
    const file = path.join(packageRoot(), 'assets', 'crds', `${name}.json`);
    if (!fs.existsSync(file)) {
      throw new Error(`cdk8s-mesh: ${file} is missing; run \`npx projen crds\` to bundle the upstream CRDs`);
    }
    bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as CrdBundle;
    cache.set(name, bundle);
  }
  return bundle;
}
