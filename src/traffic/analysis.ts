import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { DEFAULT_PROMETHEUS_ADDRESS } from '../observability/constants';
import { GoldenSignalOptions, IstioMetrics, p99LatencyQuery, promDuration, successRateQuery } from '../observability/golden-signals';

/**
 * Thresholds and measurement settings of the automated canary analysis (an Argo Rollouts AnalysisTemplate or
 * Flagger MetricTemplates over Istio's metrics).
 *
 * "No traffic yet" is not a failure: a measurement with no result (an empty vector, or NaN when the canary has not
 * received a request in the window) is inconclusive, neither successful nor failed.
 */
export interface CanaryAnalysis {
  /**
   * The lowest acceptable success rate of the canary, in percent (0 < x <= 100): responses that are neither 5xx nor
   * gRPC errors (`grpc_response_status` not 0) / all responses, as the canary's proxies report them
   * (`reporter="destination"`; in an ambient namespace the canary's routes put its service behind a waypoint, which
   * reports its requests: `reporter="waypoint"`).
   * @default 99
   */
  readonly minSuccessRate?: number;
  /**
   * The highest acceptable p99 latency of the canary (more than 0).
   * @default Duration.millis(500)
   */
  readonly maxP99Latency?: Duration;
  /**
   * How often each metric is measured.
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
  /**
   * The rate window of the queries.
   * @default Duration.minutes(5)
   */
  readonly window?: Duration;
  /**
   * Failed measurements tolerated per metric; one more fails the analysis, and the release is aborted (Argo's
   * `failureLimit`; Flagger's `threshold` is this plus one).
   * @default 2
   */
  readonly failureLimit?: number;
  /**
   * Inconclusive measurements (no traffic in the window) tolerated per metric; one more makes the analysis
   * inconclusive, which pauses an Argo rollout for a person to decide (Argo's `inconclusiveLimit`; Flagger counts a
   * missing result as a failed check and has no such setting).
   * @default 5
   */
  readonly inconclusiveLimit?: number;
  /**
   * How many measurements each metric takes (Argo's `count`).
   * @default - measure until the rollout is done (background analysis)
   */
  readonly count?: number;
  /**
   * The Prometheus the controller queries.
   * @default 'http://prometheus-operated.monitoring.svc:9090' (the prometheus-operator Prometheus that scrapes the
   * proxies by default; see MeshMetricsScraping)
   */
  readonly prometheusAddress?: string;
}

/** A validated analysis. @internal */
export interface ResolvedAnalysis {
  /** The success rate threshold, as a fraction. */
  readonly ratio: number;
  /** The p99 threshold in milliseconds. */
  readonly maxMs: number;
  readonly interval: string;
  readonly window: Duration;
  readonly failureLimit: number;
  readonly inconclusiveLimit: number;
  readonly count?: number;
  readonly address: string;
}

function wholeNumber(scope: Construct, field: string, v: number | undefined, min: number) {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min)) invalid(scope, field, v, `must be a whole number, ${min} or more`);
}

/** Validates an analysis and fills in the defaults. @internal */
export function resolveAnalysis(scope: Construct, a: CanaryAnalysis): ResolvedAnalysis {
  const minSuccess = a.minSuccessRate ?? 99;
  if (typeof minSuccess !== 'number' || !(minSuccess > 0 && minSuccess <= 100)) {
    invalid(scope, 'analysis.minSuccessRate', minSuccess, 'must be a percentage above 0, at most 100 (e.g. 99 for 99%)');
  }
  const maxP99 = a.maxP99Latency ?? Duration.millis(500);
  const maxMs = maxP99 instanceof Duration ? maxP99.toMilliseconds({ integral: false }) : NaN;
  if (!(maxMs > 0) || !Number.isFinite(maxMs)) invalid(scope, 'analysis.maxP99Latency', maxP99 instanceof Duration ? maxP99.toHumanString() : maxP99, 'must be a Duration above 0');
  wholeNumber(scope, 'analysis.failureLimit', a.failureLimit, 0);
  wholeNumber(scope, 'analysis.inconclusiveLimit', a.inconclusiveLimit, 0);
  wholeNumber(scope, 'analysis.count', a.count, 1);
  const address = a.prometheusAddress ?? DEFAULT_PROMETHEUS_ADDRESS;
  if (typeof address !== 'string' || !/^https?:\/\/\S+$/.test(address)) invalid(scope, 'analysis.prometheusAddress', address, 'must be an http(s) URL');
  const interval = promDuration(a.interval ?? Duration.minutes(1), 'analysis.interval', scope);
  const window = a.window ?? Duration.minutes(5);
  promDuration(window, 'analysis.window', scope);
  return {
    // Istio's success rate is a fraction (0-1); the threshold is given in percent
    ratio: Math.round(minSuccess * 1000) / 100000,
    maxMs,
    interval,
    window,
    failureLimit: a.failureLimit ?? 2,
    inconclusiveLimit: a.inconclusiveLimit ?? 5,
    count: a.count,
    address,
  };
}

/** What the canary's queries select. @internal */
export interface AnalysisTarget {
  readonly namespace: string;
  readonly service: string;
  readonly version?: string;
  readonly workload?: string;
  readonly clusterDomain?: string;
  /**
   * Whether the service's namespace runs in ambient mode: a canary's routes are layer 7, so its service goes through
   * a waypoint there, and the waypoint reports its requests (`reporter="waypoint"`).
   */
  readonly ambient?: boolean;
}

/** The success-rate and p99 queries of a canary (gRPC errors count as failures). @internal */
export function analysisQueries(r: ResolvedAnalysis, target: AnalysisTarget): { successRate: string; p99Latency: string } {
  const { ambient, ...selected } = target;
  const reporter = ambient ? { reporter: IstioMetrics.REPORTER_WAYPOINT } : {};
  const q: GoldenSignalOptions = { ...selected, window: r.window, grpcErrors: true, ...reporter };
  return { successRate: successRateQuery(q), p99Latency: p99LatencyQuery(q) };
}

/**
 * Argo Rollouts conditions for a threshold: a measurement with a number is a success or a failure, one without (no
 * result, or NaN: no request in the window) is neither, so Argo counts it as inconclusive (Argo Rollouts v1.9.1,
 * utils/evaluate: neither condition true gives Inconclusive; `isNaN` is one of its functions).
 * @internal
 */
export function argoConditions(op: '>=' | '<=', threshold: number): { successCondition: string; failureCondition: string } {
  const has = 'len(result) > 0 && !isNaN(result[0])';
  const fail = op === '>=' ? '<' : '>';
  return {
    successCondition: `${has} && result[0] ${op} ${threshold}`,
    failureCondition: `${has} && result[0] ${fail} ${threshold}`,
  };
}

/** The `spec` of an Argo Rollouts AnalysisTemplate for a canary. @internal */
export function renderArgoAnalysisSpec(r: ResolvedAnalysis, target: AnalysisTarget): any {
  const queries = analysisQueries(r, target);
  const metric = (name: string, conditions: { successCondition: string; failureCondition: string }, query: string) => ({
    name,
    interval: r.interval,
    ...(r.count !== undefined ? { count: r.count } : {}),
    failureLimit: r.failureLimit,
    inconclusiveLimit: r.inconclusiveLimit,
    ...conditions,
    provider: { prometheus: { address: r.address, query } },
  });
  return {
    metrics: [
      metric('success-rate', argoConditions('>=', r.ratio), queries.successRate),
      metric('p99-latency', argoConditions('<=', r.maxMs), queries.p99Latency),
    ],
  };
}
