import { ApiObject, App, Chart, Duration, Lazy, Names, YamlOutputType } from 'cdk8s';
import { Construct } from 'constructs';
import {
  Application, ApplicationSpec, ApplicationSpecIgnoreDifferences, ApplicationSpecSyncPolicy, AppProject, AppProjectSpec,
} from '../../imports/argocd-argoproj.io';
import { invalid } from '../errors';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { MeshModel } from '../model/mesh-model';
import { checkDnsLabel, checkInteger } from '../validation';
import {
  ArgoCdAnnotations, ArgoCdSyncOptions, ARGOCD_DEFAULT_NAMESPACE, ARGOCD_IN_CLUSTER_SERVER, ARGOCD_RESOURCES_FINALIZER,
  ROLLOUTS_POD_TEMPLATE_HASH,
} from './argocd-constants';
import { ArgoCdHealthCheckOptions, ArgoCdHealthChecks } from './health-checks';
import {
  apiObjectsOf, chartNamingInputs, ChartNamingInputs, chartOutputNames, CrdFact, crdIndex, gk, groupOf, isBuiltinGroup, isClusterScoped, readCrdFact,
  sameChartNamingInputs,
} from './inventory';
import { ArgoSyncPolicy, ArgoSyncRetry, CrdSyncMethod, SkipDryRunScope } from './sync-policy';
import { mergeSyncOptions, waveOf } from './sync-wave-table';
import { SyncWaves } from './sync-waves';

/**
 * Options for one chart delivered by an `ArgoCdDelivery`.
 */
export interface ChartDeliveryOptions {
  /**
   * The name of the chart's Application (a DNS label).
   *
   * @default the chart's name as cdk8s writes its file (`Names.toDnsLabel(chart)`)
   */
  readonly name?: string;

  /**
   * The Application's destination namespace: where objects without `metadata.namespace` go.
   *
   * @default the chart's `namespace`, else 'default'
   */
  readonly namespace?: string;

  /**
   * The Application's sync wave in the app-of-apps root.
   *
   * @default derived: `SyncWaves.APPLICATIONS` for a chart with CRDs, +1 for a chart with control-plane objects
   * (webhooks, istiod), +2 for the rest
   */
  readonly syncWave?: number;
}

/**
 * Props of `ArgoCdDelivery`.
 */
export interface ArgoCdDeliveryProps {
  /**
   * The Git repository the synthesized YAML is committed to: `https://host/path`, `ssh://[user@]host[:port]/path` or
   * scp-like `git@host:path`. Plain `http://`, `git://` and local paths are rejected (unauthenticated or unreachable
   * from Argo CD's repo server).
   */
  readonly repoUrl: string;

  /**
   * The Git revision Argo CD follows: a branch, tag or commit (e.g. 'main').
   */
  readonly targetRevision: string;

  /**
   * The repository path of the cdk8s output directory (the app's `outdir` as committed), relative to the repository
   * root, without '..'. Each Application reads its chart's file from it (`directory.include`).
   *
   * @default 'dist'
   */
  readonly path?: string;

  /**
   * The charts to deliver, one Application each. More can be added with `addChart`.
   *
   * @default - none
   */
  readonly charts?: Chart[];

  /**
   * The prefix of the AppProjects that scope the Applications: each chart's Application gets a project of its own,
   * `<projectName>-<application name>`, limited to what that chart holds (its namespaces and kinds), so an
   * application chart cannot create ClusterRoleBindings or Certificates in the control plane's namespace because the
   * platform chart does.
   *
   * @default the construct id
   */
  readonly projectName?: string;

  /**
   * The namespace Argo CD runs in (Applications and AppProjects live there).
   *
   * @default 'argocd'
   */
  readonly argocdNamespace?: string;

  /**
   * The API server URL of the destination cluster.
   *
   * @default 'https://kubernetes.default.svc' (the cluster Argo CD runs in)
   */
  readonly destinationServer?: string;

  /**
   * When Argo CD syncs.
   *
   * @default ArgoSyncPolicy.automated() (prune and selfHeal on)
   */
  readonly syncPolicy?: ArgoSyncPolicy;

  /**
   * How a failed sync is retried.
   *
   * @default 5 retries, backoff 5s, factor 2, at most 3m
   */
  readonly retry?: ArgoSyncRetry;

  /**
   * Let Argo CD create each destination namespace (`CreateNamespace=true`). Charts that emit their Namespace objects
   * (as ZeroTrustNamespace does) do not need it.
   *
   * @default false
   */
  readonly createNamespace?: boolean;

  /**
   * Apply every object with server-side apply (`ServerSideApply=true` on the Applications). CRDs get it (or
   * `crdSyncMethod`) regardless.
   *
   * @default false
   */
  readonly serverSideApply?: boolean;

  /**
   * Delete pruned objects only after the whole sync has succeeded (`PruneLast=true`): make before break.
   *
   * @default true
   */
  readonly pruneLast?: boolean;

  /**
   * How CustomResourceDefinitions are applied (large CRDs do not fit client-side apply's annotation).
   *
   * @default CrdSyncMethod.SERVER_SIDE_APPLY
   */
  readonly crdSyncMethod?: CrdSyncMethod;

  /**
   * Which custom resources skip Argo CD's dry run when their CRD is missing.
   *
   * @default SkipDryRunScope.DELIVERED_CRDS
   */
  readonly skipDryRun?: SkipDryRunScope;

  /**
   * Argo Rollouts shifts traffic by editing VirtualService route weights (and DestinationRule subset labels) in the
   * cluster. With this on, each Application ignores those fields on the VirtualServices and DestinationRules its
   * Rollouts name (`spec.strategy.canary.trafficRouting.istio`), and keeps their live values during a sync
   * (`RespectIgnoreDifferences=true`), so Argo CD neither reports drift nor resets a canary mid-flight.
   *
   * @default false
   */
  readonly progressiveDelivery?: boolean;

  /**
   * Also emit an app-of-apps root Application (and a bootstrap AppProject limited to Argo CD's namespace and to the
   * kinds in this construct's chart) that syncs this construct's own chart: apply that chart once by hand, Argo CD
   * manages everything after, itself included.
   *
   * @default false
   */
  readonly appOfApps?: boolean;

  /**
   * The name of the root Application (with `appOfApps`).
   *
   * @default `<projectName>-root`
   */
  readonly rootApplicationName?: string;

  /**
   * Give each chart's Application the resources finalizer, so deleting the Application (or removing the chart from
   * the delivery, with prune) deletes its objects. The root Application never gets it.
   *
   * @default true
   */
  readonly cascadeDelete?: boolean;
}

interface Delivered {
  readonly chart: Chart;
  readonly name: string;
  readonly namespace?: string;
  readonly application: Application;
  readonly project: AppProject;
  readonly explicitWave: boolean;
}

const IGNORE_WEBHOOK_FIELDS = ['.webhooks[]?.clientConfig.caBundle', '.webhooks[]?.failurePolicy'];
const IGNORE_ROUTE_WEIGHTS = ['.spec.http[]?.route[]?.weight'];
const IGNORE_SUBSET_HASH = [`.spec.subsets[]?.labels["${ROLLOUTS_POD_TEMPLATE_HASH}"]`];
/**
 * A Deployment a controller adopted: Argo Rollouts scales the `workloadRef` Deployment down (Argo Rollouts v1.9.1,
 * "Migrating to Rollouts"), Flagger scales its Canary's `targetRef` to zero after each promotion (Flagger v1.44.0):
 * with self-heal Argo CD would scale it back up from Git, fighting the controller.
 */
const IGNORE_REPLICAS = ['.spec.replicas'];

/**
 * Delivers the charts of a cdk8s app through Argo CD: one `Application` per chart, pointing at the chart's
 * synthesized file in Git, in an `AppProject` of its own limited to exactly what that chart contains, and optionally
 * an app-of-apps root.
 *
 * At synth it also annotates every object of the delivered charts (and of its own chart) with its
 * `argocd.argoproj.io/sync-wave` from `SyncWaves` (a wave set by hand is kept), gives CRDs a sync method that has no
 * annotation size limit, and marks custom resources whose CRD is synced alongside with
 * `SkipDryRunOnMissingResource=true`. Applications with Istio's webhooks ignore the `caBundle` and `failurePolicy`
 * that istiod patches at runtime.
 *
 * ```ts
 * const gitops = new Chart(app, 'gitops');
 * new ArgoCdDelivery(gitops, 'mesh', {
 *   repoUrl: 'https://github.com/acme/platform.git', targetRevision: 'main', path: 'dist',
 *   charts: [platform, shop], appOfApps: true,
 * });
 * ```
 */
export class ArgoCdDelivery extends Construct {
  /** The bootstrap AppProject of the root Application (with `appOfApps`). */
  public readonly rootProject?: AppProject;
  /** The app-of-apps root Application (with `appOfApps`). */
  public readonly rootApplication?: Application;
  /** The prefix of the charts' AppProjects (`<projectName>-<application name>`). */
  public readonly projectName: string;

  private readonly props: ArgoCdDeliveryProps;
  private readonly path: string;
  private readonly argocdNamespace: string;
  private readonly server: string;
  private readonly syncPolicy: ArgoSyncPolicy;
  private readonly delivered: Delivered[] = [];
  private readonly extraIgnores = new Map<Chart, ApplicationSpecIgnoreDifferences[]>();
  /** The delivered charts' CRDs and ranks, computed once per synthesis pass. */
  private inventory?: { synthesis: number; charts: Set<Chart>; crds: Map<string, string>; ranks: Map<Chart, number> };
  private takingInventory = false;
  /** The file names of an app's charts, with what they were computed from (see `outputNameOf`). */
  private outputNames?: { inputs: ChartNamingInputs; names: Map<Chart, string> };
  /**
   * Each CRD's `<group>/<kind>` and scope, read once per synthesis pass (rendering a CRD is the costliest read of a
   * synthesis; the delivery's AppProjects and every object's sync options need it): a CRD changed or added between
   * syntheses is read again.
   */
  private readonly crdFacts = new WeakMap<ApiObject, { pass: number; fact: CrdFact | undefined }>();

  constructor(scope: Construct, id: string, props: ArgoCdDeliveryProps) {
    super(scope, id);
    this.props = props;
    checkRepoUrl(this, props.repoUrl);
    if (typeof props.targetRevision !== 'string' || !props.targetRevision.trim() || /\s/.test(props.targetRevision)) {
      invalid(this, 'targetRevision', props.targetRevision, "must be a non-empty Git branch, tag or commit without spaces, e.g. 'main'");
    }
    this.path = checkPath(this, props.path ?? 'dist');
    this.projectName = props.projectName ?? id;
    checkDnsLabel(this, props.projectName === undefined ? 'projectName (defaults to the construct id)' : 'projectName', this.projectName);
    this.argocdNamespace = props.argocdNamespace ?? ARGOCD_DEFAULT_NAMESPACE;
    checkDnsLabel(this, 'argocdNamespace', this.argocdNamespace);
    this.server = props.destinationServer ?? ARGOCD_IN_CLUSTER_SERVER;
    if (!/^https:\/\/[^\s/]+(\/\S*)?$/.test(this.server)) {
      invalid(this, 'destinationServer', this.server, "must be the https:// URL of a Kubernetes API server, e.g. 'https://kubernetes.default.svc'");
    }
    this.syncPolicy = props.syncPolicy ?? ArgoSyncPolicy.automated();
    checkRetry(this, props.retry);

    const app = App.of(this);
    if (app instanceof App && app.yamlOutputType !== YamlOutputType.FILE_PER_CHART
      && app.yamlOutputType !== YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE) {
      invalid(this, 'app yamlOutputType', YamlOutputType[app.yamlOutputType], 'must be FILE_PER_CHART or FOLDER_PER_CHART_FILE_PER_RESOURCE: each chart needs its own file or folder for its Application');
    }

    if (props.appOfApps) {
      const rootName = props.rootApplicationName ?? `${this.projectName}-root`;
      checkDnsLabel(this, 'rootApplicationName', rootName);
      const rootProjectName = `${this.projectName}-bootstrap`;
      checkDnsLabel(this, 'projectName (bootstrap project)', rootProjectName);
      const own = Chart.of(this);
      this.rootProject = new AppProject(this, 'bootstrap-project', {
        metadata: { name: rootProjectName, namespace: this.argocdNamespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
        spec: Lazy.any({ produce: () => this.projectSpec([own], false) }) as any,
      });
      this.rootApplication = new Application(this, 'root', {
        metadata: { name: rootName, namespace: this.argocdNamespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
        spec: Lazy.any({ produce: () => this.applicationSpec(own, rootProjectName, this.argocdNamespace) }) as any,
      });
    }

    for (const chart of props.charts ?? []) this.addChart(chart);

    // sync waves and sync options are written onto every object of the delivered charts as it is synthesized
    // (whoever created it, whenever): a synth-time transform, never a validation hook
    MeshModel.of(this).addObjectTransform((obj, json, synthesis) => this.annotate(obj, json, synthesis));
  }

  /**
   * Delivers one more chart through its own Application.
   *
   * @param chart the chart (not the one holding this construct)
   * @param options name, destination namespace and sync wave of the Application
   * @returns the Application
   */
  public addChart(chart: Chart, options: ChartDeliveryOptions = {}): Application {
    if (chart === Chart.of(this)) {
      invalid(this, 'charts', chart.node.path, 'must not include the chart holding the ArgoCdDelivery itself; that chart is delivered by the app-of-apps root (appOfApps: true)');
    }
    if (this.delivered.some(d => d.chart === chart)) {
      invalid(this, 'charts', chart.node.path, 'must list each chart once');
    }
    const name = options.name ?? Names.toDnsLabel(chart);
    checkDnsLabel(this, `Application name of chart '${chart.node.path}'`, name);
    const clash = this.delivered.find(d => d.name === name) ?? (this.rootApplication?.name === name ? { name } : undefined);
    if (clash) invalid(this, `Application name of chart '${chart.node.path}'`, name, 'must be unique among the Applications of the delivery');
    if (options.namespace !== undefined) checkDnsLabel(this, `namespace of chart '${chart.node.path}'`, options.namespace);
    checkInteger(this, `syncWave of chart '${chart.node.path}'`, options.syncWave, -1000, 1000);
    const namespace = options.namespace ?? chart.namespace;
    // one project per chart: its Application may deploy only what the chart holds
    const projectName = `${this.projectName}-${name}`;
    checkDnsLabel(this, `AppProject name of chart '${chart.node.path}'`, projectName);
    const project = new AppProject(this, `project-${name}`, {
      metadata: { name: projectName, namespace: this.argocdNamespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
      spec: Lazy.any({ produce: () => this.projectSpec([chart], true) }) as any,
    });

    const application = new Application(this, `app-${name}`, {
      metadata: {
        name,
        namespace: this.argocdNamespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
        finalizers: (this.props.cascadeDelete ?? true) ? [ARGOCD_RESOURCES_FINALIZER] : undefined,
        annotations: options.syncWave !== undefined ? { [ArgoCdAnnotations.SYNC_WAVE]: String(options.syncWave) } : undefined,
      },
      spec: Lazy.any({ produce: () => this.applicationSpec(chart, projectName, namespace ?? 'default') }) as any,
    });
    this.delivered.push({ chart, name, namespace, application, project, explicitWave: options.syncWave !== undefined });
    return application;
  }

  /**
   * The AppProject of a delivered chart's Application (limited to the chart's namespaces and kinds).
   *
   * @param chart a chart given in `charts` or to `addChart`
   */
  public projectOf(chart: Chart): AppProject {
    const d = this.delivered.find(x => x.chart === chart);
    if (!d) invalid(this, 'chart', chart.node.path, 'must be one of the charts this ArgoCdDelivery delivers');
    return d.project;
  }

  /**
   * The Application of a delivered chart.
   *
   * @param chart a chart given in `charts` or to `addChart`
   */
  public applicationOf(chart: Chart): Application {
    const d = this.delivered.find(x => x.chart === chart);
    if (!d) invalid(this, 'chart', chart.node.path, 'must be one of the charts this ArgoCdDelivery delivers');
    return d.application;
  }

  /**
   * Makes the Application of the VirtualService's chart ignore its route weights (and keep the live weights during a
   * sync): for a controller that shifts traffic at runtime, such as Argo Rollouts driving a CanaryRelease.
   *
   * @param virtualService the VirtualService (an ApiObject in one of the delivered charts)
   */
  public ignoreRouteWeights(virtualService: ApiObject) {
    if (virtualService.kind !== 'VirtualService') {
      invalid(this, 'virtualService', `${virtualService.kind} ${virtualService.node.path}`, 'must be a VirtualService');
    }
    const chart = Chart.of(virtualService);
    if (!this.delivered.some(d => d.chart === chart)) {
      invalid(this, 'virtualService', virtualService.node.path, 'must be in one of the charts this ArgoCdDelivery delivers');
    }
    const list = this.extraIgnores.get(chart) ?? [];
    list.push({
      group: groupOf(virtualService.apiVersion),
      kind: 'VirtualService',
      name: virtualService.name,
      namespace: virtualService.metadata.namespace,
      jqPathExpressions: IGNORE_ROUTE_WEIGHTS,
    });
    this.extraIgnores.set(chart, list);
  }

  /**
   * The Argo CD health checks for the kinds this library emits (`argocd-cm` key -> Lua script); see
   * `ArgoCdHealthChecks.forMesh`. Includes the Application check when `appOfApps` is on.
   */
  public healthChecks(): { [key: string]: string } {
    const options: ArgoCdHealthCheckOptions = { applications: this.props.appOfApps ?? false };
    return ArgoCdHealthChecks.forMesh(options);
  }

  /** Every chart the pass annotates: the delivered ones and the one holding this construct. */
  private allCharts(): Chart[] {
    const own = Chart.of(this);
    return [...this.delivered.map(d => d.chart), own];
  }

  private currentInventory(synthesis: number) {
    if (!this.inventory || this.inventory.synthesis !== synthesis) {
      // reading the CRDs renders them: they are not annotated while the inventory is taken, nor counted as written
      this.takingInventory = true;
      try {
        const charts = this.allCharts();
        this.inventory = MeshModel.of(this).quietly(() => ({
          synthesis,
          charts: new Set(charts),
          crds: crdIndex(charts.flatMap(apiObjectsOf), crd => this.crdFactOf(crd, synthesis)),
          ranks: new Map(this.delivered.map(d => [d.chart, chartRank(d.chart)])),
        }));
      } finally {
        this.takingInventory = false;
      }
    }
    return this.inventory;
  }

  /**
   * The file (or folder) the app's synth writes a chart to. cdk8s names charts in the order of a dependency graph of
   * the whole construct tree: the names are kept with what they are a function of (the charts and dependencies, read in
   * one walk per Application) and computed again only when that changed, so a chart or dependency added at any time
   * is named as cdk8s will write it.
   */
  private outputNameOf(chart: Chart): string {
    const app = App.of(chart);
    if (!(app instanceof App)) return Names.toDnsLabel(chart);
    const inputs = chartNamingInputs(app);
    if (!this.outputNames || !sameChartNamingInputs(this.outputNames.inputs, inputs)) {
      this.outputNames = { inputs, names: chartOutputNames(inputs) };
    }
    return this.outputNames.names.get(chart)!;
  }

  private crdFactOf(crd: ApiObject, pass: number): CrdFact | undefined {
    let entry = this.crdFacts.get(crd);
    if (entry?.pass !== pass) {
      entry = { pass, fact: readCrdFact(crd) };
      this.crdFacts.set(crd, entry);
    }
    return entry.fact;
  }

  /**
   * The waves and sync options of one object of a delivered chart, added to its JSON as it is written; annotations
   * the object sets itself win.
   */
  private annotate(obj: ApiObject, json: any, synthesis: number): any | undefined {
    if (this.takingInventory) return undefined;
    const inv = this.currentInventory(synthesis);
    const chart = Chart.of(obj);
    if (!inv.charts.has(chart)) return undefined;
    const annotations: { [key: string]: string } = { ...json.metadata?.annotations };
    const labels: { [key: string]: string } = json.metadata?.labels ?? {};
    const d = this.delivered.find(x => x.application === obj);
    // the children of an app-of-apps: CRDs first, then the control plane, then the rest
    const wave = d ? (d.explicitWave ? undefined : SyncWaves.APPLICATIONS + (inv.ranks.get(d.chart) ?? 2)) : waveOf(obj.kind, k => labels[k]);
    if (wave !== undefined && annotations[ArgoCdAnnotations.SYNC_WAVE] === undefined) annotations[ArgoCdAnnotations.SYNC_WAVE] = String(wave);
    const scope = this.props.skipDryRun ?? SkipDryRunScope.DELIVERED_CRDS;
    const crdOption = (this.props.crdSyncMethod ?? CrdSyncMethod.SERVER_SIDE_APPLY) === CrdSyncMethod.REPLACE
      ? ArgoCdSyncOptions.REPLACE : ArgoCdSyncOptions.SERVER_SIDE_APPLY;
    const group = groupOf(obj.apiVersion);
    let options: string[] = [];
    if (!d && obj.kind === 'CustomResourceDefinition' && group === 'apiextensions.k8s.io') {
      options = [crdOption];
    } else if (!d && ((scope === SkipDryRunScope.DELIVERED_CRDS && inv.crds.has(gk(group, obj.kind)))
      || (scope === SkipDryRunScope.ALL_CUSTOM_RESOURCES && !isBuiltinGroup(group)))) {
      options = [ArgoCdSyncOptions.SKIP_DRY_RUN_ON_MISSING_RESOURCE];
    }
    if (options.length) {
      const merged = mergeSyncOptions(annotations[ArgoCdAnnotations.SYNC_OPTIONS], options);
      if (merged !== undefined) annotations[ArgoCdAnnotations.SYNC_OPTIONS] = merged;
    }
    if (JSON.stringify(annotations) === JSON.stringify(json.metadata?.annotations ?? {})) return undefined;
    return { ...json, metadata: { ...json.metadata, annotations } };
  }

  /** The spec of a chart's Application (synth time). */
  private applicationSpec(chart: Chart, project: string, destinationNamespace: string): ApplicationSpec {
    const out = this.outputNameOf(chart);
    const folder = (App.of(chart) as App).yamlOutputType === YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE;
    const ignores = this.ignoreDifferencesOf(chart);
    const options = [
      ...(this.props.createNamespace ? [ArgoCdSyncOptions.CREATE_NAMESPACE] : []),
      ...((this.props.pruneLast ?? true) ? [ArgoCdSyncOptions.PRUNE_LAST] : []),
      ...(this.props.serverSideApply ? [ArgoCdSyncOptions.SERVER_SIDE_APPLY] : []),
      ...(ignores.length > 0 ? [ArgoCdSyncOptions.RESPECT_IGNORE_DIFFERENCES] : []),
    ];
    const syncPolicy: ApplicationSpecSyncPolicy = {
      automated: this.syncPolicy.isAutomated
        ? { prune: this.syncPolicy.prune, selfHeal: this.syncPolicy.selfHeal, allowEmpty: this.syncPolicy.allowEmpty }
        : undefined,
      syncOptions: options.length > 0 ? options : undefined,
      retry: renderRetry(this.props.retry),
    };
    return {
      project,
      source: {
        repoUrl: this.props.repoUrl,
        targetRevision: this.props.targetRevision,
        path: folder ? joinPath(this.path, out) : this.path,
        directory: folder ? { recurse: false } : { include: out, recurse: false },
      },
      destination: { server: this.server, namespace: destinationNamespace },
      syncPolicy,
      ignoreDifferences: ignores.length > 0 ? ignores : undefined,
    };
  }

  /** What a chart's Application ignores: istiod's webhook patches, rollout-managed weights (synth time). */
  private ignoreDifferencesOf(chart: Chart): ApplicationSpecIgnoreDifferences[] {
    const out: ApplicationSpecIgnoreDifferences[] = [];
    for (const obj of apiObjectsOf(chart)) {
      const group = groupOf(obj.apiVersion);
      if (group === 'admissionregistration.k8s.io'
        && (obj.kind === 'MutatingWebhookConfiguration' || obj.kind === 'ValidatingWebhookConfiguration')) {
        out.push({ group, kind: obj.kind, name: obj.name, jqPathExpressions: IGNORE_WEBHOOK_FIELDS });
      }
      // a Deployment a controller adopted keeps the replicas the controller gives it
      const adopted = obj.kind === 'Rollout' && group === 'argoproj.io' ? obj.toJson()?.spec?.workloadRef
        : obj.kind === 'Canary' && group === 'flagger.app' ? obj.toJson()?.spec?.targetRef : undefined;
      if (adopted?.kind === 'Deployment' && typeof adopted.name === 'string') {
        out.push({ group: 'apps', kind: 'Deployment', name: adopted.name, namespace: obj.metadata.namespace, jqPathExpressions: IGNORE_REPLICAS });
      }
      if (this.props.progressiveDelivery && obj.kind === 'Rollout' && group === 'argoproj.io') {
        const istio = obj.toJson()?.spec?.strategy?.canary?.trafficRouting?.istio ?? {};
        const namespace = obj.metadata.namespace;
        const services = [istio.virtualService, ...(istio.virtualServices ?? [])].filter(v => v?.name);
        for (const vs of services) {
          out.push({ group: 'networking.istio.io', kind: 'VirtualService', name: vs.name, namespace, jqPathExpressions: IGNORE_ROUTE_WEIGHTS });
        }
        if (istio.destinationRule?.name) {
          out.push({ group: 'networking.istio.io', kind: 'DestinationRule', name: istio.destinationRule.name, namespace, jqPathExpressions: IGNORE_SUBSET_HASH });
        }
      }
    }
    out.push(...this.extraIgnores.get(chart) ?? []);
    // deterministic and without duplicates
    const unique = new Map(out.map(e => [JSON.stringify([e.group, e.kind, e.namespace ?? '', e.name ?? '', e.jqPathExpressions]), e]));
    return [...unique.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([, e]) => e);
  }

  /** An AppProject limited to the given chart(s): the repository, their namespaces, their kinds (synth time). */
  private projectSpec(charts: Chart[], main: boolean): AppProjectSpec {
    // the charts' CRDs as they are now (objects added since the pass began count), each read once per pass
    const model = MeshModel.of(this);
    const pass = model.synthesisPass;
    const crds = model.quietly(() => crdIndex(this.allCharts().flatMap(apiObjectsOf), crd => this.crdFactOf(crd, pass)));
    const namespaces = new Set<string>();
    const clusterKinds = new Map<string, { group: string; kind: string }>();
    const namespacedKinds = new Map<string, { group: string; kind: string }>();
    for (const chart of charts) {
      const d = this.delivered.find(x => x.chart === chart);
      const fallback = main ? (d?.namespace ?? 'default') : this.argocdNamespace;
      namespaces.add(fallback);
      for (const obj of apiObjectsOf(chart)) {
        const group = groupOf(obj.apiVersion);
        const entry = { group, kind: obj.kind };
        if (isClusterScoped(obj, crds)) {
          clusterKinds.set(gk(group, obj.kind), entry);
        } else {
          namespacedKinds.set(gk(group, obj.kind), entry);
          namespaces.add(obj.metadata.namespace ?? fallback);
        }
      }
    }
    const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([, v]) => v);
    const names = main ? this.delivered.filter(d => charts.includes(d.chart)).map(d => d.name).sort().join(', ') : 'the app-of-apps root';
    return {
      description: main
        ? `cdk8s-mesh: ${names}. Source, destinations and kinds are derived from the synthesized charts.`
        : `cdk8s-mesh: ${names} (${this.projectName}), limited to Argo CD's namespace and the kinds of its chart.`,
      sourceRepos: [this.props.repoUrl],
      destinations: [...namespaces].sort().map(namespace => ({ server: this.server, namespace })),
      clusterResourceWhitelist: clusterKinds.size > 0 ? sorted(clusterKinds) : undefined,
      namespaceResourceWhitelist: namespacedKinds.size > 0 ? sorted(namespacedKinds) : undefined,
    };
  }
}

/** 0 for a chart with CRDs, 1 for one with control-plane objects (webhooks, istiod), 2 otherwise. */
function chartRank(chart: Chart): number {
  let rank = 2;
  for (const obj of apiObjectsOf(chart)) {
    if (obj.kind === 'CustomResourceDefinition') return 0;
    if (waveOf(obj.kind, k => obj.metadata.getLabel(k)) === SyncWaves.CONTROL_PLANE) rank = 1;
  }
  return rank;
}

const HTTPS_URL = /^https:\/\/([^\s/@]+@)?[A-Za-z0-9.-]+(:\d+)?\/\S+$/;
const SSH_URL = /^ssh:\/\/([^\s/@]+@)?[A-Za-z0-9.-]+(:\d+)?\/\S+$/;
const SCP_URL = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s/]\S*$/;

function checkRepoUrl(scope: Construct, url: string) {
  if (typeof url !== 'string' || !(HTTPS_URL.test(url) || SSH_URL.test(url) || SCP_URL.test(url))) {
    invalid(scope, 'repoUrl', url, "must be a Git URL Argo CD can fetch: 'https://host/org/repo.git', 'ssh://git@host/org/repo.git' or 'git@host:org/repo.git' (http://, git:// and local paths are not accepted)");
  }
}

function checkPath(scope: Construct, path: string): string {
  const trimmed = typeof path === 'string' ? path.replace(/\/+$/, '') : path;
  const segments = typeof trimmed === 'string' ? trimmed.split('/') : [];
  if (typeof path !== 'string' || !trimmed || trimmed.startsWith('/') || /[\s\\]/.test(trimmed)
    || segments.some(s => s === '..' || s === '')) {
    invalid(scope, 'path', path, "must be a relative path inside the repository, without '..', e.g. 'dist' or 'deploy/dist'");
  }
  return trimmed;
}

function checkRetry(scope: Construct, retry: ArgoSyncRetry | undefined) {
  if (!retry) return;
  checkInteger(scope, 'retry.limit', retry.limit, 0, 1000);
  if (retry.backoffFactor !== undefined && (!Number.isInteger(retry.backoffFactor) || retry.backoffFactor < 1)) {
    invalid(scope, 'retry.backoffFactor', retry.backoffFactor, 'must be a whole number, at least 1 (Argo CD multiplies the wait by it)');
  }
  for (const [field, d] of [['retry.backoff', retry.backoff], ['retry.maxBackoff', retry.maxBackoff]] as const) {
    const ms = d?.toMilliseconds();
    if (ms !== undefined && (ms % 1000 !== 0 || ms < 1000)) {
      invalid(scope, field, `${ms / 1000}s`, 'must be a whole number of seconds, at least 1');
    }
  }
  const backoff = (retry.backoff ?? Duration.seconds(5)).toSeconds();
  const max = (retry.maxBackoff ?? Duration.minutes(3)).toSeconds();
  if (max < backoff) {
    invalid(scope, 'retry.maxBackoff', `${max}s`, `must be at least retry.backoff (${backoff}s)`);
  }
}

function renderRetry(retry: ArgoSyncRetry | undefined) {
  return {
    limit: retry?.limit ?? 5,
    backoff: {
      duration: goDuration((retry?.backoff ?? Duration.seconds(5)).toSeconds()),
      factor: retry?.backoffFactor ?? 2,
      maxDuration: goDuration((retry?.maxBackoff ?? Duration.minutes(3)).toSeconds()),
    },
  };
}

/** Seconds as a Go duration string ('5s', '3m', '1h'). */
function goDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function joinPath(dir: string, name: string): string {
  return dir === '.' ? name : `${dir}/${name}`;
}
