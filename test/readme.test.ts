/**
 * The README's TypeScript snippets are programs: each ```ts block is transpiled and run as a cdk8s app (with
 * 'cdk8s-mesh' resolved to this repository's source), and everything it writes must validate strictly.
 * A snippet that stops compiling or synthesizing fails here, so the README stays true.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import * as YAML from 'yaml';
import { validateAll } from './util';

const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const SNIPPETS = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map(m => m[1]);

function run(source: string): any[] {
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-'));
  const cwd = process.cwd();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const req = (id: string) => require(id === 'cdk8s-mesh' ? path.join(__dirname, '..', 'src') : id);
  try {
    process.chdir(dir);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    new Function('require', 'exports', 'module', js)(req, {}, { exports: {} });
    const out = path.join(dir, 'dist');
    const files = fs.existsSync(out) ? fs.readdirSync(out).filter(f => f.endsWith('.yaml')).sort() : [];
    return files.flatMap(f => YAML.parseAllDocuments(fs.readFileSync(path.join(out, f), 'utf8')).map(d => d.toJSON()).filter(Boolean));
  } finally {
    process.chdir(cwd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('README snippets', () => {
  test('the README has TypeScript snippets', () => {
    expect(SNIPPETS.length).toBeGreaterThan(0);
  });

  test.each(SNIPPETS.map((s, i) => [i + 1, s.split('\n').find(l => l.startsWith('//')) ?? s.split('\n')[0], s]))(
    'snippet %i (%s) synthesizes valid YAML', (_i, _title, source) => {
      const objects = run(source as string);
      expect(objects.length).toBeGreaterThan(0);
      expect(validateAll(objects)).toEqual([]);
    });
});
