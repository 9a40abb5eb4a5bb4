/**
 * Strict schema validation of synthesized manifests against their upstream schemas.
 *
 * - Custom resources: the CRD's openAPIV3Schema for the object's apiVersion, from the same pinned CRD source as
 *   imports/ (projenrc/crd-source.ts).
 * - Core kinds: the Kubernetes definitions of the targeted cluster version (1.33 by default).
 * - Strict: an object schema that lists `properties` rejects any other field (as the API server's strict field
 *   validation does), unless the schema says `x-kubernetes-preserve-unknown-fields` or gives `additionalProperties`.
 * - metadata is checked against ObjectMeta (CRD schemas only say `type: object` there).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction, ErrorObject } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import * as jsYaml from 'js-yaml';
import { crdFile, PROJECTS } from '../../projenrc/crd-source';

export interface SchemaViolation {
  /** `apiVersion/kind namespace/name` */
  readonly object: string;
  readonly path: string;
  readonly message: string;
}

type Json = any;

/** Makes a JSON schema strict: objects with known properties reject unknown ones. Returns a deep copy. */
export function strictify(schema: Json, inCombinator = false): Json {
  if (Array.isArray(schema)) return schema.map(x => strictify(x, inCombinator));
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'x-kubernetes-validations' || k === 'description' || k === 'example') continue;
    if (k === 'properties' || k === 'definitions' || k === 'patternProperties') {
      out[k] = Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, strictify(pv)]));
    } else if (k === 'oneOf' || k === 'anyOf' || k === 'allOf') {
      // a combinator branch constrains the object its parent describes: it must not forbid the parent's fields
      out[k] = (v as Json[]).map(b => strictify(b, true));
    } else {
      out[k] = strictify(v);
    }
  }
  // Go (RE2) patterns JavaScript cannot compile, such as `^(?i)(abort|warn)?$`: drop them rather than fail
  if (typeof out.pattern === 'string') {
    try {
      new RegExp(out.pattern, 'u');
    } catch {
      delete out.pattern;
    }
  }
  if (!inCombinator && out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  // int-or-string without an explicit alternative
  if (out['x-kubernetes-int-or-string'] && !out.anyOf && !out.oneOf) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  // the API server accepts null for nullable fields
  if (out.nullable === true && out.type) {
    out.type = Array.isArray(out.type) ? [...out.type, 'null'] : [out.type, 'null'];
  }
  return out;
}

function newAjv(): Ajv {
  // code.source: each compiled validator can be written out as a module (see SchemaRegistry.validator).
  // code.optimize off: ajv's optimizing passes only shorten the generated code (same checks); compiling the suite's
  // validators takes 2.6 s instead of 6 s on a fresh clone, and validating Bookinfo's 106 objects 50 times took the
  // same 0.38-0.43 s either way (measured 2026-12-02)
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, allowUnionTypes: true, code: { source: true, optimize: false } });
  for (const kw of ['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-group-version-kind', 'x-kubernetes-patch-strategy',
    'x-kubernetes-patch-merge-key', 'x-kubernetes-embedded-resource', 'x-kubernetes-unions']) {
    ajv.addKeyword(kw);
  }
  return ajv;
}

const CRD_FILES: Array<[string, string]> = [
  ...Object.keys(PROJECTS).filter(p => p !== 'kubernetes').flatMap(p => Object.keys(PROJECTS[p].files).map(f => [p, f] as [string, string])),
];

const INSTANCES = new Map<string, SchemaRegistry>();

const CACHE_DIR = path.join(__dirname, '..', '..', '.crds-cache');

/** A key that changes with any input of a compiled validator: the schema files, this file's rules, ajv's version. */
function inputsKey(files: string[]): string {
  const ajvVersion = JSON.parse(fs.readFileSync(require.resolve('ajv/package.json'), 'utf8')).version;
  return createHash('sha256').update([...files, __filename].map(f => {
    const st = fs.statSync(f);
    return `${f}:${st.size}:${st.mtimeMs}`;
  }).join('\n') + ajvVersion).digest('hex').slice(0, 16);
}

/** Reads a cache file, or undefined. */
function readCache(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Writes a cache file atomically (jest workers share the cache); a read-only checkout just does not cache. */
function writeCache(file: string, text: string): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch {
    // compile again next time
  }
}

/**
 * Removes the cache entries of older inputs (`<prefix><other key>`) beside `keep`: run when a new key is first written,
 * so an upgraded CRD or Kubernetes version does not leave the old compiled validators behind.
 */
function pruneStale(prefix: string, keep: string): void {
  try {
    for (const name of fs.readdirSync(CACHE_DIR)) {
      if (name.startsWith(prefix) && name !== keep && !name.endsWith('.tmp')) fs.rmSync(path.join(CACHE_DIR, name), { recursive: true, force: true });
    }
  } catch {
    // nothing cached yet, or a read-only checkout
  }
}

/**
 * The kinds the suite validates against Kubernetes 1.33 (measured 2026-12-02 from the cached validators of a full run):
 * compiled before the workers start. A kind missing here is compiled by the first test that meets it, as before.
 */
export const SUITE_KINDS: readonly string[] = [
  'meta/ObjectMeta',
  'v1/ConfigMap', 'v1/Namespace', 'v1/Pod', 'v1/ResourceQuota', 'v1/Service', 'v1/ServiceAccount',
  'apps/v1/DaemonSet', 'apps/v1/Deployment', 'apps/v1/StatefulSet', 'batch/v1/CronJob',
  'autoscaling/v2/HorizontalPodAutoscaler', 'policy/v1/PodDisruptionBudget', 'networking.k8s.io/v1/NetworkPolicy',
  'rbac.authorization.k8s.io/v1/ClusterRole', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
  'rbac.authorization.k8s.io/v1/Role', 'rbac.authorization.k8s.io/v1/RoleBinding',
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration',
  'apiextensions.k8s.io/v1/CustomResourceDefinition',
  'networking.istio.io/v1/DestinationRule', 'networking.istio.io/v1alpha3/EnvoyFilter', 'networking.istio.io/v1/Gateway',
  'networking.istio.io/v1/ServiceEntry', 'networking.istio.io/v1/Sidecar', 'networking.istio.io/v1/VirtualService',
  'security.istio.io/v1/AuthorizationPolicy', 'security.istio.io/v1/PeerAuthentication',
  'security.istio.io/v1/RequestAuthentication', 'telemetry.istio.io/v1/Telemetry',
  'cert-manager.io/v1/Certificate', 'cert-manager.io/v1/Issuer', 'cert-manager.io/v1/ClusterIssuer',
  'trust.cert-manager.io/v1alpha1/Bundle',
  'gateway.networking.k8s.io/v1/Gateway', 'gateway.networking.k8s.io/v1/HTTPRoute', 'gateway.networking.k8s.io/v1/GRPCRoute',
  'gateway.networking.k8s.io/v1/TLSRoute', 'gateway.networking.k8s.io/v1beta1/ReferenceGrant',
  'argoproj.io/v1alpha1/Application', 'argoproj.io/v1alpha1/AppProject', 'argoproj.io/v1alpha1/Rollout',
  'argoproj.io/v1alpha1/AnalysisTemplate', 'flagger.app/v1beta1/Canary', 'flagger.app/v1beta1/MetricTemplate',
  'monitoring.coreos.com/v1/PodMonitor', 'monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule',
];

export class SchemaRegistry {
  /** One registry per Kubernetes version, shared by all tests in a worker. */
  public static forKubernetes(version = '1.33'): SchemaRegistry {
    let r = INSTANCES.get(version);
    if (!r) {
      r = new SchemaRegistry(version);
      INSTANCES.set(version, r);
    }
    return r;
  }

  private ajvInstance?: Ajv;
  private readonly crdSchemas = new Map<string, Json>();
  private readonly coreKinds: Map<string, string>;
  private readonly validators = new Map<string, ValidateFunction>();
  private crdsLoaded = false;
  private readonly definitionsFile: string;
  /** Compiling a validator costs up to seconds (the CRDs are large): compiled ones are kept as modules in here. */
  private readonly validatorDir: string;

  private constructor(public readonly kubernetesVersion: string) {
    this.definitionsFile = crdFile('kubernetes', `k8s-v${kubernetesVersion}.0-_definitions.json`);
    const key = inputsKey([this.definitionsFile, ...CRD_FILES.map(([project, file]) => crdFile(project, file))]);
    this.validatorDir = path.join(CACHE_DIR, `validators-${kubernetesVersion}-${key}`);
    const kindsFile = path.join(this.validatorDir, 'core-kinds.json');
    const cached = readCache(kindsFile);
    if (cached) {
      this.coreKinds = new Map(JSON.parse(cached));
    } else {
      this.coreKinds = new Map();
      for (const [name, def] of Object.entries(this.definitions())) {
        for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
          const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
          // the definition whose name ends with the kind is the object itself (not its List or a shared type)
          if (name.endsWith(`.${gvk.kind}`)) this.coreKinds.set(`${apiVersion}/${gvk.kind}`, name);
        }
      }
      writeCache(kindsFile, JSON.stringify([...this.coreKinds]));
      pruneStale(`validators-${kubernetesVersion}-`, path.basename(this.validatorDir));
    }
  }

  /** True when a schema is known for this apiVersion and kind. */
  public knows(apiVersion: string, kind: string): boolean {
    this.loadCrds();
    return this.coreKinds.has(`${apiVersion}/${kind}`) || this.crdSchemas.has(`${apiVersion}/${kind}`);
  }

  /** Validates one object; returns its violations (empty when valid). */
  public validate(obj: Json): SchemaViolation[] {
    const id = describe(obj);
    if (!obj || typeof obj !== 'object' || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
      return [{ object: id, path: '', message: 'not a Kubernetes object: apiVersion and kind are required' }];
    }
    const v = this.validator(obj.apiVersion, obj.kind);
    if (!v) return [{ object: id, path: '', message: `no upstream schema for ${obj.apiVersion} ${obj.kind}` }];
    const out: SchemaViolation[] = [];
    if (!v(obj)) out.push(...(v.errors ?? []).map(e => toViolation(id, e)));
    const meta = this.validator('meta', 'ObjectMeta')!;
    if (!meta(obj.metadata ?? {})) out.push(...(meta.errors ?? []).map(e => toViolation(id, e, '/metadata')));
    if (!obj.metadata?.name) {out.push({ object: id, path: '/metadata/name', message: 'metadata.name is required' });} else if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(obj.metadata.name) || obj.metadata.name.length > 253) {
      out.push({ object: id, path: '/metadata/name', message: `'${obj.metadata.name}' is not a valid DNS subdomain name` });
    }
    return out;
  }

  /** The Kubernetes definitions (read only when a validator must be compiled). */
  private definitions(): Record<string, Json> {
    return JSON.parse(fs.readFileSync(this.definitionsFile, 'utf8')).definitions;
  }

  private get ajv(): Ajv {
    if (!this.ajvInstance) {
      this.ajvInstance = newAjv();
      this.ajvInstance.addSchema(strictify({ $id: 'k8s', definitions: this.definitions() }));
    }
    return this.ajvInstance;
  }

  /**
   * Compiles and caches the validators of `keys` (`<apiVersion>/<kind>`, or `meta/ObjectMeta`) that are not cached
   * yet; returns how many it compiled. Run once before the suite's workers start (test/util/global-setup.ts), so two
   * workers do not compile the same validator side by side.
   */
  public precompile(keys: readonly string[]): number {
    let compiled = 0;
    for (const key of keys) {
      if (fs.existsSync(this.validatorFile(key))) continue;
      const i = key.lastIndexOf('/');
      if (this.validator(key.slice(0, i), key.slice(i + 1))) compiled++;
    }
    return compiled;
  }

  private validatorFile(key: string): string {
    return path.join(this.validatorDir, `${createHash('sha256').update(key).digest('hex').slice(0, 20)}.js`);
  }

  private validator(apiVersion: string, kind: string): ValidateFunction | undefined {
    const key = `${apiVersion}/${kind}`;
    let v = this.validators.get(key);
    if (v) return v;
    const file = this.validatorFile(key);
    const code = readCache(file);
    if (code !== undefined) {
      v = loadValidator(code);
    } else {
      v = this.compile(key, apiVersion);
      if (!v) return undefined;
      writeCache(file, standaloneCode(this.ajv, v));
    }
    this.validators.set(key, v);
    return v;
  }

  private compile(key: string, apiVersion: string): ValidateFunction | undefined {
    if (apiVersion === 'meta') return this.ajv.compile({ $ref: 'k8s#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' });
    if (this.coreKinds.has(key)) return this.ajv.compile({ $ref: `k8s#/definitions/${this.coreKinds.get(key)}` });
    this.loadCrds();
    const schema = this.crdSchemas.get(key);
    if (!schema) return undefined;
    // metadata is validated separately against ObjectMeta
    const s = strictify(schema);
    s.properties = { ...s.properties, apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } };
    if (s.additionalProperties === undefined) s.additionalProperties = false;
    return this.ajv.compile(s);
  }

  private loadCrds() {
    if (this.crdsLoaded) return;
    this.crdsLoaded = true;
    for (const [key, schema] of Object.entries(crdSchemas())) this.crdSchemas.set(key, schema);
  }
}

/** A validator from its standalone module code (ajv's runtime helpers are required from node_modules). */
function loadValidator(code: string): ValidateFunction {
  const module = { exports: {} as any };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('require', 'module', 'exports', code)(require, module, module.exports);
  return module.exports.default ?? module.exports;
}

/**
 * The served CRD versions' schemas by `group/version/kind`, read from the pinned CRD files. Parsing those YAML files
 * takes most of a second, and every test file validates: the result is kept as JSON in .crds-cache/, keyed by the
 * files' paths, sizes and mtimes, and read back in milliseconds (written atomically: jest workers share it).
 */
function crdSchemas(): Record<string, Json> {
  const files = CRD_FILES.map(([project, file]) => crdFile(project, file));
  const key = createHash('sha256').update(files.map(f => {
    const st = fs.statSync(f);
    return `${f}:${st.size}:${st.mtimeMs}`;
  }).join('\n') + '\nparsed by js-yaml, core schema').digest('hex').slice(0, 16);
  const cache = path.join(CACHE_DIR, `test-schemas-${key}.json`);
  try {
    return JSON.parse(fs.readFileSync(cache, 'utf8'));
  } catch {
    // not cached yet (or unreadable): parse and cache
  }
  const out: Record<string, Json> = {};
  for (const f of files) {
    // js-yaml with YAML 1.2's core schema, which throws on a malformed file: yaml 2.9's parseAllDocuments reports the
    // Flagger CRD's multi-line single-quoted descriptions as errors and its toJSON returns them cut in two
    for (const crd of jsYaml.loadAll(fs.readFileSync(f, 'utf8'), undefined, { schema: jsYaml.CORE_SCHEMA, filename: f }) as Json[]) {
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const ver of crd.spec.versions) {
        if (ver.served === false || !ver.schema?.openAPIV3Schema) continue;
        out[`${crd.spec.group}/${ver.name}/${crd.spec.names.kind}`] = ver.schema.openAPIV3Schema;
      }
    }
  }
  try {
    fs.mkdirSync(path.dirname(cache), { recursive: true });
    const tmp = `${cache}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(out));
    fs.renameSync(tmp, cache);
    pruneStale('test-schemas-', path.basename(cache));
  } catch {
    // a read-only checkout: parse again next time
  }
  return out;
}

function toViolation(object: string, e: ErrorObject, prefix = ''): SchemaViolation {
  let message = e.message ?? e.keyword;
  if (e.keyword === 'additionalProperties') message = `unknown field '${(e.params as any).additionalProperty}'`;
  if (e.keyword === 'enum') message += `: ${JSON.stringify((e.params as any).allowedValues)}`;
  return { object, path: prefix + e.instancePath, message };
}

export function describe(obj: Json): string {
  if (!obj || typeof obj !== 'object') return String(obj);
  const ns = obj.metadata?.namespace ? `${obj.metadata.namespace}/` : '';
  return `${obj.apiVersion} ${obj.kind} ${ns}${obj.metadata?.name ?? '<unnamed>'}`;
}

/** Validates every object; returns all violations. */
export function validateAll(objects: Json[], kubernetesVersion = '1.33'): SchemaViolation[] {
  const registry = SchemaRegistry.forKubernetes(kubernetesVersion);
  return objects.flatMap(o => registry.validate(o));
}

/** Throws with a readable list when any object violates its schema. */
export function expectValid(objects: Json[], kubernetesVersion = '1.33'): void {
  const violations = validateAll(objects, kubernetesVersion);
  if (violations.length > 0) {
    const lines = violations.slice(0, 50).map(v => `  ${v.object} ${v.path || '/'}: ${v.message}`);
    const more = violations.length > 50 ? `\n  ... and ${violations.length - 50} more` : '';
    throw new Error(`${violations.length} schema violation(s):\n${lines.join('\n')}${more}`);
  }
}
