/**
 * Flow analysis: from plain objects alone, whether every flow the objects declare and every flow the mesh itself
 * needs gets through NetworkPolicy, Sidecar scoping, PeerAuthentication and AuthorizationPolicy together.
 */
import { acknowledgedCodes } from '../acknowledge';
import { Finding, FindingLevel, ObjectRef } from '../finding';
import { DEFAULT_MODEL_OPTIONS, InputDocument, Model } from '../model';
import { runFlowAnalysis } from './evaluate';
import { AnalyzeFlowsOptions, FlowAnalysisResult } from './types';

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
