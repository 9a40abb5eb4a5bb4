/**
 * The API reference a user reaches in two clicks: README -> docs/api/README.md (the index) -> the construct's section
 * on its concern's page. Every link on the way resolves to a file in the repository (and the npm package, which ships
 * docs/) and to an anchor on that page; every construct the package exports is in the index.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Construct } from 'constructs';
import * as api from '../src';

const ROOT = path.join(__dirname, '..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const ids = new Map<string, Set<string>>();
function anchorsOf(rel: string): Set<string> {
  if (!ids.has(rel)) ids.set(rel, new Set([...read(rel).matchAll(/ id="([^"]+)"/g)].map(m => m[1])));
  return ids.get(rel)!;
}
/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to dashes. */
function headingAnchors(rel: string): Set<string> {
  return new Set([...read(rel).matchAll(/^#+ (.+)$/gm)].map(m => m[1].trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
}

/** Broken relative links of a Markdown file: a missing file, or an anchor that is on no heading or id of the page. */
function brokenLinks(rel: string): string[] {
  const broken: string[] = [];
  for (const m of read(rel).matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1];
    if (/^[a-z]+:/.test(target)) continue; // http(s), mailto
    const [file, anchor] = target.split('#');
    const page = file ? path.normalize(path.join(path.dirname(rel), file)) : rel;
    if (!fs.existsSync(path.join(ROOT, page))) {
      broken.push(`${target} (no file ${page})`);
    } else if (anchor && page.endsWith('.md') && !anchorsOf(page).has(anchor) && !headingAnchors(page).has(anchor)) {
      broken.push(`${target} (no anchor '${anchor}' on ${page})`);
    }
  }
  return broken;
}

describe('the API reference, two clicks from the README', () => {
  test('the README links the index, and every docs/ link in the README resolves', () => {
    expect(read('README.md')).toContain('](docs/api/README.md)');
    expect(brokenLinks('README.md')).toEqual([]);
  });

  test('every link of the index resolves to a page and an anchor on it', () => {
    expect(brokenLinks('docs/api/README.md')).toEqual([]);
  });

  test('every exported construct has its row in the index (else: npx projen compile && npx projen docgen)', () => {
    const constructs = Object.entries(api)
      .filter(([, v]) => typeof v === 'function' && v.prototype instanceof Construct)
      .map(([name]) => name)
      .sort();
    expect(constructs.length).toBeGreaterThan(10);
    const index = read('docs/api/README.md');
    const missing = constructs.filter(name => !new RegExp(`^\\| \\[${name}\\]\\([a-z-]+\\.md#cdk8s-mesh\\.${name}\\)`, 'm').test(index));
    expect(missing).toEqual([]);
  });

  test('every type link on the concern pages resolves (links across pages rewritten to the right page)', () => {
    const pages = fs.readdirSync(path.join(ROOT, 'docs', 'api')).filter(f => f.endsWith('.md') && f !== 'README.md');
    const broken: string[] = [];
    for (const page of pages) {
      const rel = `docs/api/${page}`;
      for (const m of read(rel).matchAll(/href="([a-z.-]*)#([^"]+)"/g)) {
        const target = m[1] ? `docs/api/${m[1]}` : rel;
        if (!fs.existsSync(path.join(ROOT, target)) || !anchorsOf(target).has(m[2])) broken.push(`${page}: ${m[1]}#${m[2]}`);
      }
    }
    expect(broken.slice(0, 10)).toEqual([]);
  });

  test('the CRD bindings are apart from the library\'s pages', () => {
    const index = read('docs/api/README.md');
    expect(index).toMatch(/## CRD bindings[\s\S]*\(bindings\/istio\.networking\.md\)/);
    const ownPages = fs.readdirSync(path.join(ROOT, 'docs', 'api')).filter(f => f.endsWith('.md') && f !== 'README.md');
    for (const page of ownPages) expect(read(`docs/api/${page}`)).not.toContain('id="cdk8s-mesh.istio.');
  });
});
