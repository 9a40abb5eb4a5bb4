/**
 * Flow analysis: from plain objects alone, whether every flow the objects declare and every flow the mesh itself
 * needs gets through NetworkPolicy, Sidecar scoping, PeerAuthentication and AuthorizationPolicy together.
 */
import { acknowledgedCodes } from '../acknowledge';
import { Finding, FindingLevel, ObjectRef } from '../finding';
import { DEFAULT_MODEL_OPTIONS, InputDocument, Model } from '../model';
import { FlowCollector, sourceOf } from './declared';
import { FlowEvaluator, runFlowAnalysis } from './evaluate';
import { AnalyzeFlowsOptions, FlowAnalysisResult, FlowVerdict, MeshFlowKind } from './types';
import { World } from './world';

export * from './types';

const LEVEL_ORDER: Record<string, number> = { [FindingLevel.ERROR]: 0, [FindingLevel.WARNING]: 1, [FindingLevel.INFO]: 2 };

/**
 * Analyzes the flows of a set of Kubernetes objects (plain JSON, as synthesized or read from YAML): every flow the
 * objects declare (Sidecar egress hosts, gateway routes, mesh routes and mirrors, egress through an egress
 * gateway) and every flow the mesh needs (istiod, the CA, telemetry providers, metrics scraping), each with its
 * verdict; and the MESH1xx findings.
 */
export function analyzeFlows(objects: any[], options: AnalyzeFlowsOptions = {}): FlowAnalysisResult {
  return analyzeFlowDocuments(objects.map(object => ({ object })), options);
}

/** analyzeFlows over documents (objects with their source file). @internal */
export function analyzeFlowDocuments(docs: readonly InputDocument[], options: AnalyzeFlowsOptions = {}): FlowAnalysisResult {
  const m = new Model(docs, {
    defaultNamespace: options.defaultNamespace ?? DEFAULT_MODEL_OPTIONS.defaultNamespace,
    rootNamespace: options.rootNamespace ?? DEFAULT_MODEL_OPTIONS.rootNamespace,
    clusterDomain: options.clusterDomain ?? DEFAULT_MODEL_OPTIONS.clusterDomain,
    existing: [],
  });
  const flows = runFlowAnalysis(m, options);
  // the acknowledge annotation on an object drops its findings, as in analyze()
  const acked = new Map<string, Set<string>>();
  for (const e of m.entries) {
    const c = acknowledgedCodes(e.obj);
    if (c.size) acked.set(refKey(e.ref), c);
  }
  return { flows, findings: sortFindings(m.findings.filter(f => !acked.get(refKey(f.object))?.has(f.code))) };
}

function refKey(r: ObjectRef): string {
  return `${r.kind}\0${r.namespace ?? ''}\0${r.name}`;
}

/** Findings deduplicated and sorted: errors first, then by object, code and message. */
function sortFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  const key = (f: Finding) => refKey(f.object);
  const out = findings.filter(f => {
    const k = `${key(f)}\0${f.code}\0${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return out.sort((a, b) => (LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level]) || key(a).localeCompare(key(b))
    || a.code.localeCompare(b.code) || a.message.localeCompare(b.message));
}

/**
 * The flow matrix as text: one line per flow, `<source> -> <destination>:<port> <verdict> [<kind>] <reason>`,
 * in the result's (sorted) order.
 */
export function formatFlowMatrix(result: FlowAnalysisResult): string {
  if (result.flows.length === 0) return 'No flows declared or needed by the input.\n';
  return result.flows.map(f => `${f.source} -> ${f.destination}:${f.port}${f.subset ? ` (subset ${f.subset})` : ''} ${f.verdict.toUpperCase()} [${f.kind}] ${f.reason}\n`).join('');
}

/** A connection to judge: from a workload's pods to a host and port. */
export interface FlowQuery {
  /** The source workload, `<namespace>/<workload name>` (a Deployment, StatefulSet... or Pod of the input). */
  readonly source: string;
  /** The destination host (a Service FQDN, `<svc>.<ns>.svc.<domain>`, or an external host). */
  readonly host: string;
  /** The destination port (the Service port). */
  readonly port: number;
  /**
   * Judge NetworkPolicy, PeerAuthentication and AuthorizationPolicy alone, without the source's Sidecar scope: whether
   * the policies would stop the call even if the proxy knew the host.
   * @default false
   */
  readonly ignoreSidecar?: boolean;
}

/** The verdict on one queried connection. */
export interface FlowAnswer {
  /** The query. */
  readonly query: FlowQuery;
  /** The verdict. */
  readonly verdict: FlowVerdict;
  /** Why: the rules that let it through, or the layer and object that stop it. */
  readonly reason: string;
}

/**
 * Judges arbitrary connections (declared or not) through every layer, as `analyzeFlows` judges the declared ones: for
 * "may A reach B on port P?" questions, and to prove that what is not declared is denied.
 */
export function checkFlows(objects: any[], queries: FlowQuery[], options: AnalyzeFlowsOptions = {}): FlowAnswer[] {
  const m = new Model(objects.map(object => ({ object })), {
    defaultNamespace: options.defaultNamespace ?? DEFAULT_MODEL_OPTIONS.defaultNamespace,
    rootNamespace: options.rootNamespace ?? DEFAULT_MODEL_OPTIONS.rootNamespace,
    clusterDomain: options.clusterDomain ?? DEFAULT_MODEL_OPTIONS.clusterDomain,
    existing: [],
  });
  const w = new World(m, options);
  const collector = new FlowCollector(w);
  const evaluator = new FlowEvaluator(w);
  const byId = new Map(w.pods.map(p => [`${p.ns}/${p.name}`, p]));
  return queries.map(query => {
    const pod = byId.get(query.source);
    if (!pod) return { query, verdict: FlowVerdict.UNKNOWN, reason: `no workload ${query.source} in the input` };
    const o = evaluator.evaluate({
      kind: MeshFlowKind.CALL,
      mode: 'app',
      skipSidecar: query.ignoreSidecar === true,
      src: sourceOf(w, pod),
      target: collector.target(query.host, query.port),
      by: pod.entry,
    });
    return { query, verdict: o.verdict, reason: o.reason };
  });
}
