/**
 * Istio's CustomResourceDefinitions, read at runtime from assets/crds/istio.json (bundled at build time by
 * `npx projen crds` from the pinned upstream release; shipped in the npm package, never committed).
 * @internal
 */
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, ApiObjectProps, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';

/** The bundled CRD file of a project. @internal */
export interface CrdBundle {
  readonly project: string;
  readonly version: string;
  readonly crds: any[];
}

const cache = new Map<string, CrdBundle>();

/**
 * The package root: the first directory above `from` that holds a package.json. Works from src/ (jest, ts-node)
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
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as CrdBundle;
    bundle = { ...raw, crds: raw.crds.map(crd => ({ ...crd, spec: rendered(crd.spec) })) };
    cache.set(name, bundle);
  }
  return bundle;
}

/**
 * A CustomResourceDefinition of a bundled upstream file. Its spec is upstream data (plain JSON: no tokens, nothing a
 * resolver changes), so it is rendered once per process, as cdk8s renders a value (keys sorted unless
 * CDK8S_DISABLE_SORT, null values dropped), instead of being resolved again in every synthesis: CRDs are the largest
 * objects of a mesh (a bare control plane's 15 CRDs took 85% of its resolution time). Metadata, labels, annotations
 * and JSON patches behave as on any ApiObject; the spec in the output is shared and frozen (patches apply to a copy).
 * @internal
 */
export class UpstreamCrd extends ApiObject {
  private readonly patchOps: JsonPatch[] = [];

  /** `spec` comes from {@link loadCrdBundle} (rendered and frozen). */
  public constructor(scope: Construct, id: string, props: ApiObjectProps, private readonly spec: object) {
    super(scope, id, props);
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    this.patchOps.push(...ops);
  }

  public toJson(): any {
    const json = { ...super.toJson(), spec: this.spec };
    if (this.patchOps.length === 0) return json;
    // as ApiObject.toJson: patches apply to the rendered object, then apiVersion, kind and metadata come first
    const patched = JsonPatch.apply(structuredClone(json), ...this.patchOps);
    const out: Record<string, unknown> = {};
    for (const k of ['apiVersion', 'kind', 'metadata', ...Object.keys(patched)]) {
      if (k in patched) out[k] = patched[k];
    }
    return out;
  }
}

/** A JSON value as ApiObject.toJson renders it (cdk8s 2.70 sanitizeValue: sorted keys, no null values), frozen. */
function rendered(value: unknown): any {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return Object.freeze(value.map(rendered));
  const sort = !process.env.CDK8S_DISABLE_SORT;
  const keys = sort ? Object.keys(value).sort() : Object.keys(value);
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v != null) out[k] = rendered(v);
  }
  return Object.freeze(out);
}
