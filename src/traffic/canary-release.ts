import { ApiObject, Duration, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { CanaryTraffic, checkWeight } from './canary-traffic';
import { HttpRouteRule, WeightedDestination } from './routing';
import { IstioLabels, MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { MeshModel } from '../model/mesh-model';
import { p99LatencyQuery, promDuration, successRateQuery } from '../observability/golden-signals';
import { MeshedService, WorkloadVersionOptions } from '../service/meshed-service';
import { ServiceVersion } from '../service/workload';

/** Argo Rollouts' API version (argoproj.io/v1alpha1: Rollout, AnalysisTemplate). */
export const ARGO_ROLLOUTS_API_VERSION = 'argoproj.io/v1alpha1';
/**
 * Where the Argo Rollouts controller reaches Prometheus by default: the `prometheus` Service of Istio's sample
 * add-on (samples/addons/prometheus.yaml), port 9090, in istio-system.
 */
export const DEFAULT_PROMETHEUS_ADDRESS = 'http://prometheus.istio-system:9090';
/** The subset names Argo Rollouts' Istio subset-level splitting is given (it adds `rollouts-pod-template-hash`). */
export const ROLLOUT_STABLE_SUBSET = 'stable';
export const ROLLOUT_CANARY_SUBSET = 'canary';

/** Thresholds of the automated canary analysis (Argo Rollouts AnalysisTemplate over Istio metrics). */
export interface CanaryAnalysis {
  /**
   * The lowest acceptable success rate of the canary, in percent (0 < x <= 100): non-5xx responses / all responses,
   * as the canary's proxies report them (`reporter="destination"`).
   * @default 99
   */
  readonly minSuccessRate?: number;
  /**
   * The highest acceptable p99 latency of the canary (more than 0).
   * @default Duration.millis(500)
   */
  readonly maxP99Latency?: Duration;
  /**
   * How often each metric is measured.
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
  /**
   * The rate window of the queries.
   * @default Duration.minutes(5)
   */
  readonly window?: Duration;
  /**
   * Failed measurements tolerated before the analysis fails and the rollout aborts (Argo's `failureLimit`).
   * @default 0 (the first failed measurement aborts)
   */
  readonly failureLimit?: number;
  /**
   * The Prometheus the Argo Rollouts controller queries.
   * @default 'http://prometheus.istio-system:9090' (Istio's sample add-on)
   */
  readonly prometheusAddress?: string;
}

/** Options of progressive delivery by Argo Rollouts. */
export interface ArgoRolloutsOptions {
  /**
   * The canary weights the controller steps through (whole percentages, strictly increasing, 1-100). After the
   * last step the controller promotes the canary to 100%.
   * @default [10, 25, 50, 75]
   */
  readonly steps?: number[];
  /**
   * How long the controller waits after each weight step.
   * @default Duration.minutes(5)
   */
  readonly pause?: Duration;
  /**
   * Wait for a manual `kubectl argo rollouts promote` after each step instead of `pause`.
   * @default false
   */
  readonly manualPromotion?: boolean;
  /**
   * Automated analysis running in the background from the first step; a failed analysis aborts the rollout (all
   * traffic back to stable).
   * @default - success rate >= 99% and p99 <= 500ms, measured every minute
   */
  readonly analysis?: CanaryAnalysis;
  /**
   * Run no automated analysis (the rollout only advances by time or by hand). Opting out is explicit.
   * @default false
   */
  readonly withoutAnalysis?: boolean;
}

/**
 * Who moves the traffic of a release. Without one, the release is GitOps-driven: the weights are in the YAML and
 * each commit moves them (`steps`/`currentStep`, `promote`, `abort`).
 *
 * A Flagger mode is not implemented: there the controller owns the VirtualService and the DestinationRule, so the
 * release would have to emit neither (a future `ProgressiveDelivery.flagger(...)`).
 */
export class ProgressiveDelivery {
  /**
   * Argo Rollouts moves the weights in the cluster, with Istio subset-level traffic splitting and automated
   * analysis over Istio's metrics (see CanaryRelease for what is emitted).
   */
  public static argoRollouts(options: ArgoRolloutsOptions = {}): ProgressiveDelivery {
    return new ProgressiveDelivery('argo-rollouts', options);
  }

  /** The controller (`argo-rollouts`). */
  public readonly controller: string;
  /** @internal */
  public readonly _options: ArgoRolloutsOptions;

  private constructor(controller: string, options: ArgoRolloutsOptions) {
    this.controller = controller;
    this._options = options;
  }
}

/** Properties of a CanaryRelease. */
export interface CanaryReleaseProps extends WorkloadVersionOptions {
  /** The service to release a new version of. */
  readonly service: MeshedService;
  /** The new (canary) version: its `version` label and DestinationRule subset. Must differ from the stable one. */
  readonly version: string;
  /**
   * The version that serves traffic now.
   * @default - the service's first version
   */
  readonly stableVersion?: string;
  /**
   * How traffic is split (GitOps mode). With `steps`, the base weight comes from the current step instead.
   * @default - CanaryTraffic.weighted(steps[currentStep]) with steps; required otherwise (unless `progressive`)
   */
  readonly traffic?: CanaryTraffic;
  /**
   * A staged rollout in Git: the canary weights of each stage, whole percentages, strictly increasing, ending at
   * 100, e.g. `[5, 25, 50, 100]`. Moving `currentStep` changes only the weights in the YAML.
   * @default - no stages: the weight of `traffic`
   */
  readonly steps?: number[];
  /**
   * The index (from 0) of the stage in `steps` that is live.
   * @default 0
   */
  readonly currentStep?: number;
  /**
   * Promote the canary: every route sends all its traffic to the canary (stable weight 0, no mirror). The stable
   * version keeps running until you remove it: then make the new version the service's own (`version`/`image`
   * props) and delete the CanaryRelease.
   * @default false
   */
  readonly promote?: boolean;
  /**
   * Abort the release: every route sends all its traffic to stable (canary weight 0, no mirror); the canary keeps
   * running for inspection.
   * @default false
   */
  readonly abort?: boolean;
  /**
   * Let a controller move the traffic in the cluster instead of Git (Argo Rollouts).
   * @default - GitOps mode: the weights are in the YAML
   */
  readonly progressive?: ProgressiveDelivery;
  /**
   * Name of the catch-all route (Argo Rollouts' `routes` entry in progressive mode; `-<port name>` is appended
   * when the service has several ports).
   * @default 'primary'
   */
  readonly routeName?: string;
}

const ROUTE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A release of a new version of a MeshedService next to the current (stable) one: weighted, targeted (A/B),
 * mirrored (dark launch), blue/green, staged in Git, or progressive with Argo Rollouts.
 *
 * The canary is added with `service.addVersion(...)`, so it is injected like the stable version and gets its
 * DestinationRule subset; the split is written to the service's VirtualService with `service.replaceHttpRoutes(...)`,
 * so the service's timeout, retries and fault injection apply to every route, canary or not. Zero-trust policies
 * select pods by the `app` label and gateway routes read `service.httpRoutes`/the service host, so both cover the
 * canary without extra code.
 *
 * GitOps mode (default): the weights are in the YAML. `steps` + `currentStep` stage the rollout (each commit that
 * moves the step changes only the weight lines); `promote` sends everything to the canary, `abort` everything back
 * to stable. Unmatched traffic goes to stable (unless a weight says otherwise).
 *
 * Progressive mode (`progressive: ProgressiveDelivery.argoRollouts(...)`): an Argo Rollout named after the service
 * takes over its pods (`workloadRef` to the canary's Deployment, which is kept at 0 replicas), with Istio
 * subset-level splitting through the service's own VirtualService (route `primary`) and DestinationRule (subsets
 * `stable` and `canary`, to which the controller adds `rollouts-pod-template-hash`), and an AnalysisTemplate over
 * Istio's metrics. The controller owns the route weights and those subset labels: a GitOps tool must ignore them
 * (cdk8s-mesh's Argo CD `progressiveDelivery` option does). Argo Rollouts promotes a Rollout's FIRST revision at
 * once, without steps: the first release in progressive mode is not stepped.
 */
export class CanaryRelease extends Construct {
  /** The service. */
  public readonly service: MeshedService;
  /** The stable (current) version. */
  public readonly stable: ServiceVersion;
  /** The canary (new) version. */
  public readonly canary: ServiceVersion;
  /**
   * The percentage of unmatched requests the YAML sends to the canary (GitOps mode); undefined in progressive
   * mode, where the controller owns the weights.
   */
  public readonly canaryWeight?: number;
  /** The Argo Rollout (progressive mode). */
  public readonly rollout?: ApiObject;
  /** The Argo AnalysisTemplate (progressive mode with analysis). */
  public readonly analysisTemplate?: ApiObject;

  constructor(scope: Construct, id: string, props: CanaryReleaseProps) {
    super(scope, id);
    const service = props.service;
    if (!MeshedService.isMeshedService(service)) invalid(this, 'service', service ? String(service) : service, 'must be a MeshedService');
    this.service = service;
    // one release in progress per service, app-wide
    MeshModel.of(this).claim(this, 'release', service.node.path, 'service', service.node.path,
      other => `already has a release in progress (${other}): finish it (promote and fold it into the service) before starting another`);

    const stableName = props.stableVersion ?? service.versions[0].name;
    const stable = service.findVersion(stableName);
    if (!stable) invalid(this, 'stableVersion', stableName, `must be a version of ${service.name}: ${service.versions.map(v => v.name).join(', ')}`);
    if (typeof props.version !== 'string' || props.version === stable.name || props.version.toLowerCase().replace(/[._]/g, '-') === stable.subsetName) {
      invalid(this, 'version', props.version, `must differ from the stable version '${stable.name}'`);
    }
    const routeName = props.routeName ?? 'primary';
    if (!ROUTE_NAME.test(routeName) || routeName.length > 30) invalid(this, 'routeName', routeName, "must be lowercase letters, digits and '-', at most 30 characters");
    if (props.promote && props.abort) invalid(this, 'promote', 'and abort', 'are exclusive: promote sends everything to the canary, abort everything to stable');

    if (props.progressive) {
      for (const k of ['traffic', 'steps', 'currentStep', 'promote', 'abort'] as const) {
        if (props[k] !== undefined) invalid(this, k, props[k], 'must not be set with progressive delivery: the controller owns the weights and the steps');
      }
      if (!(props.progressive instanceof ProgressiveDelivery)) invalid(this, 'progressive', props.progressive, 'must be made with ProgressiveDelivery.argoRollouts(...)');
    }
    const weight = props.progressive ? undefined : this.baseWeight(props);

    this.stable = stable;
    this.canary = service.addVersion(props.version, props);
    this.canaryWeight = weight;

    if (props.progressive) {
      const { rollout, analysisTemplate } = this.renderRollout(props.progressive._options, routeName);
      this.rollout = rollout;
      this.analysisTemplate = analysisTemplate;
    } else {
      service.replaceHttpRoutes(this.gitOpsRoutes(props, weight!, routeName));
    }
  }

  /** The weight of unmatched traffic in GitOps mode, after validating traffic and steps. */
  private baseWeight(props: CanaryReleaseProps): number {
    const traffic = props.traffic;
    if (traffic !== undefined && !(traffic instanceof CanaryTraffic)) invalid(this, 'traffic', traffic, 'must be made with CanaryTraffic.weighted/matching/mirror/blueGreen');
    if (props.steps === undefined) {
      if (props.currentStep !== undefined) invalid(this, 'currentStep', props.currentStep, 'needs steps');
      if (!traffic) invalid(this, 'traffic', undefined, 'must be set (e.g. CanaryTraffic.weighted(10)) unless steps or progressive delivery are given');
      return props.promote ? 100 : props.abort ? 0 : traffic.weight;
    }
    if (traffic?.blueGreenActive !== undefined) invalid(this, 'steps', props.steps, 'do not combine with a blue/green release (it switches all at once)');
    if (traffic && traffic.weight !== 0) {
      invalid(this, 'traffic', `CanaryTraffic.weighted(${traffic.weight})`,
        'must not set a base weight with steps (the current step gives it): use CanaryTraffic.matching(...) or CanaryTraffic.mirror(...) for the rest');
    }
    const steps = props.steps;
    if (!Array.isArray(steps) || steps.length === 0) invalid(this, 'steps', steps, 'must list at least one canary weight, e.g. [5, 25, 50, 100]');
    steps.forEach((s, i) => {
      checkWeight(this.node.path, s, `steps[${i}]`);
      if (i > 0 && s <= steps[i - 1]) invalid(this, 'steps', steps, 'must be strictly increasing');
    });
    if (steps[steps.length - 1] !== 100) invalid(this, 'steps', steps, 'must end at 100 (the last stage sends all traffic to the canary; then promote)');
    const current = props.currentStep ?? 0;
    if (typeof current !== 'number' || !Number.isInteger(current) || current < 0 || current >= steps.length) {
      invalid(this, 'currentStep', current, `must be an index into steps, from 0 to ${steps.length - 1}`);
    }
    return props.promote ? 100 : props.abort ? 0 : steps[current];
  }

  private gitOpsRoutes(props: CanaryReleaseProps, weight: number, routeName: string): HttpRouteRule[] {
    const traffic = props.traffic;
    const final = props.promote ? 100 : props.abort ? 0 : undefined;
    const split = (w: number): WeightedDestination[] => [{ version: this.stable, weight: 100 - w }, { version: this.canary, weight: w }];
    const mirror = traffic?.mirrorPercent !== undefined && final === undefined ? { version: this.canary, weight: traffic.mirrorPercent } : undefined;
    const rules: HttpRouteRule[] = (traffic?._targeted ?? []).map((t, i) => ({
      name: `${routeName}-targeted-${i + 1}`,
      matches: t.matches.map(m => m._toHttpRequestMatch()),
      destinations: split(final ?? t.weight),
      mirror,
    }));
    rules.push({ name: routeName, destinations: split(weight), mirror });
    return rules;
  }

  private renderRollout(o: ArgoRolloutsOptions, routeName: string): { rollout: ApiObject; analysisTemplate?: ApiObject } {
    const service = this.service;
    const ns = service.namespace.name;
    const labels = { [IstioLabels.APP]: service.name, [MANAGED_BY_LABEL]: MANAGED_BY };
    const steps = o.steps ?? [10, 25, 50, 75];
    if (!Array.isArray(steps) || steps.length === 0) invalid(this, 'progressive.steps', steps, 'must list at least one canary weight');
    steps.forEach((s, i) => {
      checkWeight(this.node.path, s, `progressive.steps[${i}]`);
      if (s === 0) invalid(this, `progressive.steps[${i}]`, s, 'must be above 0');
      if (i > 0 && s <= steps[i - 1]) invalid(this, 'progressive.steps', steps, 'must be strictly increasing');
    });
    if (o.manualPromotion && o.pause) invalid(this, 'progressive.pause', o.pause.toHumanString(), 'must not be set with manualPromotion (the rollout waits for a person)');
    const pause = o.manualPromotion ? {} : { duration: promDuration(o.pause ?? Duration.minutes(5), 'progressive.pause', this) };
    if (o.withoutAnalysis && o.analysis) invalid(this, 'progressive.analysis', 'set', 'must not be set with withoutAnalysis');

    const analysisTemplate = o.withoutAnalysis ? undefined : this.renderAnalysis(o.analysis ?? {}, labels);
    const routes = service.ports.length > 1 ? service.ports.filter(p => p.isHttp).map(p => `${routeName}-${p.name}`) : [routeName];
    const selector = { [IstioLabels.APP]: service.name };
    const rollout = new ApiObject(this, 'Rollout', {
      apiVersion: ARGO_ROLLOUTS_API_VERSION,
      kind: 'Rollout',
      metadata: { name: service.name, namespace: ns, labels },
      spec: {
        replicas: this.canary.replicas,
        revisionHistoryLimit: 2,
        selector: { matchLabels: selector },
        // The Rollout runs its pods from the canary Deployment's (injected) template; the Deployment stays at 0.
        workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `${service.name}-${this.canary.subsetName}`, scaleDown: 'never' },
        strategy: {
          canary: {
            ...(analysisTemplate ? { analysis: { templates: [{ templateName: analysisTemplate.name }], startingStep: 1 } } : {}),
            steps: steps.flatMap(w => [{ setWeight: w }, { pause }]),
            trafficRouting: {
              istio: {
                virtualService: { name: service.name, routes },
                destinationRule: { name: service.name, stableSubsetName: ROLLOUT_STABLE_SUBSET, canarySubsetName: ROLLOUT_CANARY_SUBSET },
              },
            },
          },
        },
      },
    } as any);
    // Argo Rollouts' subset-level splitting: the controller adds rollouts-pod-template-hash to these subsets.
    const subset = (name: string, image: string): ServiceVersion => ({
      name, subsetName: name, selector, image, replicas: this.canary.replicas, deployment: rollout,
    });
    const stableSubset = subset(ROLLOUT_STABLE_SUBSET, this.stable.image);
    const canarySubset = subset(ROLLOUT_CANARY_SUBSET, this.canary.image);
    service.addControllerSubset(stableSubset);
    service.addControllerSubset(canarySubset);
    // The controller owns these weights; 100/0 is where it starts and ends, so the YAML never changes with a step.
    service.replaceHttpRoutes([{ name: routeName, destinations: [{ version: stableSubset, weight: 100 }, { version: canarySubset, weight: 0 }] }]);
    this.canary.deployment.addJsonPatch(JsonPatch.replace('/spec/replicas', 0));
    return { rollout, analysisTemplate };
  }

  private renderAnalysis(a: CanaryAnalysis, labels: { [key: string]: string }): ApiObject {
    const minSuccess = a.minSuccessRate ?? 99;
    if (typeof minSuccess !== 'number' || !(minSuccess > 0 && minSuccess <= 100)) {
      invalid(this, 'analysis.minSuccessRate', minSuccess, 'must be a percentage above 0, at most 100 (e.g. 99 for 99%)');
    }
    const maxP99 = a.maxP99Latency ?? Duration.millis(500);
    const maxMs = maxP99 instanceof Duration ? maxP99.toMilliseconds({ integral: false }) : NaN;
    if (!(maxMs > 0) || !Number.isFinite(maxMs)) invalid(this, 'analysis.maxP99Latency', maxP99 instanceof Duration ? maxP99.toHumanString() : maxP99, 'must be a Duration above 0');
    const failureLimit = a.failureLimit;
    if (failureLimit !== undefined && (!Number.isInteger(failureLimit) || failureLimit < 0)) invalid(this, 'analysis.failureLimit', failureLimit, 'must be a whole number, 0 or more');
    const address = a.prometheusAddress ?? DEFAULT_PROMETHEUS_ADDRESS;
    if (!/^https?:\/\/\S+$/.test(address)) invalid(this, 'analysis.prometheusAddress', address, 'must be an http(s) URL');
    const interval = promDuration(a.interval ?? Duration.minutes(1), 'analysis.interval', this);
    const window = a.window ?? Duration.minutes(5);
    promDuration(window, 'analysis.window', this);
    const q = {
      namespace: this.service.namespace.name,
      service: this.service.name,
      version: this.canary.name,
      window,
      clusterDomain: this.service.mesh.clusterDomain,
    };
    const metric = (name: string, successCondition: string, query: string) => ({
      name,
      interval,
      ...(failureLimit !== undefined ? { failureLimit } : {}),
      successCondition,
      provider: { prometheus: { address, query } },
    });
    // Success rate as a fraction (Istio's query returns 0-1); thresholds given in percent.
    const ratio = Math.round(minSuccess * 1000) / 100000;
    return new ApiObject(this, 'AnalysisTemplate', {
      apiVersion: ARGO_ROLLOUTS_API_VERSION,
      kind: 'AnalysisTemplate',
      metadata: { name: `${this.service.name}-canary`, namespace: this.service.namespace.name, labels },
      spec: {
        metrics: [
          metric('success-rate', `result[0] >= ${ratio}`, successRateQuery(q)),
          metric('p99-latency', `result[0] <= ${maxMs}`, p99LatencyQuery(q)),
        ],
      },
    } as any);
  }
}
