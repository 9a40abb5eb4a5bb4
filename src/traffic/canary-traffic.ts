import { invalid } from '../errors';
import { RequestMatch } from './request-match';

/** Which version serves all traffic in a blue/green release. */
export enum BlueGreenActive {
  /** The stable (current) version serves everything; the canary runs warm, without traffic. */
  STABLE = 'stable',
  /** The canary (new) version serves everything; the stable version keeps its replicas, ready to switch back. */
  CANARY = 'canary',
}

/** Options of a blue/green release. */
export interface BlueGreenOptions {
  /** The version that receives all traffic. */
  readonly active: BlueGreenActive;
}

/** Options of a targeted share of traffic (`andMatch`). */
export interface MatchedTrafficOptions {
  /**
   * Percentage (whole, 0-100) of the matched requests sent to the canary; the rest go to stable.
   * @default 100
   */
  readonly weight?: number;
}

/** A targeted rule: requests that match any of `matches` are split by `weight`. @internal */
export interface TargetedRule {
  readonly matches: RequestMatch[];
  readonly weight: number;
}

/**
 * How a CanaryRelease splits traffic between the stable and the canary version. Build one with a static factory
 * and compose:
 *
 * - `CanaryTraffic.weighted(10)`: 10% of all requests to the canary;
 * - `CanaryTraffic.matching(RequestMatch.headerExact('x-beta', 'true'))`: A/B test, matched requests only;
 * - `CanaryTraffic.weighted(10).andMatch(RequestMatch.userAgent('.*iPhone.*'), { weight: 50 })`: 10% of everyone,
 *   and half of the iPhone users;
 * - `CanaryTraffic.mirror(5)`: dark launch, 5% of the requests copied to the canary, responses discarded;
 * - `CanaryTraffic.blueGreen({ active: BlueGreenActive.CANARY })`: all at once, the other version kept warm.
 *
 * Targeted rules come first, in the order given (the first that matches wins); requests that match none go by the
 * base weight (0 for `matching` and `mirror`), so unmatched traffic always goes to stable unless a weight says
 * otherwise.
 */
export class CanaryTraffic {
  /** `percent` (whole, 0-100) of all requests go to the canary. */
  public static weighted(percent: number): CanaryTraffic {
    checkWeight('CanaryTraffic.weighted', percent);
    return new CanaryTraffic(percent, [], undefined, undefined);
  }
  /** Requests that match any of `matches` (OR) all go to the canary; every other request goes to stable. */
  public static matching(...matches: RequestMatch[]): CanaryTraffic {
    if (matches.length === 0) invalid('CanaryTraffic.matching', 'matches', matches, 'must list at least one RequestMatch');
    for (const m of matches) if (!(m instanceof RequestMatch)) invalid('CanaryTraffic.matching', 'matches', m, 'must be RequestMatch objects');
    return new CanaryTraffic(0, [{ matches: [...matches], weight: 100 }], undefined, undefined);
  }
  /** All requests go to stable; `percent` (0-100, fractions allowed) of them are also copied to the canary. */
  public static mirror(percent: number): CanaryTraffic {
    return new CanaryTraffic(0, [], undefined, undefined).andMirror(percent);
  }
  /** All requests go to the `active` version; the other keeps running with its replicas. */
  public static blueGreen(options: BlueGreenOptions): CanaryTraffic {
    const active = options?.active;
    if (active !== BlueGreenActive.STABLE && active !== BlueGreenActive.CANARY) {
      invalid('CanaryTraffic.blueGreen', 'active', active, "must be BlueGreenActive.STABLE or BlueGreenActive.CANARY ('stable' or 'canary')");
    }
    return new CanaryTraffic(active === BlueGreenActive.CANARY ? 100 : 0, [], undefined, active);
  }

  /** Percentage of unmatched requests sent to the canary. */
  public readonly weight: number;
  /** Percentage of requests mirrored to the canary, if any. */
  public readonly mirrorPercent?: number;
  /** The active version of a blue/green release, if this is one. */
  public readonly blueGreenActive?: BlueGreenActive;
  private readonly targeted: TargetedRule[];

  private constructor(weight: number, targeted: TargetedRule[], mirrorPercent: number | undefined, blueGreen: BlueGreenActive | undefined) {
    this.weight = weight;
    this.targeted = targeted;
    this.mirrorPercent = mirrorPercent;
    this.blueGreenActive = blueGreen;
  }

  /**
   * Adds a targeted rule: requests that match `match` are split by `options.weight` (default: all to the canary)
   * instead of the base weight. Rules are tried in the order they were added.
   */
  public andMatch(match: RequestMatch, options: MatchedTrafficOptions = {}): CanaryTraffic {
    this.notBlueGreen('andMatch');
    if (!(match instanceof RequestMatch)) invalid('CanaryTraffic.andMatch', 'match', match, 'must be a RequestMatch (RequestMatch.all(...) for several conditions)');
    const weight = options.weight ?? 100;
    checkWeight('CanaryTraffic.andMatch', weight);
    return new CanaryTraffic(this.weight, [...this.targeted, { matches: [match], weight }], this.mirrorPercent, undefined);
  }

  /**
   * Also copies `percent` (0-100, fractions allowed) of every route's requests to the canary (responses discarded).
   * The copy is taken before the split, so a request the route already sends to the canary may reach it twice.
   */
  public andMirror(percent: number): CanaryTraffic {
    this.notBlueGreen('andMirror');
    if (typeof percent !== 'number' || !(percent > 0 && percent <= 100)) {
      invalid('CanaryTraffic.mirror', 'percent', percent, 'must be a percentage above 0, at most 100 (fractions allowed)');
    }
    if (this.mirrorPercent !== undefined) invalid('CanaryTraffic.andMirror', 'percent', percent, 'is given twice: mirror once per release');
    return new CanaryTraffic(this.weight, this.targeted, percent, undefined);
  }

  /** The targeted rules, in order. @internal */
  public get _targeted(): TargetedRule[] {
    return [...this.targeted];
  }

  private notBlueGreen(method: string) {
    if (this.blueGreenActive !== undefined) invalid(`CanaryTraffic.${method}`, 'traffic', 'blueGreen', 'does not combine: a blue/green release sends everything to one version');
  }
}

/** Checks a whole percentage. @internal */
export function checkWeight(scope: string, weight: number, field = 'weight') {
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 100) {
    invalid(scope, field, weight, 'must be a whole percentage from 0 to 100 (VirtualService weights are integers)');
  }
}
