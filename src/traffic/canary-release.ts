import { ApiObject, Duration, JsonPatch, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { CanaryAnalysis, renderArgoAnalysisSpec, resolveAnalysis } from './analysis';
import { CanaryTraffic, checkWeight } from './canary-traffic';
import { FlaggerOptions, renderFlagger } from './flagger';
import { RequestMatch } from './request-match';
import { HttpRouteRule, WeightedDestination } from './routing';
import { isTlsPort, TcpRouteRule } from './tcp-routes';
import { invalid } from '../errors';
import { MeshGateway, RoutingApi } from '../gateway/mesh-gateway';
import { ArgoCdAnnotations } from '../gitops/argocd-constants';
import { WAVE } from '../gitops/sync-wave-table';
import { IstioLabels, MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { isAmbient } from '../mesh/data-plane';
import { MeshModel } from '../model/mesh-model';
import { promDuration } from '../observability/golden-signals';
import { declareScraper } from '../observability/scraper';
import { ZeroTrustNamespace } from '../security/zero-trust-namespace';
import { MeshedService, WorkloadVersionOptions } from '../service/meshed-service';
import { FlowKind, ServiceVersion } from '../service/workload';

/** Argo Rollouts' API version (argoproj.io/v1alpha1: Rollout, AnalysisTemplate; Argo Rollouts v1.9.1). */
export const ARGO_ROLLOUTS_API_VERSION = 'argoproj.io/v1alpha1';
/** The subset names Argo Rollouts' Istio subset-level splitting is given (it adds `rollouts-pod-template-hash`). */
export const ROLLOUT_STABLE_SUBSET = 'stable';
export const ROLLOUT_CANARY_SUBSET = 'canary';

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
  /**
   * Whether the Rollout already runs the stable version (it took over the stable Deployment in an earlier commit).
   *
   * Argo Rollouts promotes a Rollout's first revision at once, without steps or analysis. So a release in
   * progressive mode takes two commits, as Argo's migration guide does it: first the Rollout takes over the running
   * stable Deployment (`workloadRef` to it, `scaleDown: progressively`: the Rollout's first revision is the stable
   * version, and the Deployment is scaled down as the Rollout's pods become ready), no traffic changes; then, with
   * `stableAdopted: true`, the Rollout's template becomes the canary's (`workloadRef` to the canary Deployment,
   * kept at 0 replicas, and the stable Deployment at 0 in Git too): that revision is stepped and analysed.
   * @default false (this commit adopts the stable version; the canary is not released yet)
   */
  readonly stableAdopted?: boolean;
}

/**
 * Who moves the traffic of a release. Without one, the release is GitOps-driven: the weights are in the YAML and
 * each commit moves them (`steps`/`currentStep`, `promote`, `abort`).
 */
export class ProgressiveDelivery {
  /**
   * Argo Rollouts moves the weights in the cluster, with Istio subset-level traffic splitting and automated
   * analysis over Istio's metrics (see CanaryRelease for what is emitted).
   */
  public static argoRollouts(options: ArgoRolloutsOptions = {}): ProgressiveDelivery {
    return new ProgressiveDelivery('argo-rollouts', options, undefined);
  }

  /**
   * Flagger moves the weights in the cluster (a `Canary` with the Istio provider, and MetricTemplates over Istio's
   * metrics): weighted steps, an A/B test on request matches, or a mirrored blue/green release, and sticky canaries
   * with the release's `sessionAffinity`. Flagger owns the service's VirtualService and its `-primary`/`-canary`
   * Services and DestinationRules (see CanaryRelease). Flagger labels its primary pods `app: <service>-primary`:
   * policies that select the service's pods by `app: <service>` (a ZeroTrustNamespace's) do not cover them yet.
   */
  public static flagger(options: FlaggerOptions = {}): ProgressiveDelivery {
    return new ProgressiveDelivery('flagger', {}, options);
  }

  /** The controller (`argo-rollouts` or `flagger`). */
  public readonly controller: string;
  /** @internal */
  public readonly _options: ArgoRolloutsOptions;
  /** @internal */
  public readonly _flagger?: FlaggerOptions;

  private constructor(controller: string, options: ArgoRolloutsOptions, flagger: FlaggerOptions | undefined) {
    this.controller = controller;
    this._options = options;
    this._flagger = flagger;
  }
}

/** Sticky canaries: each user keeps the version that first answered them, for the whole release. */
export interface CanarySessionAffinity {
  /**
   * The cookie that pins a user to a version. Its value is the version's subset name, so a cookie left over from an
   * earlier release (another version) pins nobody.
   * @default 'canary-<service name>'
   */
  readonly cookieName?: string;
  /**
   * How long the pin lasts (the cookie's Max-Age), whole seconds.
   * @default Duration.days(1)
   */
  readonly maxAge?: Duration;
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
   * Sticky canaries (GitOps mode, HTTP and gRPC ports): the version that answers a user's first request sets a
   * cookie, and requests with the cookie go to that version first, so a split is per user instead of per request
   * (as Flagger's `sessionAffinity`). Without it every request is split on its own.
   * @default - no affinity: every request is split independently
   */
  readonly sessionAffinity?: CanarySessionAffinity;
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
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A release of a new version of a MeshedService next to the current (stable) one: weighted, targeted (A/B),
 * mirrored (dark launch), blue/green, staged in Git, or progressive with Argo Rollouts.
 *
 * The canary is added with `service.addVersion(...)`, so it is injected like the stable version and gets its
 * DestinationRule subset; the split is written to the service's VirtualService with `service.replaceHttpRoutes(...)`
 * for HTTP and gRPC ports and `service.replaceTcpRoutes(...)` for TCP, TLS and HTTPS ports (per connection, Istio's
 * "TCP traffic shifting"; request matches, mirroring and session affinity are HTTP-only, so those ports take the
 * base weight), with this release as the routes' owner. The service's timeout, retries and fault injection apply to
 * every HTTP route, canary or not. Zero-trust policies select pods by the `app` label and gateway routes read
 * `service.httpRoutes`/the service host, so both cover the canary without extra code.
 *
 * Ordering: the canary Deployment is annotated with Argo CD sync wave `SyncWaves.CANARY_WORKLOADS`, before the
 * routes (`SyncWaves.ROUTES`), so its pods are ready before any route sends them traffic; a weight above 0 to a
 * version with 0 replicas is refused.
 *
 * GitOps mode (default): the weights are in the YAML. `steps` + `currentStep` stage the rollout (each commit that
 * moves the step changes only the weight lines); `promote` sends everything to the canary, `abort` everything back
 * to stable. Unmatched traffic goes to stable (unless a weight says otherwise).
 *
 * Progressive mode (`progressive: ProgressiveDelivery.argoRollouts(...)`): an Argo Rollout named after the service
 * takes over the service's pods in two commits (see `ArgoRolloutsOptions.stableAdopted`), with Istio subset-level
 * splitting through every VirtualService that routes to the service (its own, route `primary`, and the Istio
 * gateways' that route to it) and its DestinationRule (subsets `stable` and `canary`, to which the controller adds
 * `rollouts-pod-template-hash`), and an AnalysisTemplate over Istio's metrics. The controller owns the route weights
 * and those subset labels: a GitOps tool must ignore them (cdk8s-mesh's Argo CD `progressiveDelivery` option does).
 * Gateway API routes to the service are refused in this mode (Argo Rollouts shifts them only through its Gateway
 * API plugin, which needs per-version backend Services this mode does not have).
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
  /** Flagger's Canary (Flagger mode). */
  public readonly flaggerCanary?: ApiObject;
  /** Flagger's MetricTemplates (Flagger mode with analysis). */
  public readonly metricTemplates: ApiObject[] = [];

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
      if (!(props.progressive instanceof ProgressiveDelivery)) invalid(this, 'progressive', props.progressive, 'must be made with ProgressiveDelivery.argoRollouts(...) or .flagger(...)');
      if (props.sessionAffinity !== undefined && props.progressive.controller !== 'flagger') {
        invalid(this, 'sessionAffinity', 'set', 'is not supported with Argo Rollouts (it splits each request on its own): use GitOps mode for sticky canaries');
      }
      if (service.mesh.meshRouting === RoutingApi.GATEWAY_API) {
        invalid(this, 'progressive', props.progressive.controller,
          "is not supported with the mesh's meshRouting GATEWAY_API: the controller shifts the service's Istio VirtualService (and DestinationRule subsets) here, which the service does not have; release it in GitOps mode (traffic, steps), or set meshRouting to RoutingApi.ISTIO");
      }
    }
    const weight = props.progressive ? undefined : this.baseWeight(props);
    const httpPorts = service.ports.filter(p => p.isHttp);
    if (httpPorts.length === 0 && !props.progressive) {
      const traffic = props.traffic;
      if (traffic?._targeted.length) invalid(this, 'traffic', 'request matches', `are HTTP-only, but ${service.name} has no HTTP or gRPC port: split its connections by weight`);
      if (traffic?.mirrorPercent !== undefined) invalid(this, 'traffic', 'mirror', `is HTTP-only, but ${service.name} has no HTTP or gRPC port`);
      if (props.sessionAffinity) invalid(this, 'sessionAffinity', 'set', `is HTTP-only, but ${service.name} has no HTTP or gRPC port`);
    }

    this.stable = stable;
    this.canary = service.addVersion(props.version, props);
    this.canaryWeight = weight;

    if (props.progressive?._flagger) {
      const o = props.progressive._flagger;
      const runs = o.stableAdopted ? this.canary : this.stable;
      if (runs.replicas === 0) invalid(this, o.stableAdopted ? 'replicas' : 'stableVersion', 0, `must be above 0: Flagger runs version '${runs.name}' with its replicas`);
      if (ZeroTrustNamespace.isZeroTrustNamespace(service.namespace)) {
        // Flagger relabels its primary pods `app: <service>-primary`: the namespace's AuthorizationPolicy, NetworkPolicy
        // and Sidecar (matchLabels app: <service>) would not select them, and they would fail closed
        invalid(this, 'progressive', 'ProgressiveDelivery.flagger()',
          `is not supported yet for a service in a ZeroTrustNamespace ('${service.namespace.name}'): Flagger's primary pods are labelled 'app: ${service.name}-primary', which the namespace's policies do not select, so every call to them would be denied; use ProgressiveDelivery.argoRollouts() or GitOps steps`);
      }
      this.refuseGatewayRoutes('Flagger', () => true);
      const { canary, metricTemplates } = renderFlagger({
        scope: this, service, stable: this.stable, canary: this.canary, sessionAffinity: this.stickyCookie(props.sessionAffinity),
      }, o);
      this.flaggerCanary = canary;
      this.metricTemplates.push(...metricTemplates);
      if (!o.withoutAnalysis) declareScraper(this, undefined);
      // the canary Deployment only holds the canary's template: Flagger runs the stable Deployment's
      this.canary.deployment.addJsonPatch(JsonPatch.replace('/spec/replicas', 0));
    } else if (props.progressive) {
      const { rollout, analysisTemplate } = this.renderRollout(props.progressive._options, routeName);
      this.rollout = rollout;
      this.analysisTemplate = analysisTemplate;
    } else {
      this.checkReplicas(props, weight!);
      // the canary's pods are ready before the routes that send them traffic are applied
      this.canary.deployment.metadata.addAnnotation(ArgoCdAnnotations.SYNC_WAVE, String(WAVE.CANARY_WORKLOADS));
      if (httpPorts.length) service.replaceHttpRoutes(this.gitOpsRoutes(props, weight!, routeName), this);
      const final = props.promote ? 100 : props.abort ? 0 : weight!;
      const l4 = this.tcpRoutes(this.stable, this.canary, final);
      if (l4.length) service.replaceTcpRoutes(l4, this);
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

  /** A version with 0 replicas gets no traffic: every request sent to it would fail. */
  private checkReplicas(props: CanaryReleaseProps, weight: number) {
    const final = props.promote ? 100 : props.abort ? 0 : undefined;
    const canaryWeights = final !== undefined ? [final] : [weight, ...(props.traffic?._targeted ?? []).map(t => t.weight)];
    const maxCanary = Math.max(...canaryWeights);
    const maxStable = 100 - Math.min(...canaryWeights);
    if (this.canary.replicas === 0 && maxCanary > 0) {
      invalid(this, 'replicas', 0, `must be above 0: the release sends ${maxCanary}% of some requests to version '${this.canary.name}'`);
    }
    if (this.stable.replicas === 0 && maxStable > 0) {
      invalid(this, 'stableVersion', this.stable.name, `must have replicas (it has 0): the release sends ${maxStable}% of some requests to it`);
    }
  }

  private gitOpsRoutes(props: CanaryReleaseProps, weight: number, routeName: string): HttpRouteRule[] {
    const traffic = props.traffic;
    const final = props.promote ? 100 : props.abort ? 0 : undefined;
    const sticky = final === undefined ? this.stickyCookie(props.sessionAffinity) : undefined;
    const dest = (version: ServiceVersion, w: number): WeightedDestination => ({
      version,
      weight: w,
      headers: sticky ? { response: { add: { 'set-cookie': `${sticky.name}=${version.subsetName}; Max-Age=${sticky.maxAge}; Path=/` } } } : undefined,
    });
    const split = (w: number): WeightedDestination[] => [dest(this.stable, 100 - w), dest(this.canary, w)];
    // Only the stable share is mirrored: Envoy copies a random share of ALL the requests of a route, whichever
    // version they go to, so the percentage is scaled by the route's stable weight (copies = p% of what goes to stable).
    const mirror = (w: number): WeightedDestination | undefined => {
      const p = traffic?.mirrorPercent;
      if (p === undefined || final !== undefined || w === 100) return undefined;
      return { version: this.canary, weight: Math.round(p * (100 - w) * 10000) / 1000000 };
    };
    const rules: HttpRouteRule[] = [];
    if (sticky) {
      // a pinned user goes to the version that pinned them, before any other rule
      for (const [v, w] of [[this.canary, 100], [this.stable, 0]] as Array<[ServiceVersion, number]>) {
        rules.push({
          name: `${routeName}-sticky-${v === this.canary ? 'canary' : 'stable'}`,
          matches: [RequestMatch.cookie(sticky.name, v.subsetName)._toHttpRequestMatch()],
          destinations: [dest(v, 100)],
          mirror: mirror(w),
        });
      }
    }
    (traffic?._targeted ?? []).forEach((t, i) => {
      const w = final ?? t.weight;
      rules.push({ name: `${routeName}-targeted-${i + 1}`, matches: t.matches.map(m => m._toHttpRequestMatch()), destinations: split(w), mirror: mirror(w) });
    });
    rules.push({ name: routeName, destinations: split(weight), mirror: mirror(weight) });
    return rules;
  }

  private stickyCookie(a: CanarySessionAffinity | undefined): { name: string; maxAge: number } | undefined {
    if (a === undefined) return undefined;
    const name = a.cookieName ?? `canary-${this.service.name}`;
    if (typeof name !== 'string' || !COOKIE_NAME.test(name)) invalid(this, 'sessionAffinity.cookieName', name, 'must be a cookie name (an RFC 7230 token)');
    const ms = a.maxAge === undefined ? 86400000 : a.maxAge instanceof Duration ? a.maxAge.toMilliseconds({ integral: false }) : NaN;
    if (!(ms >= 1000) || ms % 1000 !== 0) invalid(this, 'sessionAffinity.maxAge', a.maxAge instanceof Duration ? a.maxAge.toHumanString() : a.maxAge, 'must be a whole number of seconds, at least 1s');
    return { name, maxAge: ms / 1000 };
  }

  /** One layer-4 rule per TCP, TLS or HTTPS port: its connections split by the base weight. */
  private tcpRoutes(stable: ServiceVersion, canary: ServiceVersion, weight: number): TcpRouteRule[] {
    return this.service.ports.filter(p => !p.isHttp).map(port => ({
      port,
      destinations: [{ version: stable, weight: 100 - weight }, { version: canary, weight }],
    }));
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
    const adopted = o.stableAdopted ?? false;
    // the Rollout runs the stable version while it adopts it, then the canary's template
    const runs = adopted ? this.canary : this.stable;
    if (runs.replicas === 0) invalid(this, adopted ? 'replicas' : 'stableVersion', 0, `must be above 0: the Rollout runs version '${runs.name}' with its replicas`);

    const analysisTemplate = o.withoutAnalysis ? undefined : this.renderAnalysis(o.analysis ?? {}, labels);
    const httpPorts = service.ports.filter(p => p.isHttp);
    const routes = httpPorts.length === 0 ? [] : service.ports.length > 1 ? httpPorts.map(p => `${routeName}-${p.name}`) : [routeName];
    const selector = { [IstioLabels.APP]: service.name };

    // Gateways that route to the service: their VirtualServices carry part of its traffic, so the controller must
    // shift them too. Gateway API routes name per-version backend Services, which the controller's subsets lack.
    const gateways = this.refuseGatewayRoutes('Argo Rollouts', gw => gw.routingApi === RoutingApi.GATEWAY_API);

    const l4 = service.ports.filter(p => !p.isHttp);
    const ownVirtualService = compact({
      name: service.name,
      routes,
      tcpRoutes: l4.filter(p => !isTlsPort(p)).map(p => ({ port: p.port })),
      tlsRoutes: l4.filter(p => isTlsPort(p)).map(p => ({ port: p.port, sniHosts: [service.host] })),
    });
    const rollout = new ApiObject(this, 'Rollout', {
      apiVersion: ARGO_ROLLOUTS_API_VERSION,
      kind: 'Rollout',
      metadata: { name: service.name, namespace: ns, labels },
      spec: {
        replicas: runs.replicas,
        revisionHistoryLimit: 2,
        selector: { matchLabels: selector },
        // Argo's migration: reference the running stable Deployment (scaled down as the Rollout's pods come up),
        // then, once adopted, the canary Deployment (a template holder kept at 0 replicas).
        workloadRef: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: `${service.name}-${runs.subsetName}`,
          scaleDown: adopted ? 'never' : 'progressively',
        },
        strategy: {
          canary: {
            ...(analysisTemplate ? { analysis: { templates: [{ templateName: analysisTemplate.name }], startingStep: 1 } } : {}),
            steps: steps.flatMap(w => [{ setWeight: w }, { pause }]),
            trafficRouting: {
              istio: {
                virtualServices: Lazy.any({ produce: () => [ownVirtualService, ...this.gatewayVirtualServices(gateways)] }),
                destinationRule: { name: service.name, stableSubsetName: ROLLOUT_STABLE_SUBSET, canarySubsetName: ROLLOUT_CANARY_SUBSET },
              },
            },
          },
        },
      },
    } as any);
    // Argo Rollouts' subset-level splitting: the controller adds rollouts-pod-template-hash to these subsets.
    const subset = (name: string, image: string): ServiceVersion => ({
      name, subsetName: name, selector, image, replicas: runs.replicas, deployment: rollout,
    });
    const stableSubset = subset(ROLLOUT_STABLE_SUBSET, this.stable.image);
    const canarySubset = subset(ROLLOUT_CANARY_SUBSET, this.canary.image);
    service.addControllerSubset(stableSubset);
    service.addControllerSubset(canarySubset);
    // The controller owns these weights; 100/0 is where it starts and ends, so the YAML never changes with a step.
    if (routes.length) {
      const destinations = [{ version: stableSubset, weight: 100 }, { version: canarySubset, weight: 0 }];
      service.replaceHttpRoutes([{ name: routeName, destinations }], this);
    }
    const tcp = this.tcpRoutes(stableSubset, canarySubset, 0);
    if (tcp.length) service.replaceTcpRoutes(tcp, this);
    // the canary Deployment only holds the template; once adopted, the stable one is the Rollout's too
    this.canary.deployment.addJsonPatch(JsonPatch.replace('/spec/replicas', 0));
    if (adopted) this.stable.deployment.addJsonPatch(JsonPatch.replace('/spec/replicas', 0));
    return { rollout, analysisTemplate };
  }

  /**
   * The gateways that route to the service (now or later: a model subscription), refusing those `refused` says the
   * controller cannot shift, at construction of the route.
   */
  private refuseGatewayRoutes(controller: string, refused: (gw: MeshGateway) => boolean): MeshGateway[] {
    const gateways: MeshGateway[] = [];
    MeshModel.of(this).subscribe(fact => {
      if (fact.type !== 'edge' || fact.edge.target !== this.service || fact.edge.kind !== FlowKind.GATEWAY_ROUTE) return;
      const gw = fact.edge.source;
      if (!(gw instanceof MeshGateway) || gateways.includes(gw)) return;
      if (refused(gw)) {
        const api = gw.routingApi === RoutingApi.GATEWAY_API ? 'Gateway API ' : '';
        invalid(this, 'progressive', `${controller} with ${api}gateway ${gw.node.path}`, controller === 'Flagger'
          ? "is not supported: Flagger writes the service's routes itself (its Canary's service.gateways and hosts); route the gateway to the service in GitOps or Argo Rollouts mode"
          : 'is not supported: Argo Rollouts shifts Istio VirtualServices here; route to a progressively released service through a RoutingApi.ISTIO gateway, or release it in GitOps mode');
      }
      gateways.push(gw);
    });
    return gateways;
  }

  /**
   * The gateways' VirtualServices that route to the service, as Argo Rollouts entries (`<name>.<namespace>` when in
   * another namespace), naming the routes that reach the service (synth time).
   */
  private gatewayVirtualServices(gateways: MeshGateway[]): any[] {
    const service = this.service;
    const out: any[] = [];
    for (const gw of gateways) {
      for (const vs of gw.virtualServicesFor(service)) {
        const spec = vs.toJson().spec ?? {};
        const reaches = (r: any) => (r.route ?? []).some((d: any) => d.destination?.host === service.host);
        const http: any[] = spec.http ?? [];
        const ours = http.filter(reaches);
        const ns = vs.metadata.namespace;
        const entry: any = { name: ns && ns !== service.namespace.name ? `${vs.name}.${ns}` : vs.name };
        if (ours.length && http.length > 1) {
          if (ours.some(r => !r.name)) {
            invalid(this, 'progressive', `VirtualService ${vs.name} of gateway ${gw.node.path}`,
              `has several HTTP routes, and the ones to ${service.name} have no name: Argo Rollouts can only shift named routes`);
          }
          entry.routes = ours.map(r => r.name);
        }
        const tls = (spec.tls ?? []).filter(reaches).flatMap((r: any) => r.match ?? [])
          .map((m: any) => compact({ port: m.port, sniHosts: m.sniHosts }));
        if (tls.length) entry.tlsRoutes = tls;
        if (ours.length || tls.length) out.push(entry);
      }
    }
    return out;
  }

  private renderAnalysis(a: CanaryAnalysis, labels: { [key: string]: string }): ApiObject {
    const resolved = resolveAnalysis(this, a);
    // the analysis reads the proxies' metrics: a scraper must reach them (zero-trust namespaces let it in)
    declareScraper(this, undefined);
    return new ApiObject(this, 'AnalysisTemplate', {
      apiVersion: ARGO_ROLLOUTS_API_VERSION,
      kind: 'AnalysisTemplate',
      metadata: { name: `${this.service.name}-canary`, namespace: this.service.namespace.name, labels },
      spec: renderArgoAnalysisSpec(resolved, {
        namespace: this.service.namespace.name,
        service: this.service.name,
        version: this.canary.name,
        clusterDomain: this.service.mesh.clusterDomain,
        ambient: isAmbient(this.service.namespace),
      }),
    } as any);
  }
}

function compact(o: { [key: string]: any }): any {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}
