/**
 * `npm run example:ambient`: synthesizes Bookinfo in ambient mode (see app.ts) into examples/bookinfo-ambient/dist/,
 * one YAML file per chart in the order they apply. Environment as for `npm run example` (BOOKINFO_HOST,
 * BOOKINFO_ISSUER, BOOKINFO_REPO).
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildBookinfoAmbient } from './app';

const outdir = path.join(__dirname, 'dist');
fs.rmSync(outdir, { recursive: true, force: true });
buildBookinfoAmbient({
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
