/**
 * EnvoyFilter patch checks: IST0151 to IST0155, with the rules of Istio 1.30.3 (envoyfilter.EnvoyPatchAnalyzer).
 * cdk8s-mesh emits no EnvoyFilter; these cover what users bring. @internal
 */
import { arr, Model, text } from '../model';

/** Targets on which ADD and REMOVE are ignored. */
const ROUTES = new Set(['ROUTE_CONFIGURATION', 'HTTP_ROUTE']);
/** Targets REPLACE works on. */
const REPLACEABLE = new Set(['HTTP_FILTER', 'NETWORK_FILTER', 'VIRTUAL_HOST']);

/**
 * The filter a patch is about: `patch.value.name`, else `match.listener.filterChain.filter.name` (how Istio 1.30.3
 * relates patches across EnvoyFilters for IST0155).
 */
function filterName(p: any): string {
  const value = p?.patch?.value;
  if (value && typeof value === 'object' && 'name' in value) return text(value.name);
  return text(p?.match?.listener?.filterChain?.filter?.name ?? '');
}

export function analyzeEnvoyFilters(m: Model): void {
  // Filter names patched by an earlier patch that matches a proxyVersion (input order within, name order across
  // EnvoyFilters, for a deterministic result).
  const versioned = new Set<string>();
  const filters = [...m.ofKind('EnvoyFilter')].sort((a, b) => `${a.ns}/${a.name}`.localeCompare(`${b.ns}/${b.name}`));
  for (const ef of filters) {
    const priority = ef.obj.spec?.priority;
    const hasPriority = typeof priority === 'number' && priority !== 0; // 0 is the default, as unset
    const patches = arr(ef.obj.spec?.configPatches);
    for (let i = 0; i < patches.length; i++) {
      const p = patches[i];
      if (!p?.patch || typeof p.patch !== 'object') break; // Istio stops at a patch without patch
      const op = p.patch.operation;
      const applyTo = p?.applyTo;
      const name = filterName(p);
      const relative = () => {
        if (hasPriority) return;
        if (versioned.has(name)) {
          m.report('IST0155', ef, `Patch #${i} uses the relative operation ${op} without priority on filter "${name}", which an earlier patch matching a proxyVersion also patches: after an upgrade it may apply in another order or not at all. Set spec.priority.`);
        } else {
          m.report('IST0151', ef, `Patch #${i} uses the relative operation ${op} without priority, so its order against other EnvoyFilters is undefined. Set spec.priority.`);
        }
      };
      if (op === 'ADD') {
        if (ROUTES.has(applyTo)) m.report('IST0153', ef, `Patch #${i} uses ADD on ${applyTo}, which is ignored. Use MERGE, or ADD on a supported target.`);
      } else if (op === 'REMOVE') {
        if (ROUTES.has(applyTo)) m.report('IST0154', ef, `Patch #${i} uses REMOVE on ${applyTo}, which is ignored. Use MERGE to change the route.`);
        else relative();
      } else if (op === 'REPLACE') {
        if (!REPLACEABLE.has(applyTo)) m.report('IST0152', ef, `Patch #${i} uses REPLACE on ${applyTo}; REPLACE only works on HTTP_FILTER, NETWORK_FILTER and VIRTUAL_HOST, so it is ignored. Use MERGE.`);
        else relative();
      } else if (op === 'INSERT_BEFORE' || op === 'INSERT_AFTER') {
        // INSERT_FIRST is absolute: it is not reported (Istio 1.30.3).
        relative();
      }
      if (p?.match?.proxy?.proxyVersion) versioned.add(name);
    }
  }
}
