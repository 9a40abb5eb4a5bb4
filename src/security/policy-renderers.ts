/**
 * Pure renderers of a zero-trust namespace's policy specs: functions of the app's mesh model and the namespace's own
 * settings (a `NamespaceView`), unit-testable without a chart. ZeroTrustNamespace creates the objects when the facts
 * that need them are declared and calls these at synth time. @internal
 */
import { ANYWHERE_CIDRS, NAMESPACE_NAME_LABEL } from './constants';
import type { ExternalService } from './external-service';
import type { JwtRule } from './jwt';
import { IstioLabels, IstioPorts } from '../mesh/constants';
import { AMBIENT_ENABLE_HBONE } from '../mesh/data-plane';
import type { IMesh } from '../mesh/mesh';
import type { MeshModel } from '../model/mesh-model';
import type { ServicePort } from '../service/service-port';
import type { IMeshService, IMeshWorkload } from '../service/workload';
import { compact } from '../validation';

/** A token requirement of a service. @internal */
export interface JwtRequirement {
  readonly rule: JwtRule;
  /** The paths that need no token (sorted; a prefix `/x/*` comes with `/x`). */
  readonly exceptPaths: string[];
  readonly subjects: string[];
  readonly claims: Array<[string, string]>;
}

/** A port that accepts plain text from named sources (`permissiveMtls`). @internal */
export interface PermissivePort {
  readonly port: ServicePort;
  /** Namespaces whose pods may connect in plain text (sorted). */
  readonly namespaces: string[];
  /** Canonical CIDR blocks that may connect in plain text (sorted). */
  readonly cidrs: string[];
}

/** What a namespace grants one of its services beyond the access graph. @internal */
export interface ServiceGrants {
  readonly service: IMeshService;
  permissive: PermissivePort[];
  anyMeshed: ServicePort[];
  accepted: JwtRule[];
  required: JwtRequirement[];
}

/** What the renderers read. @internal */
export interface NamespaceView {
  readonly name: string;
  readonly mesh: IMesh;
  /** 'ENFORCE' | 'DRY_RUN' | 'AUDIT' */
  readonly mode: string;
  readonly egressControl: boolean;
  readonly model: MeshModel;
  /** The namespace's own metrics scraper (its `metricsScraper` prop): admitted here only. */
  readonly ownScraper?: { readonly namespace: string; readonly podLabels: { [key: string]: string } };
  grantsOf(s: IMeshService): ServiceGrants | undefined;
}

/** Sorts by JSON text: deterministic output where order carries no meaning. @internal */
export function sortByJson<T>(items: T[]): T[] {
  return items.map(i => [JSON.stringify(i), i] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(x => x[1]);
}

const targetPorts = (ports: ServicePort[]) => [...new Set(ports.map(p => p.targetPort))].sort((a, b) => a - b);
const npPorts = (ports: number[], protocol = 'TCP') => ports.map(port => ({ protocol, port }));
const nsSel = (ns: string) => ({ matchLabels: { [NAMESPACE_NAME_LABEL]: ns } });
const byNumber = (a: number, b: number) => a - b;

/** The ServiceEntry/DestinationRule name of an external host. @internal */
export function externalObjectName(host: string): string {
  return `external-${host.replace(/^\*\./, 'wildcard.').replace(/\./g, '-')}`.slice(0, 63).replace(/-+$/, '');
}

/**
 * The ports of a service that any meshed workload may reach: its `allowFromAnyMeshed` ports, and the ports of a
 * telemetry collector it is (every proxy of the mesh, sidecars, gateways and waypoints of every namespace, sends it
 * spans and logs, with Istio mTLS over the service's outbound cluster). A collector port the service does not
 * expose opens nothing. @internal
 */
export function anyMeshedPorts(v: NamespaceView, s: IMeshService): ServicePort[] {
  const out = [...(v.grantsOf(s)?.anyMeshed ?? [])];
  for (const p of collectorPorts(v.model, s)) if (!out.includes(p)) out.push(p);
  return out;
}

/** The service's own ports that telemetry collectors of the mesh name (`model.collectorsAt`). @internal */
export function collectorPorts(model: MeshModel, s: IMeshService): ServicePort[] {
  const out: ServicePort[] = [];
  for (const c of model.collectorsAt(s)) {
    const p = s.ports.find(x => x.port === c.port);
    if (p && !out.includes(p)) out.push(p);
  }
  return out;
}

// ------------------------------------------------------------------ authorization

/** The ALLOW (or AUDIT) policy of a service: exactly its callers' principals, with their ports and HTTP constraints. */
export function renderAuthorization(v: NamespaceView, s: IMeshService): any {
  const groups = new Map<string, { to: any; principals: Set<string> }>();
  for (const e of v.model.inboundOf(s)) {
    const to = [{
      operation: compact({
        ports: targetPorts(e.ports).map(String),
        methods: e.methods.length ? [...e.methods] : undefined,
        paths: e.paths.length ? [...e.paths] : undefined,
      }),
    }];
    const key = JSON.stringify(to);
    const group = groups.get(key) ?? { to, principals: new Set<string>() };
    group.principals.add(e.source.principal);
    groups.set(key, group);
  }
  const rules: any[] = [...groups.values()].map(x => ({ from: [{ source: { principals: [...x.principals].sort() } }], to: x.to }));
  const anyMeshed = anyMeshedPorts(v, s);
  if (anyMeshed.length) rules.push({ from: [{ source: { principals: ['*'] } }], to: [{ operation: { ports: targetPorts(anyMeshed).map(String) } }] });
  return serviceAuthorizationSpec(v, s, rules);
}

/**
 * A service's ALLOW (or AUDIT) AuthorizationPolicy spec from its rules for meshed callers, plus its plain-text
 * grants (`permissiveMtls`): unauthenticated peers (notPrincipals '*'), by address when only CIDRs are named (a
 * plain-text peer's namespace is unknown at L7: the NetworkPolicy checks it). Sidecar and ambient services alike
 * (ztunnel reads PeerAuthentication's port exceptions too). @internal
 */
export function serviceAuthorizationSpec(v: NamespaceView, s: IMeshService, callerRules: any[]): any {
  const rules = [...callerRules];
  for (const x of v.grantsOf(s)?.permissive ?? []) {
    rules.push({
      from: [{ source: compact({ notPrincipals: ['*'], ipBlocks: x.namespaces.length ? undefined : [...x.cidrs] }) }],
      to: [{ operation: { ports: [String(x.port.targetPort)] } }],
    });
  }
  return {
    selector: { matchLabels: { ...s.podSelector } },
    action: v.mode === 'AUDIT' ? 'AUDIT' : 'ALLOW',
    rules: sortByJson(rules),
  };
}

/** The RequestAuthentication of a service's accepted token issuers. */
export function renderRequestAuthentication(v: NamespaceView, s: IMeshService): any {
  return {
    selector: { matchLabels: { ...s.podSelector } },
    jwtRules: sortByJson((v.grantsOf(s)?.accepted ?? []).map(r => r._render())),
  };
}

/**
 * The DENY policy that demands tokens on a service's HTTP ports, on every path but the exceptions (negative path
 * matching: a path variant that is not exactly exempt needs a token). Several requirements are "any of": one rule
 * denies requests whose principal is none of the required issuers' (subjects'); claims come with a single
 * requirement only (ZeroTrustNamespace refuses the rest).
 */
export function renderJwtRequirement(v: NamespaceView, s: IMeshService): any {
  const httpPorts = targetPorts(s.ports.filter(p => p.isHttp)).map(String);
  const rules: any[] = [];
  const required = v.grantsOf(s)?.required ?? [];
  if (required.length) {
    const except = required[0].exceptPaths;
    const to = [{ operation: compact({ ports: httpPorts, notPaths: except.length ? [...except] : undefined }) }];
    const principals = new Set<string>();
    for (const r of required) for (const p of r.subjects.length ? r.subjects.map(sub => `${r.rule.iss}/${sub}`) : [`${r.rule.iss}/*`]) principals.add(p);
    rules.push({ from: [{ source: { notRequestPrincipals: [...principals].sort() } }], to });
    for (const r of required) for (const [k, val] of r.claims) rules.push({ to, when: [{ key: `request.auth.claims[${k}]`, notValues: [val] }] });
  }
  return {
    selector: { matchLabels: { ...s.podSelector } },
    action: v.mode === 'AUDIT' ? 'AUDIT' : 'DENY',
    rules: sortByJson(rules),
  };
}

/** Port-level PERMISSIVE mTLS for a service's migration ports (port-level settings need a workload selector). */
export function renderPermissivePeerAuthentication(v: NamespaceView, s: IMeshService): any {
  const portLevelMtls: { [port: string]: any } = {};
  for (const p of targetPorts((v.grantsOf(s)?.permissive ?? []).map(x => x.port))) portLevelMtls[String(p)] = { mode: 'PERMISSIVE' };
  return { selector: { matchLabels: { ...s.podSelector } }, mtls: { mode: 'STRICT' }, portLevelMtls };
}

// ------------------------------------------------------------------ external destinations

/** The external destinations of the namespace's workloads with this host, one per port. */
function externalsWithHost(v: NamespaceView, host: string): ExternalService[] {
  const out: ExternalService[] = [];
  for (const w of v.model.workloadsIn(v.name)) {
    for (const x of v.model.externalsOfWorkload(w)) {
      if (x.host !== host) continue;
      const clash = out.find(y => y.port === x.port && (y.protocol !== x.protocol || y.wirePort !== x.wirePort));
      if (clash) {
        throw new Error(`${v.name}: external ${host} port ${x.port} is declared twice with different settings (${clash.protocol}->${clash.wirePort} and ${x.protocol}->${x.wirePort}): one protocol per host and port (IST0177)`);
      }
      if (!out.some(y => y.port === x.port)) out.push(x);
    }
  }
  return out.sort((a, b) => a.port - b.port);
}

/** The ServiceEntry of an external host (ports merged), exported to this namespace only. */
export function renderServiceEntry(v: NamespaceView, host: string): any {
  const list = externalsWithHost(v, host);
  return externalServiceEntrySpec(host, list.map(x => compact({
    number: x.port,
    name: x.portName,
    protocol: x.protocol,
    targetPort: x.wirePort !== x.port ? x.wirePort : undefined,
  })), list.flatMap(x => x.addresses), ['.']);
}

/**
 * The spec of a ServiceEntry of an external host (MESH_EXTERNAL; DNS resolution, NONE for a wildcard), whoever
 * declares it: `connectsToExternal` destinations and telemetry collectors outside the cluster. @internal
 */
export function externalServiceEntrySpec(host: string, ports: any[], addresses: string[], exportTo: string[]): any {
  const unique = [...new Set(addresses)].sort();
  return compact({
    hosts: [host],
    addresses: unique.length ? unique : undefined,
    ports,
    location: 'MESH_EXTERNAL',
    // a wildcard cannot be resolved: the proxy forwards to the address the application resolved
    resolution: host.startsWith('*.') ? 'NONE' : 'DNS',
    exportTo,
  });
}

/** The DestinationRule that originates TLS to an external host. */
export function renderExternalDestinationRule(v: NamespaceView, host: string): any {
  return {
    host,
    exportTo: ['.'],
    trafficPolicy: {
      portLevelSettings: externalsWithHost(v, host).filter(x => x.originateTls).map(x => ({
        port: { number: x.port },
        // the OS's CA certificates, said explicitly: Istio 1.30.3 (pilot/pkg/networking/core/cluster_tls.go) reads an
        // empty caCertificates as 'system' (SDS file-root:system); written out, IST0129 has nothing to report
        tls: { mode: 'SIMPLE', sni: host, subjectAltNames: [host], caCertificates: 'system' },
      })),
    },
  };
}

// ------------------------------------------------------------------ network policies

/** Default deny: ingress always, egress when egress is controlled. */
export function renderDefaultDeny(v: NamespaceView): any {
  return { podSelector: {}, policyTypes: v.egressControl ? ['Ingress', 'Egress'] : ['Ingress'] };
}

/** DNS for every pod, to the cluster DNS pods (the namespace's `clusterDns` setting). */
export function renderAllowDns(dns: { namespace: string; podLabels: { [key: string]: string }; port: number }): any {
  return {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [{
      to: [{ namespaceSelector: nsSel(dns.namespace), podSelector: { matchLabels: { ...dns.podLabels } } }],
      ports: [{ protocol: 'UDP', port: dns.port }, { protocol: 'TCP', port: dns.port }],
    }],
  };
}

/**
 * The control plane, for every proxy: istiod (xDS and certificates on 15012; 15017 serves the API server's webhook
 * calls and 15014 monitoring scrapes, neither comes from proxies) and an external CA's pods at the port they listen
 * on (istio-csr: 6443 behind Service port 443).
 */
export function renderAllowControlPlane(v: NamespaceView): any {
  const egress: any[] = [{
    to: [{
      namespaceSelector: nsSel(v.mesh.rootNamespace),
      podSelector: { matchLabels: { [IstioLabels.APP]: 'istiod', [IstioLabels.REV]: v.mesh.revisionLabel } },
    }],
    ports: npPorts([IstioPorts.XDS_TLS]),
  }];
  const ca = v.mesh.caEndpoint;
  if (ca) {
    egress.push({
      to: [compact({
        namespaceSelector: ca.namespace ? nsSel(ca.namespace) : {},
        podSelector: Object.keys(ca.podLabels).length ? { matchLabels: { ...ca.podLabels } } : undefined,
      })],
      ports: npPorts([ca.podPort]),
    });
  }
  return { podSelector: {}, policyTypes: ['Egress'], egress };
}

/**
 * Telemetry collectors (tracing, OpenTelemetry access logs), for every proxy: the pods of an in-cluster collector's
 * namespace; out of the cluster for a collector outside it, on its port to its addresses (a NetworkPolicy cannot
 * name a host), or to every address only when the provider says `allowAnyAddress`. An in-cluster collector that is a
 * service of the app is reached on its pods' target port (what NetworkPolicy matches). The rule selects every pod of
 * the namespace: the proxy runs in the pod.
 */
export function renderAllowTelemetry(v: NamespaceView): any {
  const byNs = new Map<string, Set<number>>();
  const byBlocks = new Map<string, Set<number>>();
  for (const c of v.model.collectorsOf(v.mesh.rootNamespace)) {
    if (c.external) {
      // the provider refuses a collector outside the cluster without addresses unless allowAnyAddress says so
      const key = (c.addresses?.length ? c.addresses : ANYWHERE_CIDRS).join(',');
      const set = byBlocks.get(key) ?? new Set<number>();
      set.add(c.port);
      byBlocks.set(key, set);
      continue;
    }
    const key = c.namespace ?? '';
    const set = byNs.get(key) ?? new Set<number>();
    // NetworkPolicy sees the pod's port: a collector Service of the app maps its port to the pods' target port
    const own = c.namespace ? v.model.servicesIn(c.namespace).find(s => s.host === c.host)?.ports.find(p => p.port === c.port) : undefined;
    set.add(own ? own.targetPort : c.port);
    byNs.set(key, set);
  }
  const egress = [...byNs.keys()].sort().map(ns => ({
    to: [{ namespaceSelector: ns ? nsSel(ns) : {} }],
    ports: npPorts([...byNs.get(ns)!].sort(byNumber)),
  }));
  for (const blocks of [...byBlocks.keys()].sort()) egress.push(ipBlockEgress(blocks, byBlocks.get(blocks)!));
  return { podSelector: {}, policyTypes: ['Egress'], egress };
}

/**
 * The ServiceEntry of a telemetry collector outside the cluster (every collector of the mesh on this host, ports
 * merged), in the mesh root namespace and exported to every namespace: every proxy sends to it, and the mesh config
 * names it as `<root namespace>/<host>`, which Istio resolves to this entry alone.
 */
export function renderCollectorServiceEntry(model: MeshModel, rootNamespace: string, host: string): any {
  const ports = new Map<number, string>();
  for (const c of model.collectorsOf(rootNamespace)) {
    if (c.external && c.host === host && !ports.has(c.port)) ports.set(c.port, c.protocol ?? 'TCP');
  }
  const list = [...ports.entries()].sort((a, b) => a[0] - b[0])
    .map(([number, protocol]) => ({ number, name: `${protocol.toLowerCase()}-${number}`, protocol }));
  return externalServiceEntrySpec(host, list, [], ['*']);
}

/**
 * The metrics scrapers, on the proxies' metrics ports (15020 merged app+proxy metrics, as the `prometheus.io/port`
 * annotation says; 15090 Envoy's own). These ports bypass the proxy's inbound capture: only NetworkPolicy applies.
 */
export function renderAllowScrape(v: NamespaceView): any {
  return {
    podSelector: {},
    policyTypes: ['Ingress'],
    // the app's scrapers (alerts, monitors) reach every namespace; a namespace's own scraper only this one
    ingress: sortByJson([...v.model.scrapers, ...(v.ownScraper ? [v.ownScraper] : [])].map(s => ({
      from: [compact({
        namespaceSelector: nsSel(s.namespace),
        podSelector: Object.keys(s.podLabels).length ? { matchLabels: { ...s.podLabels } } : undefined,
      })],
      ports: npPorts([IstioPorts.STATUS, IstioPorts.ENVOY_PROMETHEUS]),
    }))),
  };
}

const peer = (w: IMeshWorkload) => ({ namespaceSelector: nsSel(w.namespace.name), podSelector: { matchLabels: { ...w.podSelector } } });

/**
 * A workload's NetworkPolicy: ingress from its callers' pods (and the namespace's grants; an ambient caller on
 * HBONE's 15008 too when the mesh's proxies accept HBONE), egress to its dependencies' pods, to the egress gateway for external hosts it serves, else to
 * the external addresses.
 */
export function renderWorkloadNetworkPolicy(v: NamespaceView, w: IMeshWorkload): any {
  const ingress: any[] = [];
  const egress: any[] = [];
  const service = v.model.servicesIn(v.name).find(s => s === w);
  if (service) {
    const bySource = new Map<IMeshWorkload, Set<number>>();
    const hbone = acceptsHbone(v.mesh);
    for (const c of v.model.inboundOf(service)) {
      const set = bySource.get(c.source) ?? new Set<number>();
      for (const p of c.ports) set.add(p.targetPort);
      // an ambient caller's ztunnel reaches a proxy that speaks HBONE on 15008 (the ambient profile's
      // ISTIO_META_ENABLE_HBONE), any other in plain text on the port: that caller gets 15008 only when the proxy
      // listens there
      if (hbone && v.model.isAmbientNamespace(c.source.namespace.name)) set.add(IstioPorts.HBONE);
      bySource.set(c.source, set);
    }
    for (const [src, ports] of bySource) ingress.push({ from: [peer(src)], ports: npPorts([...ports].sort(byNumber)) });
    const g = v.grantsOf(service);
    const anyMeshed = anyMeshedPorts(v, service);
    if (anyMeshed.length) ingress.push({ from: [{ namespaceSelector: {} }], ports: npPorts(targetPorts(anyMeshed)) });
    for (const x of g?.permissive ?? []) {
      ingress.push({
        from: [...x.namespaces.map(ns => ({ namespaceSelector: nsSel(ns) })), ...x.cidrs.map(cidr => ({ ipBlock: { cidr } }))],
        ports: npPorts([x.port.targetPort]),
      });
    }
  }
  if (v.egressControl) {
    const byTarget = new Map<IMeshWorkload, Set<number>>();
    for (const x of v.model.outboundOf(w)) {
      const set = byTarget.get(x.target) ?? new Set<number>();
      for (const p of x.ports) set.add(p.targetPort);
      byTarget.set(x.target, set);
    }
    const byBlocks = new Map<string, Set<number>>();
    for (const x of v.model.externalsOfWorkload(w)) {
      const route = v.model.egressRouteFor(x);
      if (route) {
        // the fixed exit: the workload reaches the egress gateway's pods, never the outside
        const set = byTarget.get(route.gateway) ?? new Set<number>();
        set.add(route.gatewayPort);
        byTarget.set(route.gateway, set);
        continue;
      }
      const key = (x.addresses.length ? x.addresses : ANYWHERE_CIDRS).join(',');
      const set = byBlocks.get(key) ?? new Set<number>();
      set.add(x.wirePort);
      byBlocks.set(key, set);
    }
    for (const [t, ports] of byTarget) {
      if (v.model.isAmbientNamespace(t.namespace.name)) {
        // an ambient destination: Envoy sends it HBONE (15008; Istio 1.30.3 endpoint_builder supportTunnel), to the
        // service's waypoint when it has one (ambient-renderers.ts renders the other side)
        const wp = v.model.waypointOf(t as IMeshService);
        const to = wp ? { namespaceSelector: nsSel(wp.namespace), podSelector: { matchLabels: { ...wp.podLabels } } } : peer(t);
        egress.push({ to: [to], ports: npPorts([IstioPorts.HBONE]) });
        continue;
      }
      egress.push({ to: [peer(t)], ports: npPorts([...ports].sort(byNumber)) });
    }
    for (const [blocks, ports] of byBlocks) egress.push(ipBlockEgress(blocks, ports));
  }
  return workloadNetworkPolicySpec(w, ingress, egress);
}

/**
 * Whether the mesh's sidecars and gateways accept HBONE on 15008: `ISTIO_META_ENABLE_HBONE` is 'true' in the mesh's
 * defaultProxyConfig.proxyMetadata (the ambient profile sets it; Istio 1.30.3 `model.Proxy.EnableHBONEListen`). The
 * flow analysis reads the injected proxy's environment the same way. @internal
 */
export function acceptsHbone(mesh: IMesh): boolean {
  return mesh.defaultProxyConfig?.proxyMetadata?.[AMBIENT_ENABLE_HBONE] === 'true';
}

/** Egress to external address blocks (`a,b` joined CIDRs or addresses) on ports. @internal */
export function ipBlockEgress(blocks: string, ports: Set<number>): any {
  return {
    to: blocks.split(',').map(cidr => ({ ipBlock: { cidr: cidr.includes('/') ? cidr : cidr + (cidr.includes(':') ? '/128' : '/32') } })),
    ports: npPorts([...ports].sort(byNumber)),
  };
}

/** A workload's NetworkPolicy spec from its ingress and egress rules (sorted; Ingress isolation when both are empty). @internal */
export function workloadNetworkPolicySpec(w: IMeshWorkload, ingress: any[], egress: any[]): any {
  const policyTypes = [...(ingress.length ? ['Ingress'] : []), ...(egress.length ? ['Egress'] : [])];
  return compact({
    podSelector: { matchLabels: { ...w.podSelector } },
    policyTypes: policyTypes.length ? policyTypes : ['Ingress'],
    ingress: ingress.length ? sortByJson(ingress) : undefined,
    egress: egress.length ? sortByJson(egress) : undefined,
  });
}

// ------------------------------------------------------------------ Sidecar scoping

/** The hosts every proxy of the namespace needs: the control plane namespace and the telemetry collectors. */
function baseHosts(v: NamespaceView): Set<string> {
  const hosts = new Set<string>([`${v.mesh.rootNamespace}/*`]);
  for (const c of v.model.collectorsOf(v.mesh.rootNamespace)) hosts.add(`${c.namespace ?? '*'}/${c.host}`);
  return hosts;
}

/** The namespace's default Sidecar (workloads without their own). */
export function renderDefaultSidecar(v: NamespaceView): any {
  return compact({
    egress: [{ hosts: [...baseHosts(v)].sort() }],
    outboundTrafficPolicy: v.egressControl ? { mode: 'REGISTRY_ONLY' } : undefined,
  });
}

/**
 * A workload's Sidecar: its proxy learns only what it calls (services, mirror targets, external hosts, the egress
 * gateway that carries them) plus the control plane and the telemetry collectors.
 */
export function renderSidecar(v: NamespaceView, w: IMeshWorkload): any {
  const hosts = baseHosts(v);
  for (const c of v.model.outboundOf(w)) {
    hosts.add(`${c.target.namespace.name}/${c.target.host}`);
    // the target's own routes may send the call on to another host of its namespace (Gateway API backends)
    for (const b of v.model.routeBackendsOf(c.target)) hosts.add(`${c.target.namespace.name}/${b}`);
  }
  for (const x of v.model.externalsOfWorkload(w)) {
    const route = v.model.egressRouteFor(x);
    if (route) {
      // the egress gateway's ServiceEntry and VirtualService for the host, and the gateway itself
      hosts.add(`${route.gateway.namespace.name}/${x.host}`);
      hosts.add(`${route.gateway.namespace.name}/${route.serviceHost}`);
    } else {
      hosts.add(`${v.name}/${x.host}`);
    }
  }
  return compact({
    workloadSelector: { labels: { ...w.podSelector } },
    egress: [{ hosts: [...hosts].sort() }],
    outboundTrafficPolicy: v.egressControl ? { mode: 'REGISTRY_ONLY' } : undefined,
  });
}
