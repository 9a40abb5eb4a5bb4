import { createHash } from 'crypto';
import type * as GrafanaCommon from '@grafana/grafana-foundation-sdk/common';
import type * as GrafanaDashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as GrafanaPrometheus from '@grafana/grafana-foundation-sdk/prometheus';
import type * as GrafanaTimeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { GRAFANA_DASHBOARD_LABEL, GRAFANA_DASHBOARD_LABEL_VALUE, GRAFANA_FOLDER_ANNOTATION, GRAFANA_UID_MAX } from './constants';
import {
  errorRateQuery, GoldenSignalOptions, IstioMetrics, latencyQuantileQuery, requestRateQuery, signalSourceOf, tcpConnectionRateQuery,
  tcpThroughputQuery,
} from './golden-signals';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { isAmbient } from '../mesh/data-plane';
import { IMesh } from '../mesh/mesh';
import { MeshModel } from '../model/mesh-model';
import { MeshedService } from '../service/meshed-service';
import { checkMeshService, IMeshService } from '../service/workload';
import { checkDnsLabel, checkLabels, sortKeys } from '../validation';

/**
 * The Grafana Foundation SDK, loaded when a dashboard is first built: it is the library's largest dependency (about a
 * fifth of the time `require('cdk8s-mesh')` takes), and most apps build no dashboard. Node caches the modules.
 */
function grafana() {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    common: require('@grafana/grafana-foundation-sdk/common') as typeof GrafanaCommon,
    dashboard: require('@grafana/grafana-foundation-sdk/dashboard') as typeof GrafanaDashboard,
    prometheus: require('@grafana/grafana-foundation-sdk/prometheus') as typeof GrafanaPrometheus,
    timeseries: require('@grafana/grafana-foundation-sdk/timeseries') as typeof GrafanaTimeseries,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** Where and how a dashboard ConfigMap is shipped to Grafana's dashboard sidecar. */
export interface DashboardOptions {
  /**
   * The namespace of the ConfigMap (one Grafana's sidecar watches).
   * @default - the service's namespace (ServiceDashboard) or the mesh's root namespace (MeshDashboard)
   */
  readonly namespace?: string;
  /**
   * The Grafana folder (the `grafana_folder` annotation, read when the sidecar's `folderAnnotation` is set).
   * @default - none (the sidecar's default folder)
   */
  readonly folder?: string;
  /**
   * Extra labels on the ConfigMap (it always has `grafana_dashboard: "1"`).
   * @default - none
   */
  readonly labels?: { [key: string]: string };
}

/** Properties of `ServiceDashboard`. */
export interface ServiceDashboardProps extends DashboardOptions {
  /** The service (with a MeshedService, one series per version, so a canary shows up next to the stable version). */
  readonly service: IMeshService;
}

/** Properties of `MeshDashboard`. */
export interface MeshDashboardProps extends DashboardOptions {
  /** The mesh. */
  readonly mesh: IMesh;
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** A Grafana uid derived from a name: readable when short, else a readable prefix and a hash. @internal */
export function dashboardUid(key: string): string {
  const slug = key.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  if (slug.length <= GRAFANA_UID_MAX) return slug;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return `${slug.slice(0, GRAFANA_UID_MAX - hash.length - 1)}-${hash}`;
}

interface Series { readonly expr: string; readonly legend: string }
interface PanelSpec { readonly title: string; readonly description: string; readonly unit: string; readonly series: Series[] }

function panel(p: PanelSpec, id: number): GrafanaTimeseries.PanelBuilder {
  const { common, prometheus, timeseries } = grafana();
  const b = new timeseries.PanelBuilder()
    .id(id)
    .title(p.title)
    .description(p.description)
    .unit(p.unit)
    .datasource(DATASOURCE)
    .min(0)
    .height(8)
    .span(12)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Bottom).calcs(['mean', 'max']));
  p.series.forEach((s, i) => b.withTarget(
    new prometheus.DataqueryBuilder().refId(String.fromCharCode(65 + i)).expr(s.expr).legendFormat(s.legend).range()));
  return b;
}

/** The golden-signal panels of one service: rate, errors and latency, by version when versions are given. */
function goldenSignalPanels(base: GoldenSignalOptions, versions: string[]): PanelSpec[] {
  const byVersion = (f: (o: GoldenSignalOptions) => string): Series[] => versions.map(v => ({ expr: f({ ...base, version: v }), legend: v }));
  const all = versions.length ? 'all versions' : 'all';
  return [
    {
      title: 'Request rate',
      description: 'Requests per second received (reported by the service\'s proxies), in total and by version.',
      unit: 'reqps',
      series: [{ expr: requestRateQuery(base), legend: all }, ...byVersion(requestRateQuery)],
    },
    {
      title: 'Error rate (5xx)',
      description: 'Share of requests answered with a 5xx status, in total and by version.',
      unit: 'percentunit',
      series: [{ expr: errorRateQuery(base), legend: all }, ...byVersion(errorRateQuery)],
    },
    {
      title: 'Latency',
      description: 'Request duration percentiles (all versions).',
      unit: 'ms',
      series: [0.5, 0.9, 0.99].map(q => ({ expr: latencyQuantileQuery({ ...base, quantile: q }), legend: `p${Math.round(q * 100)}` })),
    },
    ...(versions.length ? [{
      title: 'p99 latency by version',
      description: 'The 99th percentile of request duration, by version: a canary slower than the stable version shows here.',
      unit: 'ms',
      series: byVersion(o => latencyQuantileQuery({ ...o, quantile: 0.99 })),
    }] : []),
  ];
}

/**
 * The layer-4 panels of an ambient service without a waypoint: what ztunnel reports (TCP connections and bytes), by
 * version when versions are given.
 */
function tcpSignalPanels(base: GoldenSignalOptions, versions: string[]): PanelSpec[] {
  const byVersion = (f: (o: GoldenSignalOptions) => string): Series[] => versions.map(v => ({ expr: f({ ...base, version: v }), legend: v }));
  const all = versions.length ? 'all versions' : 'all';
  return [
    {
      title: 'TCP connections opened',
      description: 'Connections per second opened to the service, as ztunnel reports them (ambient, no waypoint: no request metrics).',
      unit: 'cps',
      series: [{ expr: tcpConnectionRateQuery(base), legend: all }, ...byVersion(tcpConnectionRateQuery)],
    },
    {
      title: 'TCP throughput',
      description: 'Bytes per second received and sent by the service, as ztunnel reports them.',
      unit: 'Bps',
      series: [{ expr: tcpThroughputQuery(base), legend: 'received' }, { expr: tcpThroughputQuery(base, true), legend: 'sent' }],
    },
  ];
}

function datasourceVariable() {
  return new (grafana().dashboard.DatasourceVariableBuilder)('datasource').label('Data source').type('prometheus');
}

/** Validates the options and creates the ConfigMap whose data is rendered at synth time. @internal */
function dashboardConfigMap(scope: Construct, name: string, namespace: string, options: DashboardOptions, render: () => string): ApiObject {
  checkDnsLabel(scope, 'namespace', namespace);
  checkLabels(scope, 'labels', options.labels);
  if (options.folder !== undefined && (typeof options.folder !== 'string' || options.folder.trim() === '')) {
    invalid(scope, 'folder', options.folder, 'must be a non-empty folder name');
  }
  return new ApiObject(scope, 'ConfigMap', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: { ...(options.labels ?? {}), [GRAFANA_DASHBOARD_LABEL]: GRAFANA_DASHBOARD_LABEL_VALUE, [MANAGED_BY_LABEL]: MANAGED_BY },
      ...(options.folder ? { annotations: { [GRAFANA_FOLDER_ANNOTATION]: options.folder } } : {}),
    },
    data: Lazy.any({ produce: () => ({ [`${name}.json`]: render() }) }),
  } as any);
}

function toJson(model: any): string {
  return JSON.stringify(sortKeys(model), undefined, 2);
}

/**
 * A Grafana dashboard for one service: request rate, 5xx error rate and latency (p50/p90/p99), in total and by
 * version, so a canary is visible next to the stable version. Shipped as a ConfigMap labelled
 * `grafana_dashboard: "1"` for Grafana's dashboard sidecar; the JSON is deterministic (uid from the name, no
 * timestamps) and its queries are the shared golden-signal builders (the ones alerts and canary analysis use).
 *
 * The queries follow the service's data plane at synth time: its sidecars' reports (`reporter="destination"`), its
 * waypoint's in ambient mode (`reporter="waypoint"`), or, for an ambient service without a waypoint, the TCP signals
 * ztunnel reports (connections and bytes: there are no request metrics to show).
 */
export class ServiceDashboard extends Construct {
  /** The service. */
  public readonly service: IMeshService;
  /** The ConfigMap Grafana's sidecar loads. */
  public readonly configMap: ApiObject;
  /** The dashboard's uid (stable, derived from the name). */
  public readonly uid: string;

  constructor(scope: Construct, id: string, props: ServiceDashboardProps) {
    super(scope, id);
    const svc = props.service;
    checkMeshService(this, 'service', svc);
    this.service = svc;
    const name = `${svc.namespace.name}-${svc.name}-dashboard`;
    this.uid = dashboardUid(name);
    this.configMap = dashboardConfigMap(this, name, props.namespace ?? svc.namespace.name, props, () => this.renderJson());
  }

  /** The dashboard model (Grafana JSON), as rendered at synth time (versions added later included). */
  public renderJson(): string {
    return toJson(this.build());
  }

  private build(): any {
    const svc = this.service;
    const versions = MeshedService.isMeshedService(svc) ? svc.versions.map(v => v.name) : [];
    const source = signalSourceOf(MeshModel.of(this), svc);
    const { DashboardBuilder, DashboardCursorSync, RowBuilder } = grafana().dashboard;
    const base: GoldenSignalOptions = {
      namespace: svc.namespace.name,
      service: svc.name,
      clusterDomain: svc.mesh.clusterDomain,
      ...(source.reporter !== IstioMetrics.REPORTER_DESTINATION ? { reporter: source.reporter } : {}),
    };
    const d = new DashboardBuilder(`${svc.name}.${svc.namespace.name} (mesh service)`)
      .uid(this.uid)
      .description(source.layer7
        ? `Golden signals of ${svc.host}, by version${source.waypoint ? `, as its waypoint ${source.waypoint} reports them` : ''}.`
        : `TCP signals of ${svc.host}, by version, as ztunnel reports them: the service has no waypoint, so no request metrics.`)
      .tags(['cdk8s-mesh', 'istio', svc.namespace.name])
      .time({ from: 'now-1h', to: 'now' })
      .refresh('30s')
      .tooltip(DashboardCursorSync.Crosshair)
      .readonly()
      .withVariable(datasourceVariable());
    d.withRow(new RowBuilder(source.layer7 ? 'Golden signals' : 'TCP signals (ambient, no waypoint)').id(1));
    (source.layer7 ? goldenSignalPanels(base, versions) : tcpSignalPanels(base, versions)).forEach((p, i) => d.withPanel(panel(p, i + 2)));
    return d.build();
  }
}

/**
 * A Grafana dashboard for the whole mesh: the golden signals of every service that receives traffic, one repeated
 * row per service (pick namespace and services at the top). Shipped like `ServiceDashboard`.
 *
 * When the mesh has ambient namespaces (the mesh's default data plane, or a namespace declared ambient), the
 * queries count the waypoints' reports too (`reporter=~"destination|waypoint"`): a request is reported once, by the
 * destination's sidecar or by the waypoint in front of an ambient service, never both.
 */
export class MeshDashboard extends Construct {
  /** The mesh. */
  public readonly mesh: IMesh;
  /** The ConfigMap Grafana's sidecar loads. */
  public readonly configMap: ApiObject;
  /** The dashboard's uid (stable, derived from the name). */
  public readonly uid: string;

  constructor(scope: Construct, id: string, props: MeshDashboardProps) {
    super(scope, id);
    const mesh = props.mesh;
    if (!mesh || typeof mesh.rootNamespace !== 'string') invalid(this, 'mesh', mesh, 'must be a Mesh');
    this.mesh = mesh;
    const name = `mesh-${mesh.revisionLabel}-dashboard`;
    this.uid = dashboardUid(name);
    this.configMap = dashboardConfigMap(this, name, props.namespace ?? mesh.rootNamespace, props, () => this.renderJson());
  }

  /** The dashboard model (Grafana JSON), as rendered at synth time. */
  public renderJson(): string {
    return toJson(this.build());
  }

  private build(): any {
    const mesh = this.mesh;
    const model = MeshModel.of(this);
    const { DashboardBuilder, DashboardCursorSync, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableSort } = grafana().dashboard;
    const ambient = isAmbient({ mesh }) || model.namespaces.some(n => model.isAmbientNamespace(n));
    const reporter = ambient
      ? `${IstioMetrics.LABEL_REPORTER}=~"${IstioMetrics.REPORTERS_ANY_DATA_PLANE}"`
      : `${IstioMetrics.LABEL_REPORTER}="${IstioMetrics.REPORTER_DESTINATION}"`;
    const nsVar = new QueryVariableBuilder('namespace')
      .label('Namespace')
      .datasource(DATASOURCE)
      .query(`label_values(${IstioMetrics.REQUESTS_TOTAL}{${reporter}}, ${IstioMetrics.LABEL_DESTINATION_SERVICE_NAMESPACE})`)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc);
    const svcVar = new QueryVariableBuilder('service')
      .label('Service')
      .datasource(DATASOURCE)
      .query(`label_values(${IstioMetrics.REQUESTS_TOTAL}{${reporter},${IstioMetrics.LABEL_DESTINATION_SERVICE_NAMESPACE}="$namespace"}, ${IstioMetrics.LABEL_DESTINATION_SERVICE_NAME})`)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true);
    const base: GoldenSignalOptions = { namespace: '$namespace', service: '$service', clusterDomain: mesh.clusterDomain, ...(ambient ? { reporter: IstioMetrics.REPORTERS_ANY_DATA_PLANE } : {}) };
    const d = new DashboardBuilder(`Istio mesh${mesh.revision ? ` (${mesh.revision})` : ''}`)
      .uid(this.uid)
      .description(`Golden signals of every service of the mesh (root namespace ${mesh.rootNamespace}).`)
      .tags(['cdk8s-mesh', 'istio'])
      .time({ from: 'now-1h', to: 'now' })
      .refresh('30s')
      .tooltip(DashboardCursorSync.Crosshair)
      .readonly()
      .withVariable(datasourceVariable())
      .withVariable(nsVar)
      .withVariable(svcVar);
    d.withRow(new RowBuilder('$service.$namespace').id(1).repeat('service'));
    goldenSignalPanels(base, []).forEach((p, i) => d.withPanel(panel(p, i + 2)));
    return d.build();
  }
}
