import { Finding, ObjectRef } from './finding';

/**
 * The annotation that acknowledges findings on the object that carries it: a comma- or space-separated list of
 * codes, e.g. `analysis.cdk8s-mesh.dev/acknowledge: IST0118,MESH003`. It travels with the YAML, so the offline CLI
 * honours it too.
 */
export const ACKNOWLEDGE_ANNOTATION = 'analysis.cdk8s-mesh.dev/acknowledge';

/**
 * An acknowledged finding: the analyzer drops it. Use it for a finding you have judged harmless, on the object it
 * concerns (`Acknowledge.finding`), or, sparingly, for a code everywhere (`Acknowledge.everywhere`).
 */
export class Acknowledge {
  /**
   * Acknowledges one code on one object.
   * @param code the message code, e.g. `IST0118`
   * @param object the object; when `namespace` is omitted the acknowledgement matches the name in any namespace
   * @param reason why the finding is acceptable (for readers; not used by the analyzer)
   */
  public static finding(code: string, object: ObjectRef, reason?: string): Acknowledge {
    return new Acknowledge(code, object, reason);
  }

  /**
   * Acknowledges a code on every object.
   * @param code the message code, e.g. `IST0102`
   * @param reason why the finding is acceptable
   */
  public static everywhere(code: string, reason?: string): Acknowledge {
    return new Acknowledge(code, undefined, reason);
  }

  private constructor(
    /** The acknowledged code. */
    public readonly code: string,
    /** The object, or undefined for every object. */
    public readonly object?: ObjectRef,
    /** Why the finding is acceptable. */
    public readonly reason?: string,
  ) {}

  /** Whether this acknowledgement covers a finding. */
  public covers(finding: Finding): boolean {
    if (finding.code !== this.code) return false;
    const o = this.object;
    if (!o) return true;
    return o.kind === finding.object.kind && o.name === finding.object.name
      && (o.namespace === undefined || o.namespace === finding.object.namespace);
  }
}

/** The codes an object's acknowledge annotation lists. @internal */
export function acknowledgedCodes(obj: any): Set<string> {
  const v = obj?.metadata?.annotations?.[ACKNOWLEDGE_ANNOTATION];
  return new Set(typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : []);
}
