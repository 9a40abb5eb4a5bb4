/**
 * `npm run example`: synthesizes the Bookinfo example (see app.ts) into examples/bookinfo/dist/, one YAML file per
 * chart, numbered in the order they apply (CRDs and control plane, then the gateway, then the app, then Argo CD).
 *
 * Environment: BOOKINFO_HOST (the public host, default bookinfo.example.com), BOOKINFO_ISSUER (the cert-manager
 * ClusterIssuer for its certificate, default letsencrypt), BOOKINFO_REPO (the Git repository Argo CD syncs from).
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildBookinfo } from './app';

const outdir = path.join(__dirname, 'dist');
fs.rmSync(outdir, { recursive: true, force: true });
buildBookinfo({
  outdir,
  host: process.env.BOOKINFO_HOST,
  issuer: process.env.BOOKINFO_ISSUER,
  repoUrl: process.env.BOOKINFO_REPO,
}).synth();
for (const f of fs.readdirSync(outdir).sort()) {
  const file = path.join(outdir, f);
  const docs = fs.readFileSync(file, 'utf8').split(/^---$/m).filter(d => d.trim()).length;
  console.log(`wrote ${path.relative(process.cwd(), file)}${f.endsWith('.yaml') ? ` (${docs} objects)` : ''}`);
}
