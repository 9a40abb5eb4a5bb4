/**
 * How the mesh's traffic reaches its workloads: through a proxy in every pod, or through the node's ztunnel (and,
 * where layer-7 features are needed, a waypoint proxy).
 */
export enum DataPlaneMode {
  /** An Envoy sidecar in every pod (injected at synth time or by istiod's webhook). */
  SIDECAR = 'SIDECAR',
  /**
   * Istio's ambient mode: pods carry no proxy; the ztunnel DaemonSet on each node secures and authorizes their
   * connections at layer 4 (HBONE, port 15008), and a waypoint proxy (a Gateway of class `istio-waypoint`) handles
   * layer 7 for the services or namespaces that need it. The namespace is labelled
   * `istio.io/dataplane-mode: ambient` instead of the injection labels.
   */
  AMBIENT = 'AMBIENT',
}

/**
 * The proxy metadata that makes an Envoy proxy accept HBONE on 15008 and labels its pod `networking.istio.io/tunnel`,
 * so ztunnel reaches it with mTLS (Istio 1.30.3's ambient profile; `model.Proxy.EnableHBONEListen`). Sending HBONE to
 * ambient pods needs no metadata: istiod's `PILOT_ENABLE_SENDING_HBONE` (on by default) gives every proxy it. @internal
 */
export const AMBIENT_ENABLE_HBONE = 'ISTIO_META_ENABLE_HBONE';

/** What dataPlaneOf reads of a namespace (an IMeshNamespace; structural, so this file imports nothing). @internal */
export interface NamespaceLike {
  readonly dataPlaneMode?: DataPlaneMode;
  readonly mesh: { readonly dataPlaneMode?: DataPlaneMode };
}

/** The data plane of a namespace: its own choice, else its mesh's. @internal */
export function dataPlaneOf(ns: NamespaceLike): DataPlaneMode {
  return ns.dataPlaneMode ?? ns.mesh.dataPlaneMode ?? DataPlaneMode.SIDECAR;
}

/** Whether a namespace runs in ambient mode. @internal */
export function isAmbient(ns: NamespaceLike): boolean {
  return dataPlaneOf(ns) === DataPlaneMode.AMBIENT;
}
