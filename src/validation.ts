/**
 * Input checks shared by every construct. Each returns nothing and throws a MeshValidationError that names the
 * construct path, the field, the value and what is allowed.
 * @internal
 */
import { Construct } from 'constructs';
import { RE2JS } from 're2js';
import { escapeText, invalid } from './errors';

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

// ---------------------------------------------------------------------------------------------------------------
// Strings that reach Envoy or an HTTP header: one set of rules.

/**
 * Envoy rejects a regex whose RE2 program is larger than the runtime key `re2.max_program_size.error_level`. Envoy's
 * own default is 100; Istio's proxy bootstrap raises it to 32768 (istio/istio pkg/bootstrap/config.go,
 * `extractRuntimeFlags`). We hold regexes to Istio's value, measured with a conservative estimate of RE2's program
 * size (see `re2ProgramSize`).
 */
export const RE2_MAX_PROGRAM_SIZE = 32768;
/** RE2 rejects counted repetition above 1000 (`a{1001}`), also when nested repetitions multiply past it. */
export const RE2_MAX_REPEAT = 1000;
/** The longest regex accepted (characters); far beyond any route match, it bounds the work of the check. */
export const MAX_REGEX_LENGTH = 16384;

// re2js op codes (re2js Inst): RUNE = 8, RUNE1 = 9, RUNE_ANY = 10, RUNE_ANY_NOT_NL = 11
const OP_RUNE = 8;
const OP_RUNE1 = 9;
const OP_RUNE_ANY = 10;
const OP_RUNE_ANY_NOT_NL = 11;

/** The UTF-8 length of code point `r`. */
function utf8Length(r: number): number {
  return r < 0x80 ? 1 : r < 0x800 ? 2 : r < 0x10000 ? 3 : 4;
}
const UTF8_MAX = [0x7f, 0x7ff, 0xffff, 0x10ffff];

/**
 * How many RE2 instructions matching the code points lo..hi as UTF-8 bytes cost at most: the range is split where
 * the UTF-8 length changes and where its continuation bytes stop covering whole blocks (as every UTF-8 range
 * compiler does), and each resulting byte sequence costs one instruction per byte (no sharing of common suffixes,
 * which RE2 does, so this is an upper bound).
 */
function utf8RangeCost(lo: number, hi: number): number {
  if (lo > hi) return 0;
  const n = utf8Length(lo);
  if (hi > UTF8_MAX[n - 1]) return utf8RangeCost(lo, UTF8_MAX[n - 1]) + utf8RangeCost(UTF8_MAX[n - 1] + 1, hi);
  if (lo >= 0xd800 && hi <= 0xdfff) return 0; // surrogates are not UTF-8
  for (let i = 1; i < n; i++) {
    const block = 64 ** i; // the code points one lead-byte prefix of i continuation bytes covers
    const loBase = lo - (lo % block);
    const hiBase = hi - (hi % block);
    if (loBase !== hiBase) {
      if (lo % block !== 0) return utf8RangeCost(lo, loBase + block - 1) + utf8RangeCost(loBase + block, hi);
      if (hi % block !== block - 1) return utf8RangeCost(lo, hiBase - 1) + utf8RangeCost(hiBase, hi);
    }
  }
  return n;
}

/**
 * A conservative estimate of the program size C++ RE2 (Envoy's engine) gives a pattern compiled by re2js. re2js
 * compiles to RE2's instruction set but matches UTF-16 code units where C++ RE2 matches UTF-8 bytes, so a character
 * class outside ASCII, one instruction in re2js, costs C++ RE2 one instruction per UTF-8 byte of each byte sequence
 * it splits into (`\pL` alone is about 1,200 instructions in C++ RE2). The estimate charges ASCII-only classes 1,
 * other classes their UTF-8 sequence bytes (`utf8RangeCost`), every other instruction 1, plus 8 for RE2's fixed
 * overhead. Measured against C++ RE2 (libre2 20220601) it is never below RE2's own `ProgramSize()` on the corpus in
 * test/security-input.test.ts, and at most about 3 times above it.
 * @internal
 */
export function re2ProgramSize(compiled: any): number {
  const insts: any[] | undefined = compiled?.re2Input?.prog?.inst;
  if (!Array.isArray(insts)) return Number.POSITIVE_INFINITY; // an re2js we do not know: refuse rather than guess
  let size = 8;
  for (const inst of insts) {
    let ranges: number[] = [];
    switch (inst.op) {
      case OP_RUNE: ranges = Array.from(inst.runes ?? []); break;
      case OP_RUNE1: ranges = [inst.runes?.[0] ?? 0, inst.runes?.[0] ?? 0]; break;
      case OP_RUNE_ANY: ranges = [0, 0x10ffff]; break;
      case OP_RUNE_ANY_NOT_NL: ranges = [0, 9, 11, 0x10ffff]; break;
      default: size += 1; continue;
    }
    if (ranges.length === 1) ranges = [ranges[0], ranges[0]]; // a single rune
    if (ranges.every(r => r <= 0x7f)) {
      size += 1;
      continue;
    }
    for (let i = 0; i + 1 < ranges.length; i += 2) {
      const [lo, hi] = [ranges[i], ranges[i + 1]];
      size += (lo <= 0x7f ? 1 : 0) + utf8RangeCost(Math.max(lo, 0x80), hi);
    }
  }
  return size;
}

/**
 * Checks that `pattern` is a regular expression Envoy compiles: Google RE2 syntax (checked with re2js, a port of
 * RE2; so `(?i)abc` is accepted and `\Z`, `\u00e9`, lookaround and backreferences are not), repeat counts at most
 * 1000, and a program no larger than Istio's `re2.max_program_size.error_level` (32768).
 * @internal
 */
export function checkRegex(scope: Construct | string, field: string, pattern: string): void {
  if (typeof pattern !== 'string' || pattern.length === 0) invalid(scope, field, pattern, 'must be a non-empty RE2 regular expression');
  if (pattern.length > MAX_REGEX_LENGTH) invalid(scope, field, pattern, `must be at most ${MAX_REGEX_LENGTH} characters`);
  let compiled: any;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (e: any) {
    const reason = String(e?.message ?? e).replace(/^error parsing regexp: /, '');
    const hint = /repeat count/.test(reason)
      ? `: repeat counts are at most ${RE2_MAX_REPEAT}, also when nested repetitions multiply`
      : /Perl syntax|named capture/.test(reason)
        ? ': RE2 has no lookahead, lookbehind, atomic groups or possessive quantifiers'
        : /escape sequence/.test(reason)
          ? ': RE2 escapes are \\x{hex} (not \\u), \\z (not \\Z), \\d \\w \\s \\b, \\pL, and \\ before punctuation'
          : '';
    invalid(scope, field, pattern, `must be an RE2 regular expression as Envoy compiles it (${reason})${hint}`);
  }
  const size = re2ProgramSize(compiled);
  if (size > RE2_MAX_PROGRAM_SIZE) {
    invalid(scope, field, pattern, `compiles to an RE2 program of about ${size} instructions; Istio's proxies refuse more than ${RE2_MAX_PROGRAM_SIZE} (re2.max_program_size.error_level): narrow the character classes or repetitions`);
  }
}

/** RFC 9110 field-value without tabs: visible characters, spaces inside; no CR, LF, NUL, tab or other controls. */
const HEADER_VALUE = /^[\x21-\x7e\x80-\uffff]([\x20-\x7e\x80-\uffff]*[\x21-\x7e\x80-\uffff])?$/;
/** Header values longer than this are refused (the Gateway API's own limit on header match values). */
export const MAX_HEADER_VALUE_LENGTH = 4096;

/**
 * Checks a value written into an HTTP header (a header to add or set, a header match, a CORS origin...): no CR, LF,
 * NUL, tab or other control characters (they would split or smuggle headers), no leading or trailing whitespace, no
 * bidirectional or invisible characters, at most 4096 characters.
 * @internal
 */
export function checkHeaderValue(scope: Construct | string, field: string, value: string, options: { allowEmpty?: boolean } = {}): void {
  if (typeof value !== 'string') invalid(scope, field, value, 'must be a string');
  if (value === '' && options.allowEmpty) return;
  if (value.length > MAX_HEADER_VALUE_LENGTH) invalid(scope, field, value, `must be at most ${MAX_HEADER_VALUE_LENGTH} characters`);
  if (!HEADER_VALUE.test(value) || hasInvisible(value)) {
    invalid(scope, field, value, 'must be an HTTP header value: visible characters and inner spaces, no control characters (CR, LF, NUL, tab...), no bidirectional or invisible characters, no leading or trailing whitespace');
  }
}

/** RFC 3986 path characters (the Gateway API's HTTPPathMatch rule): unreserved, sub-delims, ':', '@', '/', %XX. */
const PATH_CHARS = /^\/(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})*$/;

/**
 * Checks a URL path Envoy matches or writes (a route's exact or prefix path, a rewrite, a redirect path): starts
 * with '/', only RFC 3986 path characters (no control characters, spaces, '?', '#' or '\'), no '.' or '..' segments
 * (Envoy normalizes them away before matching, so such a route never matches, and a rewrite to one escapes its
 * prefix), also when percent-encoded (`%2e`, `%2f`, `%5c`), no `//`, at most 1024 characters: the Gateway API's
 * HTTPPathMatch rules (its CEL validations) and more.
 * @internal
 */
export function checkPath(scope: Construct | string, field: string, path: string): void {
  if (typeof path !== 'string' || path.length === 0) invalid(scope, field, path, "must be a non-empty path starting with '/'");
  if (path.length > 1024) invalid(scope, field, path, 'must be at most 1024 characters');
  if (!PATH_CHARS.test(path)) {
    invalid(scope, field, path, "must be a URL path: '/' then letters, digits, -._~!$&'()*+,;=:@/ or %XX escapes; no spaces, control characters, '?', '#' or '\\'");
  }
  if (/%(2[eEfF]|5[cC])/.test(path)) invalid(scope, field, path, "must not percent-encode '.', '/' or '\\' (%2e, %2f, %5c): write the path as it is, without dot segments");
  if (path.split('/').some(s => s === '.' || s === '..')) {
    invalid(scope, field, path, "must not contain '.' or '..' segments ('/a/../b'): the proxy normalizes them away before matching");
  }
  if (path.includes('//')) invalid(scope, field, path, "must not contain '//' (empty segments): the Gateway API refuses them, and proxies that merge slashes never see them");
}

/** Whether `s` has a control, bidirectional or invisible character (those escapeText escapes). @internal */
export function hasInvisible(s: string): boolean {
  return escapeText(s) !== s;
}

/**
 * The longest duration Envoy and the protobuf Duration accept, rounded down: google.protobuf.Duration allows up to
 * 315,576,000,000 seconds (10,000 years), and Envoy converts route and cluster timeouts to milliseconds in a signed
 * 64-bit integer, refusing a Duration whose milliseconds overflow. We allow at most 10 years (315,360,000 s): far beyond any sensible timeout, inside every one of those limits.
 */
export const MAX_DURATION_SECONDS = 315_360_000;

/**
 * Checks a timeout-like duration given in milliseconds: a finite whole number of milliseconds, at least `minMs`
 * (1 ms by default: a zero timeout means "none" to Envoy), at most 10 years.
 * @internal
 */
export function checkDurationMillis(scope: Construct | string, field: string, ms: number, minMs = 1): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || !Number.isInteger(ms) || ms < minMs || ms > MAX_DURATION_SECONDS * 1000) {
    invalid(scope, field, ms, `must be a whole number of milliseconds from ${minMs} ms to 10 years (${MAX_DURATION_SECONDS} s)`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// IP addresses and CIDR blocks.

/** A parsed IP address or CIDR block. @internal */
export interface ParsedCidr {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The address as a big integer. */
  readonly address: bigint;
  /** The prefix length (32 or 128 for a single address). */
  readonly prefix: number;
  /** Whether a prefix length was written. */
  readonly hasPrefix: boolean;
}

function parseIpv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = BigInt(0);
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    n = n * BigInt(256) + BigInt(Number(p));
  }
  return n;
}

function parseIpv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.split('::').length > 2) return undefined;
  let tail = s;
  let v4: bigint | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = s.slice(0, lastColon + 1) + '0:0'; // the IPv4 part stands for the last two groups
  }
  const [head, rest] = tail.includes('::') ? tail.split('::') : [tail, undefined];
  const groups = (x: string) => (x === '' ? [] : x.split(':'));
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  if ([...h, ...r].some(g => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const count = h.length + r.length;
  if (rest === undefined ? count !== 8 : count > 7) return undefined;
  const all = [...h, ...Array(8 - count).fill('0'), ...r];
  let n = BigInt(0);
  for (const g of all) n = n * BigInt(65536) + BigInt(parseInt(g, 16));
  if (v4 !== undefined) n = n - (n % BigInt(2 ** 32)) + v4;
  return n;
}

/** Parses an IPv4/IPv6 address or CIDR block (`203.0.113.0/24`, `2001:db8::/32`); undefined when malformed. @internal */
export function parseCidr(s: string): ParsedCidr | undefined {
  if (typeof s !== 'string' || s.length > 64) return undefined;
  const [addr, prefix, extra] = s.split('/');
  if (extra !== undefined) return undefined;
  const family: 4 | 6 = addr.includes(':') ? 6 : 4;
  const address = family === 4 ? parseIpv4(addr) : parseIpv6(addr);
  if (address === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (prefix !== undefined && (!/^(0|[1-9]\d{0,2})$/.test(prefix) || Number(prefix) > max)) return undefined;
  return { family, address, prefix: prefix === undefined ? max : Number(prefix), hasPrefix: prefix !== undefined };
}

/** Whether the block `inner` lies inside the block `outer` (same family). @internal */
export function cidrWithin(inner: ParsedCidr, outer: ParsedCidr): boolean {
  if (inner.family !== outer.family || inner.prefix < outer.prefix) return false;
  const bits = BigInt(inner.family === 4 ? 32 : 128);
  const shift = bits - BigInt(outer.prefix);
  const unit = BigInt(2) ** shift;
  return inner.address / unit === outer.address / unit;
}

/** The block written canonically: the address with its host bits cleared, and the prefix. @internal */
export function canonicalCidr(c: ParsedCidr): string {
  const bits = c.family === 4 ? 32 : 128;
  const hostBits = BigInt(bits - c.prefix);
  const unit = BigInt(2) ** hostBits;
  const base = (c.address / unit) * unit;
  if (c.family === 4) {
    const o = [24, 16, 8, 0].map(sh => Number((base / BigInt(2) ** BigInt(sh)) % BigInt(256)));
    return `${o.join('.')}/${c.prefix}`;
  }
  const groups = [...Array(8).keys()].map(i => Number((base / BigInt(2) ** BigInt(112 - 16 * i)) % BigInt(65536)).toString(16));
  // the longest run of zero groups becomes '::'
  let best = [-1, 0];
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best[1] && j - i > 1) best = [i, j - i];
    i = j;
  }
  const text = best[0] < 0 ? groups.join(':')
    : `${groups.slice(0, best[0]).join(':')}::${groups.slice(best[0] + best[1]).join(':')}`;
  return `${text}/${c.prefix}`;
}

/** Whether two blocks share any address. @internal */
export function cidrOverlaps(a: ParsedCidr, b: ParsedCidr): boolean {
  return cidrWithin(a, b) || cidrWithin(b, a);
}

/**
 * Addresses that are never "external": the host itself, link-local (where cloud metadata services answer:
 * 169.254.169.254, fd00:ec2::254), unspecified and multicast. @internal
 */
export const NON_EXTERNAL_BLOCKS: Array<[string, string]> = [
  ['0.0.0.0/8', 'the unspecified/"this network" block'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local, where cloud metadata services answer (169.254.169.254)'],
  ['224.0.0.0/4', 'multicast'],
  ['::/128', 'the unspecified address'],
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['fd00:ec2::254/128', 'the AWS metadata service (IPv6)'],
  ['ff00::/8', 'multicast'],
];

/** The non-external block `c` overlaps, with its description; undefined when none. @internal */
export function nonExternalBlock(c: ParsedCidr): string | undefined {
  for (const [block, what] of NON_EXTERNAL_BLOCKS) {
    if (cidrOverlaps(c, parseCidr(block)!)) return `${block} (${what})`;
  }
  return undefined;
}

/**
 * Checks a workload principal as AuthorizationPolicy `source.principals` reads it: exactly
 * `<trust domain>/ns/<namespace>/sa/<service account>`, no wildcard (Istio matches `*` as a prefix or suffix, so a
 * custom IMeshWorkload whose principal is `*` or `cluster.local/ns/*` would let every workload in).
 * @internal
 */
export function checkPrincipal(scope: Construct | string, field: string, principal: string, trustDomain: string): void {
  if (typeof principal !== 'string' || principal.includes('*') || hasInvisible(principal)) {
    invalid(scope, field, principal, `must be one workload's principal '${trustDomain}/ns/<namespace>/sa/<service account>', without '*'`);
  }
  const m = /^(.+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal);
  if (!m || m[1] !== trustDomain || !isDnsLabel(m[2]) || !isDnsSubdomain(m[3])) {
    invalid(scope, field, principal, `must be '${trustDomain}/ns/<namespace>/sa/<service account>' (the mesh's trust domain, a namespace and a service account name)`);
  }
}
