/**
 * EnvoyFilter patch checks: IST0151 to IST0155. cdk8s-mesh emits no EnvoyFilter; these cover what users bring.
 * @internal
 */
import { arr, Model } from '../model';

const RELATIVE = new Set(['INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST']);
const FILTERS = new Set(['HTTP_FILTER', 'NETWORK_FILTER']);
const ROUTES = new Set(['ROUTE_CONFIGURATION', 'HTTP_ROUTE']);

export function analyzeEnvoyFilters(m: Model): void {
  for (const ef of m.ofKind('EnvoyFilter')) {
    const hasPriority = typeof ef.obj.spec?.priority === 'number';
    arr(ef.obj.spec?.configPatches).forEach((p: any, i: number) => {
      const op = p?.patch?.operation;
      const applyTo = p?.applyTo;
      if (RELATIVE.has(op) && !hasPriority) {
        if (p?.match?.proxy?.proxyVersion) {
          m.report('IST0155', ef, `Patch #${i} uses the relative operation ${op} and matches a proxyVersion, without priority: after an upgrade it may apply in another order or not at all. Set spec.priority.`);
        } else {
          m.report('IST0151', ef, `Patch #${i} uses the relative operation ${op} without priority, so its order against other EnvoyFilters is undefined. Set spec.priority.`);
        }
      }
      if (op === 'REPLACE' && !FILTERS.has(applyTo)) {
        m.report('IST0152', ef, `Patch #${i} uses REPLACE on ${applyTo}; REPLACE only works on HTTP_FILTER and NETWORK_FILTER, so it is ignored. Use MERGE.`);
      }
      if (op === 'ADD' && ROUTES.has(applyTo)) {
        m.report('IST0153', ef, `Patch #${i} uses ADD on ${applyTo}, which is ignored. Use MERGE, or ADD on a supported target.`);
      }
      if (op === 'REMOVE' && ROUTES.has(applyTo)) {
        m.report('IST0154', ef, `Patch #${i} uses REMOVE on ${applyTo}, which is ignored. Use MERGE to change the route.`);
      }
    });
  }
}
