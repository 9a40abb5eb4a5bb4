/**
 * The flagship example: Istio's Bookinfo application, meshed end to end with cdk8s-mesh.
 *
 * Run with `npm run example`; writes one YAML file per chart into examples/bookinfo/dist/.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { IstioControlPlane, Mesh, MeshCertificates } from '../../src';

const outdir = path.join(__dirname, 'dist');
fs.rmSync(outdir, { recursive: true, force: true });

const app = new App({ outdir, outputFileExtension: '.yaml' });

// The platform chart: one per cluster, owned by the platform team.
const platform = new Chart(app, 'mesh-system');
const mesh = new Mesh(platform, 'mesh', { version: '1.30.3', trustDomain: 'cluster.local' });
// istiod, Istio's CRDs and webhooks, with its CA from cert-manager. Application charts use Istio's CRDs and the root
// CA, so they come after this chart: `appChart.addDependency(platform)`.
new IstioControlPlane(platform, 'istio', { mesh, certificates: MeshCertificates.certManager() });

app.synth();
for (const f of fs.readdirSync(outdir).sort()) {
  console.log(`wrote ${path.relative(process.cwd(), path.join(outdir, f))}`);
}
