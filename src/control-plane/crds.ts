/**
 * Istio's CustomResourceDefinitions, read at runtime from assets/crds/istio.json (bundled at build time by
 * `npx projen crds` from the pinned upstream release; shipped in the npm package, never committed).
 * @internal
 */
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, ApiObjectProps, App, ImplicitTokenResolver, IResolver, JsonPatch, LazyResolver, NumberStringUnionResolver, resolve } from 'cdk8s';
import { Construct } from 'constructs';
import { OBJECT_TRANSFORM_RESOLVER } from '../model/mesh-model';

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
    // each spec rendered once (keys sorted, frozen); the upstream one kept for a rendering cdk8s must do itself
    bundle = { ...raw, crds: raw.crds.map(crd => ({ ...crd, spec: rendered(crd.spec), upstreamSpec: crd.spec })) };
    cache.set(name, bundle);
  }
  return bundle;
}

/**
 * A CustomResourceDefinition of a bundled upstream file. Its spec is upstream data (plain JSON, no tokens), so it is
 * rendered once per process, as cdk8s renders a value (keys sorted, null values dropped), instead of being resolved
 * again in every synthesis: CRDs are the largest objects of a mesh (a bare control plane's 15 CRDs took 85% of its
 * resolution time). Metadata, labels, annotations and JSON patches behave as on any ApiObject (patches apply to a
 * copy). The spec in the output is shared and read-only: change a CRD with `addJsonPatch`. When the App has a resolver
 * of its own (besides cdk8s's and the mesh model's), or CDK8S_DISABLE_SORT differs from when the bundle was read, the
 * spec is resolved and rendered as cdk8s would, every time (a fresh copy).
 * @internal
 */
export class UpstreamCrd extends ApiObject {
  private readonly patchOps: JsonPatch[] = [];

  /** `crd` is an entry of {@link loadCrdBundle}: its `spec` rendered (keys sorted, frozen), its `upstreamSpec` as read. */
  public constructor(scope: Construct, id: string, props: ApiObjectProps, private readonly crd: { spec: object; upstreamSpec: object }) {
    super(scope, id, props);
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    this.patchOps.push(...ops);
  }

  public toJson(): any {
    const sort = !process.env.CDK8S_DISABLE_SORT;
    const spec = sort && !App.of(this).resolvers.some(isUserResolver)
      ? this.crd.spec
      : rendered(resolve(['spec'], copyJson(this.crd.upstreamSpec), this), sort, false);
    const json = { ...super.toJson(), spec };
    if (this.patchOps.length === 0) return json;
    try {
      // as ApiObject.toJson: patches apply to the rendered object, then apiVersion, kind and metadata come first
      const patched = JsonPatch.apply(copyJson(json), ...this.patchOps);
      const out: Record<string, unknown> = {};
      for (const k of ['apiVersion', 'kind', 'metadata', ...Object.keys(patched)]) {
        if (k in patched) out[k] = patched[k];
      }
      return out;
    } catch (e) {
      throw new Error(`Failed serializing construct at path '${this.node.path}' with name '${this.name}': ${e}`);
    }
  }
}

/**
 * A deep copy of JSON data in this realm (structuredClone's objects come from the host's realm, e.g. under jest, and
 * cdk8s's resolve only descends into objects whose constructor is this realm's Object).
 */
function copyJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

/** A resolver other than cdk8s 2.70's built-in ones and the mesh model's object transforms. */
function isUserResolver(r: IResolver): boolean {
  return !(r instanceof LazyResolver || r instanceof ImplicitTokenResolver || r instanceof NumberStringUnionResolver
    || (r as any)[OBJECT_TRANSFORM_RESOLVER] === true);
}

/**
 * A JSON value as ApiObject.toJson renders it (cdk8s 2.70 sanitizeValue: keys sorted unless told not to, no null
 * values), frozen when asked.
 */
function rendered(value: unknown, sort = true, freeze = true): any {
  const done = freeze ? Object.freeze : <T>(x: T) => x;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return done(value.map(v => rendered(v, sort, freeze)));
  const keys = sort ? Object.keys(value).sort() : Object.keys(value);
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v != null) out[k] = rendered(v, sort, freeze);
  }
  return done(out);
}
