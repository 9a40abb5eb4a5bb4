/**
 * Evaluates a flow through every layer, and turns the verdicts into findings. @internal
 */
import { ObjectRef } from '../finding';
import { arr, Entry, Model, text } from '../model';
import { isHttpProtocol, protocolOfServicePort } from '../protocol';
import { ambientLayers, HBONE } from './ambient';
import { Declared, EgressRoute, FlowCollector } from './declared';
import { authorization, Endpoint, LayerResult, networkPolicy, peerAuthentication, refText, sidecarScope } from './layers';
import { MeshFlow, FlowAnalysisOptions, MeshFlowKind, FlowVerdict } from './types';
import { bypassesInbound, bypassesOutbound, Pod, World } from './world';

interface Outcome {
  readonly verdict: FlowVerdict;
  readonly reason: string;
  readonly layer?: string;
  readonly object?: Entry;
}

const DECLARED_KINDS = new Set([MeshFlowKind.CALL, MeshFlowKind.GATEWAY_ROUTE, MeshFlowKind.ROUTE, MeshFlowKind.MIRROR]);

/** The first denying layer wins; then unknown, then partial; allowed names every rule that let it through. */
function combine(layers: readonly LayerResult[]): Outcome {
  const denied = layers.find(l => l.verdict === FlowVerdict.DENIED);
  if (denied) return { verdict: FlowVerdict.DENIED, reason: `${denied.layer}: ${denied.detail}`, layer: denied.layer, ...(denied.object ? { object: denied.object } : {}) };
  const unknown = layers.find(l => l.verdict === FlowVerdict.UNKNOWN);
  if (unknown) return { verdict: FlowVerdict.UNKNOWN, reason: `${unknown.layer}: ${unknown.detail}` };
  const details = layers.map(l => l.detail).filter(Boolean);
  const partial = layers.some(l => l.verdict === FlowVerdict.PARTIAL);
  return { verdict: partial ? FlowVerdict.PARTIAL : FlowVerdict.ALLOWED, reason: details.length ? details.join('; ') : 'no policy restricts it' };
}

/** Service port -> the destination pod's port (targetPort: a number or a named container port). */
function targetPortOf(portSpec: any, pod: Pod | undefined): number | undefined {
  const t = portSpec?.targetPort;
  if (t === undefined || t === null || t === '') return Number(portSpec?.port);
  if (typeof t === 'number' || /^\d+$/.test(text(t))) return Number(t);
  return pod?.namedPorts.get(text(t));
}

export class FlowEvaluator {
  private readonly cache = new Map<string, Outcome>();

  constructor(private readonly w: World) {}

  public evaluate(d: Declared): Outcome {
    const k = `${d.mode}${d.skipSidecar ? '-policies' : ''}\0${d.src.id}\0${d.target.host}\0${d.target.port}\0${d.target.subset ?? ''}`;
    let o = this.cache.get(k);
    if (!o) this.cache.set(k, o = this.compute(d));
    return o;
  }

  private compute(d: Declared): Outcome {
    const w = this.w;
    const { src, target, mode } = d;
    const pre: LayerResult[] = [];
    let mtls = src.meshed;
    if (mode === 'app' && src.pod && src.meshed && !src.pod.gateway && bypassesOutbound(src.pod, target.port)) {
      mtls = false;
      pre.push({ verdict: FlowVerdict.ALLOWED, layer: 'Sidecar', detail: `port ${target.port} is excluded from ${src.id}'s proxy (excludeOutboundPorts): plaintext` });
    } else if ((mode === 'app' || mode === 'telemetry') && src.pod && !d.skipSidecar) {
      const sc = sidecarScope(w, src.pod, target.host, target.hostNs, target.port, target.svc, mode === 'telemetry', target.unregistered === true);
      if (sc.verdict === FlowVerdict.DENIED) return combine([sc]);
      if (sc.passthrough) mtls = false;
      pre.push(sc);
    }
    let portSpec: any;
    if (target.svc) {
      portSpec = arr(target.svc.obj.spec?.ports).find((p: any) => Number(p?.port) === target.port);
      if (!portSpec) return { verdict: FlowVerdict.DENIED, layer: 'Service', object: target.svc, reason: `Service: ${refText(target.svc)} has no port ${target.port}` };
    }
    const proto = portSpec ? protocolOfServicePort(portSpec) : undefined;
    // a sniffed port (no protocol declared) may carry HTTP: HTTP-only rules can match
    const http = proto === undefined || isHttpProtocol(proto);
    const pods: ReadonlyArray<Pod | undefined> = target.pods && target.pods.length ? target.pods : [undefined];
    const outcomes: Array<{ pod?: Pod; o: Outcome }> = [];
    for (const pod of pods) {
      const layers = [...pre];
      const dst: Endpoint = pod ? { ns: pod.ns, labels: pod.labels, pod } : target.external ? { external: true } : { ns: target.hostNs };
      const port = target.podPort ?? (portSpec ? targetPortOf(portSpec, pod) : target.external ? target.port : undefined);
      if (mode === 'app' && pod?.ambient && port !== undefined) {
        // an ambient destination: ztunnel (and its waypoint, if any) instead of a proxy in the pod
        layers.push(...ambientLayers(w, src, target.svc, pod, port, target.port, http));
        outcomes.push({ pod, o: combine(layers) });
        continue;
      }
      // an ambient source's connection is ztunnel's: to a proxy that speaks HBONE it is an mTLS tunnel to the pod's
      // port 15008 (what NetworkPolicy sees), to any other proxy plain text to the port itself. An Envoy source never
      // tunnels to a sidecar: its endpoint carries security.istio.io/tlsMode=istio, which gets Istio mTLS on the port
      // unless PILOT_PREFER_SENDING_HBONE (off by default; Istio 1.30.3 pilot/pkg/xds/endpoints/endpoint_builder.go)
      const tunnel = src.pod?.ambient === true && pod?.hbone === true;
      const mtlsHere = mtls || tunnel;
      const wire = tunnel ? HBONE : port;
      layers.push(networkPolicy(w, 'egress', src.endpoint, dst, wire));
      if (!target.external) layers.push(networkPolicy(w, 'ingress', src.endpoint, dst, wire));
      if (mode === 'app' && !target.external) {
        if (pod && port !== undefined && bypassesInbound(pod, port)) {
          layers.push({ verdict: FlowVerdict.ALLOWED, layer: 'proxy', detail: `port ${port} bypasses ${pod.name}'s proxy` });
        } else if (pod && port !== undefined) {
          layers.push(peerAuthentication(w, pod, port, mtlsHere));
          const who = mtlsHere && src.pod ? { mtls: true as const, principal: src.identity, ns: src.pod.ns } : { mtls: false as const };
          layers.push(authorization(w, pod, port, http, who));
        } else if (pod) {
          layers.push({ verdict: FlowVerdict.DENIED, layer: 'Service', object: target.svc, detail: `${pod.entry.kind} ${pod.name} has no container port named ${text(portSpec?.targetPort)}` });
        } else {
          layers.push({ verdict: FlowVerdict.UNKNOWN, layer: 'destination', detail: `the pods behind ${target.host} are not in the input` });
        }
      }
      outcomes.push({ ...(pod ? { pod } : {}), o: combine(layers) });
    }
    return merge(outcomes);
  }
}

/** Several backends: all denied -> denied; some denied -> partial (naming them); else the least certain verdict. */
function merge(list: ReadonlyArray<{ pod?: Pod; o: Outcome }>): Outcome {
  if (list.length === 1) return list[0].o;
  const denied = list.filter(x => x.o.verdict === FlowVerdict.DENIED);
  if (denied.length === list.length) return denied[0].o;
  const ok = list.find(x => x.o.verdict !== FlowVerdict.DENIED)!;
  if (denied.length) {
    return {
      verdict: FlowVerdict.PARTIAL,
      reason: `${ok.o.reason}; but denied to ${denied.map(x => x.pod ? `${x.pod.entry.kind} ${x.pod.name}` : '?').join(', ')}: ${denied[0].o.reason}`,
    };
  }
  return list.find(x => x.o.verdict === FlowVerdict.UNKNOWN)?.o ?? list.find(x => x.o.verdict === FlowVerdict.PARTIAL)?.o ?? list[0].o;
}

function refOf(e: Entry): ObjectRef {
  return e.ref;
}

const KIND_ORDER: Record<string, number> = Object.fromEntries(Object.values(MeshFlowKind).map((k, i) => [k, i]));

/**
 * Runs the flow analysis over a Model: reports the MESH1xx findings into it and returns every flow, sorted.
 */
export function runFlowAnalysis(m: Model, options: FlowAnalysisOptions = {}): MeshFlow[] {
  const w = new World(m, options);
  const c = new FlowCollector(w);
  c.sidecarCallsFlows();
  c.ambientCallsFlows();
  c.gatewayFlows();
  c.infrastructureFlows();
  c.scrapeFlows();
  const ev = new FlowEvaluator(w);
  const flows: MeshFlow[] = [];
  // a Sidecar import without a port is honoured when some port of the host gets through
  const honoured = new Set<string>();
  for (const d of c.flows) {
    if (d.anyPortOf && ev.evaluate(d).verdict !== FlowVerdict.DENIED) honoured.add(d.anyPortOf);
  }
  for (const d of c.flows) {
    const o = ev.evaluate(d);
    if (d.anyPortOf && o.verdict === FlowVerdict.DENIED && honoured.has(d.anyPortOf)) continue;
    flows.push({
      kind: d.kind,
      source: d.src.id,
      sourceIdentity: d.src.identity,
      sourceMeshed: d.src.meshed,
      destination: d.target.host,
      port: d.target.port,
      ...(d.target.subset ? { subset: d.target.subset } : {}),
      verdict: o.verdict,
      reason: o.reason,
      declaredBy: refOf(d.by),
      ...(o.layer ? { deniedAt: o.layer } : {}),
      ...(o.object ? { deniedBy: refOf(o.object) } : {}),
    });
    if (o.verdict === FlowVerdict.DENIED) report(m, d, o);
  }
  for (const e of c.egress) reportBypass(m, w, e);
  reportUnreachablePorts(m, w);
  return flows.sort(compareFlows);
}

/** Code-unit order: the same on every machine and locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareFlows(a: MeshFlow, b: MeshFlow): number {
  return cmp(a.source, b.source) || cmp(a.destination, b.destination) || a.port - b.port || cmp(a.subset ?? '', b.subset ?? '')
    || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || cmp(a.declaredBy.kind, b.declaredBy.kind) || cmp(a.declaredBy.namespace ?? '', b.declaredBy.namespace ?? '')
    || cmp(a.declaredBy.name, b.declaredBy.name);
}

function report(m: Model, d: Declared, o: Outcome): void {
  const flow = `${d.src.id} (${d.src.identity}) -> ${d.target.host}:${d.target.port}`;
  const at = o.object ? `${o.layer} (${refText(o.object)})` : o.layer;
  if (DECLARED_KINDS.has(d.kind)) {
    m.report('MESH101', d.by, `${flow}, declared here (${d.kind}), is denied at ${at}: ${o.reason}. Allow it in that policy or drop the declaration.`);
  } else if (d.kind === MeshFlowKind.CONTROL_PLANE || d.kind === MeshFlowKind.CERTIFICATE_AUTHORITY) {
    const what = d.kind === MeshFlowKind.CONTROL_PLANE ? 'istiod (configuration and certificates)' : 'its CA (CA_ADDR)';
    m.report('MESH102', d.src.pod!.entry, `The proxy of ${d.src.id} cannot reach ${what} at ${d.target.host}:${d.target.port}: ${o.reason}. The proxy never becomes ready; allow the egress (and the ingress at the destination).`);
  } else if (d.kind === MeshFlowKind.TELEMETRY) {
    m.report('MESH103', d.src.pod!.entry, `The proxy of ${d.src.id} cannot reach the telemetry provider ${d.target.host}:${d.target.port} (${refText(d.by)}): ${o.reason}. Its traces, logs or metrics are dropped.`);
  } else if (d.kind === MeshFlowKind.SCRAPE) {
    const pod = d.target.pods![0];
    m.report('MESH104', pod.entry, `The metrics scraper (${d.src.id}) cannot reach ${d.target.host} on port ${d.target.port}: ${o.reason}. Its metrics are missing; allow ingress from the scraper's namespace on ports 15020 and 15090.`);
  }
}

function reportBypass(m: Model, w: World, e: EgressRoute): void {
  const r = networkPolicy(w, 'egress', e.src.endpoint, { external: true }, e.port);
  if (r.verdict !== FlowVerdict.ALLOWED || !r.object) return; // not isolated for egress, or no rule reaches out directly
  m.report('MESH105', r.object, `${e.src.id} may reach ${e.host}:${e.port} directly (${r.detail} allows every address), bypassing the egress gateway that ${refText(e.vs)} routes it through. Restrict the rule to the egress gateway's pods.`);
}

function reportUnreachablePorts(m: Model, w: World): void {
  for (const svc of m.ofKind('Service')) {
    const pods = w.podsOf(svc);
    if (pods.length === 0) continue;
    for (const portSpec of arr(svc.obj.spec?.ports)) {
      const proto = protocolOfServicePort(portSpec);
      const http = proto === undefined || isHttpProtocol(proto);
      let why: string | undefined;
      let open = false;
      for (const pod of pods) {
        const port = targetPortOf(portSpec, pod);
        if (port === undefined) continue;
        // an ambient pod is reached over HBONE (15008), the port itself only in plain text; a proxy that speaks
        // HBONE on the port (from proxies) or on 15008 (from ambient pods, through ztunnel)
        const np = pod.ambient ? ingressOpen(w, pod, HBONE) : pod.hbone && ingressOpen(w, pod, HBONE) === true ? true : ingressOpen(w, pod, port);
        const ap = bypassesInbound(pod, port) ? { verdict: FlowVerdict.ALLOWED, layer: '', detail: '' } : authorization(w, pod, port, http, { mtls: true, anyone: true });
        if (np === true && ap.verdict !== FlowVerdict.DENIED) {
          open = true;
          break;
        }
        why ??= np !== true ? np : `${ap.layer}: ${ap.detail}`;
      }
      if (!open && why) {
        m.report('MESH106', svc, `No source can reach port ${text(portSpec?.port)}${portSpec?.name ? ` (${text(portSpec.name)})` : ''}: ${why}. Allow a caller, or remove the port.`);
      }
    }
  }
}

/** Whether some source may reach a pod's port past NetworkPolicy ingress; else why not. */
function ingressOpen(w: World, pod: Pod, port: number): true | string {
  const policies = w.netpols.query(pod.ns, pod.labels).filter(p => p.ingress);
  if (policies.length === 0) return true;
  for (const np of policies) {
    for (const rule of arr(np.entry.obj.spec?.ingress)) {
      const ports = arr(rule?.ports);
      if (ports.length === 0) return true;
      for (const p of ports) {
        if (text(p?.protocol || 'TCP').toUpperCase() !== 'TCP') continue;
        if (p?.port === undefined) return true;
        const n = typeof p.port === 'number' || /^\d+$/.test(text(p.port)) ? Number(p.port) : pod.namedPorts.get(text(p.port));
        const end = typeof p.endPort === 'number' ? p.endPort : n;
        if (n !== undefined && port >= n && port <= end!) return true;
      }
    }
  }
  return `NetworkPolicy ingress: ${policies.map(p => refText(p.entry)).join(', ')} isolate ${pod.entry.kind} ${pod.name} and no rule allows port ${port}`;
}
