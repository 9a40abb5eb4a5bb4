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
 * - In ambient mode (Istio 1.30.3, tests/integration/ambient/baseline_test.go) pods carry no proxy: the waypoint of a
 *   service reports its requests with `reporter="waypoint"` (same metrics and `destination_*` labels), and ztunnel
 *   reports only TCP metrics (`istio_tcp_connections_opened_total`, `istio_tcp_received_bytes_total`,
 *   `istio_tcp_sent_bytes_total`, with `reporter="destination"`); a service without a waypoint has no request metrics.
 *
 * Every builder returns a plain string. Label values are escaped for PromQL double-quoted strings, so Argo Rollouts
 * templates such as `{{args.service}}` pass through unchanged.
 */
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { CLUSTER_DOMAIN } from '../mesh/constants';
import { isAmbient } from '../mesh/data-plane';
import type { MeshModel } from '../model/mesh-model';
import type { IMeshService } from '../service/workload';

/** Istio's standard metric and label names (istio.io, reference/config/metrics). */
export const IstioMetrics = {
  /** Counter of requests handled by a proxy. */
  REQUESTS_TOTAL: 'istio_requests_total',
  /** Histogram buckets of request durations in milliseconds. */
  REQUEST_DURATION_BUCKET: 'istio_request_duration_milliseconds_bucket',
  /** Counter of TCP connections opened (sidecars, waypoints and ztunnel). */
  TCP_CONNECTIONS_OPENED: 'istio_tcp_connections_opened_total',
  /** Counter of bytes received on TCP connections (request direction). */
  TCP_RECEIVED_BYTES: 'istio_tcp_received_bytes_total',
  /** Counter of bytes sent on TCP connections (response direction). */
  TCP_SENT_BYTES: 'istio_tcp_sent_bytes_total',
  /** Label: which proxy reported the request ('source' | 'destination' | 'waypoint'). */
  LABEL_REPORTER: 'reporter',
  /** `reporter` of the destination's own proxy: its sidecar, or ztunnel in ambient mode (TCP metrics only there). */
  REPORTER_DESTINATION: 'destination',
  /** `reporter` of the calling proxy (a sidecar or a gateway). */
  REPORTER_SOURCE: 'source',
  /** `reporter` of an ambient service's waypoint: its request metrics. */
  REPORTER_WAYPOINT: 'waypoint',
  /**
   * The `reporter` regex that counts every request once in a mesh that mixes data planes: the destination's sidecar
   * reports it, or the waypoint in front of an ambient service (whose pods have no proxy), never both.
   */
  REPORTERS_ANY_DATA_PLANE: 'destination|waypoint',
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
   * the ingress gateway); `source` counts what meshed callers saw (includes failures before the request arrived);
   * `waypoint` counts what an ambient service's waypoint received (the request metrics of ambient services: their
   * pods have no proxy); `destination|waypoint` (a regex match) counts both, for queries over services of either data
   * plane. The constructs pick it from the service's data plane.
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
  const reporters: string[] = [
    IstioMetrics.REPORTER_DESTINATION, IstioMetrics.REPORTER_SOURCE, IstioMetrics.REPORTER_WAYPOINT, IstioMetrics.REPORTERS_ANY_DATA_PLANE,
  ];
  if (!reporters.includes(reporter)) invalid('', 'reporter', reporter, `must be one of ${reporters.map(r => `'${r}'`).join(', ')}`);
  const reporterMatch = reporter === IstioMetrics.REPORTERS_ANY_DATA_PLANE ? '=~' : '=';
  const host = `${o.service}.${o.namespace}.svc.${o.clusterDomain ?? CLUSTER_DOMAIN}`;
  const parts = [
    `${IstioMetrics.LABEL_REPORTER}${reporterMatch}${promString(reporter)}`,
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
 * TCP connections per second opened to the service, as ztunnel (ambient) or the sidecar reports them:
 * `sum(rate(istio_tcp_connections_opened_total{reporter="destination",...}[5m]))`. The layer-4 signal of an ambient
 * service without a waypoint. The `reporter` option is ignored: TCP metrics of a destination come from its own
 * ztunnel or sidecar.
 */
export function tcpConnectionRateQuery(o: GoldenSignalOptions): string {
  return `sum(rate(${IstioMetrics.TCP_CONNECTIONS_OPENED}${selector({ ...o, reporter: IstioMetrics.REPORTER_DESTINATION })}${windowOf(o)}))`;
}

/**
 * Bytes per second received by the service on its TCP connections (request direction), or sent by it with
 * `sent: true`: `sum(rate(istio_tcp_received_bytes_total{reporter="destination",...}[5m]))`.
 */
export function tcpThroughputQuery(o: GoldenSignalOptions, sent = false): string {
  const metric = sent ? IstioMetrics.TCP_SENT_BYTES : IstioMetrics.TCP_RECEIVED_BYTES;
  return `sum(rate(${metric}${selector({ ...o, reporter: IstioMetrics.REPORTER_DESTINATION })}${windowOf(o)}))`;
}

/**
 * Where a service's golden signals come from, by its data plane (read at synth time: a waypoint declared later
 * counts). @internal
 */
export interface SignalSource {
  /** The reporter of its request metrics. */
  readonly reporter: string;
  /** Whether request (layer-7) metrics exist: a sidecar, or an ambient service behind a waypoint. */
  readonly layer7: boolean;
  /** Whether the service's namespace runs in ambient mode. */
  readonly ambient: boolean;
  /** Its waypoint (`<namespace>/<name>`), if any. */
  readonly waypoint?: string;
}

/**
 * Where a service's golden signals come from: sidecar namespaces report requests at the destination
 * (`reporter="destination"`); in an ambient namespace, the service's waypoint reports them (`reporter="waypoint"`),
 * and without one only ztunnel's TCP metrics exist. @internal
 */
export function signalSourceOf(model: MeshModel, s: IMeshService): SignalSource {
  const ambient = isAmbient(s.namespace) || model.isAmbientNamespace(s.namespace.name);
  if (!ambient) return { reporter: IstioMetrics.REPORTER_DESTINATION, layer7: true, ambient };
  const wp = model.waypointOf(s);
  return wp
    ? { reporter: IstioMetrics.REPORTER_WAYPOINT, layer7: true, ambient, waypoint: `${wp.namespace}/${wp.name}` }
    : { reporter: IstioMetrics.REPORTER_DESTINATION, layer7: false, ambient };
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
  /** TCP connections per second opened to the service (the layer-4 signal ztunnel reports in ambient mode). */
  public static tcpConnectionRate(options: GoldenSignalOptions): string { return tcpConnectionRateQuery(options); }
  /** Bytes per second received by the service on TCP connections. */
  public static tcpReceivedBytes(options: GoldenSignalOptions): string { return tcpThroughputQuery(options); }
  /** Bytes per second sent by the service on TCP connections. */
  public static tcpSentBytes(options: GoldenSignalOptions): string { return tcpThroughputQuery(options, true); }
  /** The p99 latency in milliseconds. */
  public static p99Latency(options: GoldenSignalOptions): string { return p99LatencyQuery(options); }
  private constructor() {}
}
