/**
 * docs/traffic.md's snippets are programs: each ```ts block, after the ```ts setup block, is transpiled and run as a
 * cdk8s app (with 'cdk8s-mesh' resolved to this repository's source); everything it writes must validate strictly and
 * the mesh analyzer must find nothing. A snippet that stops compiling or synthesizing fails here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { analyze } from '../src';
import { validateAll } from './util';
import { runSnippet } from './util/snippets';

const DOC = fs.readFileSync(path.join(__dirname, '..', 'docs', 'traffic.md'), 'utf8');
const SETUP = [...DOC.matchAll(/```ts setup\n([\s\S]*?)```/g)].map(m => m[1]);
/** [section heading, source] of every ```ts block but the setup. */
const SNIPPETS: Array<[string, string]> = DOC.split('\n## ').slice(1)
  .flatMap(section => [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map(m => [section.split('\n')[0], m[1]] as [string, string]));

const run = (source: string): any[] => runSnippet(source, 'traffic-doc-');

describe('docs/traffic.md', () => {
  test('one setup block and a snippet per section', () => {
    expect(SETUP).toHaveLength(1);
    expect(SNIPPETS.length).toBeGreaterThanOrEqual(10);
  });

  test('the table maps every traffic-management task to the API', () => {
    const table = DOC.split('\n').filter(l => l.startsWith('| ')).map(l => l.split('|')[1].toLowerCase());
    for (const task of ['request routing', 'fault injection', 'traffic shifting', 'tcp traffic shifting', 'request timeouts', 'circuit breaking',
      'mirroring', 'locality load balancing', 'ingress', 'egress', 'rate limits', 'header manipulation', 'cors']) {
      expect(table.some(cell => cell.includes(task))).toBe(true);
    }
  });

  test.each(SNIPPETS)('%s: the snippet synthesizes valid YAML the analyzer finds clean', (_title, snippet) => {
    const objects = run(`${SETUP[0]}\n${snippet}\napp.synth();\n`);
    expect(objects.some(o => o.kind === 'VirtualService' || o.kind === 'DestinationRule' || o.kind === 'EnvoyFilter')).toBe(true);
    expect(validateAll(objects)).toEqual([]);
    expect(analyze(objects).map(f => `${f.code} ${f.object.kind}/${f.object.name}: ${f.message}`)).toEqual([]);
  });
});
