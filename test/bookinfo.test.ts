/**
 * The flagship example is also a test: it synthesizes, every object validates strictly, the analyzer finds nothing,
 * the output is byte-identical when synthesized twice, and the zero-trust policies allow exactly Bookinfo's edges.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildBookinfo } from '../examples/bookinfo/app';
import { analyze, analyzeFlows, checkFlows, FlowVerdict, formatFlowMatrix, MeshFlowKind } from '../src';
import { objectsOfFiles, synthFiles as synthUtil, validateAll } from './util';

const synthFiles = () => synthUtil(outdir => buildBookinfo({ outdir }));

function synth(): { files: Record<string, string>; objects: any[] } {
  const files = synthFiles();
  return { files, objects: objectsOfFiles(files) };
}

const first = synth();

describe('Bookinfo example', () => {
  test('one YAML file per chart, in the order they apply, plus the mesh diagram', () => {
    expect(Object.keys(first.files)).toEqual([
      '0000-mesh-system.yaml', '0001-istio-ingress.yaml', '0002-bookinfo.yaml', '0003-argocd.yaml', 'mesh.mmd',
    ]);
  });

  test('every object validates strictly against its upstream schema', () => {
    expect(validateAll(first.objects)).toEqual([]);
  });

  test('the analyzer finds nothing', () => {
    expect(analyze(first.objects).map(f => `${f.code} ${f.object.kind}/${f.object.name}: ${f.message}`)).toEqual([]);
  });

  test('the output is byte-identical when synthesized twice', () => {
    expect(synthFiles()).toEqual(first.files);
  });

  test('the app runs the pinned Bookinfo images with injected proxies', () => {
    const deployments = first.objects.filter(o => o.kind === 'Deployment' && o.metadata.namespace === 'bookinfo');
    expect(deployments.map(d => `${d.metadata.name} ${d.spec.template.spec.containers[0].image}`).sort()).toEqual([
      'details-v1 docker.io/istio/examples-bookinfo-details-v1:1.20.3',
      'productpage-v1 docker.io/istio/examples-bookinfo-productpage-v1:1.20.3',
      'ratings-v1 docker.io/istio/examples-bookinfo-ratings-v1:1.20.3',
      'reviews-v1 docker.io/istio/examples-bookinfo-reviews-v1:1.20.3',
      'reviews-v2 docker.io/istio/examples-bookinfo-reviews-v2:1.20.3',
      'reviews-v3 docker.io/istio/examples-bookinfo-reviews-v3:1.20.3',
    ]);
    for (const d of deployments) {
      const names = [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers].map((c: any) => c.name);
      expect(names).toContain('istio-proxy');
    }
  });

  test('the zero-trust policies allow exactly the edges Bookinfo needs', () => {
    const edges = first.objects
      .filter(o => o.kind === 'AuthorizationPolicy' && o.metadata.namespace === 'bookinfo' && o.spec.action === 'ALLOW')
      .flatMap(p => (p.spec.rules ?? []).flatMap((r: any) => (r.from ?? []).flatMap((f: any) => (f.source.principals ?? [])
        .map((who: string) => `${who.split('/').pop()} -> ${p.spec.selector.matchLabels.app}`))));
    expect([...new Set(edges)].sort()).toEqual([
      'istio-ingressgateway -> productpage',
      'productpage -> details',
      'productpage -> reviews',
      'reviews -> ratings',
    ]);
    const denyAll = first.objects.find(o => o.kind === 'AuthorizationPolicy' && o.metadata.name === 'allow-nothing');
    expect(denyAll.spec).toEqual({});
  });

  test('reviews v3 is a canary: 10% of everyone and every iPhone user', () => {
    const vs = first.objects.find(o => o.kind === 'VirtualService' && o.metadata.name === 'reviews');
    const routes = vs.spec.http.map((r: any) => ({
      match: r.match?.[0]?.headers?.['user-agent']?.regex,
      weights: Object.fromEntries(r.route.map((d: any) => [d.destination.subset, d.weight])),
    }));
    expect(routes).toEqual([
      { match: '.*iPhone.*', weights: { v1: 0, v3: 100 } },
      { match: undefined, weights: { v1: 90, v3: 10 } },
    ]);
  });

  test('the gateway serves the host over HTTPS with a cert-manager certificate, and no private key is in the output', () => {
    const cert = first.objects.find(o => o.kind === 'Certificate' && o.metadata.namespace === 'istio-ingress');
    expect(cert.spec.dnsNames).toEqual(['bookinfo.example.com']);
    expect(cert.spec.issuerRef).toMatchObject({ name: 'letsencrypt', kind: 'ClusterIssuer' });
    expect(Object.values(first.files).join('\n')).not.toMatch(/PRIVATE KEY/);
  });

  test('Argo CD delivers the three charts', () => {
    const apps = first.objects.filter(o => o.kind === 'Application');
    expect(apps.map(a => a.metadata.name)).toEqual(['mesh-system', 'istio-ingress', 'bookinfo']);
  });
});

test('the README shows the current Bookinfo diagram', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  expect(readme).toContain('```mermaid\n' + first.files['mesh.mmd'].trimEnd() + '\n```');
});

describe('Bookinfo flows (issue 13): the mesh works as declared, proven offline', () => {
  const result = analyzeFlows(first.objects, { scraperNamespace: 'monitoring', scraperLabels: { 'app.kubernetes.io/name': 'prometheus' } });

  test('no flow finding: every declared call, route and mirror gets through, and every proxy reaches istiod', () => {
    expect(result.findings.map(f => `${f.code} ${f.object.kind}/${f.object.name}: ${f.message}`)).toEqual([]);
    const denied = result.flows.filter(f => f.verdict === FlowVerdict.DENIED);
    expect(denied).toEqual([]);
    // the edges Bookinfo declares, each allowed (partial: GET only)
    const calls = result.flows.filter(f => f.kind === MeshFlowKind.CALL || f.kind === MeshFlowKind.ROUTE || f.kind === MeshFlowKind.GATEWAY_ROUTE)
      .map(f => `${f.source} -> ${f.destination.split('.')[0]}`);
    expect([...new Set(calls)].sort()).toEqual([
      'bookinfo/productpage-v1 -> details', 'bookinfo/productpage-v1 -> reviews',
      'bookinfo/reviews-v1 -> ratings', 'bookinfo/reviews-v2 -> ratings', 'bookinfo/reviews-v3 -> ratings',
      'istio-ingress/istio-ingressgateway -> productpage',
    ]);
  });

  test('nothing else: productpage cannot reach ratings, ratings cannot reach anyone, even ignoring Sidecar scoping', () => {
    const host = (s: string) => `${s}.bookinfo.svc.cluster.local`;
    const answers = checkFlows(first.objects, [
      { source: 'bookinfo/productpage-v1', host: host('ratings'), port: 9080, ignoreSidecar: true },
      { source: 'bookinfo/ratings-v1', host: host('reviews'), port: 9080, ignoreSidecar: true },
      { source: 'bookinfo/details-v1', host: host('productpage'), port: 9080, ignoreSidecar: true },
      { source: 'bookinfo/reviews-v1', host: host('details'), port: 9080 },
    ]);
    expect(answers.map(a => a.verdict)).toEqual([FlowVerdict.DENIED, FlowVerdict.DENIED, FlowVerdict.DENIED, FlowVerdict.DENIED]);
  });

  test('the README shows the current Bookinfo flow matrix', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    expect(readme).toContain('```text\n' + formatFlowMatrix(result).trimEnd() + '\n```');
  });
});
