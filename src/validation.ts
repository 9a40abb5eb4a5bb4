/**
 * Input checks shared by every construct. Each returns nothing and throws a MeshValidationError that names the
 * construct path, the field, the value and what is allowed.
 * @internal
 */
import { Construct } from 'constructs';
import { invalid } from './errors';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Kubernetes label values: at most 63 chars, alphanumerics at both ends, '-', '_', '.' inside; may be empty
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
// resource.Quantity: sign, digits, optional fraction, optional suffix (binary, decimal SI, or exponent)
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** @internal */
export function isDnsLabel(s: string): boolean {
  return typeof s === 'string' && s.length <= 63 && DNS_LABEL.test(s);
}
/** @internal */
export function isDnsSubdomain(s: string): boolean {
  return typeof s === 'string' && s.length <= 253 && DNS_SUBDOMAIN.test(s);
}
/** @internal */
export function checkDnsLabel(scope: Construct | string, field: string, value: string) {
  if (!isDnsLabel(value)) {
    invalid(scope, field, value, "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters");
  }
}
/** @internal */
export function checkDnsSubdomain(scope: Construct | string, field: string, value: string) {
  if (!isDnsSubdomain(value)) {
    invalid(scope, field, value, "must be a DNS subdomain: dot-separated DNS labels (lowercase letters, digits and '-'), at most 253 characters");
  }
}
/** @internal */
export function isLabelValue(s: string): boolean {
  return typeof s === 'string' && s.length <= 63 && LABEL_VALUE.test(s);
}
/** @internal */
export function checkLabelValue(scope: Construct | string, field: string, value: string) {
  if (!isLabelValue(value)) {
    invalid(scope, field, value, "must be a Kubernetes label value: at most 63 characters, letters, digits, '-', '_' and '.', starting and ending with a letter or digit");
  }
}
/** @internal */
export function checkLabels(scope: Construct | string, field: string, labels: { [key: string]: string } | undefined) {
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (!LABEL_NAME.test(k) || k.split('/').pop()!.length > 63) {
      invalid(scope, `${field} key`, k, "must be a Kubernetes label name: an optional DNS-subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.'");
    }
    checkLabelValue(scope, `${field}['${k}']`, v);
  }
}
/** @internal */
export function isQuantity(s: string): boolean {
  return typeof s === 'string' && QUANTITY.test(s);
}
/** @internal */
export function checkQuantity(scope: Construct | string, field: string, value: string | undefined) {
  if (value === undefined) return;
  if (!isQuantity(value)) {
    invalid(scope, field, value, "must be a Kubernetes quantity such as '100m', '0.5', '2', '128Mi' or '1Gi'");
  }
}
/** @internal */
export function checkInteger(scope: Construct | string, field: string, value: number | undefined, min: number, max: number) {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalid(scope, field, value, `must be a whole number from ${min} to ${max}`);
  }
}
/** @internal */
export function checkPercent(scope: Construct | string, field: string, value: number | undefined) {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    invalid(scope, field, value, 'must be a percentage from 0 to 100');
  }
}
/** @internal */
export function checkPort(scope: Construct | string, field: string, value: number) {
  checkInteger(scope, field, value, 1, 65535);
}

/** Returns a copy of an object with its keys sorted (recursively), for deterministic output. @internal */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as any;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: any = {};
    for (const k of Object.keys(value as any).sort()) out[k] = sortKeys((value as any)[k]);
    return out;
  }
  return value;
}

/** Drops undefined values and empty objects/arrays from a plain object (one level). @internal */
export function compact<T extends object>(obj: T): T {
  const out: any = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}
