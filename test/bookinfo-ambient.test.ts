/**
 * Bookinfo in ambient mode (examples/bookinfo-ambient): the same app as examples/bookinfo with the data plane
 * switched. It synthesizes, every object validates strictly, the analyzer finds nothing, the flow analysis proves
 * exactly Bookinfo's edges through ztunnel and the waypoint, and the output is deterministic.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildBookinfoAmbient } from '../examples/bookinfo-ambient/app';
import { analyze, analyzeFlows, checkFlows, FlowVerdict, formatFlowMatrix, MeshFlowKind } from '../src';
import { objectsOfFiles, synthFiles as synthUtil, validateAll } from './util';

const synthFiles = () => synthUtil(outdir => buildBookinfoAmbient({ outdir }));

function synth(): { files: Record<string, string>; objects: any[] } {
  const files = synthFiles();
  return { files, objects: objectsOfFiles(files) };
}

const first = synth();
const bookinfo = first.objects.filter(o => o.metadata?.namespace === 'bookinfo');
const named = (kind: string) => bookinfo.filter(o => o.kind === kind).map(o => o.metadata.name).sort();

describe('Bookinfo in ambient mode', () => {
  test('the same charts as examples/bookinfo; every object validates strictly; the analyzer finds nothing; deterministic', () => {
    expect(Object.keys(first.files)).toEqual(['0000-mesh-system.yaml', '0001-istio-ingress.yaml', '0002-bookinfo.yaml', '0003-argocd.yaml', 'mesh.mmd']);
    expect(validateAll(first.objects)).toEqual([]);
    expect(analyze(first.objects).map(f => `${f.code} ${f.object.kind}/${f.object.name}: ${f.message}`)).toEqual([]);
    expect(synthFiles()).toEqual(first.files);
  });

  test('no sidecar in any Bookinfo pod, ztunnel installed, the namespace ambient, no Sidecar resources', () => {
    for (const d of bookinfo.filter(o => o.kind === 'Deployment')) {
      const spec = d.spec.template.spec;
      expect([...(spec.initContainers ?? []), ...spec.containers].map((c: any) => c.name)).not.toContain('istio-proxy');
    }
    expect(first.objects.filter(o => o.kind === 'DaemonSet').map(o => o.metadata.name).sort()).toEqual(['istio-cni-node', 'ztunnel']);
    const ns = first.objects.find(o => o.kind === 'Namespace' && o.metadata.name === 'bookinfo');
    expect(ns.metadata.labels['istio.io/dataplane-mode']).toBe('ambient');
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(named('Sidecar')).toEqual([]);
  });

  test('a waypoint exactly for the services with layer-7 needs (HTTP methods, retries, the canary): not productpage', () => {
    expect(named('Gateway')).toEqual(['waypoint']);
    const uses = Object.fromEntries(bookinfo.filter(o => o.kind === 'Service' && !/-v\d+$/.test(o.metadata.name))
      .map(o => [o.metadata.name, o.metadata.labels['istio.io/use-waypoint'] ?? '-']));
    expect(uses).toEqual({ details: 'waypoint', productpage: '-', ratings: 'waypoint', reviews: 'waypoint' });
    expect(first.files['mesh.mmd']).toContain('via waypoint bookinfo/waypoint');
  });

  const result = analyzeFlows(first.objects, { scraperNamespace: 'monitoring', scraperLabels: { 'app.kubernetes.io/name': 'prometheus' } });

  test("flow analysis: exactly Bookinfo's edges get through, over HBONE and the waypoint, and nothing is denied", () => {
    expect(result.findings.map(f => `${f.code} ${f.object.kind}/${f.object.name}: ${f.message}`)).toEqual([]);
    expect(result.flows.filter(f => f.verdict === FlowVerdict.DENIED)).toEqual([]);
    const calls = result.flows.filter(f => f.kind === MeshFlowKind.CALL || f.kind === MeshFlowKind.ROUTE || f.kind === MeshFlowKind.GATEWAY_ROUTE)
      .map(f => `${f.source} -> ${f.destination.split('.')[0]}`);
    expect([...new Set(calls)].sort()).toEqual([
      'bookinfo/productpage-v1 -> details', 'bookinfo/productpage-v1 -> reviews',
      'bookinfo/reviews-v1 -> ratings', 'bookinfo/reviews-v2 -> ratings', 'bookinfo/reviews-v3 -> ratings',
      'istio-ingress/istio-ingressgateway -> productpage',
    ]);
    const viaWaypoint = result.flows.find(f => f.source === 'bookinfo/reviews-v1' && f.destination.startsWith('ratings.'))!;
    expect(viaWaypoint.reason).toMatch(/through waypoint bookinfo\/waypoint/);
  });

  test('nothing else: productpage cannot reach ratings, ratings cannot reach reviews, details cannot reach productpage', () => {
    const host = (s: string) => `${s}.bookinfo.svc.cluster.local`;
    const answers = checkFlows(first.objects, [
      { source: 'bookinfo/productpage-v1', host: host('ratings'), port: 9080 },
      { source: 'bookinfo/ratings-v1', host: host('reviews'), port: 9080 },
      { source: 'bookinfo/details-v1', host: host('productpage'), port: 9080 },
      { source: 'bookinfo/reviews-v1', host: host('details'), port: 9080 },
    ]);
    expect(answers.map(a => a.verdict)).toEqual([FlowVerdict.DENIED, FlowVerdict.DENIED, FlowVerdict.DENIED, FlowVerdict.DENIED]);
  });

  test('the flow matrix', () => {
    expect(formatFlowMatrix(result)).toMatchSnapshot();
  });
});

test('the README\'s Ambient section shows the current ambient Bookinfo diagram', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const ambient = readme.slice(readme.indexOf('\n## Ambient\n'), readme.indexOf('\n## MeshGateway\n'));
  expect(ambient).toContain('```mermaid\n' + first.files['mesh.mmd'].trimEnd() + '\n```');
  expect(first.files['mesh.mmd']).toMatch(/svc__bookinfo__productpage\["<b>productpage<\/b><br\/>versions: v1"\]/);
});

test('observability follows the data plane: the waypoint reports reviews, ztunnel only TCP for productpage', () => {
  const rules = bookinfo.filter(o => o.kind === 'PrometheusRule').map(o => o.metadata.name);
  expect(rules).toEqual(['reviews-golden-signals']);
  const reviewsRule = bookinfo.find(o => o.kind === 'PrometheusRule');
  for (const r of reviewsRule.spec.groups[0].rules) expect(r.expr).toContain('reporter="waypoint",destination_service="reviews.bookinfo.svc.cluster.local"');
  const dashboard = (name: string) => JSON.parse(Object.values(bookinfo.find(o => o.kind === 'ConfigMap' && o.metadata.name === name).data)[0] as string);
  const exprs = (d: any) => d.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr)) as string[];
  expect(exprs(dashboard('bookinfo-productpage-dashboard')).every(e => e.includes('istio_tcp_'))).toBe(true);
  expect(exprs(dashboard('bookinfo-reviews-dashboard')).every(e => e.includes('reporter="waypoint"'))).toBe(true);
  const monitors = first.objects.filter(o => o.kind === 'PodMonitor').map(o => `${o.metadata.namespace}/${o.metadata.name}`).sort();
  expect(monitors).toEqual(['istio-system/envoy-stats-monitor', 'istio-system/ztunnel-monitor']);
});
