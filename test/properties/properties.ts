/**
 * Every property, as data: the jest files in test/properties run them with a fixed seed and a moderate number of
 * runs (see `ciRuns`: half of them in `npm test`, all of them in `npm run test:properties`, which CI runs too);
 * scripts/properties-long.ts runs the same ones with many more.
 *
 * The contract checked on every construct (see harness.ts):
 *  (1) every input either synthesizes or throws MeshValidationError (name, constructPath, field), nothing else;
 *  (2) every synthesized object is valid against its upstream schema and the analyzer reports no error;
 *  (3) synthesis is deterministic (same spec, fresh App, same bytes or the same error);
 *  (4) no output contains private key material;
 *  (5) zero-trust policies allow exactly the graph's edges (zero-trust.properties.test.ts, once it exists).
 */
import { Chart, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { buildControlPlane, buildGraph, buildMesh, buildValidGraph, meshProps } from './builders';
import { attempt, checkContract, checkDeterministic, checkError, record } from './harness';
import { analyze, Finding, FindingLevel, IstioControlPlane, Mesh, MeshCertificates } from '../../src';
import { HOSTILE, hostileNumber, hostileString, VALID } from '../util/arbitraries';

export interface PropertyDef {
  /** Unique name, also the jest test name. */
  readonly name: string;
  /** The jest file (group) that runs it. */
  readonly group: string;
  /** fast-check property. */
  readonly property: () => fc.IPropertyWithHooks<any> | fc.IProperty<any>;
  /** Runs in CI (`npm run test:properties`; `npm test` runs half of them; before PROPERTY_RUNS scaling). */
  readonly ciRuns: number;
  /** Runs in the long run. */
  readonly longRuns: number;
}

/** The fixed seed of CI runs (override with PROPERTY_SEED). */
export const SEED = Number(process.env.PROPERTY_SEED ?? 20250101);

/**
 * The share of its CI runs a property gets in `npm test`, the fast loop (issue 17: the suite within 60 s on 2 cores,
 * the heavy share of the property runs in a longer run). `npm run test:properties` sets PROPERTY_RUNS=1 (every CI
 * run) and .ci/run runs it after `npm test`, so what lands is checked with as many cases as before.
 */
export const FAST_LOOP_SHARE = 0.5;

/**
 * Jest runs of a property: its ciRuns scaled by PROPERTY_RUNS (a positive factor; unset or empty: FAST_LOOP_SHARE).
 * Any other value is refused: a typo must not quietly change how many cases run.
 */
export function ciRuns(def: PropertyDef): number {
  const given = process.env.PROPERTY_RUNS;
  const factor = given === undefined || given.trim() === '' ? FAST_LOOP_SHARE : Number(given);
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new Error(`PROPERTY_RUNS ${JSON.stringify(given)} is invalid: must be a positive number, the factor of each property's CI runs (1: all of them; unset: ${FAST_LOOP_SHARE})`);
  }
  return Math.max(1, Math.round(def.ciRuns * factor));
}

export const PROPERTIES: PropertyDef[] = [];
export function define(def: PropertyDef): void {
  if (PROPERTIES.some(p => p.name === def.name)) throw new Error(`duplicate property ${def.name}`);
  PROPERTIES.push(def);
}

// ---------------------------------------------------------------------------------------------------------------
// Mesh

define({
  name: 'Mesh: any settings are accepted or rejected with MeshValidationError; fromAttributes agrees',
  group: 'mesh',
  ciRuns: 300,
  longRuns: 3000,
  property: () => fc.property(fc.oneof(VALID.meshSpec(), HOSTILE.meshSpec()), spec => {
    const name = 'Mesh';
    const o = attempt(app => {
      const mesh = buildMesh(app, spec);
      // read every derived attribute
      void [mesh.discoveryAddress, mesh.caAddress, mesh.proxyImage, mesh.pilotImage, mesh.revisionLabel, mesh.principalFor('a', 'b')];
      return mesh;
    });
    record(name, o);
    checkDeterministic(o, () => attempt(app => buildMesh(app, spec)));
    // the imported mesh validates the same way
    const imported = attempt(app => Mesh.fromAttributes(new Chart(app, 'other'), 'mesh', meshProps(spec)));
    if (imported.kind !== o.kind) throw new Error(`Mesh ${o.kind} but Mesh.fromAttributes ${imported.kind}`);
    if (o.kind === 'synth' && o.objects.length !== 0) throw new Error('a Mesh alone synthesizes nothing');
  }),
});

// ---------------------------------------------------------------------------------------------------------------
// Control plane and certificates

define({
  name: 'IstioControlPlane + MeshCertificates: contract (1)-(4) on hostile props',
  group: 'control-plane',
  ciRuns: 15,
  longRuns: 600,
  property: () => fc.property(fc.oneof(HOSTILE.controlPlaneSpec(), VALID.controlPlaneSpec()), spec => {
    checkContract('IstioControlPlane', app => buildControlPlane(app, spec), { rootNamespace: spec.mesh.rootNamespace });
  }),
});

define({
  name: 'IstioControlPlane: valid meshes with every certificate option synthesize and pass schema and analyzer',
  group: 'control-plane',
  ciRuns: 10,
  longRuns: 400,
  property: () => fc.property(VALID.controlPlaneSpec(), spec => {
    checkContract('IstioControlPlane (valid mesh)', app => buildControlPlane(app, spec), { rootNamespace: spec.mesh.rootNamespace });
  }),
});

define({
  name: 'MeshCertificates: no private key material, whatever the CA options',
  group: 'control-plane',
  ciRuns: 40,
  longRuns: 1000,
  property: () => fc.property(VALID.controlPlaneSpec().map(s => ({ ...s, installCrds: false })), spec => {
    const o = attempt(app => buildControlPlane(app, spec));
    record('MeshCertificates', o);
    if (o.kind === 'synth') {
      if (/PRIVATE KEY|BEGIN CERTIFICATE|tls\.key/.test(o.yaml.replace(/tls\.key: .*?\n/g, m => (m.includes('PRIVATE') ? m : '')))) {
        throw new Error('output contains key or certificate material');
      }
      for (const obj of o.objects) {
        if (obj.kind === 'Secret' && obj.data && Object.keys(obj.data).some(k => /key/i.test(k))) {
          throw new Error(`Secret ${obj.metadata?.name} carries key data`);
        }
      }
    }
  }),
});

define({
  name: 'IstioControlPlane: addExtensionProvider/addDefaultProvider with hostile names',
  group: 'control-plane',
  ciRuns: 60,
  longRuns: 1000,
  property: () => fc.property(
    fc.array(fc.record({ name: fc.oneof(hostileString, fc.constantFrom('otel', 'otel')), kind: fc.constantFrom('metrics', 'tracing', 'accessLogging', 'bogus') }), { maxLength: 4 }),
    providers => {
      checkContract('IstioControlPlane providers', app => {
        const chart = new Chart(app, 'mesh-system');
        const mesh = new Mesh(chart, 'mesh', {});
        const cp = new IstioControlPlane(chart, 'istio', { mesh, installCrds: false, certificates: MeshCertificates.certManager() });
        for (const p of providers) {
          cp.addExtensionProvider(p.name, { opentelemetry: { service: 'otel.observability.svc.cluster.local', port: 4317 } });
          cp.addDefaultProvider(p.kind as any, p.name);
        }
      });
    }),
});

// ---------------------------------------------------------------------------------------------------------------
// MeshedService, versions, traffic policy, resilience, routes, connectsTo, mesh.inject

define({
  name: 'MeshedService graph: contract (1)-(4) on hostile meshes (versions, policies, resilience, routes, edges, inject)',
  group: 'meshed-service',
  ciRuns: 40,
  longRuns: 1500,
  property: () => fc.property(fc.oneof(HOSTILE.graphSpec(), VALID.graphSpec()), spec => {
    checkContract('MeshedService (hostile)', app => buildGraph(app, spec), { rootNamespace: spec.mesh.rootNamespace });
  }),
});

define({
  name: 'MeshedService graph: contract (1)-(4) on meshes with valid names and settings',
  group: 'meshed-service',
  ciRuns: 25,
  longRuns: 1000,
  property: () => fc.property(VALID.graphSpec(), spec => {
    checkContract('MeshedService (valid names)', app => buildGraph(app, spec), { rootNamespace: spec.mesh.rootNamespace });
  }),
});

define({
  name: 'connectsTo: a valid access graph (cycles, self-loops, duplicates) always synthesizes; both ends record every edge',
  group: 'meshed-service',
  ciRuns: 60,
  longRuns: 2000,
  property: () => fc.property(VALID.validGraphSpec, spec => {
    let edges = 0;
    const o = checkContract('connectsTo (valid graph)', app => {
      const g = buildValidGraph(app, spec);
      edges = spec.edges.length;
      let inbound = 0;
      for (const s of g.services) {
        inbound += s.inboundRules.length;
        for (const c of s.outboundDependencies) {
          if (c.source !== s) throw new Error(`${s.node.path}: outbound dependency with another source`);
          if (!c.target.inboundRules.includes(c)) throw new Error(`${s.node.path}: edge to ${c.target.node.path} missing on the target`);
          if (c.ports.length === 0 || c.ports.some(p => !c.target.ports.some(q => q.port === p.port && q.name === p.name))) {
            throw new Error(`${s.node.path}: edge ports are not the target's ports`);
          }
        }
      }
      if (inbound !== edges) throw new Error(`recorded ${inbound} inbound rules for ${edges} edges`);
      return g;
    });
    if (o.kind !== 'synth') throw new Error(`a valid graph was rejected: ${o.error.message}`);
  }),
});

// ---------------------------------------------------------------------------------------------------------------
// The analyzer: never crashes, whatever it is given; order of input does not matter

let baseObjects: any[] | undefined;
/** A realistic, valid set of objects (control plane without CRD bodies, services, edges), built once. */
function base(): any[] {
  if (!baseObjects) {
    const app = Testing.app();
    buildValidGraph(app, {
      namespaces: ['shop', 'data'],
      services: [
        { ns: 0, name: 'web', ports: [{ protocol: 'HTTP', port: 8080 }] },
        { ns: 0, name: 'reviews', ports: [{ protocol: 'HTTP', port: 9080 }, { protocol: 'GRPC', port: 9090 }] },
        { ns: 1, name: 'db', ports: [{ protocol: 'TCP', port: 5432 }] },
      ],
      edges: [{ from: 0, to: 1 }, { from: 1, to: 2 }, { from: 1, to: 1 }],
    }, (g, apps) => {
      new IstioControlPlane(g.mesh.node.scope as any, 'istio', { mesh: g.mesh, installCrds: false, certificates: MeshCertificates.certManager() });
      g.services[1].addVersion('v2', { image: 'reviews:2' });
      void apps;
    });
    baseObjects = app.charts.flatMap(c => Testing.synth(c));
  }
  return baseObjects;
}

type Mutation = { obj: number; path: number[]; op: 'delete' | 'set'; value: unknown };
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  hostileString,
  hostileNumber,
  fc.constantFrom(null, undefined, [], {}, [null], { name: null }, [{}], '*', 'istio-system', 'reviews'),
);
const mutation: fc.Arbitrary<Mutation> = fc.record({
  obj: fc.nat(),
  path: fc.array(fc.nat(), { minLength: 1, maxLength: 7 }),
  op: fc.constantFrom<'delete' | 'set'>('delete', 'set', 'set'),
  value: hostileJson,
});

function mutate(objects: any[], mutations: Mutation[]): any[] {
  const out = structuredClone(objects);
  for (const m of mutations) {
    const root = { doc: out[m.obj % out.length] };
    let parent: any = root;
    let key: string | number = 'doc';
    for (const n of m.path) {
      const cur: any = parent[key];
      if (cur === null || typeof cur !== 'object') break;
      const keys = Object.keys(cur);
      if (keys.length === 0) break;
      parent = cur;
      key = Array.isArray(cur) ? n % cur.length : keys[n % keys.length];
    }
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1); else delete parent[key];
    } else {
      parent[key] = structuredClone(m.value);
    }
    out[m.obj % out.length] = root.doc;
  }
  return out.filter(o => o !== undefined);
}

function checkFindings(findings: Finding[]): void {
  const levels = Object.values(FindingLevel) as string[];
  for (const f of findings) {
    if (typeof f.code !== 'string' || !f.code || !levels.includes(f.level) || typeof f.message !== 'string' || !f.object || typeof f.object.kind !== 'string') {
      throw new Error(`malformed finding ${JSON.stringify(f)}`);
    }
  }
}

function analyzeSafely(objects: any[]): Finding[] {
  try {
    const findings = analyze(objects);
    checkFindings(findings);
    return findings;
  } catch (e) {
    throw new Error(`analyze threw ${(e as Error).name}: ${(e as Error).message}\n${(e as Error).stack}`);
  }
}

define({
  name: 'analyze: never throws on mutated manifests; findings well-formed, deterministic, independent of input order',
  group: 'analysis',
  ciRuns: 250,
  longRuns: 4000,
  property: () => fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), mutations => {
    const objects = mutate(base(), mutations);
    const findings = analyzeSafely(objects);
    const again = analyzeSafely(structuredClone(objects));
    if (JSON.stringify(again) !== JSON.stringify(findings)) throw new Error('analyze is not deterministic');
    const refs = objects.map(o => JSON.stringify([o?.kind, o?.metadata?.namespace, o?.metadata?.name]));
    if (new Set(refs).size === refs.length) {
      const reversed = analyzeSafely([...objects].reverse());
      if (JSON.stringify(reversed) !== JSON.stringify(findings)) {
        throw new Error(`analyze depends on input order:\n${JSON.stringify(findings.map(f => f.code + ' ' + f.message))}\nvs\n${JSON.stringify(reversed.map(f => f.code + ' ' + f.message))}`);
      }
    }
  }),
});

const KINDS = ['VirtualService', 'DestinationRule', 'Gateway', 'Sidecar', 'AuthorizationPolicy', 'PeerAuthentication',
  'RequestAuthentication', 'ServiceEntry', 'Telemetry', 'EnvoyFilter', 'Service', 'Deployment', 'Pod', 'Namespace',
  'HTTPRoute', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ConfigMap', 'Secret', 'Job', 'CronJob'];

define({
  name: 'analyze: never throws on arbitrary JSON documents of mesh kinds',
  group: 'analysis',
  ciRuns: 250,
  longRuns: 4000,
  property: () => fc.property(fc.array(fc.oneof(
    fc.record({
      apiVersion: fc.constantFrom('networking.istio.io/v1', 'security.istio.io/v1', 'v1', 'apps/v1', 'gateway.networking.k8s.io/v1', 'admissionregistration.k8s.io/v1', 'x'),
      kind: fc.oneof(fc.constantFrom(...KINDS), hostileString),
      metadata: fc.oneof(
        fc.record({ name: fc.oneof(fc.constantFrom('a', 'reviews', 'default', 'istio-sidecar-injector'), hostileString), namespace: fc.oneof(fc.constantFrom('shop', 'istio-system'), hostileString), labels: hostileJson, annotations: hostileJson }, { requiredKeys: [] }),
        hostileJson,
      ),
      spec: fc.oneof(fc.jsonValue({ maxDepth: 4 }), hostileJson),
      webhooks: hostileJson,
      data: hostileJson,
    }, { requiredKeys: ['kind'] }),
    hostileJson,
  ), { maxLength: 6 }), docs => {
    analyzeSafely(docs as any[]);
  }),
});

// ---------------------------------------------------------------------------------------------------------------
// Optional constructs, registered when they exist and their own tests pass (see optional.ts).

export { checkError, checkContract };
