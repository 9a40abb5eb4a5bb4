import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../src/analysis/cli';

function run(...args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runCli(args, { stdout: t => out += t, stderr: t => err += t });
  return { code, out, err };
}

const SERVICE = 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{name: http, port: 80}]}\n';

describe('cdk8s-mesh analyze over a folder that holds more than Kubernetes objects', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'analyze-foreign-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a non-Kubernetes JSON file (a Grafana dashboard, a package.json) is skipped with a note; exit 0', () => {
    fs.writeFileSync(path.join(dir, 'svc.yaml'), SERVICE);
    fs.writeFileSync(path.join(dir, 'dashboard.json'), JSON.stringify({ title: 'shop', panels: [] }));
    fs.writeFileSync(path.join(dir, 'list.json'), JSON.stringify([1, 2, 3]));
    const r = run('analyze', dir);
    expect(r.code).toBe(0);
    expect(r.out).toBe('No validation issues found when analyzing 1 object(s).\n');
    expect(r.err.split('\n')).toEqual([
      `Note: ${path.join(dir, 'dashboard.json')}: not a Kubernetes object (no apiVersion or kind); skipped`,
      `Note: ${path.join(dir, 'list.json')}: not a Kubernetes object (no apiVersion or kind); skipped`,
      '',
    ]);
  });

  test('a YAML file with no Kubernetes object (e.g. Helm values) is skipped too, in -o json mode as well', () => {
    fs.writeFileSync(path.join(dir, 'svc.yaml'), SERVICE);
    fs.writeFileSync(path.join(dir, 'values.yaml'), 'replicas: 2\n---\nimage: {tag: v1}\n');
    const r = run('analyze', dir, '-o', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([]);
    expect(r.err).toBe(`Note: ${path.join(dir, 'values.yaml')}: not a Kubernetes object (no apiVersion or kind); skipped\n`);
  });

  test('a Kubernetes object with a missing field, or unreadable JSON, is still an error (exit 1)', () => {
    fs.writeFileSync(path.join(dir, 'half.json'), JSON.stringify({ kind: 'Service', metadata: { name: 'a' } }));
    fs.writeFileSync(path.join(dir, 'bad.json'), '{ "apiVersion": ');
    const r = run('analyze', dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`Error: ${path.join(dir, 'half.json')}, document 0: missing apiVersion or kind`);
    expect(r.err).toContain(`Error: ${path.join(dir, 'bad.json')}, document 0: invalid JSON`);
    expect(r.err).not.toContain('Note:');
  });
});
