/**
 * Runs a documentation snippet as a program: transpiled, run as a cdk8s app in a scratch directory (with 'cdk8s-mesh'
 * resolved to this repository's source), and the YAML it wrote under dist/ returned as objects.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import * as YAML from 'yaml';

export function runSnippet(source: string, scratchPrefix = 'snippet-'): any[] {
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), scratchPrefix));
  const cwd = process.cwd();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const req = (id: string) => require(id === 'cdk8s-mesh' ? path.join(__dirname, '..', '..', 'src') : id);
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
