import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { MONITORING_API_VERSION } from './constants';
import { promDurationOf } from './durations';
import { errorRateQuery, GoldenSignalOptions, p99LatencyQuery } from './golden-signals';
import { declareScraper } from './scraper';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
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
}

/**
 * Golden-signal alerts for one service, as a prometheus-operator PrometheusRule: the 5xx error rate and the p99
 * latency of the requests the service receives (Istio's `istio_requests_total` and
 * `istio_request_duration_milliseconds`, reported by the service's own proxies), above thresholds you set.
 *
 * The PromQL comes from the same builders as CanaryRelease's analysis (`golden-signals.ts`), so an alert and a
 * canary verdict always measure the same thing.
 */
export class GoldenSignalAlerts extends Construct {
  /** The PrometheusRule. */
  public readonly rule: ApiObject;
  /** The error-rate alert's expression. */
  public readonly errorRateExpression: string;
  /** The latency alert's expression. */
  public readonly latencyExpression: string;

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

    const signal: GoldenSignalOptions = {
      namespace: svc.namespace.name,
      service: svc.name,
      window,
      clusterDomain: svc.mesh.clusterDomain,
    };
    this.errorRateExpression = `${errorRateQuery(signal)} > ${round(errorPct / 100)}`;
    this.latencyExpression = `${p99LatencyQuery(signal)} > ${latency}`;

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
      spec: {
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
      },
    } as any);
  }
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
