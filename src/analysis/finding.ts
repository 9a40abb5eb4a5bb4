/**
 * Findings of the mesh analyzer: what is wrong, where, and how serious (the levels of `istioctl analyze`).
 */

/** How serious a finding is (istioctl analyze's levels). */
export enum FindingLevel {
  /** The configuration is broken: traffic fails or a rule is ignored. */
  ERROR = 'Error',
  /** The configuration probably does not do what was meant. */
  WARNING = 'Warning',
  /** Worth knowing; usually harmless. */
  INFO = 'Info',
}

/** A Kubernetes object, by kind, namespace and name. */
export interface ObjectRef {
  /** The object's kind, e.g. `VirtualService`. */
  readonly kind: string;
  /**
   * The object's namespace.
   * @default - a cluster-scoped object (or one that matches any namespace, in an acknowledgement)
   */
  readonly namespace?: string;
  /** The object's name. */
  readonly name: string;
}

/** Where an analyzed object came from, when it was read from files. */
export interface FindingSource {
  /** The file path as given to the analyzer. */
  readonly file: string;
  /** The 0-based index of the YAML document within the file. */
  readonly documentIndex: number;
}

/** One problem found by the mesh analyzer. */
export interface Finding {
  /** The message code, e.g. `IST0101` (Istio's catalogue) or `MESH001` (cdk8s-mesh's own checks). */
  readonly code: string;
  /** The message name, e.g. `ReferencedResourceNotFound`. */
  readonly name: string;
  /** How serious the finding is. */
  readonly level: FindingLevel;
  /** The object the finding is about. */
  readonly object: ObjectRef;
  /** What is wrong and what to do about it. */
  readonly message: string;
  /**
   * The file and document the object came from.
   * @default - the object was not read from a file
   */
  readonly source?: FindingSource;
}

/** `Error [IST0101] (VirtualService shop/reviews) <message>`, the line format of `istioctl analyze`. @internal */
export function formatFinding(f: Finding): string {
  const where = f.object.namespace ? `${f.object.namespace}/${f.object.name}` : f.object.name;
  const from = f.source ? ` (${f.source.file}, document ${f.source.documentIndex})` : '';
  return `${f.level} [${f.code}] (${f.object.kind} ${where}) ${f.message}${from}`;
}
