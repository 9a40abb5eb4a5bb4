/**
 * Observability in ambient mode (issue 18): the golden-signal queries follow the data plane of the service's
 * namespace. Sidecars report requests at the destination; an ambient service's waypoint reports them
 * (`reporter="waypoint"`); an ambient service without a waypoint has TCP metrics only (ztunnel, `istio_tcp_*`).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import {
  AlertWaypoint, DataPlaneMode, GoldenSignalAlerts, GoldenSignals, IstioControlPlane, IstioMetrics, Mesh, MeshDashboard, MeshedService,
  MeshMetricsScraping, ServiceDashboard, ServicePort, ZeroTrustNamespace,
} from '../src';
import { one, synthAppValid } from './util';
import { analysisQueries, resolveAnalysis } from '../src/traffic/analysis';

function setup() {
  const app = new App();
  const platform = new Chart(app, 'platform');
  const mesh = new Mesh(platform, 'mesh');
  const shop = new Chart(app, 'shop');
  const amb = new ZeroTrustNamespace(shop, 'amb', { mesh, name: 'amb', dataPlaneMode: DataPlaneMode.AMBIENT });
  const side = new ZeroTrustNamespace(shop, 'side', { mesh, name: 'side' });
  const svc = (ns: ZeroTrustNamespace, name: string) => new MeshedService(shop, `${ns.name}-${name}`, { namespace: ns, name, image: `${name}:1`, ports: [ServicePort.http(9080)] });
  return { app, platform, mesh, shop, amb, side, svc };
}

const rule = (objects: any[], name: string) => one(objects, 'PrometheusRule', `${name}-golden-signals`).spec.groups[0].rules;
const exprs = (dashboardConfigMap: any) => {
  const json = JSON.parse(Object.values(dashboardConfigMap.data)[0] as string);
  return { json, exprs: json.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr)) as string[] };
};

describe('PromQL of each data plane', () => {
  const base = { namespace: 'shop', service: 'reviews' };

  test('the waypoint reporter, and the regex that counts each request once across data planes', () => {
    expect(GoldenSignals.requestRate({ ...base, reporter: 'waypoint' }))
      .toBe('sum(rate(istio_requests_total{reporter="waypoint",destination_service="reviews.shop.svc.cluster.local"}[5m]))');
    expect(GoldenSignals.errorRate({ ...base, reporter: IstioMetrics.REPORTERS_ANY_DATA_PLANE })).toBe(
      'sum(rate(istio_requests_total{reporter=~"destination|waypoint",destination_service="reviews.shop.svc.cluster.local",response_code=~"5.*"}[5m]))'
      + ' / sum(rate(istio_requests_total{reporter=~"destination|waypoint",destination_service="reviews.shop.svc.cluster.local"}[5m]))');
    expect(() => GoldenSignals.requestRate({ ...base, reporter: 'ztunnel' }))
      .toThrow("reporter 'ztunnel' is invalid: must be one of 'destination', 'source', 'waypoint', 'destination|waypoint'");
  });

  test('TCP signals (what ztunnel reports): always the destination reporter', () => {
    expect(GoldenSignals.tcpConnectionRate({ ...base, version: 'v1', reporter: 'waypoint' }))
      .toBe('sum(rate(istio_tcp_connections_opened_total{reporter="destination",destination_service="reviews.shop.svc.cluster.local",destination_version="v1"}[5m]))');
    expect(GoldenSignals.tcpReceivedBytes(base)).toBe('sum(rate(istio_tcp_received_bytes_total{reporter="destination",destination_service="reviews.shop.svc.cluster.local"}[5m]))');
    expect(GoldenSignals.tcpSentBytes(base)).toBe('sum(rate(istio_tcp_sent_bytes_total{reporter="destination",destination_service="reviews.shop.svc.cluster.local"}[5m]))');
  });

  const promtool = (() => {
    try {
      execFileSync('promtool', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  (promtool ? test : test.skip)('promtool accepts every query, and the PrometheusRule of an ambient service as synthesized', () => {
    const { app, shop, amb, svc } = setup();
    const reviews = svc(amb, 'reviews');
    new GoldenSignalAlerts(shop, 'alerts', { service: reviews, waypoint: AlertWaypoint.CREATE, runbookUrl: 'https://runbooks.example.com/reviews' });
    const synthesized = one(synthAppValid(app), 'PrometheusRule').spec;
    const queries = [
      GoldenSignals.errorRate({ ...base, reporter: IstioMetrics.REPORTERS_ANY_DATA_PLANE }), GoldenSignals.successRate({ ...base, reporter: 'waypoint', grpcErrors: true }),
      GoldenSignals.tcpConnectionRate(base), GoldenSignals.tcpReceivedBytes(base), GoldenSignals.tcpSentBytes({ ...base, version: 'v1' }),
      GoldenSignals.p99Latency({ ...base, reporter: 'waypoint' }),
    ];
    const rules = { groups: [...synthesized.groups, { name: 'queries', rules: queries.map((expr, i) => ({ record: `q${i}`, expr })) }] };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promtool-'));
    const file = path.join(dir, 'rules.yaml');
    fs.writeFileSync(file, YAML.stringify(rules));
    try {
      expect(execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8' })).toContain('SUCCESS: 8 rules found');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('canary analysis: in ambient the canary\'s routes put its service behind a waypoint, which reports its requests', () => {
    const r = resolveAnalysis(new Chart(Testing.app(), 'c'), {});
    const target = { namespace: 'shop', service: 'reviews', version: 'v2' };
    expect(analysisQueries(r, target).successRate).toContain('reporter="destination"');
    const q = analysisQueries(r, { ...target, ambient: true });
    expect(q.successRate).toContain('istio_requests_total{reporter="waypoint",destination_service="reviews.shop.svc.cluster.local",destination_version="v2"');
    expect(q.successRate).not.toContain('ambient');
    expect(q.p99Latency).toContain('reporter="waypoint"');
  });
});

describe('GoldenSignalAlerts follow the service\'s data plane', () => {
  test('sidecar namespace: the destination reporter; ambient behind a waypoint: the waypoint reporter, even when the waypoint comes later', () => {
    const { app, shop, amb, side, svc } = setup();
    const web = svc(side, 'web');
    const reviews = svc(amb, 'reviews');
    const alertsSide = new GoldenSignalAlerts(shop, 'web-alerts', { service: web });
    const alertsAmb = new GoldenSignalAlerts(shop, 'reviews-alerts', { service: reviews });
    // declared after the alerts: HTTP methods in a caller's rule bring reviews a waypoint
    web.connectsTo(reviews, { methods: ['GET'] });
    const objects = synthAppValid(app);
    expect(rule(objects, 'web')[0].expr).toContain('{reporter="destination",destination_service="web.side.svc.cluster.local"');
    const [errors, latency] = rule(objects, 'reviews');
    expect(errors.expr).toBe('sum(rate(istio_requests_total{reporter="waypoint",destination_service="reviews.amb.svc.cluster.local",response_code=~"5.*"}[5m]))'
      + ' / sum(rate(istio_requests_total{reporter="waypoint",destination_service="reviews.amb.svc.cluster.local"}[5m])) > 0.05');
    expect(latency.expr).toContain('istio_request_duration_milliseconds_bucket{reporter="waypoint"');
    expect(alertsAmb.errorRateExpression).toBe(errors.expr);
    expect(alertsSide.latencyExpression).toContain('reporter="destination"');
  });

  test('ambient without a waypoint: a clear error that says the alerts need one', () => {
    const { app, shop, amb, svc } = setup();
    new GoldenSignalAlerts(shop, 'alerts', { service: svc(amb, 'reviews') });
    expect(() => app.synth()).toThrow("shop/alerts: service 'reviews.amb' is invalid: its namespace runs in ambient mode and the service has no waypoint, "
      + 'so it has no request metrics (ztunnel reports TCP only, istio_tcp_*): error-rate and latency alerts need a waypoint: '
      + "pass waypoint: AlertWaypoint.CREATE, or give the service a layer-7 feature (HTTP methods or paths in a caller's rule, routes, a canary)");
  });

  test('AlertWaypoint.CREATE gives the service a waypoint: the Gateway, the use-waypoint label, the waypoint reporter', () => {
    const { app, shop, amb, side, svc } = setup();
    const reviews = svc(amb, 'reviews');
    svc(side, 'web').connectsTo(reviews);
    new GoldenSignalAlerts(shop, 'alerts', { service: reviews, waypoint: AlertWaypoint.CREATE });
    // in a sidecar namespace CREATE changes nothing
    new GoldenSignalAlerts(shop, 'web-alerts', { service: svc(side, 'api'), waypoint: AlertWaypoint.CREATE });
    const objects = synthAppValid(app);
    expect(one(objects, 'Gateway', 'waypoint').metadata.namespace).toBe('amb');
    expect(objects.filter(o => o.kind === 'Gateway')).toHaveLength(1);
    const service = objects.find(o => o.kind === 'Service' && o.metadata.name === 'reviews');
    expect(service.metadata.labels['istio.io/use-waypoint']).toBe('waypoint');
    expect(rule(objects, 'reviews')[0].expr).toContain('reporter="waypoint"');
    expect(rule(objects, 'api')[0].expr).toContain('reporter="destination"');
    expect(() => new GoldenSignalAlerts(shop, 'bad', { service: reviews, waypoint: 'ALWAYS' as any }))
      .toThrow("shop/bad: waypoint 'ALWAYS' is invalid: must be one of REQUIRE, CREATE");
  });
});

describe('dashboards follow the data plane', () => {
  test('ServiceDashboard: waypoint reports behind a waypoint; TCP signals (connections, bytes) without one', () => {
    const { app, shop, amb, svc } = setup();
    const reviews = svc(amb, 'reviews');
    const front = svc(amb, 'front');
    front.connectsTo(reviews, { paths: ['/reviews/*'] });
    const d1 = new ServiceDashboard(shop, 'reviews-dashboard', { service: reviews });
    const d2 = new ServiceDashboard(shop, 'front-dashboard', { service: front });
    const objects = synthAppValid(app);
    const withWaypoint = exprs(one(objects, 'ConfigMap', 'amb-reviews-dashboard'));
    expect(withWaypoint.json.description).toBe('Golden signals of reviews.amb.svc.cluster.local, by version, as its waypoint amb/waypoint reports them.');
    expect(withWaypoint.exprs.length).toBeGreaterThan(0);
    for (const e of withWaypoint.exprs) expect(e).toContain('reporter="waypoint"');
    const l4 = exprs(one(objects, 'ConfigMap', 'amb-front-dashboard'));
    expect(l4.json.panels.map((p: any) => p.title)).toEqual(['TCP signals (ambient, no waypoint)', 'TCP connections opened', 'TCP throughput']);
    expect(l4.exprs).toEqual([
      'sum(rate(istio_tcp_connections_opened_total{reporter="destination",destination_service="front.amb.svc.cluster.local"}[5m]))',
      'sum(rate(istio_tcp_connections_opened_total{reporter="destination",destination_service="front.amb.svc.cluster.local",destination_version="v1"}[5m]))',
      'sum(rate(istio_tcp_received_bytes_total{reporter="destination",destination_service="front.amb.svc.cluster.local"}[5m]))',
      'sum(rate(istio_tcp_sent_bytes_total{reporter="destination",destination_service="front.amb.svc.cluster.local"}[5m]))',
    ]);
    expect(d1.renderJson()).toBe(Object.values(one(objects, 'ConfigMap', 'amb-reviews-dashboard').data)[0]);
    expect(d2.uid).toBe('amb-front-dashboard');
  });

  test('MeshDashboard: with ambient namespaces, every query and variable counts destination and waypoint reports', () => {
    const { app, platform, mesh, amb, svc } = setup();
    svc(amb, 'reviews');
    new MeshDashboard(platform, 'dash', { mesh });
    const { json, exprs: all } = exprs(one(synthAppValid(app), 'ConfigMap', 'mesh-default-dashboard'));
    for (const e of all) expect(e).toContain('reporter=~"destination|waypoint"');
    expect(json.templating.list.filter((v: any) => v.type === 'query').map((v: any) => v.query))
      .toEqual(['label_values(istio_requests_total{reporter=~"destination|waypoint"}, destination_service_namespace)',
        'label_values(istio_requests_total{reporter=~"destination|waypoint",destination_service_namespace="$namespace"}, destination_service_name)']);
  });
});

describe('scraping ztunnel and the waypoints', () => {
  test('a sidecar mesh: no ztunnel PodMonitor, the proxies\' PodMonitor as before', () => {
    const app = new App();
    const platform = new Chart(app, 'platform');
    const mesh = new Mesh(platform, 'mesh');
    const scraping = new MeshMetricsScraping(platform, 'scraping', { mesh });
    const objects = synthAppValid(app);
    expect(scraping.ztunnelPodMonitor).toBeUndefined();
    expect(objects.filter(o => o.kind === 'PodMonitor').map(o => o.metadata.name)).toEqual(['envoy-stats-monitor']);
    expect(one(objects, 'PodMonitor').spec.selector).toEqual({ matchExpressions: [{ key: 'istio-prometheus-ignore', operator: 'DoesNotExist' }] });
  });

  test('an ambient namespace (declared after the scraping): ztunnel scraped on 15020 /metrics in the root namespace, left out of the proxies\' monitor', () => {
    const { app, platform, mesh, shop, amb, svc } = setup();
    new IstioControlPlane(platform, 'istio', { mesh });
    const scraping = new MeshMetricsScraping(platform, 'scraping', { mesh, labels: { release: 'prom' } });
    expect(scraping.ztunnelPodMonitor).toBeDefined();
    svc(amb, 'reviews');
    void shop;
    const objects = synthAppValid(app);
    const zt = one(objects, 'PodMonitor', 'ztunnel-monitor');
    expect(zt.metadata).toMatchObject({ namespace: 'istio-system', labels: { release: 'prom' } });
    expect(zt.spec.selector).toEqual({ matchLabels: { 'app': 'ztunnel', 'istio.io/rev': 'default' } });
    expect(zt.spec.namespaceSelector).toEqual({ matchNames: ['istio-system'] });
    expect(zt.spec.podMetricsEndpoints).toMatchObject([{ port: 'ztunnel-stats', path: '/metrics', interval: '15s' }]);
    // the port the monitor names is ztunnel's container port 15020, on pods with exactly those labels
    const ds = one(objects, 'DaemonSet', 'ztunnel');
    expect(ds.metadata.namespace).toBe('istio-system');
    expect(ds.spec.template.metadata.labels).toMatchObject(zt.spec.selector.matchLabels);
    expect(ds.spec.template.spec.containers[0].ports).toContainEqual({ containerPort: 15020, name: 'ztunnel-stats', protocol: 'TCP' });
    expect(one(objects, 'PodMonitor', 'envoy-stats-monitor').spec.selector.matchExpressions)
      .toContainEqual({ key: 'app', operator: 'NotIn', values: ['ztunnel'] });
  });

  test('a mesh ambient by default, ztunnel elsewhere or not scraped', () => {
    const app = new App();
    const platform = new Chart(app, 'platform');
    const mesh = new Mesh(platform, 'mesh', { dataPlaneMode: DataPlaneMode.AMBIENT, revision: '1-30' });
    new MeshMetricsScraping(platform, 'a', { mesh, namespace: 'monitoring', ztunnelNamespace: 'ztunnel' });
    new MeshMetricsScraping(platform, 'b', { mesh, namespace: 'other', ztunnel: false, controlPlane: false });
    const objects = synthAppValid(app);
    const zt = one(objects, 'PodMonitor', 'ztunnel-monitor');
    expect(zt.metadata.namespace).toBe('monitoring');
    expect(zt.spec.namespaceSelector).toEqual({ matchNames: ['ztunnel'] });
    expect(zt.spec.selector.matchLabels['istio.io/rev']).toBe('1-30');
    expect(objects.filter(o => o.kind === 'PodMonitor' && o.metadata.namespace === 'other').map(o => o.metadata.name)).toEqual(['envoy-stats-monitor']);
    expect(() => new MeshMetricsScraping(platform, 'c', { mesh, ztunnelNamespace: 'Bad' })).toThrow("platform/c: ztunnelNamespace 'Bad' is invalid");
  });

  test('a zero-trust ambient namespace lets the scraper in to its waypoint on 15020 and 15090', () => {
    const { app, platform, mesh, amb, svc } = setup();
    new MeshMetricsScraping(platform, 'scraping', { mesh, scraper: { namespace: 'obs', podLabels: { app: 'prometheus' } } });
    const reviews = svc(amb, 'reviews');
    new GoldenSignalAlerts(platform, 'alerts', { service: reviews, waypoint: AlertWaypoint.CREATE });
    const objects = synthAppValid(app).filter(o => o.metadata?.namespace === 'amb');
    const waypointPods = { 'gateway.networking.k8s.io/gateway-name': 'waypoint' };
    const selects = (np: any) => Object.entries(np.spec.podSelector.matchLabels ?? {}).every(([k, v]) => (waypointPods as any)[k] === v);
    const scrape = objects.filter(o => o.kind === 'NetworkPolicy' && selects(o) && o.spec.ingress?.some((r: any) => r.from.some((f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'obs')));
    expect(scrape.map(o => o.metadata.name)).toEqual(['allow-metrics-scrape']);
    expect(scrape[0].spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'obs' } }, podSelector: { matchLabels: { app: 'prometheus' } } }],
      ports: [{ port: 15020, protocol: 'TCP' }, { port: 15090, protocol: 'TCP' }],
    }]);
    expect(one(objects, 'Gateway', 'waypoint')).toBeDefined();
  });
});
