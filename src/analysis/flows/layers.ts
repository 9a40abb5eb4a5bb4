/**
 * The layers a connection crosses, each a pure function of the World: the source's Sidecar scope, NetworkPolicy
 * egress of the source and ingress of the destination, PeerAuthentication and AuthorizationPolicy at the
 * destination's proxy. @internal
 */
import { HTTP_OPERATION_FIELDS, HTTP_SOURCE_FIELDS, httpFieldsOf } from '../authz-fields';
import { arr, Entry, hostMatches, text } from '../model';
import { parseLabelSelector, selectorMatches } from './selectors';
import { FlowVerdict } from './types';
import { fqdnOf, GATEWAY_NAME_LABEL, Pod, World } from './world';

/** One end of a connection, as NetworkPolicy sees it. */
export interface Endpoint {
  /** The namespace (undefined for an external host). */
  readonly ns?: string;
  /** The pod labels; undefined when the pods are not in the input (or any pod, with `anyPod`). */
  readonly labels?: Readonly<Record<string, string>>;
  /** With labels undefined: any pod of the namespace counts (selectors match), rather than unknown pods. */
  readonly anyPod?: boolean;
  readonly pod?: Pod;
  /** An address outside the cluster. */
  readonly external?: boolean;
}

/** What one layer decides. */
export interface LayerResult {
  readonly verdict: FlowVerdict;
  readonly layer: string;
  /** The deciding object (allowing rule's or denying policy's). */
  readonly object?: Entry;
  /** `NetworkPolicy shop/db ingress rule #0`, or why it denies. Empty when no policy applies. */
  readonly detail: string;
  /** Sidecar layer only: not imported, but ALLOW_ANY sends it through the passthrough cluster (plaintext). */
  readonly passthrough?: boolean;
}

const ALL_CIDRS = new Set(['0.0.0.0/0', '::/0']);

export function refText(e: Entry): string {
  return `${e.kind} ${e.ns ? `${e.ns}/` : ''}${e.name}`;
}

function allowed(layer: string, detail: string, object?: Entry): LayerResult {
  return { verdict: FlowVerdict.ALLOWED, layer, detail, ...(object ? { object } : {}) };
}

// ---------------------------------------------------------------------------------------------------------------
// NetworkPolicy

/** true / false / undefined (cannot tell from the input). */
type Maybe = boolean | undefined;

function and(a: Maybe, b: Maybe): Maybe {
  if (a === false || b === false) return false;
  return a === undefined || b === undefined ? undefined : true;
}

function peerMatches(w: World, policyNs: string, peer: any, ep: Endpoint): Maybe {
  if (peer?.ipBlock) {
    // Approximation: pod IPs are not known offline; a cluster pod is inside an ipBlock only when it covers every
    // address. An external host's address is unknown too, unless the block is everything.
    // An `except` list may cut the pod network out of 0.0.0.0/0 (the usual "internet only" rule): unknown for pods.
    const all = ALL_CIDRS.has(text(peer.ipBlock.cidr));
    if (all) return ep.external || arr(peer.ipBlock.except).length === 0 ? true : undefined;
    return ep.external ? undefined : false;
  }
  if (ep.external || (!peer?.namespaceSelector && !peer?.podSelector)) return false;
  if (ep.ns === undefined) return undefined;
  const nsOk = peer.namespaceSelector
    ? selectorMatches(parseLabelSelector(peer.namespaceSelector), w.namespaceLabels(ep.ns))
    : ep.ns === policyNs;
  if (!nsOk) return false;
  if (!peer.podSelector) return true;
  const sel = parseLabelSelector(peer.podSelector);
  if (ep.labels) return selectorMatches(sel, ep.labels);
  if (Object.keys(sel.labels).length === 0 && sel.expressions.length === 0) return true;
  return ep.anyPod ? true : undefined;
}

function portMatches(ports: any[], port: number | undefined, dst: Endpoint): Maybe {
  if (ports.length === 0) return true;
  let result: Maybe = false;
  for (const p of ports) {
    if (text(p?.protocol || 'TCP').toUpperCase() !== 'TCP') continue;
    if (p?.port === undefined || p?.port === null) return true;
    let m: Maybe;
    if (port === undefined) {
      m = undefined;
    } else if (typeof p.port === 'number' || /^\d+$/.test(text(p.port))) {
      const n = Number(p.port);
      const end = typeof p.endPort === 'number' ? p.endPort : n;
      m = port >= n && port <= end;
    } else {
      const named = dst.pod?.namedPorts.get(text(p.port));
      m = dst.pod ? named === port : undefined;
    }
    if (m === true) return true;
    if (m === undefined) result = undefined;
  }
  return result;
}

/**
 * NetworkPolicy in one direction: `egress` (policies selecting `from`, rules naming `to`) or `ingress` (policies
 * selecting `to`, rules naming `from`). `port` is the destination pod's port (NetworkPolicy sees it after the
 * Service's DNAT), undefined when unknown.
 */
export function networkPolicy(w: World, direction: 'egress' | 'ingress', from: Endpoint, to: Endpoint, port: number | undefined): LayerResult {
  const layer = `NetworkPolicy ${direction}`;
  const self = direction === 'egress' ? from : to;
  const peer = direction === 'egress' ? to : from;
  if (self.ns === undefined) return allowed(layer, '');
  const labels = self.labels;
  const policies = w.netpols.query(self.ns, labels).filter(p => (direction === 'egress' ? p.egress : p.ingress));
  if (policies.length === 0) {
    // pods the input does not show may still be selected by a selector-ful policy: only judge known pods
    if (!labels && !self.anyPod && w.netpols.hasNamespace(self.ns)) return { verdict: FlowVerdict.UNKNOWN, layer, detail: `the pods of ${self.ns} are not in the input` };
    return allowed(layer, '');
  }
  let unknown = false;
  for (const np of policies) {
    const rules = arr(np.entry.obj.spec?.[direction]);
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      const peers = arr(direction === 'egress' ? rule?.to : rule?.from);
      let peerOk: Maybe = peers.length === 0 ? true : false;
      for (const p of peers) {
        const m = peerMatches(w, np.entry.ns!, p, peer);
        if (m === true) {
          peerOk = true;
          break;
        }
        if (m === undefined) peerOk = undefined;
      }
      const ok = and(peerOk, portMatches(arr(rule?.ports), port, to));
      if (ok === true) return allowed(layer, `${refText(np.entry)} ${direction} rule #${i}`, np.entry);
      if (ok === undefined) unknown = true;
    }
  }
  const names = policies.map(p => refText(p.entry)).join(', ');
  if (unknown) return { verdict: FlowVerdict.UNKNOWN, layer, detail: `cannot tell whether ${names} allow it (pods or addresses not in the input)` };
  return {
    verdict: FlowVerdict.DENIED,
    layer,
    object: policies[0].entry,
    detail: `${names} ${policies.length > 1 ? 'isolate' : 'isolates'} the pod for ${direction} and no rule allows port ${port ?? '?'}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Sidecar scope

/** The Sidecar that applies to a pod: workload-selected, else its namespace's default, else the root's. */
export function sidecarOf(w: World, pod: Pod): Entry | undefined {
  return w.sidecars.query(pod.ns, pod.labels)[0]?.entry ?? w.sidecarDefault.get(pod.ns) ?? w.sidecarDefault.get(w.m.rootNamespace);
}

/** A Sidecar egress host entry (`ns/host`) parsed; host normalised to an FQDN when it names a Service. */
export interface SidecarHost {
  /** `*`, `~` or a namespace ('.' resolved). */
  readonly ns: string;
  /** `*`, a wildcard (`*.example.com`), an FQDN, or a short name (only with ns `*`). */
  readonly host: string;
}

export function parseSidecarHost(w: World, sidecar: Entry, entry: string): SidecarHost {
  const slash = entry.indexOf('/');
  let ns = slash < 0 ? '*' : entry.slice(0, slash);
  const raw = slash < 0 ? entry : entry.slice(slash + 1);
  if (ns === '.') ns = sidecar.ns!;
  if (raw === '*' || raw.startsWith('*') || ns === '~') return { ns, host: raw };
  if (!raw.includes('.')) return { ns, host: ns === '*' ? raw : w.m.serviceHost(raw, ns) };
  return { ns, host: fqdnOf(w.m, raw, ns === '*' ? sidecar.ns! : ns) };
}

function hostImported(h: SidecarHost, host: string, hostNs: string | undefined): boolean {
  if (h.ns === '~') return false;
  if (h.ns !== '*' && hostNs !== undefined && h.ns !== hostNs) return false;
  if (h.host === '*') return true;
  if (h.host.startsWith('*')) return hostMatches(h.host, host);
  if (!h.host.includes('.')) return host.startsWith(`${h.host}.`) && host.includes('.svc.');
  return h.host === host;
}

/**
 * The source's Sidecar: does it import the destination host on this port? Not imported: REGISTRY_ONLY (or a
 * proxy's own cluster, `needCluster`) denies; ALLOW_ANY sends the connection through the passthrough cluster,
 * in plaintext.
 */
export function sidecarScope(
  w: World, pod: Pod, host: string, hostNs: string | undefined, port: number, svc: Entry | undefined, needCluster: boolean,
  unregistered = false,
): LayerResult {
  const layer = 'Sidecar';
  if (!pod.meshed || pod.gateway) return allowed(layer, '');
  const sc = sidecarOf(w, pod);
  const visible = !svc || w.m.visible(svc, new Set([pod.ns]));
  if (!visible) {
    return { verdict: FlowVerdict.DENIED, layer, object: svc, detail: `${refText(svc!)} is not exported to namespace ${pod.ns}` };
  }
  if (!sc) {
    const mode = w.meshConfig(pod.revision).outboundPolicy;
    if (unregistered && mode === 'REGISTRY_ONLY') return { verdict: FlowVerdict.DENIED, layer, detail: `no ServiceEntry declares ${host} and the mesh's outbound policy is REGISTRY_ONLY` };
    return allowed(layer, '');
  }
  let imported = false;
  for (const l of arr(sc.obj.spec?.egress)) {
    const lp = l?.port?.number;
    if (typeof lp === 'number' && lp !== port) continue;
    if (arr(l?.hosts).some((e: any) => typeof e === 'string' && hostImported(parseSidecarHost(w, sc, e), host, hostNs))) {
      imported = true;
      break;
    }
  }
  if (arr(sc.obj.spec?.egress).length === 0) imported = true; // no egress section: the namespace's default import
  const mode = text(sc.obj.spec?.outboundTrafficPolicy?.mode || w.meshConfig(pod.revision).outboundPolicy);
  if (imported && unregistered && mode === 'REGISTRY_ONLY') {
    return { verdict: FlowVerdict.DENIED, layer, object: sc, detail: `no ServiceEntry declares ${host} and the outbound policy of ${refText(sc)} is REGISTRY_ONLY` };
  }
  if (imported) return allowed(layer, `${refText(sc)} imports ${host}`, sc);
  if (needCluster) return { verdict: FlowVerdict.DENIED, layer, object: sc, detail: `${refText(sc)} does not import ${host}, so Envoy has no cluster for it` };
  if (mode === 'REGISTRY_ONLY') return { verdict: FlowVerdict.DENIED, layer, object: sc, detail: `${refText(sc)} does not import ${host} and its outbound policy is REGISTRY_ONLY` };
  return { ...allowed(layer, `${refText(sc)} does not import ${host}: ALLOW_ANY passes it through in plaintext`, sc), passthrough: true };
}

// ---------------------------------------------------------------------------------------------------------------
// PeerAuthentication

function modeOf(pa: Entry, port: number | undefined): string | undefined {
  const plm = pa.obj.spec?.portLevelMtls;
  if (port !== undefined && plm && typeof plm === 'object') {
    const m = plm[String(port)]?.mode;
    if (typeof m === 'string' && m !== 'UNSET') return m;
  }
  const m = pa.obj.spec?.mtls?.mode;
  return typeof m === 'string' && m !== 'UNSET' ? m : undefined;
}

/** The mTLS mode a meshed pod accepts on a port, and the PeerAuthentication that sets it. */
export function mtlsMode(w: World, pod: Pod, port: number | undefined): { mode: string; by?: Entry } {
  for (const pa of w.peerAuth.query(pod.ns, pod.labels)) {
    const mode = modeOf(pa.entry, port);
    if (mode) return { mode, by: pa.entry };
  }
  for (const pa of [w.peerAuthDefault.get(pod.ns), w.peerAuthDefault.get(w.m.rootNamespace)]) {
    const mode = pa && modeOf(pa, undefined);
    if (mode) return { mode, by: pa };
  }
  return { mode: 'PERMISSIVE' };
}

export function peerAuthentication(w: World, dst: Pod, port: number, sourceMtls: boolean): LayerResult {
  const layer = 'PeerAuthentication';
  if (!dst.meshed) return allowed(layer, '');
  const { mode, by } = mtlsMode(w, dst, port);
  if (mode === 'STRICT' && !sourceMtls) {
    return { verdict: FlowVerdict.DENIED, layer, object: by, detail: `${by ? refText(by) : 'the mesh'} requires mTLS (STRICT) on port ${port} and the source sends plaintext` };
  }
  return allowed(layer, '');
}

// ---------------------------------------------------------------------------------------------------------------
// AuthorizationPolicy

/**
 * Whether a rule part matches no, some or all requests of a flow, or MAYBE: all or none, and the input cannot tell
 * which (the source's address against a narrower block than everything).
 */
const NONE = 0;
const SOME = 1;
const ALL = 2;
const MAYBE = 3;
type Tri = 0 | 1 | 2 | 3;
/** How much of the flow a part surely matches: NONE < MAYBE < SOME < ALL. */
const RANK: Record<Tri, number> = { [NONE]: 0, [MAYBE]: 1, [SOME]: 2, [ALL]: 3 };

/** The source as the destination's proxy sees it. */
export interface AuthzSource {
  /** The connection is mTLS: principal and namespace are known. */
  readonly mtls: boolean;
  readonly principal?: string;
  readonly ns?: string;
  /** Any source at all (for "can anyone reach this port"): source conditions match some requests. */
  readonly anyone?: boolean;
}

interface AuthzCtx {
  readonly src: AuthzSource;
  readonly port: number;
  readonly http: boolean;
  readonly deny: boolean;
}

/** Istio's string match: exact, `*`, `prefix*`, `*suffix`. */
export function istioMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return value !== '';
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

/** All parts: none if one matches none; else unknown if one is (some-or-none counts as unknown); else the least. */
function andTri(parts: Tri[]): Tri {
  if (parts.includes(NONE)) return NONE;
  if (parts.includes(MAYBE)) return MAYBE;
  return parts.includes(SOME) ? SOME : ALL;
}

/** Any part: the surest (some-or-all counts as some). */
function orTri(parts: Tri[]): Tri {
  let r: Tri = NONE;
  for (const p of parts) if (RANK[p] > RANK[r]) r = p;
  return r;
}

function not(t: Tri): Tri {
  return t === ALL ? NONE : t === NONE ? ALL : t;
}

/** A list of patterns against a peer attribute only known with mTLS. */
function peerAttr(list: any[], value: string | undefined, ctx: AuthzCtx): Tri {
  if (ctx.src.anyone) return SOME;
  if (!ctx.src.mtls || value === undefined) return NONE;
  return list.some(p => istioMatch(text(p), value)) ? ALL : NONE;
}

/**
 * A list of address blocks against the source's address. Pod addresses are not in the input: a block narrower than
 * everything may or may not hold the source (MAYBE: a DENY rule naming it may deny, an ALLOW rule may not allow).
 */
function ipAttr(list: any[], ctx: AuthzCtx): Tri {
  if (ctx.src.anyone) return SOME;
  if (list.some(c => ALL_CIDRS.has(text(c)))) return ALL;
  return list.length ? MAYBE : NONE;
}

/** An HTTP-only field: on a non-HTTP port, DENY drops it (matches as if absent), ALLOW never matches. */
function httpOnly(ctx: AuthzCtx): Tri {
  if (!ctx.http) return ctx.deny ? ALL : NONE;
  return SOME;
}

function sourceMatch(s: any, ctx: AuthzCtx): Tri {
  const parts: Tri[] = [];
  const field = (f: string) => arr(s?.[f]);
  if (field('principals').length) parts.push(peerAttr(field('principals'), ctx.src.principal, ctx));
  if (field('notPrincipals').length) parts.push(ctx.src.anyone ? SOME : !ctx.src.mtls ? ALL : not(peerAttr(field('notPrincipals'), ctx.src.principal, ctx)));
  if (field('namespaces').length) parts.push(peerAttr(field('namespaces'), ctx.src.ns, ctx));
  if (field('notNamespaces').length) parts.push(ctx.src.anyone ? SOME : !ctx.src.mtls ? ALL : not(peerAttr(field('notNamespaces'), ctx.src.ns, ctx)));
  for (const f of ['ipBlocks', 'remoteIpBlocks']) if (field(f).length) parts.push(ipAttr(field(f), ctx));
  for (const f of ['notIpBlocks', 'notRemoteIpBlocks']) if (field(f).length) parts.push(ctx.src.anyone ? SOME : not(ipAttr(field(f), ctx)));
  for (const f of HTTP_SOURCE_FIELDS) if (field(f).length) parts.push(httpOnly(ctx)); // JWT: unknown statically
  return andTri(parts);
}

function operationMatch(o: any, ctx: AuthzCtx): Tri {
  const parts: Tri[] = [];
  if (arr(o?.ports).length) parts.push(arr(o.ports).map(text).includes(String(ctx.port)) ? ALL : NONE);
  if (arr(o?.notPorts).length) parts.push(arr(o.notPorts).map(text).includes(String(ctx.port)) ? NONE : ALL);
  for (const f of HTTP_OPERATION_FIELDS) if (arr(o?.[f]).length) parts.push(httpOnly(ctx));
  return andTri(parts);
}

function conditionMatch(c: any, ctx: AuthzCtx): Tri {
  const key = text(c?.key);
  const values = arr(c?.values).map(text);
  const notValues = arr(c?.notValues).map(text);
  const test = (matcher: (list: string[]) => Tri): Tri => andTri([
    ...(values.length ? [matcher(values)] : []),
    ...(notValues.length ? [not(matcher(notValues))] : []),
  ]);
  if (key.startsWith('request.')) return httpOnly(ctx);
  switch (key) {
    case 'destination.port': return test(l => (l.includes(String(ctx.port)) ? ALL : NONE));
    case 'source.principal': return test(l => peerAttr(l, ctx.src.principal, ctx));
    case 'source.namespace': return test(l => peerAttr(l, ctx.src.ns, ctx));
    case 'source.ip': case 'remote.ip': return test(l => ipAttr(l, ctx));
    default: return SOME;
  }
}

function ruleMatch(rule: any, ctx: AuthzCtx): Tri {
  if (!ctx.deny && !ctx.http && httpFieldsOf(rule).length > 0) return NONE; // Istio drops the ALLOW rule for TCP traffic
  const from = arr(rule?.from);
  const to = arr(rule?.to);
  return andTri([
    from.length ? orTri(from.map((f: any) => sourceMatch(f?.source, ctx))) : ALL,
    to.length ? orTri(to.map((t: any) => operationMatch(t?.operation, ctx))) : ALL,
    ...arr(rule?.when).map((c: any) => conditionMatch(c, ctx)),
  ]);
}

/** The AuthorizationPolicies enforced by a pod's proxy (dry-run ones are left out when the World is built). */
export function authorizationPoliciesOf(w: World, pod: Pod): Entry[] {
  const out = w.authz.query(pod.ns, pod.labels).map(s => s.entry);
  if (pod.ns !== w.m.rootNamespace) out.push(...w.authz.query(w.m.rootNamespace, pod.labels).map(s => s.entry));
  const gw = pod.labels[GATEWAY_NAME_LABEL];
  if (gw !== undefined) {
    for (const s of w.authzTargeted.get(pod.ns) ?? []) {
      const spec = s.entry.obj.spec ?? {};
      const refs = [...arr(spec.targetRefs), ...(spec.targetRef ? [spec.targetRef] : [])];
      if (refs.some((r: any) => r?.kind === 'Gateway' && r?.name === gw)) out.push(s.entry);
    }
  }
  return out;
}

/**
 * AuthorizationPolicy at the destination's proxy (Istio 1.30): CUSTOM (not judged), then DENY, then ALLOW (OR-ed:
 * when any applies, the request must match one); AUDIT ignored.
 */
export function authorization(
  w: World, dst: Pod, port: number, http: boolean, src: AuthzSource, policies: Entry[] = authorizationPoliciesOf(w, dst),
): LayerResult {
  const layer = 'AuthorizationPolicy';
  if (!dst.meshed) return allowed(layer, '');
  if (policies.length === 0) return allowed(layer, '');
  const notes: string[] = [];
  let partialDeny: string | undefined;
  let maybeDeny: string | undefined;
  for (const p of policies) {
    const action = text(p.obj.spec?.action || 'ALLOW');
    if (action === 'CUSTOM') notes.push(`depends on the external authorizer of ${refText(p)}`);
    if (action !== 'DENY') continue;
    const rules = arr(p.obj.spec?.rules);
    for (let i = 0; i < rules.length; i++) {
      const r = ruleMatch(rules[i], { src, port, http, deny: true });
      if (r === ALL) return { verdict: FlowVerdict.DENIED, layer, object: p, detail: `${refText(p)} (DENY) rule #${i} matches` };
      if (r === SOME && !partialDeny) partialDeny = `${refText(p)} (DENY) rule #${i} denies some requests`;
      if (r === MAYBE && !maybeDeny) maybeDeny = `${refText(p)} (DENY) rule #${i} may match (it names addresses; the source's is not in the input)`;
    }
  }
  const allows = policies.filter(p => text(p.obj.spec?.action || 'ALLOW') === 'ALLOW');
  let best: Tri = allows.length ? NONE : ALL;
  let by: Entry | undefined;
  let detail = '';
  for (const p of allows) {
    const rules = arr(p.obj.spec?.rules);
    for (let i = 0; i < rules.length && best !== ALL; i++) {
      const r = ruleMatch(rules[i], { src, port, http, deny: false });
      if (RANK[r] > RANK[best]) {
        best = r;
        by = p;
        detail = `${refText(p)} rule #${i}${r === SOME ? ' (some requests)' : r === MAYBE ? " (if the source's address matches: not in the input)" : ''}`;
      }
    }
    if (best === ALL) break;
  }
  if (best === NONE) {
    const names = allows.map(refText).join(', ');
    return { verdict: FlowVerdict.DENIED, layer, object: allows[0], detail: `no rule of the ALLOW ${allows.length > 1 ? 'policies' : 'policy'} ${names} matches` };
  }
  // a DENY rule that may match, or an ALLOW rule that may not: the input cannot tell (never allowed)
  const parts = [maybeDeny, detail, partialDeny, ...notes].filter((x): x is string => Boolean(x));
  const verdict = best === MAYBE || maybeDeny ? FlowVerdict.UNKNOWN : best === SOME || partialDeny ? FlowVerdict.PARTIAL : FlowVerdict.ALLOWED;
  return { verdict, layer, detail: parts.join('; '), ...(by ? { object: by } : {}) };
}
