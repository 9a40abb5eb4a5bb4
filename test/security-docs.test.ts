/**
 * docs/security.md: every threat row is backed by a named test that exists (the test column names the file and the
 * test, or a property of test/properties/security-inputs.ts).
 */
import * as fs from 'fs';
import * as path from 'path';

const DOC = fs.readFileSync(path.join(__dirname, '..', 'docs', 'security.md'), 'utf8');
const rows = DOC.split('\n').filter(l => l.startsWith('| ') && !l.startsWith('| Threat') && !l.startsWith('|---'));

describe('docs/security.md', () => {
  test('has a row per threat, each naming a default and a test', () => {
    expect(rows.length).toBeGreaterThanOrEqual(20);
    for (const row of rows) {
      const cells = row.split(/(?<!\\)\|/).map(c => c.trim()).filter(Boolean);
      expect(cells).toHaveLength(4);
      expect(cells[3]).not.toBe('');
    }
  });

  test('every test it names exists', () => {
    const source = (file: string) => fs.readFileSync(path.join(__dirname, file), 'utf8').replace(/\\'/g, "'");
    const properties = source('properties/security-inputs.ts');
    let checked = 0;
    for (const row of rows) {
      const testCell = row.split(/(?<!\\)\|/).map(c => c.trim()).filter(Boolean)[3];
      let file: string | undefined;
      for (const ref of testCell.match(/`[^`]+`/g) ?? []) {
        const text = ref.slice(1, -1);
        const m = /^(\S+\.test\.ts) › /.exec(text);
        if (m) file = m[1];
        const last = text.replace(/^› /, '').split(' › ').pop()!.replace(/….*$/, '').trim();
        if (text.startsWith('ExternalService') || text.startsWith('checkRegex') || text.startsWith('checkPath') || text.startsWith('MeshGateway routes')
          || text.startsWith('errors:') || text.startsWith('JwtRule:') || text.startsWith('header values')) {
          expect(properties).toContain(last);
        } else if (text.startsWith('›') || m) {
          expect(file).toBeDefined();
          expect(source(file!)).toContain(last);
        } else {
          continue;
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(30);
  });
});
