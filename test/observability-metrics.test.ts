import { Chart, Duration, Testing } from 'cdk8s';
import { AlertSeverity, GoldenSignalAlerts, Mesh, MeshedService, MeshMetricsScraping, MeshNamespace, ServicePort } from '../src';
import { one, synthValid, yamlOf } from './util';
import { errorRateQuery, p99LatencyQuery } from '../src/observability/golden-signals';

function setup(meshProps: any = {}) {
  const app = Testing.app();
  const chart = new Chart(app, 'shop');
  const mesh = new Mesh(chart, 'mesh', meshProps);
  const ns = MeshNamespace.fromName(chart, 'ns', { name: 'shop', mesh });
  const reviews = new MeshedService(chart, 'reviews', { namespace: ns, image: 'example/reviews:1.0', ports: [ServicePort.http(9080)] });
  return { app, chart, mesh, ns, reviews };
}

describe('MeshMetricsScraping', () => {
  test('PodMonitor and ServiceMonitor (snapshot)', () => {
    const { chart, mesh } = setup();
    new MeshMetricsScraping(chart, 'scraping', { mesh, labels: { release: 'kube-prometheus-stack' } });
    const objects = synthValid(chart).filter(o => o.apiVersion.startsWith('monitoring.coreos.com'));
    expect(yamlOf(objects)).toMatchSnapshot();
    const pm = one(objects, 'PodMonitor', 'envoy-stats-monitor');
    expect(pm.metadata.namespace).toBe('istio-system');
    expect(pm.metadata.labels.release).toBe('kube-prometheus-stack');
    const ep = pm.spec.podMetricsEndpoints[0];
    expect(ep.path).toBe('/stats/prometheus');
    expect(ep.port).toBeUndefined();
    expect(ep.relabelings.filter((r: any) => r.targetLabel === '__address__')).toHaveLength(2);
    // IPv4 and IPv6 address rewrites really produce pod-ip:annotated-port
    const [v6, v4] = ep.relabelings.filter((r: any) => r.targetLabel === '__address__');
    expect('15020;10.1.2.3'.replace(new RegExp(`^${v4.regex}$`), v4.replacement.replace(/\$(\d)/g, '$$$1'))).toBe('10.1.2.3:15020');
    expect('15020;fd00::1'.replace(new RegExp(`^${v6.regex}$`), v6.replacement.replace(/\$(\d)/g, '$$$1'))).toBe('[fd00::1]:15020');
    const sm = one(objects, 'ServiceMonitor', 'istio-component-monitor');
    expect(sm.spec.selector.matchLabels).toEqual({ 'app': 'istiod', 'istio.io/rev': 'default' });
    expect(sm.spec.endpoints).toEqual([{ port: 'http-monitoring', interval: '15s' }]);
  });

  test('revision, proxy namespaces, interval and opt-outs', () => {
    const { chart, mesh } = setup({ revision: '1-30' });
    new MeshMetricsScraping(chart, 'scraping', { mesh, namespace: 'monitoring', proxyNamespaces: ['shop', 'bookinfo'], interval: Duration.seconds(30), controlPlane: false });
    const objects = synthValid(chart);
    const pm = one(objects, 'PodMonitor');
    expect(pm.metadata.namespace).toBe('monitoring');
    expect(pm.spec.namespaceSelector).toEqual({ matchNames: ['bookinfo', 'shop'] });
    expect(pm.spec.podMetricsEndpoints[0].interval).toBe('30s');
    expect(objects.filter(o => o.kind === 'ServiceMonitor')).toHaveLength(0);
    const { chart: c2, mesh: m2 } = setup({ revision: '1-30' });
    new MeshMetricsScraping(c2, 'scraping', { mesh: m2, proxies: false });
    expect(one(synthValid(c2), 'ServiceMonitor').spec.selector.matchLabels['istio.io/rev']).toBe('1-30');
  });

  test('bad input', () => {
    const { chart, mesh } = setup();
    expect(() => new MeshMetricsScraping(chart, 'a', { mesh, interval: Duration.millis(1500) }))
      .toThrow("shop/a: interval '1 second 500 millis' is invalid: must be a positive Duration of whole seconds, at least 1s");
    expect(() => new MeshMetricsScraping(chart, 'b', { mesh, proxyNamespaces: [] }))
      .toThrow('shop/b: proxyNamespaces [] is invalid: must name at least one namespace');
  });
});

describe('GoldenSignalAlerts', () => {
  test('defaults (snapshot)', () => {
    const { chart, reviews } = setup();
    const alerts = new GoldenSignalAlerts(chart, 'reviews-alerts', { service: reviews, runbookUrl: 'https://runbooks.example.com/reviews', alertLabels: { team: 'shop' } });
    const objects = synthValid(chart);
    const rule = one(objects, 'PrometheusRule', 'reviews-golden-signals');
    expect(yamlOf([rule])).toMatchSnapshot();
    const [err, lat] = rule.spec.groups[0].rules;
    // one definition, two uses: the alert expressions are the shared builders' queries plus a threshold
    const signal = { namespace: 'shop', service: 'reviews', window: Duration.minutes(5) };
    expect(err.expr).toBe(`${errorRateQuery(signal)} > 0.05`);
    expect(err.for).toBe('5m');
    expect(lat.expr).toBe(`${p99LatencyQuery(signal)} > 1000`);
    expect(lat.for).toBe('10m');
    expect(err.labels).toEqual({ namespace: 'shop', service: 'reviews', severity: 'warning', team: 'shop' });
    expect(err.annotations.runbook_url).toBe('https://runbooks.example.com/reviews');
    expect(alerts.errorRateExpression).toBe(err.expr);
  });

  test('custom thresholds', () => {
    const { chart, reviews } = setup();
    new GoldenSignalAlerts(chart, 'a', {
      service: reviews,
      errorRatePercent: 0.5,
      errorRateFor: Duration.minutes(2),
      p99LatencyMs: 250,
      latencyFor: Duration.seconds(90),
      window: Duration.minutes(1),
      severity: AlertSeverity.CRITICAL,
      labels: { release: 'prom' },
      namespace: 'monitoring',
    });
    const rule = one(synthValid(chart), 'PrometheusRule');
    expect(rule.metadata.namespace).toBe('monitoring');
    const [err, lat] = rule.spec.groups[0].rules;
    expect(err.expr).toMatch(/\[1m\]\)\) > 0\.005$/);
    expect(err.for).toBe('2m');
    expect(lat.expr).toMatch(/ > 250$/);
    expect(lat.for).toBe('90s');
    expect(lat.labels.severity).toBe('critical');
  });

  test.each([
    [{ errorRatePercent: 0 }, 'errorRatePercent 0 is invalid: must be a percentage strictly between 0 and 100'],
    [{ errorRatePercent: 100 }, 'errorRatePercent 100 is invalid: must be a percentage strictly between 0 and 100'],
    [{ errorRatePercent: -3 }, 'errorRatePercent -3 is invalid: must be a percentage strictly between 0 and 100'],
    [{ p99LatencyMs: 0 }, 'p99LatencyMs 0 is invalid: must be a number of milliseconds above 0'],
    [{ p99LatencyMs: -10 }, 'p99LatencyMs -10 is invalid: must be a number of milliseconds above 0'],
    [{ errorRateFor: Duration.seconds(0) }, "errorRateFor '0 seconds' is invalid: must be a positive Duration of whole seconds"],
    [{ latencyFor: Duration.millis(500) }, "latencyFor '500 millis' is invalid: must be a positive Duration of whole seconds"],
    [{ window: Duration.millis(0) }, "window '0 millis' is invalid: must be a positive Duration of whole seconds"],
    [{ runbookUrl: 'wiki/reviews' }, "runbookUrl 'wiki/reviews' is invalid: must be an http(s) URL"],
  ])('bad threshold %p', (extra, message) => {
    const { chart, reviews } = setup();
    expect(() => new GoldenSignalAlerts(chart, 'a', { service: reviews, ...(extra as any) })).toThrow(`shop/a: ${message}`);
  });
});
