/**
 * The flows the objects declare (Sidecar egress hosts, gateway routes, mesh routes and mirrors, egress through an
 * egress gateway) and the flows the mesh itself needs (istiod, the CA, telemetry providers, metrics scraping).
 * @internal
 */
import { IstioAnnotations, IstioPorts } from '../../mesh/constants';
import { arr, Entry, Model, stringMap, text } from '../model';
import { ambientGrants } from './ambient';
import { Endpoint, parseSidecarHost, sidecarOf } from './layers';
import { MeshFlowKind } from './types';
import { fqdnOf, GATEWAY_API_GROUP, GATEWAY_NAME_LABEL, ISTIOD_PORT, Pod, splitServiceHost, World } from './world';

/** How the connection is made: by the application (through its proxy), by the proxy itself, or by the scraper. */
export type Mode = 'app' | 'proxy' | 'telemetry' | 'scrape';

/** The source of a flow. */
export interface Source {
  /** `ns/name`. */
  readonly id: string;
  readonly identity: string;
  readonly meshed: boolean;
  readonly pod?: Pod;
  readonly endpoint: Endpoint;
}

/** Where a flow goes. */
export interface Target {
  /** The host as shown (Service FQDN, external host, or `ns/pod` when scraping). */
  readonly host: string;
  readonly port: number;
  readonly svc?: Entry;
  /** The namespace of the host's Service or ServiceEntry. */
  readonly hostNs?: string;
  /** The pods behind it; undefined when the input does not show them. */
  readonly pods?: readonly Pod[];
  readonly external: boolean;
  /** For scraping: the pod port itself (no Service). */
  readonly podPort?: number;
  /** An external host no ServiceEntry of the input declares (not in the mesh's registry). */
  readonly unregistered?: boolean;
  /** DestinationRule subset labels, for the cache key. */
  readonly subset?: string;
}

export interface Declared {
  readonly kind: MeshFlowKind;
  readonly mode: Mode;
  /** Judge the policies alone: the source's Sidecar scope is not consulted (what NetworkPolicy and authorization allow). */
  readonly skipSidecar?: boolean;
  /**
   * A Sidecar import names a host, not its ports: the calls to each port of the host share this key, and the import
   * is honoured when some port gets through (the denied ports are then not flows the objects declare).
   */
  readonly anyPortOf?: string;
  readonly src: Source;
  readonly target: Target;
  readonly by: Entry;
}

/** An external host reached through an egress gateway, and who calls it. */
export interface EgressRoute {
  readonly src: Source;
  readonly host: string;
  /** The port the external host listens on (the egress gateway's route to it). */
  readonly port: number;
  readonly vs: Entry;
}

interface RouteDest {
  readonly host: string;
  readonly port?: number;
  readonly subset?: string;
  readonly kind: MeshFlowKind;
}

const ISTIO_GROUP = 'networking.istio.io';
const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute'];

function groupOf(e: Entry): string {
  return text(e.obj.apiVersion).split('/')[0];
}

export function sourceOf(w: World, pod: Pod): Source {
  return {
    id: `${pod.ns}/${pod.name}`,
    identity: w.principal(pod.ns, pod.serviceAccount),
    meshed: pod.meshed,
    pod,
    endpoint: { ns: pod.ns, labels: pod.labels, pod },
  };
}

/** Builds the declared and infrastructure flows. */
export class FlowCollector {
  public readonly flows: Declared[] = [];
  public readonly egress: EgressRoute[] = [];
  private readonly seen = new Set<string>();
  private readonly meshVs = new Map<string, Entry[]>();
  private readonly vsByGateway = new Map<string, Entry[]>();
  private readonly gammaRoutes = new Map<string, Entry[]>();
  private readonly k8sRoutesByGateway = new Map<string, Entry[]>();
  private readonly subsets = new Map<string, Record<string, string>>();
  private readonly sources = new Map<Pod, Source>();
  private readonly sidecarCalls = new Map<Entry, Array<{ host: string; port?: number }>>();
  private readonly m: Model;

  constructor(private readonly w: World) {
    this.m = w.m;
    this.index();
  }

  private index(): void {
    const m = this.m;
    for (const vs of m.ofKind('VirtualService')) {
      const gws = arr(vs.obj.spec?.gateways).map(text);
      if (gws.length === 0 || gws.includes('mesh')) {
        for (const h of arr(vs.obj.spec?.hosts).map(text)) {
          if (h.includes('*')) continue;
          push(this.meshVs, fqdnOf(m, h, vs.ns!), vs);
        }
      }
      for (const g of gws) if (g !== 'mesh') push(this.vsByGateway, gatewayKey(g, vs.ns!), vs);
    }
    for (const dr of m.ofKind('DestinationRule')) {
      const host = fqdnOf(m, text(dr.obj.spec?.host), dr.ns!);
      for (const s of arr(dr.obj.spec?.subsets)) {
        const k = `${host}\0${text(s?.name)}`;
        if (!this.subsets.has(k)) this.subsets.set(k, stringMap(s?.labels));
      }
    }
    for (const kind of ROUTE_KINDS) {
      for (const r of m.ofKind(kind)) {
        for (const p of arr(r.obj.spec?.parentRefs)) {
          const pkind = text(p?.kind || 'Gateway');
          const ns = text(p?.namespace || r.ns);
          if (pkind === 'Service') push(this.gammaRoutes, m.serviceHost(text(p?.name), ns), r);
          else if (pkind === 'Gateway') push(this.k8sRoutesByGateway, `${ns}/${text(p?.name)}`, r);
        }
      }
    }
  }

  private source(pod: Pod): Source {
    let s = this.sources.get(pod);
    if (!s) this.sources.set(pod, s = sourceOf(this.w, pod));
    return s;
  }

  /** A host and port as a Target (subset: a DestinationRule subset narrowing the pods). */
  public target(host: string, port: number, subset?: string): Target {
    const m = this.m;
    const svc = m.serviceFor(host);
    if (svc) {
      let pods = this.w.podsOf(svc);
      const labels = subset !== undefined ? this.subsets.get(`${host}\0${subset}`) : undefined;
      if (labels) pods = pods.filter(p => Object.entries(labels).every(([k, v]) => p.labels[k] === v));
      return { host, port, svc, hostNs: svc.ns, pods, external: false, ...(labels ? { subset } : {}) };
    }
    const split = splitServiceHost(host, m.options.clusterDomain);
    if (split) return { host, port, hostNs: split[1], external: false };
    const se = m.serviceEntriesFor(host)[0];
    return { host, port, external: true, ...(se ? { hostNs: se.ns } : { unregistered: true }) };
  }

  /** The ports of a host (Service or ServiceEntry ports). */
  private portsOf(host: string): number[] {
    const svc = this.m.serviceFor(host);
    const ports = svc ? arr(svc.obj.spec?.ports) : this.m.serviceEntriesFor(host).flatMap(se => arr(se.obj.spec?.ports));
    return [...new Set(ports.map((p: any) => Number(p?.port ?? p?.number)).filter(n => Number.isInteger(n)))].sort((a, b) => a - b);
  }

  private add(kind: MeshFlowKind, mode: Mode, src: Source, target: Target, by: Entry, anyPortOf?: string): void {
    const k = `${kind}\0${src.id}\0${target.host}\0${target.port}\0${target.subset ?? ''}`;
    if (this.seen.has(k)) return;
    this.seen.add(k);
    this.flows.push({ kind, mode, src, target, by, ...(anyPortOf ? { anyPortOf } : {}) });
  }

  /** Destinations of a VirtualService's routes that apply to `gateway` ('mesh' or a gateway key), on `port`. */
  private routeDests(vs: Entry, gateway: string, port: number | undefined): RouteDest[] {
    const out: RouteDest[] = [];
    const spec = vs.obj.spec ?? {};
    const vsGateways = arr(spec.gateways).map(text);
    const norm = (g: string) => (g === 'mesh' ? g : gatewayKey(g, vs.ns!));
    const dest = (d: any, kind: MeshFlowKind) => {
      if (!d || typeof d.host !== 'string') return;
      const host = fqdnOf(this.m, d.host, vs.ns!);
      // no port: the route's port, or for a mirror (another host) the destination's only port, as Istio picks it
      let p = d.port?.number;
      if (typeof p !== 'number' && kind === MeshFlowKind.MIRROR) {
        const ports = this.portsOf(host);
        if (ports.length === 1) p = ports[0];
      }
      out.push({ host, kind, ...(typeof p === 'number' ? { port: p } : {}), ...(typeof d.subset === 'string' ? { subset: d.subset } : {}) });
    };
    for (const section of ['http', 'tcp', 'tls']) {
      for (const route of arr(spec[section])) {
        const matches = arr(route?.match);
        const applies = matches.length === 0 ? (vsGateways.length === 0 ? gateway === 'mesh' : vsGateways.map(norm).includes(gateway))
          : matches.some((mm: any) => {
            const gws = arr(mm?.gateways).map(text).map(norm);
            const gwOk = gws.length ? gws.includes(gateway) : vsGateways.length === 0 ? gateway === 'mesh' : vsGateways.map(norm).includes(gateway);
            return gwOk && (port === undefined || mm?.port === undefined || Number(mm.port) === port);
          });
        if (!applies) continue;
        for (const r of arr(route?.route)) dest(r?.destination, MeshFlowKind.ROUTE);
        if (route?.mirror) dest(route.mirror, MeshFlowKind.MIRROR);
        for (const mr of arr(route?.mirrors)) dest(mr?.destination, MeshFlowKind.MIRROR);
      }
    }
    return out;
  }

  /** Gateway API backendRefs (and mirror filters) of a route. */
  private backends(r: Entry): RouteDest[] {
    const out: RouteDest[] = [];
    const ref = (b: any, kind: MeshFlowKind) => {
      if (!b || text(b.kind || 'Service') !== 'Service' || text(b.group || '') !== '') return;
      const p = b.port;
      out.push({ host: this.m.serviceHost(text(b.name), text(b.namespace || r.ns)), kind, ...(typeof p === 'number' ? { port: p } : {}) });
    };
    for (const rule of arr(r.obj.spec?.rules)) {
      for (const b of arr(rule?.backendRefs)) ref(b, MeshFlowKind.ROUTE);
      for (const f of arr(rule?.filters)) if (f?.requestMirror) ref(f.requestMirror.backendRef, MeshFlowKind.MIRROR);
    }
    return out;
  }

  /** A call from src to host:port, through the mesh routes of the host when there are any. */
  private call(src: Source, host: string, port: number, by: Entry, kind: MeshFlowKind, anyPortOf?: string): void {
    const vss = this.meshVs.get(host);
    if (vss && vss.length) {
      const vs = vss[0];
      const dests = this.routeDests(vs, 'mesh', port);
      for (const d of dests) {
        const kindOf = d.kind === MeshFlowKind.MIRROR ? MeshFlowKind.MIRROR : kind === MeshFlowKind.GATEWAY_ROUTE ? kind : MeshFlowKind.ROUTE;
        this.add(kindOf, 'app', src, this.target(d.host, d.port ?? port, d.subset), vs, anyPortOf);
      }
      // egress through a gateway: the VS sends mesh traffic to a gateway, and the gateway to the external host
      const gws = arr(vs.obj.spec?.gateways).map(text).filter(g => g !== 'mesh');
      if (gws.length && this.target(host, port).external) {
        for (const g of gws) {
          for (const d of this.routeDests(vs, gatewayKey(g, vs.ns!), undefined)) {
            if (d.host === host) this.egress.push({ src, host, port: d.port ?? port, vs });
          }
        }
      }
      if (dests.length) return;
    }
    const gamma = this.gammaRoutes.get(host);
    if (gamma && gamma.length) {
      for (const d of this.backends(gamma[0])) this.add(d.kind === MeshFlowKind.MIRROR ? d.kind : MeshFlowKind.ROUTE, 'app', src, this.target(d.host, d.port ?? port), gamma[0], anyPortOf);
      return;
    }
    this.add(kind, 'app', src, this.target(host, port), by, anyPortOf);
  }

  /** (a') ambient pods have no Sidecar: their calls are the ones the AuthorizationPolicies grant them. */
  public ambientCallsFlows(): void {
    // only ambient pods declare calls this way: without any, the grants need not be computed at all
    if (!this.w.pods.some(p => p.ambient)) return;
    for (const g of ambientGrants(this.w)) {
      if (!g.pod.ambient) continue; // proxies declare their calls with their Sidecar (or are gateways, with routes)
      this.call(this.source(g.pod), g.host, g.port, g.by, MeshFlowKind.CALL);
    }
  }

  /** (a) the hosts each meshed pod's Sidecar imports by name. */
  public sidecarCallsFlows(): void {
    for (const pod of this.w.pods) {
      if (!pod.meshed || pod.gateway) continue;
      const sc = sidecarOf(this.w, pod);
      if (!sc) continue;
      let calls = this.sidecarCalls.get(sc);
      if (!calls) this.sidecarCalls.set(sc, calls = this.callsOf(sc));
      const src = this.source(pod);
      for (const c of calls) {
        if (c.port !== undefined) {
          this.call(src, c.host, c.port, sc, MeshFlowKind.CALL);
        } else {
          for (const port of this.portsOf(c.host)) this.call(src, c.host, port, sc, MeshFlowKind.CALL, `${src.id}\0${c.host}`);
        }
      }
    }
  }

  private callsOf(sc: Entry): Array<{ host: string; port?: number }> {
    const out: Array<{ host: string; port?: number }> = [];
    for (const l of arr(sc.obj.spec?.egress)) {
      const lp = l?.port?.number;
      for (const e of arr(l?.hosts)) {
        if (typeof e !== 'string') continue;
        const h = parseSidecarHost(this.w, sc, e);
        if (h.ns === '~' || h.host.includes('*') || !h.host.includes('.')) continue;
        out.push({ host: h.host, ...(typeof lp === 'number' ? { port: lp } : {}) });
      }
    }
    return out;
  }

  /** (b) gateway pods call the destinations of their routes. */
  public gatewayFlows(): void {
    const m = this.m;
    for (const gw of m.ofKind('Gateway')) {
      const group = groupOf(gw);
      let pods: Pod[] = [];
      let routes: Array<{ entry: Entry; dests: RouteDest[] }> = [];
      if (group === ISTIO_GROUP) {
        const sel = stringMap(gw.obj.spec?.selector);
        if (Object.keys(sel).length === 0) continue;
        pods = m.select(undefined, sel).flatMap(x => this.w.podsByEntry.get(x.entry) ?? []);
        const key = `${gw.ns}/${gw.name}`;
        routes = (this.vsByGateway.get(key) ?? []).map(vs => ({ entry: vs, dests: this.routeDests(vs, key, undefined) }));
      } else if (group === GATEWAY_API_GROUP) {
        pods = m.select(gw.ns, { [GATEWAY_NAME_LABEL]: gw.name }).flatMap(x => this.w.podsByEntry.get(x.entry) ?? []);
        for (const a of arr(gw.obj.spec?.addresses)) {
          if (text(a?.type || 'IPAddress') !== 'Hostname') continue;
          const svc = m.serviceFor(m.resolveHost(text(a.value), gw.ns!));
          if (svc) pods.push(...this.w.podsOf(svc));
        }
        routes = (this.k8sRoutesByGateway.get(`${gw.ns}/${gw.name}`) ?? []).map(r => ({ entry: r, dests: this.backends(r) }));
      }
      for (const pod of pods) {
        const src = this.source(pod);
        for (const r of routes) {
          for (const d of r.dests) {
            const ports = d.port !== undefined ? [d.port] : this.portsOf(d.host);
            for (const port of ports) {
              const kind = d.kind === MeshFlowKind.MIRROR ? MeshFlowKind.MIRROR : MeshFlowKind.GATEWAY_ROUTE;
              this.add(kind, 'app', src, this.target(d.host, port, d.subset), r.entry);
            }
          }
        }
      }
    }
  }

  /** istiod, the CA, telemetry providers: from every meshed proxy. */
  public infrastructureFlows(): void {
    const m = this.m;
    for (const pod of this.w.pods) {
      if (!pod.meshed) continue;
      const src = this.source(pod);
      const istiod = this.w.istiodService(pod.revision);
      if (istiod) this.add(MeshFlowKind.CONTROL_PLANE, 'proxy', src, this.target(m.serviceHost(istiod.name, istiod.ns!), ISTIOD_PORT), pod.entry);
      if (pod.caAddress) {
        const i = pod.caAddress.lastIndexOf(':');
        const port = Number(pod.caAddress.slice(i + 1));
        if (i > 0 && Number.isInteger(port)) {
          const host = fqdnOf(m, pod.caAddress.slice(0, i), pod.ns);
          const same = istiod && host === m.serviceHost(istiod.name, istiod.ns!) && port === ISTIOD_PORT;
          if (!same) this.add(MeshFlowKind.CERTIFICATE_AUTHORITY, 'proxy', src, this.target(host, port), pod.entry);
        }
      }
      const mc = this.w.meshConfig(pod.revision);
      for (const p of mc.providers) this.add(MeshFlowKind.TELEMETRY, 'telemetry', src, this.target(p.host, p.port), mc.entry ?? pod.entry);
    }
  }

  /**
   * The scraper reads every meshed pod on 15020 and 15090, when the input consumes metrics: prometheus-operator
   * monitors or rules. Injection annotates every pod `prometheus.io/scrape: "true"` by default (Istio's metrics
   * merging), so the annotation alone says nothing about a scraper: it counts only with `scrapeAnnotatedPods`.
   */
  public scrapeFlows(): void {
    const m = this.m;
    const monitors = [...m.ofKind('PodMonitor'), ...m.ofKind('ServiceMonitor'), ...m.ofKind('PrometheusRule')];
    const annotated = this.w.scrapeAnnotatedPods && this.w.pods.some(p => p.annotations[IstioAnnotations.PROMETHEUS_SCRAPE] === 'true');
    if (monitors.length === 0 && !annotated) return;
    const ns = this.w.scraperNamespace;
    const labels = this.w.scraperLabels;
    const src: Source = {
      id: labels ? `${ns}/{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')}}` : `${ns}/*`,
      identity: 'metrics scraper',
      meshed: false,
      endpoint: labels ? { ns, labels } : { ns, anyPod: true },
    };
    for (const pod of this.w.pods) {
      if (!pod.meshed) continue;
      for (const port of [IstioPorts.STATUS, IstioPorts.ENVOY_PROMETHEUS]) {
        const target: Target = { host: `${pod.ns}/${pod.name}`, port, pods: [pod], external: false, hostNs: pod.ns, podPort: port };
        this.add(MeshFlowKind.SCRAPE, 'scrape', src, target, monitors[0] ?? pod.entry);
      }
    }
  }
}

function push<K, V>(map: Map<K, V[]>, k: K, v: V): void {
  const l = map.get(k);
  if (l) l.push(v);
  else map.set(k, [v]);
}

/** A VirtualService's gateway reference (`name` or `ns/name`) as `ns/name`. */
function gatewayKey(g: string, ns: string): string {
  return g.includes('/') ? g : `${ns}/${g}`;
}
