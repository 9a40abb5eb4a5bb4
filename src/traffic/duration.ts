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

/**
 * An Istio duration string (`5s`, `0.250s`) as a Gateway API duration (GEP-2257: units h, m, s and ms, at most 5
 * digits each, e.g. `1m59s986ms`).
 * @internal
 */
export function gatewayApiDuration(scope: Construct, field: string, istio: string): string {
  let ms = millisOf(scope, field, Duration.millis(Math.round(Number(istio.replace(/s$/, '')) * 1000)));
  let out = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(ms / size);
    if (n > 0) out += `${n}${unit}`;
    ms -= n * size;
  }
  return out || '0s';
}
