import * as fs from 'fs';
import * as path from 'path';
import { CATALOGUE, catalogueTable } from '../src/analysis/registry';

const DOC = fs.readFileSync(path.join(__dirname, '..', 'docs', 'analysis.md'), 'utf8');
const TESTS = ['analysis.test.ts', 'analysis-flows.test.ts'].map(f => fs.readFileSync(path.join(__dirname, f), 'utf8')).join('\n');

describe('docs/analysis.md and the catalogue registry', () => {
  test('the doc holds the table generated from the registry', () => {
    // To regenerate: npx ts-node --transpile-only -P tsconfig.dev.json -e "process.stdout.write(require('./src/analysis/registry').catalogueTable())"
    expect(DOC).toContain(catalogueTable());
  });

  test('every Istio code of the catalogue (68 codes, IST0001..IST0177) is in the registry, once, in order', () => {
    const codes = CATALOGUE.map(e => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual(codes);
    for (const c of ['IST0001', 'IST0002', 'IST0101', 'IST0106', 'IST0143', 'IST0151', 'IST0177']) expect(codes).toContain(c);
    expect(codes.filter(c => c.startsWith('IST'))).toHaveLength(68);
  });

  test('every registry code appears in the doc', () => {
    for (const e of CATALOGUE) expect(DOC).toContain(`| ${e.code} | ${e.name} |`);
  });

  test('every detected code has a test named after it in test/analysis.test.ts', () => {
    for (const e of CATALOGUE.filter(x => x.handling === 'detected')) {
      expect(TESTS).toMatch(new RegExp(`name: '${e.code} `));
    }
  });
});
