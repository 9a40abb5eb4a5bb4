import { Construct } from 'constructs';
import { invalid } from '../errors';
import { checkDnsLabel, checkDnsSubdomain, checkQuantity } from '../validation';

/** Options of an emptyDir volume. */
export interface EmptyDirOptions {
  /**
   * Keep the volume in memory (tmpfs) instead of on the node's disk.
   * @default false
   */
  readonly memory?: boolean;
  /**
   * The most the volume may hold, as a Kubernetes quantity (e.g. `64Mi`).
   * @default - no limit
   */
  readonly sizeLimit?: string;
}

/** Options of a volume from a ConfigMap or a Secret. */
export interface ConfigVolumeOptions {
  /**
   * Whether the pod may start while the ConfigMap or Secret does not exist.
   * @default false
   */
  readonly optional?: boolean;
}

/** The volume names Istio's injection adds to every pod; an app volume must not reuse them. */
const RESERVED_VOLUME_NAMES = ['workload-socket', 'credential-socket', 'workload-certs', 'istio-envoy', 'istio-data',
  'istio-podinfo', 'istio-token', 'istiod-ca-cert', 'istio-ca-crl'];

/**
 * A volume mounted into the app container of every version of a MeshedService: scratch space (`emptyDir`) for apps
 * that write to disk while the root filesystem stays read-only, or configuration from a ConfigMap or Secret.
 *
 * `WorkloadVolume.emptyDir('tmp', '/tmp')`, `WorkloadVolume.configMap('config', '/etc/app', 'app-config')`.
 */
export class WorkloadVolume {
  /** Scratch space that lives as long as the pod. */
  public static emptyDir(name: string, mountPath: string, options: EmptyDirOptions = {}): WorkloadVolume {
    return new WorkloadVolume(name, mountPath, true, 'emptyDir', { ...options });
  }
  /** The keys of a ConfigMap as files, read-only. */
  public static configMap(name: string, mountPath: string, configMapName: string, options: ConfigVolumeOptions = {}): WorkloadVolume {
    return new WorkloadVolume(name, mountPath, false, 'configMap', { source: configMapName, optional: options.optional });
  }
  /** The keys of a Secret as files, read-only. */
  public static secret(name: string, mountPath: string, secretName: string, options: ConfigVolumeOptions = {}): WorkloadVolume {
    return new WorkloadVolume(name, mountPath, false, 'secret', { source: secretName, optional: options.optional });
  }

  /** The volume name in the pod. */
  public readonly name: string;
  /** Where the app container sees it. */
  public readonly mountPath: string;
  /** Whether the app may write to it. */
  public readonly writable: boolean;

  private constructor(name: string, mountPath: string, writable: boolean, private readonly kind: string, private readonly options: any) {
    this.name = name;
    this.mountPath = mountPath;
    this.writable = writable;
  }

  /** Validates and renders `{ volume, mount }`. @internal */
  public _render(scope: Construct, field: string): { volume: any; mount: any } {
    checkDnsLabel(scope, `${field}.name`, this.name);
    if (RESERVED_VOLUME_NAMES.includes(this.name)) {
      invalid(scope, `${field}.name`, this.name, `is a volume Istio's proxy injection adds (${RESERVED_VOLUME_NAMES.join(', ')}); choose another name`);
    }
    if (typeof this.mountPath !== 'string' || !this.mountPath.startsWith('/') || this.mountPath.includes('..') || /\s/.test(this.mountPath)) {
      invalid(scope, `${field}.mountPath`, this.mountPath, "must be an absolute path without '..' or spaces, e.g. '/tmp'");
    }
    let source: any;
    if (this.kind === 'emptyDir') {
      checkQuantity(scope, `${field}.sizeLimit`, this.options.sizeLimit);
      source = { emptyDir: { ...(this.options.memory ? { medium: 'Memory' } : {}), ...(this.options.sizeLimit ? { sizeLimit: this.options.sizeLimit } : {}) } };
    } else {
      checkDnsSubdomain(scope, `${field}.${this.kind === 'secret' ? 'secretName' : 'configMapName'}`, this.options.source);
      const optional = this.options.optional ? { optional: true } : {};
      source = this.kind === 'secret'
        ? { secret: { secretName: this.options.source, ...optional } }
        : { configMap: { name: this.options.source, ...optional } };
    }
    return {
      volume: { name: this.name, ...source },
      mount: { name: this.name, mountPath: this.mountPath, ...(this.writable ? {} : { readOnly: true }) },
    };
  }
}

/** Renders a list of volumes; names and mount paths must be unique. @internal */
export function renderVolumes(scope: Construct, volumes: WorkloadVolume[] | undefined): { volumes?: any[]; mounts?: any[] } {
  if (!volumes || volumes.length === 0) return {};
  const names = new Set<string>();
  const paths = new Set<string>();
  const out = volumes.map((v, i) => {
    if (!(v instanceof WorkloadVolume)) invalid(scope, `volumes[${i}]`, v, 'must be made with WorkloadVolume.emptyDir/configMap/secret');
    const r = v._render(scope, `volumes[${i}]`);
    if (names.has(v.name)) invalid(scope, `volumes[${i}].name`, v.name, 'is used by another volume: names must be unique');
    if (paths.has(v.mountPath)) invalid(scope, `volumes[${i}].mountPath`, v.mountPath, 'is used by another volume: mount paths must be unique');
    names.add(v.name);
    paths.add(v.mountPath);
    return r;
  });
  return { volumes: out.map(r => r.volume), mounts: out.map(r => r.mount) };
}
