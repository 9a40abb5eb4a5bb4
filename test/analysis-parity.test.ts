import { analyze } from '../src';
import { PARITY_CASES, PARITY_NOW } from './fixtures/analysis/parity-cases';

/** Our findings for a case, in the cases' `CODE Kind ns/name` form. */
function ours(objects: any[], codes: string[], now: Date): string[] {
  const lines = analyze(objects, { now })
    .filter(f => codes.includes(f.code))
    .map(f => `${f.code} ${f.object.kind} ${f.object.namespace ? `${f.object.namespace}/` : ''}${f.object.name}`);
  return [...new Set(lines)].sort();
}

describe('parity with istioctl analyze 1.30.3 (hand-written cases from its source)', () => {
  test.each(PARITY_CASES.map(c => [c.name, c] as const))('%s', (_name, c) => {
    expect(ours(c.objects, c.codes, c.now ?? PARITY_NOW)).toEqual([...c.expected].sort());
  });
});
