/**
 * Synth-time sidecar injection: a pure function over a pod template, as `istioctl kube-inject` does.
 *
 * STUB (foundation): the signature is fixed so MeshedService can use it; the faithful implementation lands with
 * the sidecar-injection issue.
 */
import { IMesh } from '../mesh/mesh';

/** The workload that owns a pod template (for ISTIO_META_WORKLOAD_NAME / ISTIO_META_OWNER). @internal */
export interface InjectionTarget {
  /** e.g. 'apps/v1' */
  readonly apiVersion: string;
  /** e.g. 'Deployment' */
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

/**
 * Injects the Istio proxy into a pod template (plain JSON: `{ metadata, spec }`), returning a new template.
 * The input is not modified. Per-workload proxy options are passed as `options` (typed in proxy-options.ts).
 * @internal
 */
export function injectPodTemplate(template: any, mesh: IMesh, target: InjectionTarget, options: any = {}): any {
  void mesh; void target; void options;
  return JSON.parse(JSON.stringify(template));
}
