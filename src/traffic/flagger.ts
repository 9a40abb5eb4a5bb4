import { ApiObject, Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { CanaryAnalysis, analysisQueries, resolveAnalysis } from './analysis';
import { RequestMatch } from './request-match';
import { renderMatchMap } from './routing';
import { invalid } from '../errors';
import { IstioLabels, MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { isAmbient } from '../mesh/data-plane';
import { MeshModel } from '../model/mesh-model';
import { promDuration } from '../observability/golden-signals';
import type { MeshedService } from '../service/meshed-service';
import type { ServiceVersion } from '../service/workload';

/** Flagger's API version (flagger.app/v1beta1: Canary, MetricTemplate; Flagger v1.44.0). */
export const FLAGGER_API_VERSION = 'flagger.app/v1beta1';
/** The mesh provider Flagger drives (Canary `spec.provider`). */
export const FLAGGER_ISTIO_PROVIDER = 'istio';

/** Options of progressive delivery by Flagger. */
export interface FlaggerOptions {
  /**
   * The canary weights Flagger steps through (`analysis.stepWeights`: whole percentages, strictly increasing,
   * 1-99); Flagger promotes after the last one. Not with `matches` or `mirrorPercent`.
   * @default [10, 25, 50, 75]
   */
  readonly steps?: number[];
  /**
   * An A/B test instead of weights: requests that match any of these (headers, cookies, query parameters, source
   * labels) go to the canary for `iterations` analysis runs, every other request stays on stable.
   * @default - a weighted release (`steps`)
   */
  readonly matches?: RequestMatch[];
  /**
   * A blue/green release with a dark launch instead of weights: for `iterations` analysis runs all requests stay on
   * stable, and this percentage of them is copied to the canary (Flagger mirrors the primary's traffic only: the
   * stable share).
   * @default - no mirror
   */
  readonly mirrorPercent?: number;
  /**
   * Analysis runs of an A/B test or a mirrored release before promotion.
   * @default 10
   */
  readonly iterations?: number;
  /**
   * How long each step lasts (Flagger's `analysis.interval`, also the metrics' interval).
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
  /**
   * The analysis (MetricTemplates over Istio's metrics). Flagger has no "inconclusive": a query without a value
   * halts the step and counts as a failed check; `failureLimit` + 1 failed checks roll the canary back.
   * @default - success rate >= 99% and p99 <= 500ms
   */
  readonly analysis?: CanaryAnalysis;
  /**
   * Run no metric checks (Flagger still waits for the canary to be ready at each step). Opting out is explicit.
   * @default false
   */
  readonly withoutAnalysis?: boolean;
  /**
   * Whether Flagger already runs the stable version (the Canary was applied in an earlier commit, so Flagger made
   * its `-primary` Deployment from the stable one). Flagger promotes the target's first spec at once, without
   * analysis; so a release takes two commits: first the Canary adopts the stable Deployment, then, with
   * `stableAdopted: true`, the stable Deployment's pod template becomes the canary's (keeping its selector labels):
   * Flagger analyses that change and promotes it.
   * @default false
   */
  readonly stableAdopted?: boolean;
}

/** What the Flagger renderer needs from the release. @internal */
export interface FlaggerRelease {
  readonly scope: Construct;
  readonly service: MeshedService;
  readonly stable: ServiceVersion;
  readonly canary: ServiceVersion;
  readonly sessionAffinity?: { readonly name: string; readonly maxAge: number };
}

const FLAGGER_MATCH_KEYS = ['headers', 'queryParams', 'sourceLabels'];

/**
 * Renders Flagger's Canary (and its MetricTemplates) for a release. Flagger owns the routing: it creates the
 * `<service>-primary`/`-canary` Services, DestinationRules and the `<service>` VirtualService, so the service must
 * have no VirtualService of its own. @internal
 */
export function renderFlagger(r: FlaggerRelease, o: FlaggerOptions): { canary: ApiObject; metricTemplates: ApiObject[] } {
  const { scope, service } = r;
  const ns = service.namespace.name;
  const labels = { [IstioLabels.APP]: service.name, [MANAGED_BY_LABEL]: MANAGED_BY };
  if (service.virtualService) {
    invalid(scope, 'progressive', 'Flagger', `needs ${service.name} without a VirtualService of its own (Flagger writes the '${service.name}' VirtualService): drop the service's route settings (timeout, retries, fault, mirror, headers, routes)`);
  }
  const port = service.ports.find(p => p.isHttp);
  if (!port) invalid(scope, 'progressive', 'Flagger', `needs an HTTP or gRPC port: ${service.name} has none (Flagger's Istio provider routes HTTP)`);

  const modes = [o.steps !== undefined, o.matches !== undefined, o.mirrorPercent !== undefined].filter(x => x).length;
  if (modes > 1) invalid(scope, 'progressive.steps', 'with matches or mirrorPercent', 'choose one: weights (steps), an A/B test (matches) or a mirrored blue/green release (mirrorPercent)');
  const weighted = o.matches === undefined && o.mirrorPercent === undefined;
  if (!weighted && r.sessionAffinity) invalid(scope, 'sessionAffinity', 'set', 'applies to a weighted Flagger release only');
  if (weighted && o.iterations !== undefined) invalid(scope, 'progressive.iterations', o.iterations, 'applies to an A/B test (matches) or a mirrored release only');
  const steps = o.steps ?? [10, 25, 50, 75];
  if (weighted) {
    if (!Array.isArray(steps) || steps.length === 0) invalid(scope, 'progressive.steps', steps, 'must list at least one canary weight');
    steps.forEach((s, i) => {
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 1 || s > 99) invalid(scope, `progressive.steps[${i}]`, s, 'must be a whole percentage from 1 to 99');
      if (i > 0 && s <= steps[i - 1]) invalid(scope, 'progressive.steps', steps, 'must be strictly increasing');
    });
  }
  const iterations = o.iterations ?? 10;
  if (!Number.isInteger(iterations) || iterations < 1) invalid(scope, 'progressive.iterations', iterations, 'must be a whole number, 1 or more');
  if (o.mirrorPercent !== undefined && (typeof o.mirrorPercent !== 'number' || !Number.isInteger(o.mirrorPercent) || o.mirrorPercent < 1 || o.mirrorPercent > 100)) {
    invalid(scope, 'progressive.mirrorPercent', o.mirrorPercent, "must be a whole percentage from 1 to 100 (Flagger's mirrorWeight)");
  }
  const match = (o.matches ?? []).map((m, i) => {
    if (!(m instanceof RequestMatch)) invalid(scope, `progressive.matches[${i}]`, m, 'must be a RequestMatch');
    const h = m._toHttpRequestMatch();
    const other = Object.entries(h).filter(([k, v]) => v !== undefined && !FLAGGER_MATCH_KEYS.includes(k)).map(([k]) => k);
    if (other.length) invalid(scope, `progressive.matches[${i}]`, m.description, `matches on ${other.join(', ')}, which Flagger's analysis.match cannot express (headers, cookies, query parameters, source labels only)`);
    return compact({ headers: renderMatchMap(h.headers, true), queryParams: renderMatchMap(h.queryParams, false), sourceLabels: h.sourceLabels });
  });
  if (o.matches !== undefined && match.length === 0) invalid(scope, 'progressive.matches', [], 'must list at least one RequestMatch');
  if (o.withoutAnalysis && o.analysis) invalid(scope, 'progressive.analysis', 'set', 'must not be set with withoutAnalysis');
  const interval = promDuration(o.interval ?? Duration.minutes(1), 'progressive.interval', scope);

  // Flagger's canary is its target Deployment (the stable one, `<service>-<stable>`); its primary is `<target>-primary`.
  const target = `${service.name}-${r.stable.subsetName}`;
  const resolved = resolveAnalysis(scope, o.analysis ?? {});
  const metricTemplates: ApiObject[] = [];
  const metrics: any[] = [];
  if (!o.withoutAnalysis) {
    const queries = analysisQueries(resolved, {
      namespace: ns, service: service.name, workload: target, clusterDomain: service.mesh.clusterDomain, ambient: isAmbient(service.namespace),
    });
    const template = (name: string, query: string) => new ApiObject(scope, `MetricTemplate-${name}`, {
      apiVersion: FLAGGER_API_VERSION,
      kind: 'MetricTemplate',
      metadata: { name: `${service.name}-${name}`, namespace: ns, labels },
      spec: { provider: { type: 'prometheus', address: resolved.address }, query },
    } as any);
    const sr = template('success-rate', queries.successRate);
    const p99 = template('p99-latency', queries.p99Latency);
    metricTemplates.push(sr, p99);
    metrics.push(
      { name: 'success-rate', templateRef: { name: sr.name, namespace: ns }, thresholdRange: { min: resolved.ratio }, interval },
      { name: 'p99-latency', templateRef: { name: p99.name, namespace: ns }, thresholdRange: { max: resolved.maxMs }, interval },
    );
  }
  const analysis = compact({
    interval,
    threshold: resolved.failureLimit + 1,
    stepWeights: weighted ? [...steps] : undefined,
    iterations: weighted ? undefined : iterations,
    match: match.length ? match : undefined,
    mirror: o.mirrorPercent !== undefined ? true : undefined,
    mirrorWeight: o.mirrorPercent,
    metrics: metrics.length ? metrics : undefined,
    sessionAffinity: r.sessionAffinity ? { cookieName: r.sessionAffinity.name, maxAge: r.sessionAffinity.maxAge } : undefined,
  });
  const canary = new ApiObject(scope, 'Canary', {
    apiVersion: FLAGGER_API_VERSION,
    kind: 'Canary',
    metadata: { name: service.name, namespace: ns, labels },
    spec: {
      provider: FLAGGER_ISTIO_PROVIDER,
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      service: { port: port.port, targetPort: port.targetPort, portName: port.name, appProtocol: port.appProtocol },
      analysis,
    },
  } as any);

  if (o.stableAdopted) {
    // The release: the target's pod template becomes the canary's, keeping the target's selector labels; Flagger
    // sees the change and analyses it. The canary's own Deployment only holds that template (0 replicas).
    const stableDeployment = r.stable.deployment;
    const canaryDeployment = r.canary.deployment;
    MeshModel.of(scope).addObjectTransform((obj, json) => {
      if (obj !== stableDeployment) return undefined;
      const spec = json.spec;
      return {
        ...json,
        spec: Lazy.any({
          produce: () => {
            const base = spec instanceof Lazy ? spec.produce() : spec;
            const template = canaryDeployment.toJson().spec.template;
            const podLabels = { ...template.metadata.labels, ...base.selector.matchLabels };
            return { ...base, template: { ...template, metadata: { ...template.metadata, labels: podLabels } } };
          },
        }),
      };
    });
  }
  return { canary, metricTemplates };
}

function compact(o: { [key: string]: any }): any {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}
