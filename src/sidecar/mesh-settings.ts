/**
 * Validation of the mesh-wide settings injection reads (Istio's values.global.network, values.global.imagePullSecrets
 * and meshConfig.defaultConfig), kept next to the injection that uses them.
 * @internal
 */
import { Duration } from 'cdk8s';
import { invalid } from '../errors';
import { checkInteger } from '../validation';
import { MeshProxyConfig } from './proxy-options';

/** The mesh props this module resolves. */
export interface MeshInjectionProps {
  readonly network?: string;
  readonly imagePullSecrets?: string[];
  readonly defaultProxyConfig?: MeshProxyConfig;
}

/** The resolved settings. */
export interface MeshInjectionSettings {
  readonly network?: string;
  readonly imagePullSecrets: string[];
  readonly defaultProxyConfig: MeshProxyConfig;
}

// topology.istio.io/network is a label: its value must be a label value
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Validates and resolves the settings (errors name the Mesh's path and the prop). */
export function resolveMeshInjection(path: string, props: MeshInjectionProps): MeshInjectionSettings {
  if (props.network !== undefined && (typeof props.network !== 'string' || !LABEL_VALUE.test(props.network))) {
    invalid(path, 'network', props.network, "must be a label value (up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), e.g. 'network1'");
  }
  const imagePullSecrets = [...(props.imagePullSecrets ?? [])];
  imagePullSecrets.forEach((name, i) => {
    if (typeof name !== 'string' || name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
      invalid(path, `imagePullSecrets[${i}]`, name, "must be a Secret name: lowercase letters, digits, '-' and '.', e.g. 'regcred'");
    }
    if (imagePullSecrets.indexOf(name) !== i) invalid(path, `imagePullSecrets[${i}]`, name, 'must not repeat a Secret');
  });
  const defaultProxyConfig: MeshProxyConfig = {
    ...props.defaultProxyConfig,
    proxyMetadata: props.defaultProxyConfig?.proxyMetadata && { ...props.defaultProxyConfig.proxyMetadata },
  };
  checkProxyDefaults(path, defaultProxyConfig);
  return { network: props.network, imagePullSecrets, defaultProxyConfig };
}

/** Istio 1.30.3 pkg/config/validation/agent: durations of at least 1ms; the drain duration in whole seconds. */
function checkProxyDefaults(path: string, c: MeshProxyConfig) {
  const field = (k: string) => `defaultProxyConfig.${k}`;
  if (c.concurrency !== undefined) checkInteger(path, field('concurrency'), c.concurrency, 0, 2147483647);
  if (c.holdApplicationUntilProxyStarts !== undefined && typeof c.holdApplicationUntilProxyStarts !== 'boolean') {
    invalid(path, field('holdApplicationUntilProxyStarts'), c.holdApplicationUntilProxyStarts, 'must be true or false');
  }
  if (c.drainDuration !== undefined) {
    const ms = durationMs(path, field('drainDuration'), c.drainDuration);
    if (ms < 1000 || ms % 1000 !== 0) invalid(path, field('drainDuration'), `${ms}ms`, 'must be whole seconds, at least 1 second');
  }
  if (c.terminationDrainDuration !== undefined) {
    const ms = durationMs(path, field('terminationDrainDuration'), c.terminationDrainDuration);
    if (ms < 1) invalid(path, field('terminationDrainDuration'), `${ms}ms`, 'must be at least 1 millisecond');
  }
  for (const [k, v] of Object.entries(c.proxyMetadata ?? {})) {
    if (!ENV_NAME.test(k)) invalid(path, `${field('proxyMetadata')} key`, k, 'must be an environment variable name: letters, digits and _, not starting with a digit');
    if (typeof v !== 'string') invalid(path, `${field('proxyMetadata')}['${k}']`, v, 'must be a string');
  }
}

function durationMs(path: string, field: string, d: Duration): number {
  let ms = NaN;
  try {
    ms = d.toMilliseconds();
  } catch {
    // a fractional number of milliseconds
  }
  if (!Number.isInteger(ms)) invalid(path, field, String(d), 'must be a Duration of whole milliseconds, e.g. Duration.seconds(30)');
  return ms;
}

/**
 * The mesh's image pull Secrets as a pod spec or ServiceAccount writes them (`values.global.imagePullSecrets` in Istio
 * 1.30.3's charts and injection templates), or nothing without any. @internal
 */
export function imagePullSecretRefs(mesh: { readonly imagePullSecrets: string[] }): { imagePullSecrets?: Array<{ name: string }> } {
  return mesh.imagePullSecrets.length ? { imagePullSecrets: mesh.imagePullSecrets.map(name => ({ name })) } : {};
}
