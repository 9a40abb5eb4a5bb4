/**
 * Runs a documentation snippet as a program: transpiled, run as a cdk8s app in a scratch directory (with 'cdk8s-mesh'
 * resolved to this repository's source), and the YAML it wrote under dist/ returned as objects.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { transformSync } from '@swc/core';
import { Yaml } from 'cdk8s';
import * as YAML from 'yaml';

/**
 * Parsed YAML documents by content: the snippets of a document share most objects (a control plane with its CRDs, the
 * largest of them), so each distinct document is parsed once per test file. Kept as JSON text: every caller gets fresh
 * objects. A file is split at its `---` lines (cdk8s writes one document per object; a block scalar's lines are
 * indented, so a line that is exactly `---` separates documents).
 */
const PARSED = new Map<string, string>();

function parseYamlFile(text: string): any[] {
  return text.split(/^---$/m).flatMap(doc => {
    if (!doc.trim()) return [];
    const key = createHash('sha1').update(doc).digest('hex');
    let json = PARSED.get(key);
    if (json === undefined) {
      json = JSON.stringify(YAML.parseAllDocuments(doc).map(d => d.toJSON()).filter(Boolean));
      PARSED.set(key, json);
    }
    return JSON.parse(json);
  });
}

/**
 * cdk8s's YAML writing, remembered by document: the same objects (the CRDs above all) are written by every snippet,
 * and writing YAML is a pure function of the object. Each distinct document is written once per test file, by cdk8s's
 * own `Yaml.stringify`; the bytes are the same.
 */
const WRITTEN = new Map<string, string>();

function withRememberedYaml<T>(run: () => T): T {
  const stringify = Yaml.stringify;
  const one = (doc: any): string => {
    const key = JSON.stringify(doc, (_k, v) => v === undefined ? '\u0000undefined' : v);
    let text = WRITTEN.get(key);
    if (text === undefined) {
      text = stringify.call(Yaml, doc);
      WRITTEN.set(key, text);
    }
    return text;
  };
  Yaml.stringify = (...docs: any[]) => docs.map(one).join('---\n');
  try {
    return run();
  } finally {
    Yaml.stringify = stringify;
  }
}

export function runSnippet(source: string, scratchPrefix = 'snippet-'): any[] {
  // swc, as the suite's own transform (loading TypeScript's compiler for this cost more than the snippets)
  const js = transformSync(source, {
    filename: 'snippet.ts',
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  }).code;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), scratchPrefix));
  const cwd = process.cwd();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const req = (id: string) => require(id === 'cdk8s-mesh' ? path.join(__dirname, '..', '..', 'src') : id);
  try {
    process.chdir(dir);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    withRememberedYaml(() => new Function('require', 'exports', 'module', js)(req, {}, { exports: {} }));
    const out = path.join(dir, 'dist');
    const files = fs.existsSync(out) ? fs.readdirSync(out).filter(f => f.endsWith('.yaml')).sort() : [];
    return files.flatMap(f => parseYamlFile(fs.readFileSync(path.join(out, f), 'utf8')));
  } finally {
    process.chdir(cwd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
