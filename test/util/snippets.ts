/**
 * Runs a documentation snippet as a program: transpiled, run as a cdk8s app in a scratch directory (with 'cdk8s-mesh'
 * resolved to this repository's source), and the YAML it wrote under dist/ returned as objects.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import * as YAML from 'yaml';

/**
 * Parsed YAML files by content: the snippets of a document share their setup (a control plane with its CRDs, the
 * largest file), so each distinct file is parsed once per test file. Kept as JSON text: every caller gets fresh objects.
 */
const PARSED = new Map<string, string>();

function parseYamlFile(text: string): any[] {
  const key = createHash('sha1').update(text).digest('hex');
  let json = PARSED.get(key);
  if (json === undefined) {
    json = JSON.stringify(YAML.parseAllDocuments(text).map(d => d.toJSON()).filter(Boolean));
    PARSED.set(key, json);
  }
  return JSON.parse(json);
}

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
    return files.flatMap(f => parseYamlFile(fs.readFileSync(path.join(out, f), 'utf8')));
  } finally {
    process.chdir(cwd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
