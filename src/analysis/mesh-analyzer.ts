import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { analyze, AnalysisOptions } from './analyze';
import { Finding, FindingLevel, formatFinding } from './finding';

/** Options of the synth-time mesh analysis. */
export interface MeshAnalyzerOptions extends AnalysisOptions {
  /**
   * Print findings below the failing level (warnings, infos) to stderr.
   * @default true
   */
  readonly printWarnings?: boolean;
  /**
   * Fail on warnings too, not only on errors.
   * @default false
   */
  readonly failOnWarnings?: boolean;
}

const ATTACHED = new WeakSet<IConstruct>();

/**
 * The mesh analyzer at synth time: the checks of `istioctl analyze` (and cdk8s-mesh's own) over every API object
 * of an App or Chart, as it will be written (raw ApiObjects and JSON patches included).
 *
 * `MeshAnalyzer.attach(app)` makes `app.synth()` fail with every error-level finding listed; warnings are printed.
 */
const PRINTED = new WeakMap<IConstruct, Set<string>>();

export class MeshAnalyzer {
  /**
   * Analyzes plain Kubernetes objects.
   * @param objects the objects (JSON)
   */
  public static analyze(objects: any[], options: AnalysisOptions = {}): Finding[] {
    return analyze(objects, options);
  }

  /**
   * Analyzes every API object under a scope (an App, a Chart or any construct).
   */
  public static analyzeScope(scope: IConstruct, options: AnalysisOptions = {}): Finding[] {
    return analyze(MeshAnalyzer.objectsOf(scope), options);
  }

  /**
   * Analyzes a scope now and throws an Error listing every failing finding; prints the others to stderr.
   */
  public static check(scope: IConstruct, options: MeshAnalyzerOptions = {}): void {
    const errors = MeshAnalyzer.validate(scope, options);
    if (errors.length > 0) {
      throw new Error(`Mesh analysis failed with ${errors.length} finding(s):\n  ${errors.join('\n  ')}`);
    }
  }

  /**
   * Hooks the analysis into synthesis: `app.synth()` (which validates every construct first) fails with every
   * failing finding listed. Attaching twice to the same scope has no further effect.
   */
  public static attach(scope: IConstruct, options: MeshAnalyzerOptions = {}): void {
    if (ATTACHED.has(scope)) return;
    ATTACHED.add(scope);
    scope.node.addValidation({ validate: () => MeshAnalyzer.validate(scope, options) });
  }

  /** `Error [IST0101] (VirtualService shop/reviews) <message>`. */
  public static formatFinding(finding: Finding): string {
    return formatFinding(finding);
  }

  private static objectsOf(scope: IConstruct): any[] {
    return scope.node.findAll().filter(c => ApiObject.isApiObject(c)).map(c => (c as ApiObject).toJson());
  }

  private static validate(scope: IConstruct, options: MeshAnalyzerOptions): string[] {
    const findings = MeshAnalyzer.analyzeScope(scope, options);
    const fails = (f: Finding) => f.level === FindingLevel.ERROR || (options.failOnWarnings === true && f.level === FindingLevel.WARNING);
    const others = findings.filter(f => !fails(f));
    if (others.length && options.printWarnings !== false) {
      // cdk8s validates once for the app and once per chart: print each finding once per scope
      let printed = PRINTED.get(scope);
      if (!printed) PRINTED.set(scope, printed = new Set());
      const lines = others.map(f => `cdk8s-mesh analysis: ${formatFinding(f)}\n`).filter(l => !printed!.has(l));
      lines.forEach(l => printed!.add(l));
      if (lines.length) process.stderr.write(lines.join(''));
    }
    return findings.filter(fails).map(formatFinding);
  }

  private constructor() {}
}
