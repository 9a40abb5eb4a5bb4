import { Chart, Testing } from 'cdk8s';
import { Mesh, MeshDashboard, MeshedService, MeshNamespace, ServiceDashboard, ServicePort } from '../src';
import { one, synthValid } from './util';
import { dashboardUid } from '../src/observability/dashboards';
import { errorRateQuery, requestRateQuery } from '../src/observability/golden-signals';

function setup(meshProps: any = {}) {
  const app = Testing.app();
  const chart = new Chart(app, 'shop');
  const mesh = new Mesh(chart, 'mesh', meshProps);
  const ns = MeshNamespace.fromName(chart, 'ns', { name: 'shop', mesh });
  const reviews = new MeshedService(chart, 'reviews', { namespace: ns, image: 'example/reviews:1.0', ports: [ServicePort.http(9080)] });
  return { app, chart, mesh, ns, reviews };
}

/** A readable summary of a dashboard: title, uid, variables, and per panel its title, unit and queries. */
function summary(json: string) {
  const d = JSON.parse(json);
  return {
    title: d.title,
    uid: d.uid,
    variables: d.templating.list.map((v: any) => `${v.name}: ${typeof v.query === 'string' ? v.query : JSON.stringify(v.query)}`),
    panels: d.panels.map((p: any) => p.type === 'row'
      ? `row ${p.title}${p.repeat ? ` (repeat ${p.repeat})` : ''}`
      : { title: `${p.id}: ${p.title} [${p.fieldConfig.defaults.unit}]`, queries: p.targets.map((t: any) => `${t.refId} ${t.legendFormat}: ${t.expr}`) }),
  };
}

describe('ServiceDashboard', () => {
  test('per-version golden signals, lazily (summary snapshot)', () => {
    const { chart, reviews } = setup();
    const dash = new ServiceDashboard(chart, 'reviews-dashboard', { service: reviews, folder: 'Shop', labels: { team: 'shop' } });
    reviews.addVersion('v2', { image: 'example/reviews:2.0' }); // a canary added after the dashboard
    const objects = synthValid(chart);
    const cm = one(objects, 'ConfigMap', 'shop-reviews-dashboard');
    expect(cm.metadata.labels).toEqual({ 'grafana_dashboard': '1', 'team': 'shop', 'app.kubernetes.io/managed-by': 'cdk8s-mesh' });
    expect(cm.metadata.annotations).toEqual({ grafana_folder: 'Shop' });
    const json = cm.data['shop-reviews-dashboard.json'];
    expect(json).toBe(dash.renderJson());
    const s = summary(json);
    expect(s).toMatchSnapshot();
    expect(s.uid).toBe('shop-reviews-dashboard');
    // queries come from the shared golden-signal builders, by version
    const rate = s.panels[1].queries;
    expect(rate).toEqual([
      `A all versions: ${requestRateQuery({ namespace: 'shop', service: 'reviews' })}`,
      `B v1: ${requestRateQuery({ namespace: 'shop', service: 'reviews', version: 'v1' })}`,
      `C v2: ${requestRateQuery({ namespace: 'shop', service: 'reviews', version: 'v2' })}`,
    ]);
    expect(s.panels[2].queries[2]).toBe(`C v2: ${errorRateQuery({ namespace: 'shop', service: 'reviews', version: 'v2' })}`);
    const d = JSON.parse(json);
    expect(d.panels.every((p: any) => p.type === 'row' || p.datasource.uid === '${datasource}')).toBe(true);
    expect(json).not.toMatch(/"(time|version|created|updated)"\s*:\s*"\d{4}-/);
  });

  test('deterministic: same JSON twice', () => {
    const a = setup();
    const b = setup();
    const ja = new ServiceDashboard(a.chart, 'd', { service: a.reviews }).renderJson();
    const jb = new ServiceDashboard(b.chart, 'd', { service: b.reviews }).renderJson();
    expect(ja).toBe(jb);
  });

  test('bad input', () => {
    const { chart, reviews } = setup();
    expect(() => new ServiceDashboard(chart, 'a', { service: reviews, folder: ' ' })).toThrow("shop/a: folder ' ' is invalid: must be a non-empty folder name");
    expect(() => new ServiceDashboard(chart, 'b', { service: reviews, namespace: 'Grafana' })).toThrow("shop/b: namespace 'Grafana' is invalid: must be a DNS label");
    expect(() => new ServiceDashboard(chart, 'c', { service: undefined as any })).toThrow('shop/c: service (not set) is invalid: must be a meshed service');
  });
});

describe('MeshDashboard', () => {
  test('repeated rows per service (summary snapshot)', () => {
    const { chart, mesh } = setup({ revision: '1-30' });
    const dash = new MeshDashboard(chart, 'mesh-dashboard', { mesh, namespace: 'monitoring' });
    const cm = one(synthValid(chart), 'ConfigMap', 'mesh-1-30-dashboard');
    expect(cm.metadata.namespace).toBe('monitoring');
    const s = summary(cm.data['mesh-1-30-dashboard.json']);
    expect(s).toMatchSnapshot();
    expect(dash.uid).toBe('mesh-1-30-dashboard');
    expect(s.panels[1].queries[0]).toBe(`A all: ${requestRateQuery({ namespace: '$namespace', service: '$service' })}`);
  });

  test('uids stay within 40 characters and are stable', () => {
    const long = 'a-very-long-namespace-name-for-testing-some-service-dashboard';
    expect(dashboardUid(long)).toHaveLength(40);
    expect(dashboardUid(long)).toBe(dashboardUid(long));
    expect(dashboardUid(long)).not.toBe(dashboardUid(long + 'x'));
  });
});
