/**
 * Security policy checks: IST0127, IST0101 (source namespaces), MESH002, MESH003; and the effective mTLS mode of
 * workloads, used by the DestinationRule checks. @internal
 */
import { httpFieldsOf } from '../authz-fields';
import { arr, Entry, Model, stringMap, text, Workload } from '../model';
import { isHttpProtocol, protocolOfServicePort } from '../protocol';

const SELECTOR_POLICIES = ['AuthorizationPolicy', 'RequestAuthentication', 'PeerAuthentication'];

function peerAuthentications(m: Model, ns: string): Entry[] {
  return m.ofKindByNamespace('PeerAuthentication').get(ns) ?? [];
}

function modeOf(pa: Entry): string | undefined {
  const mode = pa.obj.spec?.mtls?.mode;
  return typeof mode === 'string' && mode !== 'UNSET' ? mode : undefined;
}

/**
 * The mTLS mode workloads of a namespace accept: a workload PeerAuthentication selecting one of them, else the
 * namespace's, else the mesh-wide one in the root namespace; PERMISSIVE by default.
 */
export function effectiveMtlsMode(m: Model, ns: string, workloads: readonly Workload[]): string {
  const local = peerAuthentications(m, ns);
  for (const pa of local) {
    const sel = stringMap(pa.obj.spec?.selector?.matchLabels);
    if (Object.keys(sel).length === 0) continue;
    if (workloads.some(w => Object.entries(sel).every(([k, v]) => w.labels[k] === v))) {
      const mode = modeOf(pa);
      if (mode) return mode;
    }
  }
  for (const scope of [local, peerAuthentications(m, m.rootNamespace)]) {
    for (const pa of scope) {
      if (Object.keys(stringMap(pa.obj.spec?.selector?.matchLabels)).length > 0) continue;
      const mode = modeOf(pa);
      if (mode) return mode;
    }
  }
  return 'PERMISSIVE';
}

/**
 * Whether a namespace exists; patterns (`prefix*`, `*suffix`, `*`) are not judged, and nothing is judged when the
 * input declares no Namespace at all (it is then a partial view, e.g. one application's chart).
 */
function namespaceExists(m: Model, ns: string): boolean {
  return ns.includes('*') || m.namespaces.has(ns) || m.ofKind('Namespace').length === 0;
}

export function analyzeAuth(m: Model): void {
  for (const kind of SELECTOR_POLICIES) {
    for (const p of m.ofKind(kind)) {
      const spec = p.obj.spec ?? {};
      const sel = stringMap(spec.selector?.matchLabels);
      if (Object.keys(sel).length === 0 || spec.targetRef || arr(spec.targetRefs).length) continue;
      if (m.select(p.ns, sel).length === 0) {
        m.report('IST0127', p, `No matching workloads for this resource with the following labels: ${Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',')}. Fix the selector or deploy the workloads.`);
      }
    }
  }
  for (const ap of m.ofKind('AuthorizationPolicy')) {
    const rules = arr(ap.obj.spec?.rules);
    rules.forEach((rule: any, i: number) => {
      for (const from of arr(rule?.from)) {
        const source = from?.source ?? {};
        for (const ns of [...arr(source.namespaces), ...arr(source.notNamespaces)]) {
          if (typeof ns === 'string' && !namespaceExists(m, ns)) {
            m.report('IST0101', ap, `Referenced namespace not found: "${ns}" (rule #${i}). Fix the namespace name or create it.`);
          }
        }
        for (const p of [...arr(source.principals), ...arr(source.notPrincipals)]) {
          if (typeof p === 'string' && p.startsWith('spiffe://')) {
            m.report('MESH002', ap, `Principal "${p}" (rule #${i}) starts with spiffe://, but Istio compares principals without it, so this never matches. Write "${p.slice('spiffe://'.length)}".`);
          }
        }
      }
    });
    checkHttpFieldsOnTcp(m, ap, rules);
  }
}

/** The Istio protocol of each container port of a workload, from the Services selecting it. */
function portProtocols(m: Model, w: Workload): Map<string, string | undefined> {
  const named = new Map<string, number>();
  for (const c of arr(w.podSpec.containers)) {
    for (const p of arr(c?.ports)) if (p?.name && typeof p.containerPort === 'number') named.set(p.name, p.containerPort);
  }
  const out = new Map<string, string | undefined>();
  for (const svc of m.servicesSelecting(w)) {
    for (const port of arr(svc.obj.spec?.ports)) {
      const t = port?.targetPort ?? port?.port;
      const target = typeof t === 'string' && !/^\d+$/.test(t) ? named.get(t) : Number(t);
      if (target === undefined || Number.isNaN(target)) continue;
      out.set(text(target), protocolOfServicePort(port));
    }
  }
  return out;
}

function checkHttpFieldsOnTcp(m: Model, ap: Entry, rules: any[]): void {
  const spec = ap.obj.spec ?? {};
  if (spec.targetRef || arr(spec.targetRefs).length) return;
  const sel = stringMap(spec.selector?.matchLabels);
  if (Object.keys(sel).length === 0 && ap.ns === m.rootNamespace) return; // mesh-wide: too broad to judge
  const workloads = m.select(ap.ns, sel);
  if (workloads.length === 0) return;
  const protocols = new Map<string, string | undefined>();
  for (const w of workloads) for (const [p, proto] of portProtocols(m, w)) if (!protocols.has(p) || !proto) protocols.set(p, proto);
  if (protocols.size === 0) return;
  rules.forEach((rule: any, i: number) => {
    const fields = httpFieldsOf(rule);
    if (fields.length === 0) return;
    const ports = arr(rule?.to).flatMap((to: any) => arr(to?.operation?.ports)).map(String);
    const inScope = ports.length ? ports.filter(p => protocols.has(p)) : [...protocols.keys()];
    if (inScope.length === 0) return;
    const protos = inScope.map(p => protocols.get(p));
    if (protos.some(p => p === undefined || isHttpProtocol(p))) return;
    const action = spec.action ?? 'ALLOW';
    const effect = action === 'DENY' ? 'Istio drops the HTTP-only conditions, so the rule denies more than written'
      : 'Istio ignores the rule for TCP traffic, so it never allows anything';
    m.report('MESH003', ap, `Rule #${i} uses HTTP-only fields (${fields.join(', ')}) but applies only to TCP ports (${inScope.sort().join(', ')}): ${effect}. Name the ports http-* (or set appProtocol), or use TCP-level fields (ports, principals, namespaces, ipBlocks).`);
  });
}
