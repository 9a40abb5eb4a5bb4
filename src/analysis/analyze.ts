import { Acknowledge, acknowledgedCodes } from './acknowledge';
import { analyzeAmbient } from './analyzers/ambient';
import { analyzeAnnotations } from './analyzers/annotations';
import { analyzeAuth } from './analyzers/auth';
import { analyzeControlPlane } from './analyzers/controlplane';
import { analyzeDeprecations } from './analyzers/deprecation';
import { analyzeDestinationRules } from './analyzers/destinationrule';
import { analyzeEnvoyFilters } from './analyzers/envoyfilter';
import { analyzeGateways } from './analyzers/gateway';
import { analyzeInjection } from './analyzers/injection';
import { analyzeK8sGateways } from './analyzers/k8sgateway';
import { analyzeServices } from './analyzers/service';
import { analyzeServiceEntries } from './analyzers/serviceentry';
import { analyzeSidecars, analyzeTelemetries } from './analyzers/sidecar';
import { analyzeStatus } from './analyzers/status';
import { analyzeVirtualServices } from './analyzers/virtualservice';
import { analyzeWebhooks } from './analyzers/webhook';
import { Finding, FindingLevel, ObjectRef } from './finding';
import { runFlowAnalysis } from './flows/evaluate';
import { FlowAnalysisOptions } from './flows/types';
import { DEFAULT_MODEL_OPTIONS, InputDocument, Model } from './model';

/** Options of the mesh analyzer. */
export interface AnalysisOptions {
  /**
   * The namespace of objects that have none (as `kubectl apply` would place them).
   * @default 'default'
   */
  readonly defaultNamespace?: string;
  /**
   * Istio's root namespace: mesh-wide PeerAuthentication, Telemetry and mesh config live there.
   * @default 'istio-system'
   */
  readonly rootNamespace?: string;
  /**
   * The cluster DNS domain, for resolving short host names.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * Objects that exist but are not part of the input (Secrets created by hand, Services of another repository):
   * references to them are not reported.
   * @default - none
   */
  readonly existingObjects?: ObjectRef[];
  /**
   * Acknowledged findings, dropped from the result. Objects can also carry the `analysis.cdk8s-mesh.dev/acknowledge`
   * annotation.
   * @default - none
   */
  readonly acknowledgements?: Acknowledge[];
  /**
   * The time gateway certificates are judged at (IST0161 reports expired and not yet valid certificates): give a
   * fixed time for reproducible results.
   * @default - the current time
   */
  readonly now?: Date;
  /**
   * Report Istio annotations whose feature status is Alpha (IST0136). Like istioctl analyze, off by default: the
   * injector itself sets some of them.
   * @default false
   */
  readonly alphaAnnotations?: boolean;
  /**
   * Also run the flow analysis (MESH101..MESH106: declared flows, istiod and CA, telemetry, scraping, egress
   * bypass, unreachable ports), with these options; `{}` for the defaults. `analyzeFlows` returns the flows too.
   * @default - the flow analysis does not run
   */
  readonly flows?: FlowAnalysisOptions;
}

/** The annotation with which istioctl analyze suppresses codes on an object (istio/api 1.30.3). */
const GALLEY_SUPPRESS = 'galley.istio.io/analyze-suppress';

/** The analyzer families, in the order they run. */
const ANALYZERS: ReadonlyArray<(m: Model) => void> = [
  analyzeVirtualServices, analyzeDestinationRules, analyzeGateways, analyzeSidecars, analyzeTelemetries, analyzeAuth,
  analyzeInjection, analyzeServices, analyzeServiceEntries, analyzeWebhooks, analyzeK8sGateways, analyzeEnvoyFilters,
  m => analyzeAnnotations(m, { alpha: m.options.alphaAnnotations === true }), analyzeDeprecations, analyzeStatus,
  analyzeControlPlane, analyzeAmbient,
];

const LEVEL_ORDER: Record<string, number> = { [FindingLevel.ERROR]: 0, [FindingLevel.WARNING]: 1, [FindingLevel.INFO]: 2 };

/** Analyzes documents (objects with their source). @internal */
export function analyzeDocuments(docs: readonly InputDocument[], options: AnalysisOptions = {}): Finding[] {
  const m = new Model(docs, {
    defaultNamespace: options.defaultNamespace ?? DEFAULT_MODEL_OPTIONS.defaultNamespace,
    rootNamespace: options.rootNamespace ?? DEFAULT_MODEL_OPTIONS.rootNamespace,
    clusterDomain: options.clusterDomain ?? DEFAULT_MODEL_OPTIONS.clusterDomain,
    existing: options.existingObjects ?? [],
    now: options.now,
    alphaAnnotations: options.alphaAnnotations,
  });
  for (const analyzer of ANALYZERS) analyzer(m);
  if (options.flows) runFlowAnalysis(m, options.flows);

  const acks = options.acknowledgements ?? [];
  const annotated = new Map<string, Set<string>>();
  for (const e of m.entries) {
    const codes = acknowledgedCodes(e.obj);
    // istioctl's own per-object suppression (Istio 1.30.3): comma-separated codes, `*` for every code
    const galley = e.obj?.metadata?.annotations?.[GALLEY_SUPPRESS];
    if (typeof galley === 'string') galley.split(',').map(c => c.trim()).filter(Boolean).forEach(c => codes.add(c));
    if (codes.size) annotated.set(refKey(e.ref), codes);
  }
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of m.findings) {
    const suppressed = annotated.get(refKey(f.object));
    if (suppressed && (suppressed.has(f.code) || suppressed.has('*'))) continue;
    if (acks.some(a => a.covers(f))) continue;
    const k = `${refKey(f.object)}\0${f.code}\0${f.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return out.sort((a, b) => (LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level])
    || refKey(a.object).localeCompare(refKey(b.object)) || a.code.localeCompare(b.code) || a.message.localeCompare(b.message));
}

/**
 * Analyzes a set of Kubernetes objects (plain JSON, as synthesized or read from YAML) the way `istioctl analyze`
 * does, offline. Returns the findings, errors first.
 */
export function analyze(objects: any[], options: AnalysisOptions = {}): Finding[] {
  return analyzeDocuments(objects.map(object => ({ object })), options);
}

function refKey(r: ObjectRef): string {
  return `${r.kind}\0${r.namespace ?? ''}\0${r.name}`;
}
