/**
 * Registers the properties of one group as jest tests: fixed seed, its share of the CI number of runs
 * (properties.ts `ciRuns`: half in `npm test`, all with PROPERTY_RUNS=1 as `npm run test:properties` sets it).
 */
import * as fc from 'fast-check';
import { ciRuns, PROPERTIES, SEED } from './properties';

export function runGroup(group: string, timeoutMs = 60_000): void {
  const defs = PROPERTIES.filter(p => p.group === group);
  if (defs.length === 0) throw new Error(`no properties in group ${group}`);
  for (const def of defs) {
    test(def.name, () => {
      fc.assert(def.property(), { seed: SEED, numRuns: ciRuns(def), endOnFailure: true });
    }, timeoutMs);
  }
}
