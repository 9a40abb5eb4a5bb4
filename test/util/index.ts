/**
 * Shared test helpers: synthesize a chart or app, validate every object strictly against its upstream schema.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { expectValid } from './schemas';

export * from './schemas';

/** Synthesizes a chart, validates every object strictly and returns the objects. */
export function synthValid(chart: Chart, kubernetesVersion = '1.33'): any[] {
  const objects = Testing.synth(chart);
  expectValid(objects, kubernetesVersion);
  return objects;
}

/** Synthesizes every chart of an app (in app order), validates every object and returns them. */
export function synthAppValid(app: App, kubernetesVersion = '1.33'): any[] {
  const objects = app.charts.flatMap(c => Testing.synth(c));
  expectValid(objects, kubernetesVersion);
  return objects;
}

/** The objects of a kind (optionally with a name). */
export function ofKind(objects: any[], kind: string, name?: string): any[] {
  return objects.filter(o => o.kind === kind && (name === undefined || o.metadata?.name === name));
}

/** The single object of a kind and name; throws when there is not exactly one. */
export function one(objects: any[], kind: string, name?: string): any {
  const found = ofKind(objects, kind, name);
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${kind}${name ? ` '${name}'` : ''}, found ${found.length}: ${objects.map(o => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  }
  return found[0];
}

/** YAML of a chart as it would be written to disk, for snapshots. */
export function yamlOf(objects: any[]): string {
  return objects.map(o => YAML.stringify(o, { lineWidth: 0 })).join('---\n');
}

/** Strips the bodies of CustomResourceDefinitions (keeps name and versions) so snapshots stay readable. */
export function withoutCrdBodies(objects: any[]): any[] {
  return objects.map(o => o.kind !== 'CustomResourceDefinition' ? o : {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: o.metadata,
    spec: { group: o.spec.group, versions: o.spec.versions.map((v: any) => `${v.name}${v.storage ? ' (storage)' : ''}`) },
  });
}

/** The files an App's synth writes (the YAML, the diagram), by name, read from a scratch output directory. */
export function synthFiles(build: (outdir: string) => App): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-mesh-synth-'));
  try {
    build(dir).synth();
    const files: Record<string, string> = {};
    for (const f of fs.readdirSync(dir).sort()) files[f] = fs.readFileSync(path.join(dir, f), 'utf8');
    return files;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The objects of the YAML files among written files, as a cluster reads them. */
export function objectsOfFiles(files: Record<string, string>): any[] {
  return Object.entries(files).filter(([f]) => f.endsWith('.yaml'))
    .flatMap(([, body]) => YAML.parseAllDocuments(body).map(d => d.toJSON()).filter(Boolean));
}
