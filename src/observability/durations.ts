import { Duration } from 'cdk8s';
import { invalid } from '../errors';

/**
 * A Duration as a Prometheus/prometheus-operator duration (`15s`, `5m`, `1h`): whole seconds, at least `minSeconds`.
 * Errors name the construct path.
 * @internal
 */
export function promDurationOf(scope: any, field: string, d: Duration, minSeconds = 1): string {
  const ms = d instanceof Duration ? d.toMilliseconds({ integral: false }) : NaN;
  if (!Number.isInteger(ms) || ms % 1000 !== 0 || ms < minSeconds * 1000) {
    invalid(scope, field, d instanceof Duration ? d.toHumanString() : d, `must be a positive Duration of whole seconds, at least ${minSeconds}s`);
  }
  const s = ms / 1000;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}
