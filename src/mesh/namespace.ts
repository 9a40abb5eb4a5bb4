import { Construct, IConstruct } from 'constructs';
import { invalid } from '../errors';
import { checkDnsLabel } from '../validation';
import { DataPlaneMode } from './data-plane';
import type { IMesh } from './mesh';

/**
 * A Kubernetes namespace that belongs to a mesh.
 *
 * Every meshed workload lives in one; the workload reads the mesh (trust domain, revision, injection mode) from it.
 * `ZeroTrustNamespace` implements it for a namespace this app owns; `MeshNamespace.fromName` refers to one that
 * exists already (created by another chart, another repository or by hand).
 */
export interface IMeshNamespace extends IConstruct {
  /** The namespace name (a DNS label). */
  readonly name: string;
  /** The mesh the namespace's workloads join. */
  readonly mesh: IMesh;
  /** The namespace's data plane: its own choice, else the mesh's default (`mesh.dataPlaneMode`). */
  readonly dataPlaneMode: DataPlaneMode;
}

/** Attributes of an existing meshed namespace. */
export interface MeshNamespaceAttributes {
  /** The namespace name (a DNS label). */
  readonly name: string;
  /** The mesh its workloads join. */
  readonly mesh: IMesh;
  /**
   * The namespace's data plane (`DataPlaneMode.AMBIENT` when it is labelled `istio.io/dataplane-mode: ambient`):
   * services declared in it get no sidecar.
   * @default - the mesh's
   */
  readonly dataPlaneMode?: DataPlaneMode;
}

/**
 * Refers to meshed namespaces that this app does not create.
 */
export class MeshNamespace {
  /**
   * Refers to an existing namespace (created elsewhere) whose workloads join `mesh`. Synthesizes nothing: the
   * namespace, its injection labels and its policies are someone else's.
   */
  public static fromName(scope: Construct, id: string, attrs: MeshNamespaceAttributes): IMeshNamespace {
    return new ImportedMeshNamespace(scope, id, attrs);
  }

  private constructor() {}
}

class ImportedMeshNamespace extends Construct implements IMeshNamespace {
  public readonly name: string;
  public readonly mesh: IMesh;
  public readonly dataPlaneMode: DataPlaneMode;

  constructor(scope: Construct, id: string, attrs: MeshNamespaceAttributes) {
    super(scope, id);
    checkDnsLabel(this, 'name', attrs.name);
    this.name = attrs.name;
    this.mesh = attrs.mesh;
    this.dataPlaneMode = attrs.dataPlaneMode ?? attrs.mesh.dataPlaneMode ?? DataPlaneMode.SIDECAR;
    if (!Object.values(DataPlaneMode).includes(this.dataPlaneMode)) {
      invalid(this, 'dataPlaneMode', this.dataPlaneMode, `must be one of ${Object.values(DataPlaneMode).join(', ')}`);
    }
  }
}
