import { Chart, Testing } from 'cdk8s';
import { GoldenSignalAlerts, Mesh, MeshDashboard, MeshedService, MeshNamespace, ServiceDashboard, ServicePort } from '../src';

function setup() {
  const app = Testing.app();
  const chart = new Chart(app, 'shop');
  const mesh = new Mesh(chart, 'mesh');
  const ns = MeshNamespace.fromName(chart, 'ns', { name: 'shop', mesh });
  const reviews = new MeshedService(chart, 'reviews', { namespace: ns, image: 'example/reviews:1.0', version: 'v1', ports: [ServicePort.http(9080)] });
  reviews.addVersion('v2', { image: 'example/reviews:2.0' });
  return { app, chart, mesh, reviews };
}

/**
 * The alert annotations' `{{ $value | ... }}` pipelines as Prometheus renders them, for the pipelines a unit may
 * follow. An unknown pipeline fails the test: `humanize` before a unit reads "2.485kms" for 2485 ms.
 */
function render(template: string, value: number): string {
  return template.replace(/\{\{\s*\$value\s*\|\s*([^}]*?)\s*\}\}/g, (_, pipeline: string) => {
    const printf = /^printf\s+"%\.(\d)f"$/.exec(pipeline);
    if (printf) return value.toFixed(Number(printf[1]));
    if (pipeline === 'humanizePercentage') return `${Number((value * 100).toPrecision(4))}%`;
    throw new Error(`unexpected pipeline before a unit: {{ $value | ${pipeline} }}`);
  });
}

describe('units in alert text', () => {
  test('the latency alert reads milliseconds as milliseconds, the error alert a ratio as a percentage', () => {
    const { chart, reviews } = setup();
    const alerts = new GoldenSignalAlerts(chart, 'alerts', { service: reviews, p99LatencyMs: 500, errorRatePercent: 2 });
    const rules = Testing.synth(chart).find(o => o.kind === 'PrometheusRule').spec.groups[0].rules;
    const byName = Object.fromEntries(rules.map((r: any) => [r.alert, r]));
    // the latency expression is in milliseconds (Istio's istio_request_duration_milliseconds), so is the text
    expect(alerts.latencyExpression).toContain('istio_request_duration_milliseconds_bucket');
    expect(alerts.latencyExpression).toMatch(/> 500$/);
    expect(render(byName.MeshServiceHighLatency.annotations.description, 2485.31))
      .toBe('The p99 latency of requests received by reviews.shop.svc.cluster.local is 2485ms (threshold 500ms for 10m).');
    // the error expression is a ratio (0..1), compared with 2% as 0.02; humanizePercentage multiplies by 100
    expect(alerts.errorRateExpression).toMatch(/> 0\.02$/);
    expect(render(byName.MeshServiceHighErrorRate.annotations.description, 0.0734))
      .toBe('7.34% of the requests received by reviews.shop.svc.cluster.local answered 5xx over the last 5m (threshold 2% for 5m).');
  });

  test('no templated value is humanized (SI prefix) before a unit', () => {
    const { chart, reviews } = setup();
    new GoldenSignalAlerts(chart, 'alerts', { service: reviews });
    const text = JSON.stringify(Testing.synth(chart).filter(o => o.kind === 'PrometheusRule'));
    expect(text).not.toMatch(/humanize\s*\}\}\s*[a-zA-Z%]/);
  });
});

describe('units in dashboards', () => {
  /** What a panel's queries measure decides its Grafana unit. */
  function expectedUnit(exprs: string[]): string {
    if (exprs.every(e => e.includes('istio_request_duration_milliseconds'))) return 'ms';
    if (exprs.every(e => e.includes('response_code=~"5') && e.includes(' / '))) return 'percentunit';
    if (exprs.every(e => e.includes('istio_requests_total'))) return 'reqps';
    throw new Error(`unclassified queries: ${exprs.join(' | ')}`);
  }

  test.each([
    ['ServiceDashboard', (s: ReturnType<typeof setup>) => new ServiceDashboard(s.chart, 'd', { service: s.reviews }).renderJson()],
    ['MeshDashboard', (s: ReturnType<typeof setup>) => new MeshDashboard(s.chart, 'd', { mesh: s.mesh }).renderJson()],
  ])('%s: every panel\'s unit is the unit of its queries (ms, ratio, requests per second)', (_, make) => {
    const panels = JSON.parse(make(setup())).panels.filter((p: any) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(3);
    for (const p of panels) {
      const exprs = p.targets.map((t: any) => t.expr);
      expect({ title: p.title, unit: p.fieldConfig.defaults.unit }).toEqual({ title: p.title, unit: expectedUnit(exprs) });
      // a ratio panel must not be scaled to 0..100 (percentunit expects 0..1)
      if (p.fieldConfig.defaults.unit === 'percentunit') for (const e of exprs) expect(e).not.toMatch(/\*\s*100/);
    }
  });
});
