/**
 * The AuthorizationPolicy fields Istio 1.30.3 can only evaluate on HTTP traffic (security/v1beta1
 * authorization_policy.proto: "only applies to HTTP"): on a TCP port an ALLOW rule using one is dropped, a DENY rule
 * keeps its other conditions; ztunnel (ambient, no waypoint) cannot evaluate them at all. One list for the analyzers
 * and the flow analysis. @internal
 */
import { arr } from './model';

/** Operation fields that need HTTP. @internal */
export const HTTP_OPERATION_FIELDS = ['methods', 'notMethods', 'paths', 'notPaths', 'hosts', 'notHosts'];
/** Source fields that need HTTP (a JWT's request principal). @internal */
export const HTTP_SOURCE_FIELDS = ['requestPrincipals', 'notRequestPrincipals'];

/** The HTTP-only fields a rule uses (`when request.*` conditions included), for messages. @internal */
export function httpFieldsOf(rule: any): string[] {
  const found = new Set<string>();
  for (const to of arr(rule?.to)) for (const f of HTTP_OPERATION_FIELDS) if (arr(to?.operation?.[f]).length) found.add(f);
  for (const from of arr(rule?.from)) for (const f of HTTP_SOURCE_FIELDS) if (arr(from?.source?.[f]).length) found.add(f);
  for (const c of arr(rule?.when)) if (typeof c?.key === 'string' && c.key.startsWith('request.')) found.add(`when ${c.key}`);
  return [...found];
}
