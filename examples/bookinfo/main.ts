/**
 * The flagship example: Istio's Bookinfo application, meshed end to end with cdk8s-mesh.
 *
 * Run with `npm run example`; writes one YAML file per chart into examples/bookinfo/dist/.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { Mesh } from '../../src';

const outdir = path.join(__dirname, 'dist');
fs.rmSync(outdir, { recursive: true, force: true });

const app = new App({ outdir, outputFileExtension: '.yaml' });

// The platform chart: one per cluster, owned by the platform team.
const platform = new Chart(app, 'mesh-system');
new Mesh(platform, 'mesh', { version: '1.30.3', trustDomain: 'cluster.local' });

app.synth();
for (const f of fs.readdirSync(outdir).sort()) {
  console.log(`wrote ${path.relative(process.cwd(), path.join(outdir, f))}`);
}
