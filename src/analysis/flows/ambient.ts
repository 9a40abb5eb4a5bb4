/**
 * Ambient mode in the flow analysis (Istio 1.30.3): pods without a proxy in a namespace (or with a pod label)
 * `istio.io/dataplane-mode: ambient` are carried by ztunnel. A connection to an ambient pod travels as HBONE to port
 * 15008 (what NetworkPolicy sees); ztunnel at the destination applies PeerAuthentication and the layer-4 part of the
 * AuthorizationPolicies that select the pod. A Service (or its namespace) labelled `istio.io/use-waypoint: <name>`
 * sends its traffic through that waypoint (the pods istiod deploys for the Gateway `<name>`, labelled
 * `gateway.networking.k8s.io/gateway-name`): the caller reaches the waypoint over HBONE, the waypoint applies the
 * AuthorizationPolicies attached to it (`targetRefs` to the Service or the Gateway) with HTTP, and then reaches the
 * pod over HBONE with its own identity. Ambient pods have no Sidecar to say what they call: their calls are the ones
 * the AuthorizationPolicies grant to their identities. @internal
 */
import { arr, Entry, stringMap, text } from '../model';
import { authorization, Endpoint, LayerResult, networkPolicy, peerAuthentication, refText } from './layers';
import { labelsSelector, selectorMatches } from './selectors';
import { FlowVerdict } from './types';
import { GATEWAY_NAME_LABEL, Pod, World } from './world';

export const DATAPLANE_MODE = 'istio.io/dataplane-mode';
export const USE_WAYPOINT = 'istio.io/use-waypoint';
export const HBONE = 15008;
/** The waypoint a Service's traffic goes through: its label, else its namespace's ('none' opts out). */
export function waypointOf(w: World, svc: Entry | undefined): { ns: string; name: string; gateway?: Entry } | undefined {
  if (!svc || !svc.ns) return undefined;
  const own = stringMap(svc.obj.metadata?.labels)[USE_WAYPOINT];
  const name = own ?? w.namespaceLabels(svc.ns)[USE_WAYPOINT];
  if (!name || name === 'none') return undefined;
  const gateway = w.m.get('Gateway', svc.ns, name);
  return { ns: svc.ns, name, ...(gateway ? { gateway } : {}) };
}

/** The AuthorizationPolicies a waypoint applies to a Service's traffic: those attached to the Service or the Gateway. */
function waypointPolicies(w: World, ns: string, service: string, gateway: string): Entry[] {
  const out: Entry[] = [];
  for (const s of w.authzTargeted.get(ns) ?? []) {
    const spec = s.entry.obj.spec ?? {};
    const refs = [...arr(spec.targetRefs), ...(spec.targetRef ? [spec.targetRef] : [])];
    if (refs.some((r: any) => (r?.kind === 'Service' && text(r?.group || '') === '' && r?.name === service) || (r?.kind === 'Gateway' && r?.name === gateway))) {
      out.push(s.entry);
    }
  }
  return out;
}

/** What the evaluator knows of the source. */
export interface AmbientSource {
  readonly identity: string;
  readonly pod?: Pod;
  readonly meshed: boolean;
  readonly endpoint: Endpoint;
}

/**
 * The layers of a connection to an ambient pod: through the Service's waypoint when it has one, else straight to the
 * pod; HBONE on 15008 where the source speaks it (ambient pods, proxies with HBONE), else plain text on the port.
 */
export function ambientLayers(
  w: World, src: AmbientSource, svc: Entry | undefined, dst: Pod, port: number, servicePort: number, http: boolean,
): LayerResult[] {
  const dstEp: Endpoint = { ns: dst.ns, labels: dst.labels, pod: dst };
  const zt: Pod = { ...dst, meshed: true };
  // Istio 1.30.3 (pilot/pkg/xds/endpoints/endpoint_builder.go supportTunnel): ambient pods (ztunnel) and every Envoy
  // proxy send HBONE to an ambient endpoint (unless DisableHBONESend): istiod's PILOT_ENABLE_SENDING_HBONE, on by
  // default, not the proxy's ISTIO_META_ENABLE_HBONE (which only makes it listen); a pod without either sends plain text
  const srcHbone = src.pod ? src.pod.ambient === true || src.meshed : false;
  const wp = waypointOf(w, svc);
  if (wp) {
    if (!wp.gateway) {
      return [{ verdict: FlowVerdict.DENIED, layer: 'waypoint', object: svc, detail: `${refText(svc!)} uses waypoint ${wp.name}, but no Gateway ${wp.ns}/${wp.name} is in the input` }];
    }
    const wpLabels = { [GATEWAY_NAME_LABEL]: wp.name };
    const wpEp: Endpoint = { ns: wp.ns, labels: wpLabels };
    const wpPod: Pod = {
      entry: wp.gateway,
      ns: wp.ns,
      name: wp.name,
      labels: wpLabels,
      serviceAccount: wp.name,
      meshed: true,
      gateway: true,
      revision: '',
      namedPorts: new Map(),
      annotations: {},
    };
    const srcAuth = srcHbone && src.pod ? { mtls: true, principal: src.identity, ns: src.pod.ns } : { mtls: false as const };
    const viaPolicies = waypointPolicies(w, wp.ns, svc!.name, wp.name);
    const atWaypoint = authorization(w, wpPod, servicePort, http, srcAuth as any, viaPolicies);
    return [
      srcHbone ? { verdict: FlowVerdict.ALLOWED, layer: 'waypoint', detail: `through waypoint ${wp.ns}/${wp.name} (HBONE)` }
        : { verdict: FlowVerdict.DENIED, layer: 'waypoint', object: wp.gateway, detail: `${src.pod ? `${src.pod.ns}/${src.pod.name}` : 'the source'} does not speak HBONE, which waypoint ${wp.ns}/${wp.name} requires` },
      networkPolicy(w, 'egress', src.endpoint, wpEp, HBONE),
      networkPolicy(w, 'ingress', src.endpoint, wpEp, HBONE),
      { ...atWaypoint, layer: `AuthorizationPolicy (waypoint ${wp.name})` },
      networkPolicy(w, 'egress', wpEp, dstEp, HBONE),
      networkPolicy(w, 'ingress', wpEp, dstEp, HBONE),
      peerAuthentication(w, zt, port, true),
      authorization(w, zt, port, false, { mtls: true, principal: w.principal(wp.ns, wp.name), ns: wp.ns } as any),
    ];
  }
  const wire = srcHbone ? HBONE : port;
  return [
    networkPolicy(w, 'egress', src.endpoint, dstEp, wire),
    networkPolicy(w, 'ingress', src.endpoint, dstEp, wire),
    peerAuthentication(w, zt, port, srcHbone),
    // ztunnel: layer 4 only (rules with HTTP fields match as they would on a TCP port)
    authorization(w, zt, port, false, (srcHbone && src.pod ? { mtls: true, principal: src.identity, ns: src.pod.ns } : { mtls: false }) as any),
  ];
}

/**
 * The calls the AuthorizationPolicies grant: each ALLOW rule's principals (the pods running as
 * them) to the Services the policy covers (the Service it targets, or the Services whose pods it selects), on the
 * rule's ports (Service ports at a waypoint, pod ports at ztunnel), or every port of the Service.
 */
export function ambientGrants(w: World): Array<{ pod: Pod; host: string; port: number; by: Entry }> {
  const out: Array<{ pod: Pod; host: string; port: number; by: Entry }> = [];
  const podsBySa = new Map<string, Pod[]>();
  for (const p of w.pods) {
    const k = w.principal(p.ns, p.serviceAccount);
    const l = podsBySa.get(k) ?? [];
    l.push(p);
    podsBySa.set(k, l);
  }
  // Services with a selector, by namespace: a policy's selector is matched against its own namespace's only
  const selecting = new Map<string, Entry[]>();
  for (const s of w.m.ofKind('Service')) {
    if (!s.ns || Object.keys(stringMap(s.obj.spec?.selector)).length === 0) continue;
    const l = selecting.get(s.ns) ?? [];
    l.push(s);
    selecting.set(s.ns, l);
  }
  for (const ap of w.m.ofKind('AuthorizationPolicy')) {
    const ns = ap.ns;
    if (!ns) continue;
    const spec = ap.obj.spec ?? {};
    if (text(spec.action || 'ALLOW') !== 'ALLOW') continue;
    const refs = [...arr(spec.targetRefs), ...(spec.targetRef ? [spec.targetRef] : [])];
    let services: Entry[];
    let byTarget = false;
    if (refs.length) {
      byTarget = true;
      services = refs.filter((r: any) => r?.kind === 'Service').map((r: any) => w.m.get('Service', ns, text(r.name))).filter((s): s is Entry => !!s);
    } else {
      const sel = labelsSelector(spec.selector?.matchLabels);
      if (Object.keys(sel.labels).length === 0) continue;
      services = (selecting.get(ns) ?? []).filter(s => selectorMatches(sel, stringMap(s.obj.spec?.selector)));
    }
    for (const svc of services) {
      const ports = arr(svc.obj.spec?.ports);
      for (const rule of arr(spec.rules)) {
        const principals = arr(rule?.from).flatMap((f: any) => arr(f?.source?.principals)).map(text).filter(p => p && !p.includes('*'));
        const listed = arr(rule?.to).flatMap((t: any) => arr(t?.operation?.ports)).map((p: any) => Number(p));
        const servicePorts = ports.filter((p: any) => {
          if (!listed.length) return true;
          const wire = byTarget ? Number(p?.port) : Number(p?.targetPort ?? p?.port);
          return listed.includes(wire);
        }).map((p: any) => Number(p?.port));
        for (const principal of principals) {
          for (const pod of podsBySa.get(principal) ?? []) {
            for (const port of servicePorts) out.push({ pod, host: w.m.serviceHost(svc.name, ns), port, by: ap });
          }
        }
      }
    }
  }
  return out;
}
