/**
 * Pure renderers of an ambient namespace's policy specs, beside the sidecar ones (policy-renderers.ts), from the same
 * model and NamespaceView. In ambient mode pods carry no proxy:
 *
 * - ztunnel enforces AuthorizationPolicies that select workloads, at layer 4 only (principals, namespaces, ports; an
 *   ALLOW rule with HTTP fields would match nothing there and deny);
 * - a waypoint (the namespace's Gateway of class `istio-waypoint`) enforces layer-7 rules attached to it with
 *   `targetRefs` (a Service, or the Gateway for the whole namespace). Traffic to a service with a waypoint reaches
 *   the service's pods from the waypoint, so the pods' layer-4 policy admits the waypoint's identity only;
 * - mesh traffic travels as HBONE to port 15008 of the destination pod (or of the waypoint), which is the port
 *   NetworkPolicy sees; kubelet probes arrive from 169.254.7.127 (Istio 1.30.3 cni/pkg/iptables; Istio docs
 *   "Ambient and Kubernetes NetworkPolicy").
 * @internal
 */
import { ANYWHERE_CIDRS, NAMESPACE_NAME_LABEL } from './constants';
import { acceptsHbone, anyMeshedPorts, ipBlockEgress, NamespaceView, serviceAuthorizationSpec, sortByJson, workloadNetworkPolicySpec } from './policy-renderers';
import { GATEWAY_NAME_LABEL, HBONE_PORT, KUBELET_PROBE_SNAT, WAYPOINT_CLASS, WAYPOINT_LISTENER } from '../ambient/constants';
import type { WaypointInfo } from '../model/mesh-model';
import type { ServicePort } from '../service/service-port';
import type { IMeshService, IMeshWorkload } from '../service/workload';
import { compact } from '../validation';

const byNumber = (a: number, b: number) => a - b;
const targetPorts = (ports: ServicePort[]) => [...new Set(ports.map(p => p.targetPort))].sort(byNumber);
const servicePorts = (ports: ServicePort[]) => [...new Set(ports.map(p => p.port))].sort(byNumber);
const npPorts = (ports: number[]) => ports.map(port => ({ protocol: 'TCP', port }));
const nsSel = (ns: string) => ({ matchLabels: { [NAMESPACE_NAME_LABEL]: ns } });
const peer = (w: IMeshWorkload) => ({ namespaceSelector: nsSel(w.namespace.name), podSelector: { matchLabels: { ...w.podSelector } } });
const waypointPeer = (wp: WaypointInfo) => ({ namespaceSelector: nsSel(wp.namespace), podSelector: { matchLabels: { ...wp.podLabels } } });

/** The waypoint's pod labels, as istiod's gateway deployment controller sets them. */
export function waypointPodLabels(name: string): { [key: string]: string } {
  return { [GATEWAY_NAME_LABEL]: name };
}

/** Whether a caller's edge needs layer 7 (HTTP methods or paths). */
export function edgeNeedsLayer7(e: { methods: string[]; paths: string[] }): boolean {
  return e.methods.length > 0 || e.paths.length > 0;
}

/** The rules of a service's callers (principals grouped by what they may do), ports mapped by `portsOf`. */
function callerRules(v: NamespaceView, s: IMeshService, portsOf: (ports: ServicePort[]) => number[], http: boolean): any[] {
  const groups = new Map<string, { to: any; principals: Set<string> }>();
  for (const e of v.model.inboundOf(s)) {
    const to = [{
      operation: compact({
        ports: portsOf(e.ports).map(String),
        methods: http && e.methods.length ? [...e.methods] : undefined,
        paths: http && e.paths.length ? [...e.paths] : undefined,
      }),
    }];
    const key = JSON.stringify(to);
    const group = groups.get(key) ?? { to, principals: new Set<string>() };
    group.principals.add(e.source.principal);
    groups.set(key, group);
  }
  const rules = [...groups.values()].map(x => ({ from: [{ source: { principals: [...x.principals].sort() } }], to: x.to }));
  const anyMeshed = anyMeshedPorts(v, s);
  if (anyMeshed.length) rules.push({ from: [{ source: { principals: ['*'] } }], to: [{ operation: { ports: portsOf(anyMeshed).map(String) } }] });
  return rules;
}

/**
 * The layer-4 policy ztunnel enforces on a service's pods. Without a waypoint: exactly its callers' principals on
 * their ports (no HTTP fields: any caller that needs them brings a waypoint). With a waypoint: the waypoint's
 * identity on the service's ports, so the callers' rules are checked where they can be, at the waypoint.
 */
export function renderAmbientAuthorization(v: NamespaceView, s: IMeshService): any {
  const wp = v.model.waypointOf(s);
  const rules: any[] = wp
    ? [{ from: [{ source: { principals: [wp.principal] } }], to: [{ operation: { ports: targetPorts(s.ports).map(String) } }] }]
    : callerRules(v, s, targetPorts, false);
  return serviceAuthorizationSpec(v, s, rules);
}

/**
 * A policy's attachment to a service's waypoint: `targetRefs` to the Service (core group), and to the hosts the
 * service's own routes send its traffic to (per-version backend Services of Gateway API mesh routes, which go through
 * the same waypoint: the service's layer-7 policy holds however the service is called).
 */
export function serviceTargetRefs(s: IMeshService, routeBackends: readonly string[] = []): any[] {
  const names = routeBackends.map(h => h.split('.')[0]).filter(n => n !== s.name);
  return [s.name, ...[...new Set(names)].sort()].map(name => ({ group: '', kind: 'Service', name }));
}

/** A policy's attachment to a namespace's waypoint: `targetRefs` to the Gateway. */
export function gatewayTargetRefs(wp: WaypointInfo): any[] {
  return [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: wp.name }];
}

/**
 * The layer-7 policy the waypoint enforces for a service (targetRefs: the Service): its callers' principals with
 * their HTTP methods and paths, on the Service ports (the waypoint serves connections addressed to the Service).
 */
export function renderWaypointAuthorization(v: NamespaceView, s: IMeshService): any {
  return {
    targetRefs: serviceTargetRefs(s, v.model.routeBackendsOf(s)),
    action: v.mode === 'AUDIT' ? 'AUDIT' : 'ALLOW',
    rules: sortByJson(callerRules(v, s, servicePorts, true)),
  };
}

/**
 * A sidecar-style spec (workload `selector`) moved to the waypoint: `targetRefs` instead of `selector` (a workload
 * selector would be read by ztunnel, which cannot see HTTP).
 */
export function atWaypoint(spec: any, targetRefs: any[]): any {
  const { selector, ...rest } = spec;
  void selector;
  return { targetRefs, ...rest };
}

/** Kubelet probes of ambient pods arrive SNATed from 169.254.7.127: every pod of the namespace admits them. */
export function renderAllowKubeletProbes(): any {
  return { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: KUBELET_PROBE_SNAT } }] }] };
}

/** Where an ambient caller's connections to a service land: the service's waypoint, or its pods. */
function destinationOf(v: NamespaceView, target: IMeshService, ports: ServicePort[]): { to: any; ports: number[] } {
  const wp = v.model.waypointOf(target);
  if (wp) return { to: waypointPeer(wp), ports: [HBONE_PORT] };
  // a sidecar destination (a mixed mesh) takes HBONE when its proxy accepts it, else the port itself in plain text
  if (v.model.isAmbientNamespace(target.namespace.name)) return { to: peer(target), ports: [HBONE_PORT] };
  return { to: peer(target), ports: [...targetPorts(ports), ...(acceptsHbone(v.mesh) ? [HBONE_PORT] : [])] };
}

/**
 * An ambient workload's NetworkPolicy: HBONE (15008) in from its callers' pods (from the waypoint when it has one),
 * HBONE out to its dependencies' pods (to their waypoint when they have one), plain-text exceptions on their port,
 * and the external destinations as with sidecars (ztunnel forwards them from the pod).
 */
export function renderAmbientWorkloadNetworkPolicy(v: NamespaceView, w: IMeshWorkload): any {
  const ingress: any[] = [];
  const egress: any[] = [];
  const service = v.model.servicesIn(v.name).find(s => s === w);
  if (service) {
    const wp = v.model.waypointOf(service);
    if (wp) {
      ingress.push({ from: [waypointPeer(wp)], ports: npPorts([HBONE_PORT]) });
    } else {
      const sources = new Map<IMeshWorkload, true>();
      for (const c of v.model.inboundOf(service)) sources.set(c.source, true);
      for (const src of sources.keys()) ingress.push({ from: [peer(src)], ports: npPorts([HBONE_PORT]) });
    }
    const g = v.grantsOf(service);
    if (anyMeshedPorts(v, service).length) ingress.push({ from: [{ namespaceSelector: {} }], ports: npPorts([HBONE_PORT]) });
    for (const x of g?.permissive ?? []) {
      ingress.push({
        from: [...x.namespaces.map(ns => ({ namespaceSelector: nsSel(ns) })), ...x.cidrs.map(cidr => ({ ipBlock: { cidr } }))],
        ports: npPorts([x.port.targetPort]),
      });
    }
  }
  if (v.egressControl) {
    const byPeer = new Map<string, { to: any; ports: Set<number> }>();
    const add = (to: any, ports: number[]) => {
      const key = JSON.stringify(to);
      const entry = byPeer.get(key) ?? { to, ports: new Set<number>() };
      for (const p of ports) entry.ports.add(p);
      byPeer.set(key, entry);
    };
    for (const x of v.model.outboundOf(w)) {
      const d = destinationOf(v, x.target, x.ports);
      add(d.to, d.ports);
    }
    const byBlocks = new Map<string, Set<number>>();
    for (const x of v.model.externalsOfWorkload(w)) {
      const route = v.model.egressRouteFor(x);
      if (route) {
        // the egress gateway is an Envoy of the mesh: ztunnel reaches it over HBONE, or on its port
        add(peer(route.gateway), [route.gatewayPort, HBONE_PORT]);
        continue;
      }
      const key = (x.addresses.length ? x.addresses : ANYWHERE_CIDRS).join(',');
      const set = byBlocks.get(key) ?? new Set<number>();
      set.add(x.wirePort);
      byBlocks.set(key, set);
    }
    for (const { to, ports } of byPeer.values()) egress.push({ to: [to], ports: npPorts([...ports].sort(byNumber)) });
    for (const [blocks, ports] of byBlocks) egress.push(ipBlockEgress(blocks, ports));
  }
  return workloadNetworkPolicySpec(w, ingress, egress);
}

/**
 * A waypoint's NetworkPolicy: HBONE in from the callers of the services it serves, HBONE out to their pods (the
 * namespace-wide policies let it reach DNS, istiod and the telemetry collectors).
 */
export function renderWaypointNetworkPolicy(v: NamespaceView, wp: WaypointInfo): any {
  const served = v.model.servicesIn(v.name).filter(s => v.model.waypointOf(s) === wp);
  const callers = new Map<IMeshWorkload, true>();
  let anyMeshed = false;
  for (const s of served) {
    for (const c of v.model.inboundOf(s)) callers.set(c.source, true);
    if (anyMeshedPorts(v, s).length) anyMeshed = true;
  }
  const ingress: any[] = [...callers.keys()].map(src => ({ from: [peer(src)], ports: npPorts([HBONE_PORT]) }));
  if (anyMeshed) ingress.push({ from: [{ namespaceSelector: {} }], ports: npPorts([HBONE_PORT]) });
  const egress = served.map(s => ({ to: [peer(s)], ports: npPorts([HBONE_PORT]) }));
  const policyTypes = [...(ingress.length ? ['Ingress'] : []), ...(egress.length && v.egressControl ? ['Egress'] : [])];
  return compact({
    podSelector: { matchLabels: { ...wp.podLabels } },
    policyTypes: policyTypes.length ? policyTypes : ['Ingress'],
    ingress: ingress.length ? sortByJson(ingress) : undefined,
    egress: egress.length && v.egressControl ? sortByJson(egress) : undefined,
  });
}

/** The waypoint Gateway (Gateway API v1): class istio-waypoint, one HBONE listener on 15008. */
export function renderWaypointGateway(): any {
  return { gatewayClassName: WAYPOINT_CLASS, listeners: [{ ...WAYPOINT_LISTENER }] };
}
