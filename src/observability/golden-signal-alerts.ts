import { ApiObject, Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { MONITORING_API_VERSION } from './constants';
import { promDurationOf } from './durations';
import { errorRateQuery, GoldenSignalOptions, p99LatencyQuery, signalSourceOf } from './golden-signals';
import { declareScraper } from './scraper';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { isAmbient } from '../mesh/data-plane';
import { MeshModel } from '../model/mesh-model';
import type { MetricsScraper } from '../security/zero-trust-namespace';
import { checkMeshService, IMeshService } from '../service/workload';
import { checkDnsLabel, checkLabels, sortKeys } from '../validation';

/** How urgent an alert is (its `severity` label, as Alertmanager routes usually read it). */
export enum AlertSeverity {
  /** Page someone. */
  CRITICAL = 'critical',
  /** Look at it soon. */
  WARNING = 'warning',
  /** For information. */
  INFO = 'info',
}

/**
 * What `GoldenSignalAlerts` needs of a service in an ambient namespace: its alerts watch requests (5xx, latency),
 * which only a waypoint reports there (ztunnel sees TCP connections, not requests).
 */
export enum AlertWaypoint {
  /**
   * The service must go through a waypoint by synth time (one of its layer-7 features, e.g. HTTP methods in a
   * caller's rule, routes or a canary, gives it one); without one, synthesis fails with an error that says so.
   */
  REQUIRE = 'REQUIRE',
  /**
   * Give the service a waypoint for its alerts: declares its layer-7 need, and its ambient `ZeroTrustNamespace`
   * places the namespace's waypoint in front of it (the service is labelled `istio.io/use-waypoint`, its callers'
   * rules move to the waypoint).
   */
  CREATE = 'CREATE',
}

/** Properties of `GoldenSignalAlerts`. */
export interface GoldenSignalAlertsProps {
  /** The service whose received traffic is watched (a MeshedService or another IMeshService). */
  readonly service: IMeshService;
  /**
   * Alert when more than this percentage of requests answer 5xx (strictly between 0 and 100).
   * @default 5
   */
  readonly errorRatePercent?: number;
  /**
   * How long the error rate must stay above the threshold before the alert fires.
   * @default Duration.minutes(5)
   */
  readonly errorRateFor?: Duration;
  /**
   * Alert when the p99 latency exceeds this many milliseconds (above 0).
   * @default 1000
   */
  readonly p99LatencyMs?: number;
  /**
   * How long the p99 latency must stay above the threshold before the alert fires.
   * @default Duration.minutes(10)
   */
  readonly latencyFor?: Duration;
  /**
   * The rate window of the queries.
   * @default Duration.minutes(5)
   */
  readonly window?: Duration;
  /**
   * The alerts' severity.
   * @default AlertSeverity.WARNING
   */
  readonly severity?: AlertSeverity;
  /**
   * A runbook link, added as the `runbook_url` annotation.
   * @default - none
   */
  readonly runbookUrl?: string;
  /**
   * Extra labels on every alert (e.g. `{ team: 'shop' }`), for Alertmanager routing.
   * @default - none
   */
  readonly alertLabels?: { [key: string]: string };
  /**
   * Labels on the PrometheusRule, for your Prometheus' `ruleSelector` (e.g. `{ release: 'kube-prometheus-stack' }`).
   * @default - none
   */
  readonly labels?: { [key: string]: string };
  /**
   * The namespace of the PrometheusRule.
   * @default - the service's namespace
   */
  readonly namespace?: string;
  /**
   * The Prometheus that scrapes the proxies: zero-trust namespaces let its pods in on the metrics ports (15020,
   * 15090), which bypass the proxy, so only NetworkPolicy applies.
   * @default - pods labelled `app.kubernetes.io/name: prometheus` in namespace `monitoring` (prometheus-operator's
   * pod label), unless another construct names the scraper
   */
  readonly scraper?: MetricsScraper;
  /**
   * In an ambient namespace: whether the service must already go through a waypoint, or gets one for its alerts.
   * Ignored in sidecar namespaces (every pod's proxy reports its requests).
   * @default AlertWaypoint.REQUIRE
   */
  readonly waypoint?: AlertWaypoint;
}

/**
 * Golden-signal alerts for one service, as a prometheus-operator PrometheusRule: the 5xx error rate and the p99
 * latency of the requests the service receives (Istio's `istio_requests_total` and
 * `istio_request_duration_milliseconds`, reported by the service's own proxies), above thresholds you set.
 *
 * The queries follow the service's data plane, read at synth time: `reporter="destination"` with sidecars,
 * `reporter="waypoint"` for an ambient service behind a waypoint. An ambient service without a waypoint has no
 * request metrics (ztunnel reports TCP only): its alerts need one (`waypoint: AlertWaypoint.CREATE`).
 *
 * The PromQL comes from the same builders as CanaryRelease's analysis (`golden-signals.ts`), so an alert and a
 * canary verdict always measure the same thing.
 */
export class GoldenSignalAlerts extends Construct {
  /** The PrometheusRule. */
  public readonly rule: ApiObject;
  /** The service watched. */
  public readonly service: IMeshService;
  private readonly signal: GoldenSignalOptions;
  private readonly errorThreshold: number;
  private readonly latencyThreshold: number;

  constructor(scope: Construct, id: string, props: GoldenSignalAlertsProps) {
    super(scope, id);
    const svc = props.service;
    checkMeshService(this, 'service', svc);
    const errorPct = props.errorRatePercent ?? 5;
    if (typeof errorPct !== 'number' || !Number.isFinite(errorPct) || errorPct <= 0 || errorPct >= 100) {
      invalid(this, 'errorRatePercent', errorPct, 'must be a percentage strictly between 0 and 100');
    }
    const latency = props.p99LatencyMs ?? 1000;
    if (typeof latency !== 'number' || !Number.isFinite(latency) || latency <= 0) {
      invalid(this, 'p99LatencyMs', latency, 'must be a number of milliseconds above 0');
    }
    const errorFor = promDurationOf(this, 'errorRateFor', props.errorRateFor ?? Duration.minutes(5));
    const latencyFor = promDurationOf(this, 'latencyFor', props.latencyFor ?? Duration.minutes(10));
    const window = props.window ?? Duration.minutes(5);
    promDurationOf(this, 'window', window);
    const severity = props.severity ?? AlertSeverity.WARNING;
    if (!Object.values(AlertSeverity).includes(severity)) invalid(this, 'severity', severity, `must be one of ${Object.values(AlertSeverity).join(', ')}`);
    if (props.runbookUrl !== undefined && !/^https?:\/\/\S+$/.test(props.runbookUrl)) {
      invalid(this, 'runbookUrl', props.runbookUrl, 'must be an http(s) URL');
    }
    checkLabels(this, 'alertLabels', props.alertLabels);
    checkLabels(this, 'labels', props.labels);
    const namespace = props.namespace ?? svc.namespace.name;
    checkDnsLabel(this, 'namespace', namespace);
    // alerts need metrics: the scraper must reach the service's proxies
    declareScraper(this, props.scraper);

    const mode = props.waypoint ?? AlertWaypoint.REQUIRE;
    if (!Object.values(AlertWaypoint).includes(mode)) invalid(this, 'waypoint', mode, `must be one of ${Object.values(AlertWaypoint).join(', ')}`);
    this.service = svc;
    this.signal = { namespace: svc.namespace.name, service: svc.name, window, clusterDomain: svc.mesh.clusterDomain };
    this.errorThreshold = round(errorPct / 100);
    this.latencyThreshold = latency;
    const model = MeshModel.of(this);
    // the waypoint is the ambient namespace's answer to a layer-7 need (ambient-policy.ts)
    if (mode === AlertWaypoint.CREATE && isAmbient(svc.namespace)) model.declareLayer7(svc.namespace.name, svc, 'golden-signal alerts');
    // only a check: the waypoint may be declared after this construct, so it is looked for once all facts are in
    this.node.addValidation({
      validate: () => {
        const src = signalSourceOf(model, svc);
        if (src.layer7) return [];
        return [`${this.node.path}: service '${svc.name}.${svc.namespace.name}' is invalid: its namespace runs in ambient mode and `
          + 'the service has no waypoint, so it has no request metrics (ztunnel reports TCP only, istio_tcp_*): error-rate and latency '
          + 'alerts need a waypoint: pass waypoint: AlertWaypoint.CREATE, or give the service a layer-7 feature (HTTP methods or '
          + 'paths in a caller\'s rule, routes, a canary)'];
      },
    });

    const who = `${svc.name}.${svc.namespace.name}`;
    const labels = sortKeys({ ...(props.alertLabels ?? {}), severity, service: svc.name, namespace: svc.namespace.name });
    const annotations = (summary: string, description: string) => sortKeys({
      summary,
      description,
      ...(props.runbookUrl ? { runbook_url: props.runbookUrl } : {}),
    });

    this.rule = new ApiObject(this, 'Rule', {
      apiVersion: MONITORING_API_VERSION,
      kind: 'PrometheusRule',
      metadata: {
        name: `${svc.name}-golden-signals`,
        namespace,
        labels: { ...(props.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY },
      },
      spec: Lazy.any({ produce: () => this.renderSpec(who, labels, annotations, errorPct, errorFor, latencyFor, window) }),
    } as any);
  }

  /** The error-rate alert's expression (its reporter follows the service's data plane: read at synth time). */
  public get errorRateExpression(): string {
    return `${errorRateQuery(this.signalOptions())} > ${this.errorThreshold}`;
  }

  /** The latency alert's expression (its reporter follows the service's data plane: read at synth time). */
  public get latencyExpression(): string {
    return `${p99LatencyQuery(this.signalOptions())} > ${this.latencyThreshold}`;
  }

  private signalOptions(): GoldenSignalOptions {
    return { ...this.signal, reporter: signalSourceOf(MeshModel.of(this), this.service).reporter };
  }

  private renderSpec(who: string, labels: any, annotations: (summary: string, description: string) => any, errorPct: number,
    errorFor: string, latencyFor: string, window: Duration): any {
    const svc = this.service;
    const latency = this.latencyThreshold;
    return {
      groups: [{
        name: `${who}.golden-signals`,
        rules: [
          {
            alert: 'MeshServiceHighErrorRate',
            expr: this.errorRateExpression,
            for: errorFor,
            labels,
            annotations: annotations(
              `${who}: more than ${errorPct}% of requests fail (5xx)`,
              `{{ $value | humanizePercentage }} of the requests received by ${svc.host} answered 5xx over the last ${promDurationOf(this, 'window', window)} (threshold ${errorPct}% for ${errorFor}).`,
            ),
          },
          {
            alert: 'MeshServiceHighLatency',
            expr: this.latencyExpression,
            for: latencyFor,
            labels,
            annotations: annotations(
              `${who}: p99 latency above ${latency}ms`,
              `The p99 latency of requests received by ${svc.host} is {{ $value | printf "%.0f" }}ms (threshold ${latency}ms for ${latencyFor}).`,
            ),
          },
        ],
      }],
    };
  }
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
