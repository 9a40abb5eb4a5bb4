/*
 * A leaf module: the sidecar injection code reads the mode without importing Mesh (no import cycle).
 */

/** How the proxy gets into pods. */
export enum InjectionMode {
  /**
   * The proxy is added at synth time, as `istioctl kube-inject` would: the YAML in Git is exactly the pod that runs.
   */
  SYNTH_TIME = 'SYNTH_TIME',
  /** istiod's mutating webhook injects the proxy when pods are created; the YAML carries only the selecting labels. */
  WEBHOOK = 'WEBHOOK',
}
