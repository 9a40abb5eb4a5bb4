/**
 * What a set of charts contains, read at synth time from their ApiObjects (kinds, namespaces, CRDs). Each function is
 * one linear pass.
 * @internal
 */
import { ApiObject, App, Chart, Names, YamlOutputType } from 'cdk8s';
import { IConstruct } from 'constructs';
import { CLUSTER_SCOPED_KINDS } from './argocd-constants';

/** API groups served by Kubernetes itself (anything else is a custom resource). @internal */
const BUILTIN_GROUPS = new Set([
  '', 'apps', 'batch', 'autoscaling', 'policy', 'networking.k8s.io', 'rbac.authorization.k8s.io',
  'apiextensions.k8s.io', 'admissionregistration.k8s.io', 'storage.k8s.io', 'scheduling.k8s.io', 'coordination.k8s.io',
  'discovery.k8s.io', 'node.k8s.io', 'certificates.k8s.io', 'apiregistration.k8s.io', 'events.k8s.io',
  'flowcontrol.apiserver.k8s.io', 'resource.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io',
]);

/** The API group of an apiVersion ('v1' -> '', 'apps/v1' -> 'apps'). @internal */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/** Whether a group is served by Kubernetes itself. @internal */
export function isBuiltinGroup(group: string): boolean {
  return BUILTIN_GROUPS.has(group);
}

/** `<group>/<kind>`. @internal */
export function gk(group: string, kind: string): string {
  return `${group}/${kind}`;
}

/** The ApiObjects a chart synthesizes (those whose closest chart is this one), in tree order. @internal */
export function apiObjectsOf(chart: Chart): ApiObject[] {
  return chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject && Chart.of(c) === chart);
}

/** What the inventory needs of a CRD: `<group>/<kind>` and its scope. @internal */
export type CrdFact = readonly [key: string, scope: string];

/** Reads a CRD's `<group>/<kind>` and scope (renders the whole object: CRDs are the largest objects of a mesh). @internal */
export function readCrdFact(crd: ApiObject): CrdFact | undefined {
  const spec = crd.toJson()?.spec;
  return spec?.group && spec?.names?.kind ? [gk(spec.group, spec.names.kind), spec.scope ?? 'Namespaced'] : undefined;
}

/**
 * The CRDs defined by a set of objects: `<group>/<kind>` -> scope ('Namespaced' or 'Cluster'). `read` gives a CRD's
 * fact (a caller that indexes the same CRDs again passes a cached reader).
 * @internal
 */
export function crdIndex(objects: ApiObject[], read: (crd: ApiObject) => CrdFact | undefined = readCrdFact): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of objects) {
    if (o.kind !== 'CustomResourceDefinition') continue;
    const fact = read(o);
    if (fact) out.set(fact[0], fact[1]);
  }
  return out;
}

/** Whether an object is cluster-scoped (known kinds, or a CRD in the delivery with scope Cluster). @internal */
export function isClusterScoped(obj: ApiObject, crds: Map<string, string>): boolean {
  const key = gk(groupOf(obj.apiVersion), obj.kind);
  return CLUSTER_SCOPED_KINDS.has(key) || crds.get(key) === 'Cluster';
}

/**
 * What the file names of an app's charts are a function of: the charts and every dependency (each as its source and
 * target), in construct-tree order, which is all cdk8s's chart order reads; and whether the names are indexed (a chart
 * nested in another, or a dependency across charts). One walk of the tree, without building cdk8s's dependency graph.
 * @internal
 */
export interface ChartNamingInputs {
  readonly app: App;
  readonly sequence: readonly IConstruct[];
  readonly indexed: boolean;
}

/** @internal */
export function chartNamingInputs(app: App): ChartNamingInputs {
  const sequence: IConstruct[] = [];
  let indexed = false;
  for (const c of app.node.findAll()) {
    if (c instanceof Chart) {
      sequence.push(c);
      if (c.node.children.some(x => x instanceof Chart)) indexed = true;
    }
    for (const dep of c.node.dependencies) {
      sequence.push(c, dep);
      if (!indexed && chartOf(c) !== chartOf(dep)) indexed = true;
    }
  }
  return { app, sequence, indexed };
}

/** Whether two naming inputs give the same names (the same App, charts and dependencies, in the same order). @internal */
export function sameChartNamingInputs(a: ChartNamingInputs, b: ChartNamingInputs): boolean {
  return a.app === b.app && a.indexed === b.indexed && a.sequence.length === b.sequence.length
    && a.sequence.every((c, i) => c === b.sequence[i]);
}

/**
 * The files (or folders) an app's synth writes its charts to, the way cdk8s names them: `<chart>.k8s.yaml`, prefixed
 * with a 4-digit index in dependency order (`0000-<chart>.k8s.yaml`) when charts depend on each other or are nested.
 * All charts at once (the dependency order is a graph of the whole construct tree). Call it at synth time (after cdk8s
 * has resolved chart dependencies).
 * @internal
 */
export function chartOutputNames(inputs: ChartNamingInputs): Map<Chart, string> {
  const app = inputs.app;
  const folder = app.yamlOutputType === YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE;
  const ext = folder ? '' : app.outputFileExtension;
  const charts = inputs.indexed ? app.charts : inputs.sequence.filter((c): c is Chart => c instanceof Chart);
  return new Map(charts.map((chart, index) => [chart, inputs.indexed
    ? `${String(index).padStart(4, '0')}-${Names.toDnsLabel(chart)}${ext}`
    : Names.toDnsLabel(chart) + ext]));
}

function chartOf(c: IConstruct): Chart | undefined {
  try {
    return Chart.of(c);
  } catch {
    return undefined;
  }
}
