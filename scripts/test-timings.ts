/**
 * `npm run test:timings [jest args]`: runs the suite as `npm test` runs jest (no coverage), with a cold transform cache
 * as on CI, and prints the wall time, the per-file times (slowest first) and the slowest tests. The test suite's
 * budget is 60 s wall on 2 cores.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-mesh-timings-'));
const report = path.join(dir, 'jest.json');
const started = Date.now();
const r = spawnSync('npx', ['jest', '--ci', '--passWithNoTests', '--cacheDirectory', path.join(dir, 'cache'), '--json', '--outputFile', report, ...process.argv.slice(2)], { stdio: ['ignore', 'ignore', 'inherit'] });
const wall = (Date.now() - started) / 1000;
const j = JSON.parse(fs.readFileSync(report, 'utf8'));
const files = (j.testResults as any[]).map(t => ({
  file: path.relative(process.cwd(), t.name),
  seconds: (t.endTime - t.startTime) / 1000,
  tests: t.assertionResults.length,
})).sort((a, b) => b.seconds - a.seconds);
const tests = (j.testResults as any[])
  .flatMap(t => t.assertionResults.map((a: any) => ({ file: path.basename(t.name), title: a.title, seconds: (a.duration ?? 0) / 1000 })))
  .sort((a, b) => b.seconds - a.seconds);
console.log(`${j.numTotalTests} tests in ${files.length} files: ${j.numPassedTests} passed, ${j.numFailedTests} failed; wall ${wall.toFixed(1)} s`
  + ` (sum of file times ${files.reduce((s, f) => s + f.seconds, 0).toFixed(1)} s, ${os.cpus().length} cores)`);
console.log('\nslowest files:');
for (const f of files.slice(0, 15)) console.log(`  ${f.seconds.toFixed(1).padStart(6)} s  ${String(f.tests).padStart(3)} tests  ${f.file}`);
console.log('\nslowest tests:');
for (const t of tests.slice(0, 10)) console.log(`  ${t.seconds.toFixed(1).padStart(6)} s  ${t.file}: ${t.title.slice(0, 90)}`);
fs.rmSync(dir, { recursive: true, force: true });
process.exitCode = r.status ?? 1;
