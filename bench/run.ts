/**
 * The synthesis benchmark.
 *
 *   npx ts-node --project tsconfig.dev.json bench/run.ts [--sizes 250,500,1000,2000] [--repeat 1] [--profile]
 *
 * For each size, a fresh child process builds the generated mesh (bench/mesh.ts) with the library and synthesizes
 * it (`app.synthYaml()`), and another fresh child process re-creates the same objects as raw cdk8s ApiObjects and
 * synthesizes them: the floor. Reported per size: wall time (build + synth), peak RSS, objects, YAML bytes, Sidecar
 * egress hosts per workload (mean, max), the library/floor ratio, and the 1,000 -> 2,000 scaling. With --repeat N,
 * each measurement is the median of N runs. --profile writes V8 CPU profiles of the library runs to bench/profiles.
 * The report is printed as Markdown (for docs/benchmark.md) and as JSON to bench/results.json.
 * --memo-root-walks memoizes whole-tree walks during synth (a what-if measurement aid, see memoRootWalks).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

interface ChildResult {
  readonly mode: 'lib' | 'floor';
  readonly size: number;
  readonly buildMs: number;
  readonly synthMs: number;
  readonly totalMs: number;
  readonly maxRssMb: number;
  readonly heapUsedMb: number;
  readonly objects: number;
  readonly yamlBytes: number;
  readonly sidecars?: { workloads: number; mean: number; max: number; min: number; dependencies: number };
  readonly info?: any;
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes

function child(mode: 'lib' | 'floor', size: number, dataFile: string): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { ApiObject, App, Chart } = require('cdk8s');
  if (mode === 'lib') {
    const { buildBenchMesh } = require('./mesh');
    const t0 = process.hrtime.bigint();
    const app = new App();
    const info = buildBenchMesh(app, { services: size });
    if (process.env.BENCH_MEMO_ROOT_WALKS) memoRootWalks(app);
    const t1 = process.hrtime.bigint();
    const yaml: string = app.synthYaml();
    const t2 = process.hrtime.bigint();
    // untimed: the objects per chart, for the floor and the Sidecar figures
    const charts = app.charts.map((c: any) => App._synthChart(c));
    fs.writeFileSync(dataFile, JSON.stringify(charts));
    const objects = charts.flat();
    const sidecars = objects.filter((o: any) => o.kind === 'Sidecar' && o.spec?.workloadSelector);
    const hosts = sidecars.map((s: any) => (s.spec.egress ?? []).reduce((n: number, e: any) => n + (e.hosts?.length ?? 0), 0));
    report({
      mode,
      size,
      buildMs: Number(t1 - t0) / 1e6,
      synthMs: Number(t2 - t1) / 1e6,
      totalMs: Number(t2 - t0) / 1e6,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      heapUsedMb: process.memoryUsage().heapUsed / 1048576,
      objects: objects.length,
      yamlBytes: Buffer.byteLength(yaml),
      sidecars: hosts.length ? {
        workloads: hosts.length,
        mean: hosts.reduce((a: number, b: number) => a + b, 0) / hosts.length,
        max: Math.max(...hosts),
        min: Math.min(...hosts),
        dependencies: info.edges / info.services,
      } : undefined,
      info,
    });
  } else {
    const charts: any[][] = JSON.parse(fs.readFileSync(dataFile, 'utf8'));
    const t0 = process.hrtime.bigint();
    const app = new App();
    charts.forEach((objects, i) => {
      const chart = new Chart(app, `c${i}`);
      objects.forEach((obj, k) => new ApiObject(chart, `o${k}`, obj));
    });
    const t1 = process.hrtime.bigint();
    const yaml: string = app.synthYaml();
    const t2 = process.hrtime.bigint();
    report({
      mode,
      size,
      buildMs: Number(t1 - t0) / 1e6,
      synthMs: Number(t2 - t1) / 1e6,
      totalMs: Number(t2 - t0) / 1e6,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      heapUsedMb: process.memoryUsage().heapUsed / 1048576,
      objects: charts.reduce((n, c) => n + c.length, 0),
      yamlBytes: Buffer.byteLength(yaml),
    });
  }
}

/**
 * A measurement aid, not a fix (--memo-root-walks): memoizes walks of the whole tree from the app root during
 * synth, to show what synthesis costs once ZeroTrustNamespace stops walking the whole tree once per namespace (the
 * quadratic hot spot, see docs/benchmark.md). Constructs created during synth are not in the memoized list; the only
 * root walk in the library is ZeroTrustNamespace's, which looks for services, and those all exist before synth.
 */
function memoRootWalks(app: any): void {
  const { Node } = require('constructs');
  const original = Node.prototype.findAll;
  let memo: any[] | undefined;
  Node.prototype.findAll = function (this: any, order?: any) {
    if (this === app.node && order === undefined) return (memo ??= original.call(this));
    return original.call(this, order);
  };
}

function report(r: ChildResult): void {
  process.stdout.write(`\n@@RESULT@@${JSON.stringify(r)}\n`);
}

// ---------------------------------------------------------------------------------------------------------------
// Parent

function runChild(mode: 'lib' | 'floor', size: number, dataFile: string, profileDir?: string): ChildResult {
  const args = [
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${mode}-${size}-${Date.now()}.cpuprofile`] : []),
    '--max-old-space-size=4096',
    '-r', 'ts-node/register',
    __filename, '--child', mode, String(size), dataFile,
  ];
  const out = execFileSync(process.execPath, args, {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, TS_NODE_PROJECT: 'tsconfig.dev.json', TS_NODE_TRANSPILE_ONLY: '1' },
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  const line = out.split('\n').find(l => l.startsWith('@@RESULT@@'));
  if (!line) throw new Error(`child ${mode} ${size} printed no result:\n${out.slice(-2000)}`);
  return JSON.parse(line.slice('@@RESULT@@'.length));
}

function median(results: ChildResult[]): ChildResult {
  const sorted = [...results].sort((a, b) => a.totalMs - b.totalMs);
  return sorted[Math.floor(sorted.length / 2)];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function machine(): string {
  const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find(l => l.startsWith('model name'))?.split(':')[1]?.trim() ?? os.cpus()[0]?.model;
  return `${os.cpus().length} CPUs (nproc), ${cpu}, node ${process.version}, ${os.platform()} ${os.release()}, load average at start ${os.loadavg().map(x => x.toFixed(2)).join(' ')}`;
}

function main(): void {
  if (process.argv.includes('--child')) {
    const i = process.argv.indexOf('--child');
    child(process.argv[i + 1] as any, Number(process.argv[i + 2]), process.argv[i + 3]);
    return;
  }
  const sizes = (arg('--sizes') ?? '250,500,1000,2000').split(',').map(Number);
  const repeat = Number(arg('--repeat') ?? 1);
  const profileDir = process.argv.includes('--profile') ? path.join(__dirname, 'profiles') : undefined;
  if (process.argv.includes('--memo-root-walks')) process.env.BENCH_MEMO_ROOT_WALKS = '1';
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-mesh-bench-'));
  const m = machine();
  console.log(`# cdk8s-mesh synthesis benchmark${process.env.BENCH_MEMO_ROOT_WALKS ? ' (what-if: root tree walks memoized)' : ''}\n\nMachine: ${m}\n`);
  const rows: Array<{ size: number; lib: ChildResult; floor: ChildResult }> = [];
  try {
    for (const size of sizes) {
      const data = path.join(tmp, `mesh-${size}.json`);
      const libs: ChildResult[] = [];
      const floors: ChildResult[] = [];
      for (let r = 0; r < repeat; r++) {
        libs.push(runChild('lib', size, data, profileDir));
        floors.push(runChild('floor', size, data));
      }
      const lib = median(libs);
      const floor = median(floors);
      rows.push({ size, lib, floor });
      console.error(`  ${size} services: library ${lib.totalMs.toFixed(0)} ms, floor ${floor.totalMs.toFixed(0)} ms`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const f = (n: number, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const lines: string[] = [];
  lines.push('| services | namespaces | edges | objects | YAML bytes | library: build + synth (ms) | floor (ms) | overhead | peak RSS library / floor (MB) | Sidecar egress hosts per workload: mean / max (deps per service) |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const { size, lib, floor } of rows) {
    const sc = lib.sidecars;
    lines.push(`| ${f(size)} | ${lib.info.namespaces} | ${f(lib.info.edges)} | ${f(lib.objects)} | ${f(lib.yamlBytes)} | ${f(lib.totalMs)} (${f(lib.buildMs)} + ${f(lib.synthMs)}) | ${f(floor.totalMs)} | ${(lib.totalMs / floor.totalMs).toFixed(2)}x | ${f(lib.maxRssMb)} / ${f(floor.maxRssMb)} | ${sc ? `${sc.mean.toFixed(2)} / ${sc.max} (${sc.dependencies.toFixed(2)})` : 'no Sidecars'} |`);
  }
  const at = (n: number) => rows.find(r => r.size === n);
  const k1 = at(1000);
  const k2 = at(2000);
  lines.push('');
  if (k1) lines.push(`- Overhead at 1,000 services: ${(k1.lib.totalMs / k1.floor.totalMs).toFixed(2)}x the raw-ApiObject floor (target <= 1.3x).`);
  if (k1 && k2) {
    lines.push(`- Scaling 1,000 -> 2,000 services: ${(k2.lib.totalMs / k1.lib.totalMs).toFixed(2)}x the time (target <= 2.2x; linear is 2x); floor ${(k2.floor.totalMs / k1.floor.totalMs).toFixed(2)}x.`);
  }
  const sc = rows.map(r => r.lib.sidecars).filter(Boolean);
  if (sc.length) lines.push(`- Sidecar egress hosts per workload, max over sizes: ${Math.max(...sc.map(s => s!.max))} (mean ${sc.map(s => s!.mean.toFixed(2)).join(', ')}).`);
  console.log(lines.join('\n'));
  fs.writeFileSync(path.join(__dirname, process.env.BENCH_MEMO_ROOT_WALKS ? 'results-memo.json' : 'results.json'), JSON.stringify({ machine: m, repeat, rows }, null, 2) + '\n');
}

main();
