/**
 * PromQL for the golden signals of a meshed service, computed from Istio's standard metrics.
 *
 * This file is the ONE place where cdk8s-mesh writes PromQL over Istio metrics: the canary analysis
 * (`CanaryRelease`, Argo Rollouts `AnalysisTemplate`) and the observability alerts/dashboards both build their
 * queries here, so a release is judged by exactly the numbers the alerts page on.
 *
 * Facts (Istio docs, "Istio Standard Metrics", https://istio.io/latest/docs/reference/config/metrics/):
 * - `istio_requests_total` (COUNTER) and `istio_request_duration_milliseconds` (DISTRIBUTION, exported to Prometheus
 *   as `_bucket`/`_sum`/`_count`) carry the labels `reporter` (`source` | `destination`; the destination proxy sees
 *   every request that reached the workload, whoever sent it), `destination_service` (the FQDN host,
 *   `<name>.<ns>.svc.cluster.local`), `destination_service_name`, `destination_service_namespace`,
 *   `destination_workload` (the Deployment name), `destination_workload_namespace`, `destination_version` (the pod's
 *   `version` label) and `response_code`.
 *
 * Every builder returns a plain string. Label values are escaped for PromQL double-quoted strings, so Argo Rollouts
 * templates such as `{{args.service}}` pass through unchanged.
 */
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { CLUSTER_DOMAIN } from '../mesh/constants';

/** Istio's standard metric and label names (istio.io, reference/config/metrics). */
export const IstioMetrics = {
  /** Counter of requests handled by a proxy. */
  REQUESTS_TOTAL: 'istio_requests_total',
  /** Histogram buckets of request durations in milliseconds. */
  REQUEST_DURATION_BUCKET: 'istio_request_duration_milliseconds_bucket',
  /** Label: which proxy reported the request ('source' | 'destination'). */
  LABEL_REPORTER: 'reporter',
  LABEL_DESTINATION_SERVICE: 'destination_service',
  LABEL_DESTINATION_SERVICE_NAME: 'destination_service_name',
  LABEL_DESTINATION_SERVICE_NAMESPACE: 'destination_service_namespace',
  LABEL_DESTINATION_WORKLOAD: 'destination_workload',
  LABEL_DESTINATION_WORKLOAD_NAMESPACE: 'destination_workload_namespace',
  LABEL_DESTINATION_VERSION: 'destination_version',
  LABEL_RESPONSE_CODE: 'response_code',
  /** `response_code` regex that matches server errors. */
  SERVER_ERROR_CODES: '5.*',
  /** Label: the gRPC status of a gRPC response (empty for other requests). */
  LABEL_GRPC_RESPONSE_STATUS: 'grpc_response_status',
  /** `grpc_response_status` regex of the responses that are not gRPC errors: OK (0), or not gRPC (empty). */
  GRPC_OK_STATUSES: '0|',
} as const;

/** The default rate window of every query. */
export const DEFAULT_SIGNAL_WINDOW = Duration.minutes(5);

/**
 * Which requests a golden-signal query looks at: the requests received by one service, optionally only those
 * handled by one workload (Deployment/Rollout) or one version.
 */
export interface GoldenSignalOptions {
  /** Namespace of the service (`destination_service` is `<service>.<namespace>.svc.<clusterDomain>`). */
  readonly namespace: string;
  /** Name of the Kubernetes Service. */
  readonly service: string;
  /**
   * Only requests handled by this workload (`destination_workload`, the Deployment name, e.g. `reviews-v2`) in the
   * service's namespace.
   * @default - every workload behind the service
   */
  readonly workload?: string;
  /**
   * Only requests handled by pods with this `version` label (`destination_version`).
   * @default - every version
   */
  readonly version?: string;
  /**
   * The rate window (`[5m]`). Must be a whole number of seconds.
   * @default Duration.minutes(5)
   */
  readonly window?: Duration;
  /**
   * The cluster's DNS domain, used to build `destination_service`.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * Which proxy's report to count. `destination` counts what the service itself received (every caller, including
   * the ingress gateway); `source` counts what meshed callers saw (includes failures before the request arrived).
   * @default 'destination'
   */
  readonly reporter?: string;
  /**
   * Count gRPC errors as failures in the success rate: a gRPC call that fails answers HTTP 200 with a non-zero
   * `grpc-status`, invisible to `response_code` (Istio reports it as `grpc_response_status`).
   * @default false
   */
  readonly grpcErrors?: boolean;
}

/** Options of a latency quantile query. */
export interface LatencyQuantileOptions extends GoldenSignalOptions {
  /**
   * The quantile, strictly between 0 and 1 (0.99 = p99).
   * @default 0.99
   */
  readonly quantile?: number;
}

/** Escapes a value for a PromQL double-quoted string. @internal */
export function promString(value: string): string {
  return '"' + value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

/** Renders a Duration as a Prometheus duration (`30s`, `5m`, `1h`), the largest whole unit. @internal */
export function promDuration(d: Duration, field = 'window', scope: Construct | string = ''): string {
  const ms = d instanceof Duration ? d.toMilliseconds({ integral: false }) : NaN;
  if (!Number.isInteger(ms) || ms < 1000 || ms % 1000 !== 0) {
    invalid(scope, field, d instanceof Duration ? d.toHumanString() : d, 'must be a whole number of seconds, at least 1s');
  }
  const s = ms / 1000;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

function selector(o: GoldenSignalOptions, extra: string[] = []): string {
  if (!o || !o.namespace || !o.service) invalid('', 'golden signal', o, 'needs a namespace and a service');
  const reporter = o.reporter ?? 'destination';
  if (reporter !== 'destination' && reporter !== 'source') invalid('', 'reporter', reporter, "must be 'destination' or 'source'");
  const host = `${o.service}.${o.namespace}.svc.${o.clusterDomain ?? CLUSTER_DOMAIN}`;
  const parts = [
    `${IstioMetrics.LABEL_REPORTER}=${promString(reporter)}`,
    `${IstioMetrics.LABEL_DESTINATION_SERVICE}=${promString(host)}`,
  ];
  if (o.workload !== undefined) {
    parts.push(`${IstioMetrics.LABEL_DESTINATION_WORKLOAD}=${promString(o.workload)}`);
    parts.push(`${IstioMetrics.LABEL_DESTINATION_WORKLOAD_NAMESPACE}=${promString(o.namespace)}`);
  }
  if (o.version !== undefined) parts.push(`${IstioMetrics.LABEL_DESTINATION_VERSION}=${promString(o.version)}`);
  return `{${[...parts, ...extra].join(',')}}`;
}

function windowOf(o: GoldenSignalOptions): string {
  return `[${promDuration(o.window ?? DEFAULT_SIGNAL_WINDOW)}]`;
}

/**
 * Requests per second received: `sum(rate(istio_requests_total{...}[5m]))`.
 */
export function requestRateQuery(o: GoldenSignalOptions): string {
  return `sum(rate(${IstioMetrics.REQUESTS_TOTAL}${selector(o)}${windowOf(o)}))`;
}

/**
 * The fraction (0 to 1) of requests that did NOT answer 5xx:
 * `sum(rate(istio_requests_total{...,response_code!~"5.*"}[5m])) / sum(rate(istio_requests_total{...}[5m]))`.
 * Without traffic the result is empty (no sample), not 1: callers decide what "no data" means.
 */
export function successRateQuery(o: GoldenSignalOptions): string {
  const ok = selector(o, [`${IstioMetrics.LABEL_RESPONSE_CODE}!~${promString(IstioMetrics.SERVER_ERROR_CODES)}`,
    ...(o.grpcErrors ? [`${IstioMetrics.LABEL_GRPC_RESPONSE_STATUS}=~${promString(IstioMetrics.GRPC_OK_STATUSES)}`] : [])]);
  const w = windowOf(o);
  return `sum(rate(${IstioMetrics.REQUESTS_TOTAL}${ok}${w})) / sum(rate(${IstioMetrics.REQUESTS_TOTAL}${selector(o)}${w}))`;
}

/**
 * The fraction (0 to 1) of requests that answered 5xx (1 - success rate), for alerts:
 * `sum(rate(istio_requests_total{...,response_code=~"5.*"}[5m])) / sum(rate(istio_requests_total{...}[5m]))`.
 */
export function errorRateQuery(o: GoldenSignalOptions): string {
  const bad = selector(o, [`${IstioMetrics.LABEL_RESPONSE_CODE}=~${promString(IstioMetrics.SERVER_ERROR_CODES)}`]);
  const w = windowOf(o);
  return `sum(rate(${IstioMetrics.REQUESTS_TOTAL}${bad}${w})) / sum(rate(${IstioMetrics.REQUESTS_TOTAL}${selector(o)}${w}))`;
}

/**
 * A latency quantile in milliseconds:
 * `histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{...}[5m])) by (le))`.
 */
export function latencyQuantileQuery(o: LatencyQuantileOptions): string {
  const q = o.quantile ?? 0.99;
  if (typeof q !== 'number' || !(q > 0 && q < 1)) invalid('', 'quantile', q, 'must be strictly between 0 and 1, e.g. 0.99');
  return `histogram_quantile(${q}, sum(rate(${IstioMetrics.REQUEST_DURATION_BUCKET}${selector(o)}${windowOf(o)})) by (le))`;
}

/** The p99 latency in milliseconds (`latencyQuantileQuery` with quantile 0.99). */
export function p99LatencyQuery(o: GoldenSignalOptions): string {
  return latencyQuantileQuery({ ...o, quantile: 0.99 });
}

/**
 * The same builders as static methods, for jsii languages (free functions are TypeScript-only).
 */
export class GoldenSignals {
  /** Requests per second received by the service (or workload/version). */
  public static requestRate(options: GoldenSignalOptions): string { return requestRateQuery(options); }
  /** Fraction (0-1) of non-5xx responses. */
  public static successRate(options: GoldenSignalOptions): string { return successRateQuery(options); }
  /** Fraction (0-1) of 5xx responses. */
  public static errorRate(options: GoldenSignalOptions): string { return errorRateQuery(options); }
  /** A latency quantile in milliseconds. */
  public static latencyQuantile(options: LatencyQuantileOptions): string { return latencyQuantileQuery(options); }
  /** The p99 latency in milliseconds. */
  public static p99Latency(options: GoldenSignalOptions): string { return p99LatencyQuery(options); }
  private constructor() {}
}
