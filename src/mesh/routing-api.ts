/*
 * A leaf module: the mesh (mesh-wide routing) and the gateways (their listeners and routes) choose a routing API
 * without importing each other (no import cycle).
 */

/** Which API configures routes: a gateway's listeners and routes, or (`Mesh({ meshRouting })`) the mesh's own. */
export enum RoutingApi {
  /** Istio's `Gateway` + `VirtualService` (networking.istio.io/v1). */
  ISTIO = 'ISTIO',
  /**
   * The Kubernetes Gateway API: for a gateway, a `Gateway` of class `istio`, `HTTPRoute`/`GRPCRoute`/`TLSRoute` and
   * `ReferenceGrant`; inside the mesh, `HTTPRoute`/`GRPCRoute` attached to the Service itself (GAMMA).
   */
  GATEWAY_API = 'GATEWAY_API',
}
