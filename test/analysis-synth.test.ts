import { ApiObject, App, Chart, JsonPatch, Testing } from 'cdk8s';
import { Acknowledge, FindingLevel, MeshAnalyzer } from '../src';
import { istio, reviews, route } from './fixtures/analysis/builders';

/** A chart holding plain objects as raw ApiObjects (as escape hatches would). */
function chartWith(app: App, id: string, objects: any[]): Chart {
  const chart = new Chart(app, id);
  objects.forEach((o, i) => new ApiObject(chart, `o${i}`, o));
  return chart;
}

describe('MeshAnalyzer at synth time', () => {
  let stderr: jest.SpyInstance;
  beforeEach(() => {
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => stderr.mockRestore());

  test('a chart with a broken VirtualService fails synth, listing every error', () => {
    const app = Testing.app();
    chartWith(app, 'shop', [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], gateways: ['nope'], http: [route('reviewz')] })]);
    MeshAnalyzer.attach(app);
    expect(() => app.synth()).toThrow(/Error \[IST0101\] \(VirtualService shop\/reviews\) Referenced gateway not found: "nope"/);
    expect(() => app.synth()).toThrow(/Error \[IST0101\] \(VirtualService shop\/reviews\) Referenced host not found: "reviewz"/);
  });

  test('objects in other charts of the app resolve references', () => {
    const app = Testing.app();
    chartWith(app, 'services', reviews());
    chartWith(app, 'routes', [istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [route('reviews')] })]);
    MeshAnalyzer.attach(app);
    expect(() => app.synth()).not.toThrow();
  });

  test('JSON patches are analyzed (the object as it will be written)', () => {
    const app = Testing.app();
    const chart = chartWith(app, 'shop', reviews());
    const vs = new ApiObject(chart, 'vs', istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [route('reviews')] }));
    vs.addJsonPatch(JsonPatch.replace('/spec/http/0/route/0/destination/host', 'ratings'));
    expect(MeshAnalyzer.analyzeScope(app).map(f => f.code)).toEqual(['IST0101']);
  });

  test('a warning does not fail synth; it is printed to stderr', () => {
    const app = Testing.app();
    chartWith(app, 'shop', [...reviews(), istio('DestinationRule', 'ratings', { host: 'ratings' })]);
    MeshAnalyzer.attach(app);
    expect(() => app.synth()).not.toThrow();
    const printed = stderr.mock.calls.map(c => String(c[0])).join('');
    expect(printed).toContain('Warning [IST0174] (DestinationRule shop/ratings)');
  });

  test('failOnWarnings makes warnings fatal; printWarnings: false keeps stderr quiet', () => {
    const app = Testing.app();
    chartWith(app, 'shop', [...reviews(), istio('DestinationRule', 'ratings', { host: 'ratings' })]);
    MeshAnalyzer.attach(app, { failOnWarnings: true, printWarnings: false });
    expect(() => app.synth()).toThrow(/Warning \[IST0174\]/);
    expect(stderr).not.toHaveBeenCalled();
  });

  test('an acknowledged finding is suppressed (option or annotation)', () => {
    const broken = () => istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [route('ratings')] });
    const app = Testing.app();
    chartWith(app, 'shop', [...reviews(), broken()]);
    MeshAnalyzer.attach(app, { acknowledgements: [Acknowledge.finding('IST0101', { kind: 'VirtualService', namespace: 'shop', name: 'reviews' }, 'ratings is deployed by another team')] });
    expect(() => app.synth()).not.toThrow();

    const app2 = Testing.app();
    const annotated = broken();
    annotated.metadata.annotations = { 'analysis.cdk8s-mesh.dev/acknowledge': 'IST0101' };
    chartWith(app2, 'shop', [...reviews(), annotated]);
    MeshAnalyzer.attach(app2);
    expect(() => app2.synth()).not.toThrow();
  });

  test('one analysis per synthesis: cdk8s validating again does not analyse the same objects again', () => {
    const app = Testing.app();
    chartWith(app, 'a', reviews());
    chartWith(app, 'b', [istio('VirtualService', 'v', { hosts: ['v'], http: [route('reviews')] })]);
    MeshAnalyzer.attach(app);
    const spy = jest.spyOn(MeshAnalyzer, 'analyze');
    try {
      // Testing.synth validates the whole app for each chart: two validation passes, one analysis
      for (const chart of app.charts) Testing.synth(chart);
      expect(spy).toHaveBeenCalledTimes(1);
      // a change is analysed
      new ApiObject(app.charts[0], 'late', istio('VirtualService', 'late', { hosts: ['late'], http: [route('reviews')] }));
      Testing.synth(app.charts[0]);
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });

  test('check() throws with every error; attach() twice adds one validation', () => {
    const app = Testing.app();
    const chart = chartWith(app, 'shop', [istio('VirtualService', 'a', { hosts: ['a'], http: [route('x')] }), istio('VirtualService', 'b', { hosts: ['b'], http: [route('y')] })]);
    expect(() => MeshAnalyzer.check(chart)).toThrow(/2 finding\(s\):\n {2}Error \[IST0101\] \(VirtualService shop\/a\).*\n {2}Error \[IST0101\] \(VirtualService shop\/b\)/);
    MeshAnalyzer.attach(chart);
    MeshAnalyzer.attach(chart);
    const errors = chart.node.findAll().flatMap(c => c.node.validate());
    expect(errors).toHaveLength(2);
    expect(MeshAnalyzer.formatFinding({ code: 'IST0118', name: 'PortNameIsNotUnderNamingConvention', level: FindingLevel.INFO, object: { kind: 'Namespace', name: 'x' }, message: 'm' }))
      .toBe('Info [IST0118] (Namespace x) m');
  });
});
