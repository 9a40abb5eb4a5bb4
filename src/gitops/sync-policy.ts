import { Duration } from 'cdk8s';

/**
 * Options for `ArgoSyncPolicy.automated`.
 */
export interface AutomatedSyncOptions {
  /**
   * Delete objects from the cluster that are no longer in Git. Without it, a policy removed from Git (an
   * AuthorizationPolicy, a NetworkPolicy) stays in force in the cluster.
   *
   * @default true
   */
  readonly prune?: boolean;

  /**
   * Revert changes made in the cluster outside Git (drift), e.g. a hand-edited AuthorizationPolicy.
   *
   * @default true
   */
  readonly selfHeal?: boolean;

  /**
   * Allow an automated sync to leave the application with no objects at all (prune everything). Off, an empty
   * render (a broken build) cannot wipe the application.
   *
   * @default false
   */
  readonly allowEmpty?: boolean;
}

/**
 * How Argo CD syncs an Application: automatically on every Git change, or only when someone presses sync.
 */
export class ArgoSyncPolicy {
  /**
   * Sync automatically whenever Git or the cluster changes (`spec.syncPolicy.automated`).
   *
   * @param options prune, selfHeal and allowEmpty
   */
  public static automated(options: AutomatedSyncOptions = {}): ArgoSyncPolicy {
    return new ArgoSyncPolicy(true, options.prune ?? true, options.selfHeal ?? true, options.allowEmpty ?? false);
  }

  /** Sync only on request (UI, CLI or API); Argo CD still shows drift. */
  public static manual(): ArgoSyncPolicy {
    return new ArgoSyncPolicy(false, false, false, false);
  }

  /** Whether Argo CD syncs by itself. */
  public readonly isAutomated: boolean;
  /** Whether an automated sync deletes objects that are gone from Git. */
  public readonly prune: boolean;
  /** Whether an automated sync reverts drift. */
  public readonly selfHeal: boolean;
  /** Whether an automated sync may prune everything. */
  public readonly allowEmpty: boolean;

  private constructor(automated: boolean, prune: boolean, selfHeal: boolean, allowEmpty: boolean) {
    this.isAutomated = automated;
    this.prune = prune;
    this.selfHeal = selfHeal;
    this.allowEmpty = allowEmpty;
  }
}

/**
 * How Argo CD retries a failed sync (`spec.syncPolicy.retry`). A retry is what lets a sync ride out a CRD or a webhook
 * that is not ready yet.
 */
export interface ArgoSyncRetry {
  /**
   * How many times to retry a failed sync; 0 means never.
   *
   * @default 5
   */
  readonly limit?: number;

  /**
   * The wait before the first retry (whole seconds).
   *
   * @default Duration.seconds(5)
   */
  readonly backoff?: Duration;

  /**
   * What the wait is multiplied by after each failed retry (a whole number, at least 1).
   *
   * @default 2
   */
  readonly backoffFactor?: number;

  /**
   * The longest wait between retries (whole seconds, at least `backoff`).
   *
   * @default Duration.minutes(3)
   */
  readonly maxBackoff?: Duration;
}

/**
 * How the CustomResourceDefinitions in a delivery are applied.
 *
 * A client-side `kubectl apply` stores the whole object in the `kubectl.kubernetes.io/last-applied-configuration`
 * annotation, and all annotations of an object must fit in 262144 bytes (256 KiB). Measured on the CRDs this library
 * targets (compact JSON): Gateway API's httproutes 242 KB, Argo CD's applicationsets 343 KB, cert-manager's issuers
 * 146 KB, Istio's destinationrules 150 KB: the large ones fail or come close, and grow with every release.
 */
export enum CrdSyncMethod {
  /** Server-side apply (`ServerSideApply=true` on each CRD): no annotation, field ownership kept by the API server. */
  SERVER_SIDE_APPLY = 'SERVER_SIDE_APPLY',
  /** Replace (`Replace=true` on each CRD): `kubectl replace`/`create`, no annotation, the whole object is replaced. */
  REPLACE = 'REPLACE',
}

/**
 * Which custom resources get `SkipDryRunOnMissingResource=true`. Argo CD dry-runs every object before a sync; a custom
 * resource whose CRD does not exist yet fails that dry run, even when the CRD is created earlier in the same sync.
 */
export enum SkipDryRunScope {
  /**
   * Custom resources whose CRD is in one of the delivered charts (or the chart holding the Applications): they may be
   * synced in the same run as their CRD.
   */
  DELIVERED_CRDS = 'DELIVERED_CRDS',
  /**
   * Every object whose API group is not a built-in Kubernetes group: for CRDs installed at the same time by something
   * else (a Helm chart in another Application).
   */
  ALL_CUSTOM_RESOURCES = 'ALL_CUSTOM_RESOURCES',
  /** None: every CRD exists before the sync starts. */
  NONE = 'NONE',
}
