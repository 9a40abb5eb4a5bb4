import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../src/analysis/cli';

const FIXTURES = path.join(__dirname, 'fixtures', 'analysis');

function run(...args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runCli(args, { stdout: t => out += t, stderr: t => err += t });
  return { code, out, err };
}

describe('cdk8s-mesh analyze (in process)', () => {
  test('clean input: exit 0 and a summary', () => {
    const r = run('analyze', path.join(FIXTURES, 'clean'));
    expect(r).toEqual({ code: 0, out: 'No validation issues found when analyzing 3 object(s).\n', err: '' });
  });

  test('findings are printed as istioctl lines with their file and document; errors exit 1', () => {
    const file = path.join(FIXTURES, 'broken', 'shop.yaml');
    const r = run('analyze', file);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')).toEqual([
      `Error [IST0101] (VirtualService shop/reviews) Referenced host not found: "reviewz". Create the Service or a ServiceEntry for it, or fix the destination host. (${file}, document 1)`,
      `Info [IST0118] (Service shop/reviews) Port name "web" (port: 9080, targetPort: 9080) doesn't follow the naming convention of Istio port: name it <protocol>[-suffix] (e.g. http-web, grpc-api, tcp-db) or set appProtocol. (${file}, document 0)`,
      '',
    ]);
  });

  test('like istioctl analyze on files, the default ingress gateway (istio=ingressgateway) exists unless disabled', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-mesh-defaults-'));
    const file = path.join(dir, 'gw.yaml');
    fs.writeFileSync(file, [
      'apiVersion: networking.istio.io/v1',
      'kind: Gateway',
      'metadata: { name: web, namespace: shop }',
      'spec:',
      '  selector: { istio: ingressgateway }',
      '  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["shop.example.com"] }]',
      '',
    ].join('\n'));
    expect(run('analyze', file)).toEqual({ code: 0, out: 'No validation issues found when analyzing 1 object(s).\n', err: '' });
    const without = run('analyze', file, '--no-default-resources');
    expect(without.code).toBe(1);
    expect(without.out).toContain('Error [IST0101] (Gateway shop/web) Referenced selector not found: "istio=ingressgateway"');
    // the default Service is judged by IST0162 like any other: port 8080 is not on it
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('number: 80,', 'number: 8080,'));
    expect(run('analyze', file).out).toContain('Warning [IST0162] (Gateway shop/web)');
    fs.rmSync(dir, { recursive: true });
  });

  test('malformed documents are reported with file and index; the rest is analyzed', () => {
    const dir = path.join(FIXTURES, 'broken');
    const r = run('analyze', dir);
    expect(r.code).toBe(1);
    const malformed = path.join(dir, 'malformed.yaml');
    expect(r.err).toContain(`Error: ${path.join(dir, 'bad.json')}, document 0: invalid JSON`);
    expect(r.err).toContain(`Error: ${malformed}, document 1: invalid YAML`);
    expect(r.err).toContain(`Error: ${malformed}, document 2: missing apiVersion or kind`);
    expect(r.err).toContain(`Error: ${malformed}, document 3: not a Kubernetes object (List item 1)`);
    expect(r.err).not.toContain('ignored.txt');
    // The List item and the other file were analyzed.
    expect(r.out).toContain('Warning [IST0174] (DestinationRule shop/ratings)');
    expect(r.out).toContain(`${malformed}, document 3)`);
    expect(r.out).toContain('Error [IST0101] (VirtualService shop/reviews)');
  });

  test('-o json prints the findings as JSON', () => {
    const r = run('analyze', path.join(FIXTURES, 'broken', 'shop.yaml'), '-o', 'json');
    const findings = JSON.parse(r.out);
    expect(findings.map((f: any) => [f.level, f.code, f.object.kind, f.source.documentIndex])).toEqual([['Error', 'IST0101', 'VirtualService', 1], ['Info', 'IST0118', 'Service', 0]]);
    expect(r.code).toBe(1);
  });

  test('warnings and infos alone exit 0; --suppress drops a code', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'analyze-'));
    fs.writeFileSync(path.join(dir, 'svc.yml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{name: web, port: 80}]}\n');
    expect(run('analyze', dir)).toMatchObject({ code: 0, out: expect.stringContaining('Info [IST0118] (Service default/a)') });
    expect(run('analyze', dir, '-n', 'shop').out).toContain('(Service shop/a)');
    expect(run('analyze', dir, '--suppress', 'IST0118').out).toBe('No validation issues found when analyzing 1 object(s).\n');
  });

  test.each([
    [[]],
    [['lint', 'x']],
    [['analyze']],
    [['analyze', '-o', 'xml', FIXTURES]],
    [['analyze', '--bogus', FIXTURES]],
    [['analyze', '-o']],
    [['analyze', path.join(FIXTURES, 'does-not-exist')]],
  ])('usage error %j exits 2 with usage on stderr', (args) => {
    const r = run(...args);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Usage: cdk8s-mesh analyze');
    expect(r.out).toBe('');
  });

  test('--help exits 0', () => {
    expect(run('--help')).toMatchObject({ code: 0, out: expect.stringContaining('Usage:') });
  });
});

describe('cdk8s-mesh analyze (subprocess)', () => {
  test('runs as a program on a fixture directory', () => {
    const root = path.join(__dirname, '..');
    const compiled = path.join(root, 'lib', 'src', 'analysis', 'cli.js');
    const source = path.join(root, 'src', 'analysis', 'cli.ts');
    const useCompiled = fs.existsSync(compiled) && fs.statSync(compiled).mtimeMs >= fs.statSync(source).mtimeMs;
    const [cmd, args] = useCompiled
      ? [process.execPath, [compiled]]
      // swc transpiles (as `npm run example` does): TypeScript's transpiler took 3 s a run on a fresh clone, 0.9 s with swc
      : [path.join(root, 'node_modules', '.bin', 'ts-node'), ['--swc', '--project', path.join(root, 'tsconfig.dev.json'), source]];
    const r = spawnSync(cmd, [...args, 'analyze', path.join(FIXTURES, 'broken', 'shop.yaml')], { encoding: 'utf8', cwd: root });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('Error [IST0101] (VirtualService shop/reviews) Referenced host not found: "reviewz"');
    expect(execFileSync(cmd, [...args, 'analyze', path.join(FIXTURES, 'clean')], { encoding: 'utf8', cwd: root })).toContain('No validation issues found');
  }, 60_000);
});
