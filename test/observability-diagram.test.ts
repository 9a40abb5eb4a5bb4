import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { IMesh, IMeshNamespace, IMeshWorkload, Mesh, MeshDiagram, MeshedService, MeshNamespace, ServicePort, StringMatch } from '../src';
import { ExternalService } from '../src/security/external-service';

/** A caller that is not a service (what a gateway looks like to the model). */
class Caller extends Construct implements IMeshWorkload {
  public readonly mesh: IMesh;
  public readonly serviceAccountName: string;
  public readonly principal: string;
  public readonly podSelector: { [key: string]: string };
  constructor(scope: Construct, public readonly name: string, public readonly namespace: IMeshNamespace) {
    super(scope, name);
    this.mesh = namespace.mesh;
    this.serviceAccountName = name;
    this.principal = this.mesh.principalFor(namespace.name, name);
    this.podSelector = { istio: name };
  }
}

function bookinfo(outdir?: string) {
  const app = new App({ outdir: outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-diagram-')) });
  const platform = new Chart(app, 'platform');
  const mesh = new Mesh(platform, 'mesh');
  const gwNs = MeshNamespace.fromName(platform, 'gw-ns', { name: 'istio-ingress', mesh });
  const ingress = new Caller(platform, 'ingressgateway', gwNs);
  const chart = new Chart(app, 'bookinfo');
  const ns = MeshNamespace.fromName(chart, 'ns', { name: 'bookinfo', mesh });
  const svc = (id: string) => new MeshedService(chart, id, { namespace: ns, image: `example/${id}:1.0`, ports: [ServicePort.http(9080)] });
  const productpage = svc('productpage');
  const reviews = svc('reviews');
  const ratings = svc('ratings');
  const details = svc('details');
  productpage.allowFrom(ingress, { methods: ['GET'], paths: ['/productpage', '/static/*'] });
  productpage.connectsTo(reviews);
  productpage.connectsTo(details, { methods: ['GET'] });
  reviews.connectsTo(ratings);
  const v1 = reviews.versions[0];
  const v2 = reviews.addVersion('v2', { image: 'example/reviews:2.0' });
  reviews.replaceHttpRoutes([
    { name: 'testers', matches: [{ headers: { 'end-user': StringMatch.exact('jason') } }], destinations: [{ version: v2 }] },
    { destinations: [{ version: v1, weight: 90 }, { version: v2, weight: 10 }] },
  ]);
  ratings.connectsToExternal(ExternalService.https('api.ratings.example.com'));
  return { app, productpage, reviews };
}

describe('MeshDiagram', () => {
  test('renders services, versions, canary weights, callers and external dependencies (snapshot)', () => {
    const { app } = bookinfo();
    const text = MeshDiagram.render(app);
    expect(text).toMatchSnapshot();
    expect(text).toContain('flowchart LR');
    expect(text).toContain('subgraph ns__bookinfo__["namespace bookinfo"]');
    expect(text).toContain('v1 90% · v2 10%');
    expect(text).toContain('testers: v2 100%');
    expect(text).toContain('wl__istio_ingress__ingressgateway -->|"http 9080 · GET · /productpage /static/*"| svc__bookinfo__productpage');
    expect(text).toContain('svc__bookinfo__productpage -->|"http 9080 · GET"| svc__bookinfo__details');
    expect(text).toContain('svc__bookinfo__ratings -.->|"HTTPS"| ext__api_ratings_example_com__443');
    // each edge once, though it is both an inbound rule and an outbound dependency
    expect(text.split('\n').filter(l => l.includes('svc__bookinfo__reviews -->'))).toHaveLength(1);
  });

  test('deterministic: declaration order does not matter', () => {
    const a = MeshDiagram.render(bookinfo().app);
    const b = MeshDiagram.render(bookinfo().app);
    expect(a).toBe(b);
  });

  test('writes mesh.mmd into the app output directory at synth', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-diagram-'));
    const { app } = bookinfo(outdir);
    new MeshDiagram(app, 'diagram');
    app.synth();
    const file = path.join(outdir, 'mesh.mmd');
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe(MeshDiagram.render(app));
    expect(fs.existsSync(path.join(outdir, 'bookinfo.k8s.yaml'))).toBe(true);
  });

  test('a custom file name, and a bad one', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-diagram-'));
    const { app } = bookinfo(outdir);
    const d = new MeshDiagram(app, 'diagram', { fileName: 'security-posture.mmd' });
    expect(d.writeTo(path.join(outdir, 'docs'))).toBe(path.join(outdir, 'docs', 'security-posture.mmd'));
    expect(() => new MeshDiagram(app, 'bad', { fileName: '../mesh.mmd' }))
      .toThrow("bad: fileName '../mesh.mmd' is invalid: must be a plain file name");
  });
});
