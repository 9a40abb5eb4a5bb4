/**
 * Istio duration strings.
 * @internal
 */
import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { checkDurationMillis } from '../validation';

/** The smallest duration Istio's CRDs accept (`duration(self) >= duration('1ms')`, networking CRDs). @internal */
export const MIN_ISTIO_DURATION_MS = 1;

/** Whole milliseconds of a Duration, or an error naming `field`. @internal */
export function millisOf(scope: Construct | string, field: string, d: Duration): number {
  if (!(d instanceof Duration)) invalid(scope, field, d, 'must be a cdk8s Duration, e.g. Duration.seconds(5)');
  const ms = d.toMilliseconds({ integral: false });
  if (!Number.isFinite(ms) || !Number.isInteger(ms) || ms < MIN_ISTIO_DURATION_MS) {
    invalid(scope, field, d.toHumanString(), 'must be a whole number of milliseconds, at least 1ms (Istio rejects shorter durations)');
  }
  // protobuf Durations (and Envoy) stop far below what a Duration can say: at most 10 years, one bound for every duration
  checkDurationMillis(scope, field, ms, MIN_ISTIO_DURATION_MS);
  return ms;
}

/**
 * Renders a Duration the way Istio writes protobuf durations: whole seconds as `5s`, otherwise seconds with three
 * decimals (`1.500s`, `0.250s`). Both pass the CRDs' `duration(self) >= duration('1ms')` rule.
 * @internal
 */
export function istioDuration(scope: Construct | string, field: string, d: Duration): string {
  const ms = millisOf(scope, field, d);
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}s`;
}

/** Renders an optional Duration. @internal */
export function optionalDuration(scope: Construct | string, field: string, d: Duration | undefined): string | undefined {
  return d === undefined ? undefined : istioDuration(scope, field, d);
}
