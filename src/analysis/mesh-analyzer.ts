import { ApiObject } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { analyze, AnalysisOptions } from './analyze';
import { Finding, FindingLevel, formatFinding } from './finding';
import { MeshModel } from '../model/mesh-model';

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
  /**
   * Prove at synth time that the mesh works: run the flow analysis (MESH101..MESH106) over the synthesized objects,
   * with the metrics scraper the app declared (`flows` options given explicitly win). A declared call, gateway route
   * or mirror that the policies deny, or a proxy that cannot reach istiod or its CA, fails the synth.
   * @default true
   */
  readonly flowAnalysis?: boolean;
}


/**
 * The mesh analyzer at synth time: the checks of `istioctl analyze` (and cdk8s-mesh's own) over every API object
 * of an App or Chart, as it will be written (raw ApiObjects and JSON patches included).
 *
 * `MeshAnalyzer.attach(app)` makes `app.synth()` fail with every error-level finding listed; warnings are printed.
 */
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
    if (scope.node.tryFindChild(HOOK_ID)) return;
    new AnalysisHook(scope as Construct, HOOK_ID, options);
  }

  /** `Error [IST0101] (VirtualService shop/reviews) <message>`. */
  public static formatFinding(finding: Finding): string {
    return formatFinding(finding);
  }

  /** @internal */
  public static _objectsOf(scope: IConstruct): any[] {
    return MeshAnalyzer.objectsOf(scope);
  }

  /** The failing findings as messages; the others printed to stderr once each. @internal */
  public static _report(findings: Finding[], options: MeshAnalyzerOptions, printed: Set<string>): string[] {
    const fails = (f: Finding) => f.level === FindingLevel.ERROR || (options.failOnWarnings === true && f.level === FindingLevel.WARNING);
    const others = findings.filter(f => !fails(f));
    if (others.length && options.printWarnings !== false) {
      const lines = others.map(f => `cdk8s-mesh analysis: ${formatFinding(f)}\n`).filter(l => !printed.has(l));
      lines.forEach(l => printed.add(l));
      if (lines.length) process.stderr.write(lines.join(''));
    }
    return findings.filter(fails).map(formatFinding);
  }

  private static validate(scope: IConstruct, options: MeshAnalyzerOptions, printed?: Set<string>): string[] {
    return MeshAnalyzer._report(MeshAnalyzer.analyzeScope(scope, options), options, printed ?? new Set());
  }

  private static objectsOf(scope: IConstruct): any[] {
    return scope.node.findAll().filter(c => ApiObject.isApiObject(c)).map(c => (c as ApiObject).toJson());
  }

  private constructor() {}
}

const HOOK_ID = 'cdk8s-mesh.analysis';

/**
 * The synth-time analysis attached to a scope: analyses the objects once per distinct output (cdk8s may validate
 * several times in one synthesis: the same objects are not analysed again), and prints each warning once.
 */
class AnalysisHook extends Construct {
  /** How many times the objects were actually analysed. */
  public runs = 0;
  private lastInput?: string;
  private lastFindings: Finding[] = [];
  private readonly printed = new Set<string>();

  constructor(scope: Construct, id: string, private readonly options: MeshAnalyzerOptions) {
    super(scope, id);
    this.node.addValidation({ validate: () => this.run() });
  }

  /** The options, with the flow analysis on by default and the scraper taken from the app's mesh model. */
  private analysisOptions(): AnalysisOptions {
    if (this.options.flows || this.options.flowAnalysis === false) return this.options;
    const scraper = MeshModel.of(this).scrapers[0];
    return {
      ...this.options,
      flows: scraper ? { scraperNamespace: scraper.namespace, scraperLabels: { ...scraper.podLabels } } : {},
    };
  }

  private run(): string[] {
    const objects = MeshAnalyzer._objectsOf(this.node.scope!);
    const input = JSON.stringify(objects);
    if (input !== this.lastInput) {
      this.lastInput = input;
      this.lastFindings = MeshAnalyzer.analyze(objects, this.analysisOptions());
      this.runs++;
    }
    return MeshAnalyzer._report(this.lastFindings, this.options, this.printed);
  }
}
