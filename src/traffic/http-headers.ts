import { Construct } from 'constructs';
import { invalid } from '../errors';
import { checkHeaderValue } from '../validation';

/** RFC 7230 `token`: the characters an HTTP header name may use. */
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** An Envoy header formatter outside of literal text: `%%` (a literal '%') or a variable such as `%HOSTNAME%`. */
const FORMATTER = /%%|%[A-Z][A-Z0-9_]*%/g;

/** Changes to the headers of a request or a response. */
export interface HeaderOperations {
  /**
   * Headers to set, replacing any value they have. Values may use Envoy's `%VARIABLE%` formatters (e.g.
   * `%HOSTNAME%`); write a literal '%' as `%%`.
   * @default - none
   */
  readonly set?: { [name: string]: string };
  /**
   * Headers to append (a header that exists gets one more value).
   * @default - none
   */
  readonly add?: { [name: string]: string };
  /**
   * Headers to remove.
   * @default - none
   */
  readonly remove?: string[];
}

/**
 * Header manipulation on a route (VirtualService `http[].headers`), as Istio's "request and response headers"
 * examples show: `{ request: { set: { 'x-team': 'books' } }, response: { remove: ['server'] } }`.
 */
export interface HeaderRules {
  /**
   * Changes to the request, before it is forwarded.
   * @default - none
   */
  readonly request?: HeaderOperations;
  /**
   * Changes to the response, before it is returned to the caller.
   * @default - none
   */
  readonly response?: HeaderOperations;
}

/** Checks an HTTP header name for header manipulation and returns it lowercased. @internal */
export function checkHeaderOperationName(scope: Construct | string, field: string, name: string): string {
  if (typeof name !== 'string' || !HEADER_TOKEN.test(name)) {
    invalid(scope, field, name, "must be an HTTP header name (RFC 7230 token: letters, digits and !#$%&'*+-.^_`|~; no ':' pseudo-headers)");
  }
  if (name.toLowerCase() === 'host') invalid(scope, field, name, 'must not be the Host header: use rewrite authority to change the host');
  return name.toLowerCase();
}

/**
 * Checks a header value to set or add: an HTTP header value (no CR, LF or other control characters, which would
 * split the header; see `checkHeaderValue`), and every '%' either `%%` or a `%VARIABLE%` formatter (Envoy parses
 * header values for formatters and rejects a lone '%').
 * @internal
 */
export function checkHeaderOperationValue(scope: Construct | string, field: string, value: string): void {
  checkHeaderValue(scope, field, value, { allowEmpty: true });
  if (value.replace(FORMATTER, '').includes('%')) {
    invalid(scope, field, value, "must write a literal '%' as '%%' (a single '%' starts an Envoy formatter such as %HOSTNAME%)");
  }
}

/** Checks and renders header rules (VirtualService `headers`); undefined when empty. @internal */
export function renderHeaderRules(scope: Construct | string, field: string, rules: HeaderRules | undefined): any {
  if (!rules) return undefined;
  const side = (which: 'request' | 'response', ops: HeaderOperations | undefined) => {
    if (!ops) return undefined;
    const f = `${field}.${which}`;
    const out: any = {};
    const touched = new Map<string, string>();
    for (const verb of ['set', 'add'] as const) {
      const m = ops[verb];
      if (!m) continue;
      const rendered: { [k: string]: string } = {};
      for (const k of Object.keys(m).sort()) {
        const name = checkHeaderOperationName(scope, `${f}.${verb} name`, k);
        checkHeaderOperationValue(scope, `${f}.${verb}['${name}']`, m[k]);
        if (touched.has(name)) invalid(scope, `${f}.${verb}`, name, `is already changed by ${touched.get(name)}: change a header once`);
        touched.set(name, verb);
        rendered[name] = m[k];
      }
      if (Object.keys(rendered).length) out[verb] = rendered;
    }
    if (ops.remove) {
      const names = ops.remove.map(n => checkHeaderOperationName(scope, `${f}.remove`, n));
      for (const n of names) if (touched.has(n)) invalid(scope, `${f}.remove`, n, `is also in ${touched.get(n)}: remove or change a header, not both`);
      if (names.length) out.remove = [...new Set(names)].sort();
    }
    return Object.keys(out).length ? out : undefined;
  };
  const request = side('request', rules.request);
  const response = side('response', rules.response);
  if (!request && !response) return undefined;
  const out: any = {};
  if (request) out.request = request;
  if (response) out.response = response;
  return out;
}

/**
 * Merges rendered header rules (service-level, route-level, generated); the same header changed by two of them is
 * an error naming both.
 * @internal
 */
export function mergeHeaderRules(scope: Construct | string, field: string, parts: Array<{ source: string; rules: any }>): any {
  const out: any = {};
  const owner = new Map<string, string>();
  for (const { source, rules } of parts) {
    if (!rules) continue;
    for (const which of ['request', 'response'] as const) {
      const r = rules[which];
      if (!r) continue;
      const o = out[which] ??= {};
      for (const verb of ['set', 'add'] as const) {
        for (const [k, v] of Object.entries(r[verb] ?? {})) {
          const key = `${which} ${k}`;
          if (owner.has(key)) invalid(scope, field, `${which} header '${k}'`, `is changed by both ${owner.get(key)} and ${source}: change a header in one place`);
          owner.set(key, source);
          (o[verb] ??= {})[k] = v;
        }
      }
      for (const k of r.remove ?? []) {
        const key = `${which} ${k}`;
        if (owner.has(key) && owner.get(key) !== source) {
          invalid(scope, field, `${which} header '${k}'`, `is changed by both ${owner.get(key)} and ${source}: change a header in one place`);
        }
        owner.set(key, source);
        o.remove = [...new Set([...(o.remove ?? []), k])].sort();
      }
    }
  }
  for (const which of ['request', 'response']) {
    const o = out[which];
    if (!o) continue;
    for (const verb of ['set', 'add']) {
      if (o[verb]) o[verb] = Object.fromEntries(Object.keys(o[verb]).sort().map(k => [k, o[verb][k]]));
    }
  }
  return Object.keys(out).length ? out : undefined;
}
