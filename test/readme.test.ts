/**
 * The README's TypeScript snippets are programs: each ```ts block is transpiled and run as a cdk8s app (with
 * 'cdk8s-mesh' resolved to this repository's source), and everything it writes must validate strictly.
 * A snippet that stops compiling or synthesizing fails here, so the README stays true.
 */
import * as fs from 'fs';
import * as path from 'path';
import { validateAll } from './util';
import { runSnippet } from './util/snippets';

const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const SNIPPETS = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map(m => m[1]);

const run = (source: string): any[] => runSnippet(source, 'readme-');

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
