/**
 * The long property run: the same properties as test/properties, with many more cases (at least 10,000 in all).
 *
 *   npx ts-node --project tsconfig.dev.json scripts/properties-long.ts
 *
 * Environment: PROPERTY_SEED (default: a new seed each run, printed), PROPERTY_LONG_FACTOR (scales every
 * property's number of runs, default 1), PROPERTY_FILTER (a substring of the property names to run).
 * Prints, per property, the runs, how many inputs synthesized and how many were rejected with MeshValidationError,
 * and the time; exits 1 when a property fails (its counterexample and error are printed).
 */
// fast-check is a dev dependency: this script is a development tool, like the tests.
// eslint-disable-next-line import/no-extraneous-dependencies
import * as fc from 'fast-check';
import { DEFERRED_SEEN, STATS } from '../test/properties/harness';
import { PROPERTIES } from '../test/properties/properties';
import '../test/properties/zero-trust';
import '../test/properties/flows';
import '../test/properties/security-inputs';
import '../test/properties/release-and-gateway';

function main(): void {
  const seed = process.env.PROPERTY_SEED !== undefined ? Number(process.env.PROPERTY_SEED) : Math.floor(Math.random() * 2 ** 31);
  const factor = Number(process.env.PROPERTY_LONG_FACTOR ?? 1);
  const filter = process.env.PROPERTY_FILTER;
  console.log(`properties-long: seed ${seed}, factor ${factor}`);
  let total = 0;
  let failed = 0;
  const rows: string[] = [];
  for (const def of PROPERTIES) {
    if (filter && !def.name.includes(filter)) continue;
    const numRuns = Math.max(1, Math.round(def.longRuns * factor));
    const before = new Map([...STATS].map(([k, v]) => [k, { synth: v.synth, rejected: v.rejected }]));
    const t0 = Date.now();
    const result = fc.check(def.property(), { seed, numRuns, endOnFailure: true });
    const seconds = (Date.now() - t0) / 1000;
    const outcomes = [...STATS].map(([k, v]) => {
      const b = before.get(k) ?? { synth: 0, rejected: 0 };
      return { k, synth: v.synth - b.synth, rejected: v.rejected - b.rejected };
    }).filter(x => x.synth + x.rejected > 0).map(x => `${x.synth} synthesized, ${x.rejected} rejected`).join('; ');
    total += result.numRuns;
    const status = result.failed ? 'FAILED' : 'ok';
    rows.push(`${status.padEnd(6)} ${String(result.numRuns).padStart(6)} runs  ${seconds.toFixed(1).padStart(6)} s  ${def.name}${outcomes ? `  [${outcomes}]` : ''}`);
    console.log(rows[rows.length - 1]);
    if (process.env.PROPERTY_REASONS) {
      for (const [k, v] of STATS) console.log(`    ${k}: rejected by ${[...v.fields].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([f, n]) => `${f} ${n}`).join(', ')}`);
    }
    if (result.failed) {
      failed++;
      console.log(String(result.errorInstance instanceof Error ? result.errorInstance.stack : result.errorInstance).slice(0, 3000));
      console.log(`counterexample (seed ${result.seed}, path ${result.counterexamplePath}): ${fc.stringify(result.counterexample).slice(0, 4000)}`);
    }
  }
  if (DEFERRED_SEEN.count) {
    console.log(`\n${DEFERRED_SEEN.count} rejection(s) came at synth time, wrapped by cdk8s in a plain Error (validation deferred to a Lazy): ${[...DEFERRED_SEEN.examples].slice(0, 10).join(' | ')}`);
  }
  console.log(`\n${total} cases in all, ${failed} failing propert${failed === 1 ? 'y' : 'ies'} (seed ${seed})`);
  process.exitCode = failed ? 1 : 0;
}

main();
