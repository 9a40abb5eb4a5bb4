import type { ContainerResources } from 'cdk8s-plus-27';
import { ResourceSettings } from './mesh';
import { MeshValidationError, show } from '../errors';

/**
 * Conversions into the library's `ResourceSettings` from what a cdk8s-plus user already has.
 *
 * ```ts
 * const resources: kplus.ContainerResources = { cpu: { request: kplus.Cpu.millis(100) }, memory: { limit: Size.mebibytes(256) } };
 * new MeshedService(chart, 'reviews', { namespace: ns, image: 'reviews:v1', ports, resources: Resources.fromPlus(resources) });
 * ```
 */
export class Resources {
  /**
   * The requests and limits of a cdk8s-plus `ContainerResources` (cdk8s-plus-27 or later: the type is the same in
   * every version), written as cdk8s-plus writes them: CPU as given (`100m`, `1`), memory in mebibytes (`256Mi`).
   * Ephemeral storage has no counterpart here and is refused rather than dropped.
   */
  public static fromPlus(resources: ContainerResources): ResourceSettings {
    if (resources === null || typeof resources !== 'object') {
      throw new MeshValidationError('Resources.fromPlus', 'resources', show(resources), 'must be a cdk8s-plus ContainerResources');
    }
    if (resources.ephemeralStorage !== undefined) {
      throw new MeshValidationError('Resources.fromPlus', 'ephemeralStorage', 'requests', 'ResourceSettings has CPU and memory only: set ephemeral storage on the workload');
    }
    const cpu = (c: { amount: string } | undefined) => c?.amount;
    const memory = (s: { toMebibytes(): number } | undefined) => (s ? `${s.toMebibytes()}Mi` : undefined);
    const out: { -readonly [K in keyof ResourceSettings]: ResourceSettings[K] } = {};
    const set = (k: keyof ResourceSettings, v: string | undefined) => { if (v !== undefined) out[k] = v; };
    set('cpuRequest', cpu(resources.cpu?.request));
    set('cpuLimit', cpu(resources.cpu?.limit));
    set('memoryRequest', memory(resources.memory?.request));
    set('memoryLimit', memory(resources.memory?.limit));
    return out;
  }

  private constructor() {}
}
