import { ApiObject, Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { ISTIOD_APP } from '../control-plane/constants';
import { invalid } from '../errors';
import { declareScraper } from './scraper';
import { Ztunnel as Z } from '../ambient/constants';
import { IstioLabels, MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { DataPlaneMode } from '../mesh/data-plane';
import { IMesh } from '../mesh/mesh';
import { MeshModel } from '../model/mesh-model';
import type { MetricsScraper } from '../security/zero-trust-namespace';
import { checkDnsLabel, checkLabels } from '../validation';
import {
  CONTROL_PLANE_SERVICE_MONITOR_NAME, DEFAULT_SCRAPE_INTERVAL_SECONDS, ISTIOD_MONITORING_PORT_NAME, MERGED_METRICS_PATH,
  MONITORING_API_VERSION, PROMETHEUS_IGNORE_LABEL, PROXY_CONTAINER, PROXY_POD_MONITOR_NAME, ZTUNNEL_METRICS_PATH,
  ZTUNNEL_METRICS_PORT_NAME, ZTUNNEL_POD_MONITOR_NAME,
} from './constants';
import { promDurationOf } from './durations';

/** Properties of `MeshMetricsScraping`. */
export interface MeshMetricsScrapingProps {
  /** The mesh whose proxies and control plane are scraped. */
  readonly mesh: IMesh;
  /**
   * The namespace of the PodMonitor and ServiceMonitor (one your Prometheus watches).
   * @default - the mesh's root namespace
   */
  readonly namespace?: string;
  /**
   * Labels on both monitors, for your Prometheus' `podMonitorSelector`/`serviceMonitorSelector`, e.g.
   * `{ release: 'kube-prometheus-stack' }`.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
  /**
   * The scrape interval.
   * @default Duration.seconds(15)
   */
  readonly interval?: Duration;
  /**
   * The namespaces whose sidecars are scraped.
   * @default - every namespace
   */
  readonly proxyNamespaces?: string[];
  /**
   * Whether to scrape the sidecars' merged metrics (PodMonitor).
   * @default true
   */
  readonly proxies?: boolean;
  /**
   * Whether to scrape istiod (ServiceMonitor).
   * @default true
   */
  readonly controlPlane?: boolean;
  /**
   * Whether to scrape ztunnel (a PodMonitor `ztunnel-monitor` on its port 15020, `/metrics`), once the mesh runs in
   * ambient mode (the mesh's default data plane, or a namespace of it declared ambient, before or after this
   * construct). ztunnel reports the TCP metrics of ambient workloads; their waypoints are Envoy proxies, scraped with
   * the sidecars (15020, merged metrics).
   * @default true
   */
  readonly ztunnel?: boolean;
  /**
   * The namespace ztunnel runs in (`IstioControlPlane`'s `ztunnel.namespace`).
   * @default - the mesh's root namespace
   */
  readonly ztunnelNamespace?: string;
  /**
   * The Prometheus that scrapes the proxies: zero-trust namespaces let its pods in on the metrics ports (15020,
   * 15090), which bypass the proxy, so only NetworkPolicy applies.
   * @default - pods labelled `app.kubernetes.io/name: prometheus` in namespace `monitoring` (prometheus-operator's
   * pod label), unless another construct names the scraper
   */
  readonly scraper?: MetricsScraper;
}

/**
 * Metrics collection for Prometheus Operator users, as Istio's Prometheus integration recommends:
 *
 * - a PodMonitor (`envoy-stats-monitor`) for every sidecar's merged metrics (pilot-agent serves Envoy's and the
 *   application's metrics on the status port 15020 at `/stats/prometheus`). The injected pod declares no port 15020,
 *   so the target address is rebuilt from the pod IP and the `prometheus.io/port` annotation that injection adds
 *   (IPv4 and IPv6), and only `istio-proxy` containers of pods annotated `prometheus.io/scrape: "true"` are kept.
 *   Pods labelled `istio-prometheus-ignore` are skipped.
 * - a ServiceMonitor (`istio-component-monitor`) for istiod's `http-monitoring` port (15014).
 * - in ambient mode, a PodMonitor (`ztunnel-monitor`) for ztunnel's `ztunnel-stats` port (15020, `/metrics`), which
 *   the proxies' PodMonitor then leaves out. Waypoints are Envoy proxies annotated like sidecars (15020
 *   `/stats/prometheus`): the proxies' PodMonitor scrapes them with the sidecars.
 */
export class MeshMetricsScraping extends Construct {
  /** The sidecars' PodMonitor (unless `proxies` is off). */
  public readonly podMonitor?: ApiObject;
  /** istiod's ServiceMonitor (unless `controlPlane` is off). */
  public readonly serviceMonitor?: ApiObject;
  private ztunnelMonitor?: ApiObject;

  /** ztunnel's PodMonitor, once the mesh runs in ambient mode (unless `ztunnel` is off). */
  public get ztunnelPodMonitor(): ApiObject | undefined {
    return this.ztunnelMonitor;
  }

  constructor(scope: Construct, id: string, props: MeshMetricsScrapingProps) {
    super(scope, id);
    const mesh = props.mesh;
    const namespace = props.namespace ?? mesh.rootNamespace;
    checkDnsLabel(this, 'namespace', namespace);
    checkLabels(this, 'labels', props.labels);
    const interval = promDurationOf(this, 'interval', props.interval ?? Duration.seconds(DEFAULT_SCRAPE_INTERVAL_SECONDS));
    const proxyNamespaces = props.proxyNamespaces ? [...props.proxyNamespaces].sort() : undefined;
    proxyNamespaces?.forEach((n, i) => checkDnsLabel(this, `proxyNamespaces[${i}]`, n));
    if (proxyNamespaces && proxyNamespaces.length === 0) invalid(this, 'proxyNamespaces', [], 'must name at least one namespace, or be omitted for every namespace');
    const metadata = (name: string) => ({ name, namespace, labels: { ...(props.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY } });
    const annotation = (a: string) => `__meta_kubernetes_pod_annotation_${a}`;

    if (props.proxies ?? true) {
      declareScraper(this, props.scraper);
      this.podMonitor = new ApiObject(this, 'PodMonitor', {
        apiVersion: MONITORING_API_VERSION,
        kind: 'PodMonitor',
        metadata: metadata(PROXY_POD_MONITOR_NAME),
        spec: {
          // ztunnel's pods carry the scrape annotations but no path: its own PodMonitor scrapes them (read at synth)
          selector: Lazy.any({
            produce: () => ({
              matchExpressions: [
                { key: PROMETHEUS_IGNORE_LABEL, operator: 'DoesNotExist' },
                ...(this.ztunnelMonitor ? [{ key: IstioLabels.APP, operator: 'NotIn', values: [Z.NAME] }] : []),
              ],
            }),
          }),
          namespaceSelector: proxyNamespaces ? { matchNames: proxyNamespaces } : { any: true },
          podMetricsEndpoints: [{
            path: MERGED_METRICS_PATH,
            interval,
            relabelings: [
              // only the proxy container's target, of pods whose metrics injection exposes
              { action: 'keep', sourceLabels: ['__meta_kubernetes_pod_container_name'], regex: PROXY_CONTAINER },
              // the value, not mere presence: an app that set prometheus.io/scrape "false" keeps it
              { action: 'keep', sourceLabels: [annotation('prometheus_io_scrape')], regex: 'true' },
              // the merged metrics port is not a declared container port: pod IP + annotated port (IPv6, then IPv4)
              {
                action: 'replace',
                sourceLabels: [annotation('prometheus_io_port'), '__meta_kubernetes_pod_ip'],
                regex: '(\\d+);(([A-Fa-f0-9]{1,4}::?){1,7}[A-Fa-f0-9]{1,4})',
                replacement: '[$2]:$1',
                targetLabel: '__address__',
              },
              {
                action: 'replace',
                sourceLabels: [annotation('prometheus_io_port'), '__meta_kubernetes_pod_ip'],
                regex: '(\\d+);((([0-9]+?)(\\.|$)){4})',
                replacement: '$2:$1',
                targetLabel: '__address__',
              },
              { action: 'replace', sourceLabels: [annotation('prometheus_io_path')], regex: '(.+)', targetLabel: '__metrics_path__' },
              { action: 'labeldrop', regex: '__meta_kubernetes_pod_label_(.+)' },
              { action: 'replace', sourceLabels: ['__meta_kubernetes_namespace'], targetLabel: 'namespace' },
              { action: 'replace', sourceLabels: ['__meta_kubernetes_pod_name'], targetLabel: 'pod_name' },
            ],
          }],
        },
      } as any);
    }

    if (props.ztunnel ?? true) {
      const ztunnelNs = props.ztunnelNamespace ?? mesh.rootNamespace;
      checkDnsLabel(this, 'ztunnelNamespace', ztunnelNs);
      const mine = (root: string, revision?: string) => root === mesh.rootNamespace && (revision ?? '') === (mesh.revision ?? '');
      const scrapeZtunnel = () => {
        if (this.ztunnelMonitor) return;
        declareScraper(this, props.scraper);
        this.ztunnelMonitor = new ApiObject(this, 'ZtunnelPodMonitor', {
          apiVersion: MONITORING_API_VERSION,
          kind: 'PodMonitor',
          metadata: metadata(ZTUNNEL_POD_MONITOR_NAME),
          spec: {
            jobLabel: IstioLabels.APP,
            selector: { matchLabels: { [IstioLabels.APP]: Z.NAME, [IstioLabels.REV]: mesh.revisionLabel } },
            namespaceSelector: { matchNames: [ztunnelNs] },
            podMetricsEndpoints: [{
              port: ZTUNNEL_METRICS_PORT_NAME,
              path: ZTUNNEL_METRICS_PATH,
              interval,
              relabelings: [
                { action: 'replace', sourceLabels: ['__meta_kubernetes_namespace'], targetLabel: 'namespace' },
                { action: 'replace', sourceLabels: ['__meta_kubernetes_pod_name'], targetLabel: 'pod_name' },
              ],
            }],
          },
        } as any);
      };
      // the same trigger as the control plane's ztunnel: the mesh is ambient, or a namespace of it turns ambient
      if (mesh.dataPlaneMode === DataPlaneMode.AMBIENT) scrapeZtunnel();
      MeshModel.of(this).subscribe(f => {
        if (f.type === 'ambient-namespace' && mine(f.namespace.rootNamespace, f.namespace.revision)) scrapeZtunnel();
      });
    }

    if (props.controlPlane ?? true) {
      this.serviceMonitor = new ApiObject(this, 'ServiceMonitor', {
        apiVersion: MONITORING_API_VERSION,
        kind: 'ServiceMonitor',
        metadata: metadata(CONTROL_PLANE_SERVICE_MONITOR_NAME),
        spec: {
          jobLabel: IstioLabels.APP,
          targetLabels: [IstioLabels.APP],
          selector: { matchLabels: { [IstioLabels.APP]: ISTIOD_APP, [IstioLabels.REV]: mesh.revisionLabel } },
          namespaceSelector: { matchNames: [mesh.rootNamespace] },
          endpoints: [{ port: ISTIOD_MONITORING_PORT_NAME, interval }],
        },
      } as any);
    }
  }
}
