/**
 * Test groups: each test/groups/<name>.test.ts imports a few test files, which then run in one jest module registry
 * (the library, cdk8s, cdk8s-plus and the CRD bindings load once per group instead of once per file: about 0.6 CPU-s
 * a file on 2 cores). The members stay test files of their own names and are kept out of jest's own discovery, so
 * each runs once. Read by .projenrc.ts (jest's testPathIgnorePatterns) and checked by test/architecture.test.ts.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The test files the groups import, as paths relative to the repository root (`test/mesh.test.ts`), sorted. */
export function groupedTestFiles(root: string = path.join(__dirname, '..')): string[] {
  const dir = path.join(root, 'test', 'groups');
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const g of fs.readdirSync(dir).filter(f => f.endsWith('.test.ts')).sort()) {
    const text = fs.readFileSync(path.join(dir, g), 'utf8');
    for (const m of text.matchAll(/^import '(\.\.\/[^']+\.test)';$/gm)) {
      out.push(path.posix.join('test', path.posix.normalize(path.posix.join('groups', m[1]))) + '.ts');
    }
  }
  return out.sort();
}
