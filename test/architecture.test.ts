/**
 * The architecture's rules (docs/architecture.md), checked on the source: no import cycles, no module-level mutable
 * registries, no construct-tree scans in the constructs, and validation hooks that only check.
 */
import * as fs from 'fs';
import * as path from 'path';
import { groupedTestFiles } from '../projenrc/test-groups';

const SRC = path.join(__dirname, '..', 'src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'imports' ? [] : sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

const FILES = sources(SRC);
const rel = (f: string) => path.relative(SRC, f).split(path.sep).join('/');

/** Value imports (type-only imports are erased and cannot form a runtime cycle). */
function valueImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^import\s+(type\s+)?[^;]*?\s+from\s+'(\.[^']+)';/gms)) {
    if (m[1]) continue;
    const base = path.normalize(path.join(path.dirname(file), m[2]));
    const target = [base + '.ts', path.join(base, 'index.ts')].find(c => fs.existsSync(c));
    if (target) out.push(target);
  }
  return out;
}

test('no import cycles in src', () => {
  const edges = new Map(FILES.map(f => [f, valueImports(f)]));
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, stack: string[]) => {
    state.set(f, 'open');
    for (const t of edges.get(f) ?? []) {
      if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].map(rel).join(' -> '));
      else if (!state.has(t)) visit(t, [...stack, t]);
    }
    state.set(f, 'done');
  };
  for (const f of FILES) if (!state.has(f)) visit(f, [f]);
  expect(cycles).toEqual([]);
});

test('no module-level mutable registries (maps, sets and counters live on the model or on a construct)', () => {
  const offenders: string[] = [];
  for (const f of FILES) {
    fs.readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (/^(export\s+)?(const|let)\s+\w+\s*(:\s*[^=]+)?=\s*new\s+(WeakMap|WeakSet)\b/.test(line) || /^(export\s+)?let\s+\w+/.test(line)) {
        offenders.push(`${rel(f)}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  expect(offenders).toEqual([]);
});

test('constructs do not scan the construct tree to discover relations (the mesh model is pushed to)', () => {
  // reading a scope's own objects is an inventory, not a relation: the analyzer, Argo CD delivery and the diagram file
  const allowed = new Set(['analysis/mesh-analyzer.ts', 'gitops/inventory.ts']);
  const offenders = FILES.filter(f => !allowed.has(rel(f)) && /\.node\.findAll\(/.test(fs.readFileSync(f, 'utf8'))).map(rel);
  expect(offenders).toEqual([]);
});

test('validation hooks only check: none creates an object or adds an annotation', () => {
  const offenders: string[] = [];
  for (const f of FILES) {
    const text = fs.readFileSync(f, 'utf8');
    for (const m of text.matchAll(/addValidation\(\{\s*validate:\s*\(\)\s*=>\s*\{?([^}]*)\}?/g)) {
      if (/new\s+[A-Z]\w*\(|addAnnotation|addLabel|addJsonPatch/.test(m[1])) offenders.push(`${rel(f)}: ${m[0].slice(0, 120)}`);
    }
  }
  expect(offenders).toEqual([]);
});

test('test groups: every file a group imports is kept out of jest\'s own discovery (package.json is current), and runs once', () => {
  const root = path.join(__dirname, '..');
  const members = groupedTestFiles(root);
  const ignored: string[] = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).jest.testPathIgnorePatterns;
  const listed = ignored.filter(p => p.startsWith('<rootDir>/test/')).map(p => p.replace('<rootDir>/', '').replace(/\\\./g, '.').replace(/\$$/, ''));
  expect({ ignoredByJest: listed.sort(), importedByGroups: members }).toEqual({ ignoredByJest: members, importedByGroups: members });
  expect(new Set(members).size).toBe(members.length);
  for (const m of members) expect(fs.existsSync(path.join(root, m))).toBe(true);
});
