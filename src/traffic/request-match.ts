import { invalid } from '../errors';
import { checkDnsLabel, checkLabels, checkRegex } from '../validation';
import { HttpRequestMatch, StringMatch } from './routing';

/** RFC 7230 `token`: the characters an HTTP header name may use. */
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** The scope named in errors of the static factories (they have no construct). */
const WHERE = 'RequestMatch';

/**
 * Checks that `pattern` is a regular expression Envoy accepts: Envoy compiles route regexes with Google RE2, which
 * has no lookaround, no backreferences, no atomic groups and no possessive quantifiers (named here, with a specific
 * message); then it must parse as a JavaScript RegExp and, finally, compile with RE2 (`checkRegex`).
 * @internal
 */
export function checkRe2(scope: string, field: string, pattern: string): void {
  if (typeof pattern !== 'string' || pattern.length === 0) invalid(scope, field, pattern, 'must be a non-empty RE2 regular expression');
  // scan outside of escapes and character classes for constructs RE2 rejects
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1];
      if (!inClass && n !== undefined && /[1-9]/.test(n)) {
        invalid(scope, field, pattern, `must be an RE2 regular expression: backreferences (\\${n}) are not supported by Envoy's RE2`);
      }
      if (!inClass && n === 'k' && pattern[i + 2] === '<') {
        invalid(scope, field, pattern, 'must be an RE2 regular expression: named backreferences (\\k<name>) are not supported by Envoy\'s RE2');
      }
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === ']') i++; // a literal ']' right after '['
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest.startsWith('=') || rest.startsWith('!') || rest === '<=' || rest === '<!') {
        invalid(scope, field, pattern, 'must be an RE2 regular expression: lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported by Envoy\'s RE2');
      }
      if (rest.startsWith('>')) invalid(scope, field, pattern, 'must be an RE2 regular expression: atomic groups ((?>...)) are not supported by Envoy\'s RE2');
    }
    if (c === '+' && i > 0 && /[*+?}]/.test(pattern[i - 1]) && pattern[i - 2] !== '\\') {
      invalid(scope, field, pattern, 'must be an RE2 regular expression: possessive quantifiers (*+, ++, ?+) are not supported by Envoy\'s RE2');
    }
  }
  try {
    // eslint-disable-next-line no-new
    new RegExp(pattern);
  } catch (e: any) {
    invalid(scope, field, pattern, `must be a valid regular expression (${e.message})`);
  }
  // the final word: RE2 itself (re2js), with Istio's program-size limit
  checkRegex(scope, field, pattern);
}

/** Checks an HTTP header name (RFC 7230 token) and returns it lowercased. @internal */
export function checkHeaderName(scope: string, field: string, name: string): string {
  if (typeof name !== 'string' || !HEADER_TOKEN.test(name)) {
    invalid(scope, field, name, "must be an HTTP header name (RFC 7230 token: letters, digits and !#$%&'*+-.^_`|~)");
  }
  return name.toLowerCase();
}

function checkStringMatch(field: string, m: StringMatch, allowPrefix = true): StringMatch {
  if (!(m instanceof StringMatch)) invalid(WHERE, field, m, 'must be made with StringMatch.exact/prefix/regex');
  if (m.kind === 'regex') checkRe2(WHERE, field, m.value);
  if (m.kind === 'prefix' && !allowPrefix) invalid(WHERE, field, 'prefix', 'must be StringMatch.exact or StringMatch.regex (Istio matches query parameters exactly or by regex)');
  return m;
}

function escapeRe2(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** At most this many cookies in one match: the header regex lists every order they may come in (n!). */
const MAX_COOKIES = 4;

/**
 * The `cookie` header regex that requires every cookie `name=value`, anywhere in the header, in any order: one
 * alternative per order (RE2 has no lookahead). One cookie gives `^(.*?;\s*)?name=value(;.*)?$`.
 */
function cookieRegex(cookies: { [name: string]: string }): string {
  const pairs = Object.keys(cookies).sort().map(n => `${escapeRe2(n)}=${escapeRe2(cookies[n])}`);
  if (pairs.length === 1) return `^(.*?;\\s*)?${pairs[0]}(;.*)?$`;
  const orders = permutations(pairs).map(p => `(?:.*?;\\s*)?${p.join(';(?:.*?;)?\\s*')}(?:;.*)?`);
  return `^(?:${orders.join('|')})$`;
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map(rest => [x, ...rest]));
}

interface Conditions {
  uri?: StringMatch;
  headers: { [name: string]: StringMatch };
  /** Cookies that must be present with a value, rendered together into one `cookie` header regex. */
  cookies: { [name: string]: string };
  queryParams: { [name: string]: StringMatch };
  sourceLabels: { [key: string]: string };
  sourceNamespace?: string;
  description: string[];
}

/**
 * A condition on a request, for targeted canaries (A/B tests): a header, a cookie, the user agent, a query
 * parameter, a path prefix, or the calling workload's labels or namespace.
 *
 * Combine with `RequestMatch.all(a, b)` for "a AND b" (one VirtualService `match` entry); give several matches to
 * `CanaryTraffic.matching(a, b)` for "a OR b" (several `match` entries).
 *
 * Regular expressions are RE2 (Envoy's engine) and must match the WHOLE value: `.*iPhone.*`, not `iPhone`.
 * Lookaround, backreferences, atomic groups and possessive quantifiers are rejected.
 */
export class RequestMatch {
  /** A request header compared with `match` (the name is case-insensitive and rendered lowercase). */
  public static header(name: string, match: StringMatch): RequestMatch {
    const n = checkHeaderName(WHERE, 'header name', name);
    return new RequestMatch({ headers: { [n]: checkStringMatch(`header '${n}'`, match) }, description: [`header ${n}`] });
  }
  /** A request header equal to `value`. */
  public static headerExact(name: string, value: string): RequestMatch {
    return RequestMatch.header(name, StringMatch.exact(value));
  }
  /** A request header that starts with `prefix`. */
  public static headerPrefix(name: string, prefix: string): RequestMatch {
    return RequestMatch.header(name, StringMatch.prefix(prefix));
  }
  /** A request header whose whole value matches the RE2 regular expression `pattern`. */
  public static headerRegex(name: string, pattern: string): RequestMatch {
    return RequestMatch.header(name, StringMatch.regex(pattern));
  }
  /**
   * The `User-Agent` header matches the RE2 regular expression `pattern` (whole value, as Istio matches regexes),
   * e.g. `.*iPhone.*`. A plain word such as `iPhone` would match only a User-Agent that is exactly that word, which no
   * browser sends: it is refused; use `userAgentContains('iPhone')`.
   */
  public static userAgent(pattern: string): RequestMatch {
    if (typeof pattern === 'string' && pattern.length > 0 && !/[.*+?^$()[\]{}|\\]/.test(pattern)) {
      invalid(WHERE, 'userAgent pattern', pattern,
        `must be a regex for the whole User-Agent value (Istio matches regexes in full): '${pattern}' alone matches no real browser; use RequestMatch.userAgentContains('${pattern}') or '.*${pattern}.*'`);
    }
    return RequestMatch.header('user-agent', StringMatch.regex(pattern));
  }
  /** The `User-Agent` header contains `text` (a literal, e.g. `iPhone`; rendered as the regex `.*<escaped text>.*`). */
  public static userAgentContains(text: string): RequestMatch {
    if (typeof text !== 'string' || text.length === 0) invalid(WHERE, 'userAgentContains text', text, 'must be non-empty text');
    return RequestMatch.header('user-agent', StringMatch.regex(`.*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*`));
  }
  /**
   * A cookie `name` with exactly `value`. Istio has no cookie match: this is a regex on the `cookie` header,
   * `^(.*?;\s*)?name=value(;.*)?$` (name and value are escaped), so it matches the cookie anywhere in the header.
   * Cookie names are RFC 7230 tokens; the value must not contain ';' or whitespace. Several cookies combine with
   * `RequestMatch.all(...)` (up to 4: the regex then lists every order they may come in).
   */
  public static cookie(name: string, value: string): RequestMatch {
    checkHeaderName(WHERE, 'cookie name', name);
    if (typeof value !== 'string' || value.length === 0 || /[;\s,"\\]/.test(value)) {
      invalid(WHERE, `cookie '${name}' value`, value, 'must be a non-empty cookie value without \';\', \',\', \'"\', \'\\\' or whitespace');
    }
    return new RequestMatch({ cookies: { [name]: value }, description: [`cookie ${name}`] });
  }
  /** A query parameter, compared exactly or by regex (Istio does not match query parameters by prefix). */
  public static queryParam(name: string, match: StringMatch): RequestMatch {
    if (typeof name !== 'string' || name.length === 0 || /[\s&=#]/.test(name)) {
      invalid(WHERE, 'query parameter name', name, "must be a non-empty name without whitespace, '&', '=' or '#'");
    }
    return new RequestMatch({ queryParams: { [name]: checkStringMatch(`query parameter '${name}'`, match, false) }, description: [`query ${name}`] });
  }
  /** The request path starts with `prefix` (which starts with '/'). */
  public static uriPrefix(prefix: string): RequestMatch {
    if (typeof prefix !== 'string' || !prefix.startsWith('/') || /\s/.test(prefix)) {
      invalid(WHERE, 'uriPrefix', prefix, "must be a path starting with '/', without whitespace");
    }
    return new RequestMatch({ uri: StringMatch.prefix(prefix), description: ['uri'] });
  }
  /** The calling workload's pods carry these labels (meshed callers only; Istio `sourceLabels`). */
  public static sourceLabels(labels: { [key: string]: string }): RequestMatch {
    if (!labels || Object.keys(labels).length === 0) invalid(WHERE, 'sourceLabels', labels, 'must name at least one label');
    checkLabels(WHERE, 'sourceLabels', labels);
    return new RequestMatch({ sourceLabels: { ...labels }, description: ['sourceLabels'] });
  }
  /** The calling workload runs in this namespace (meshed callers only; Istio `sourceNamespace`). */
  public static sourceNamespace(namespace: string): RequestMatch {
    checkDnsLabel(WHERE, 'sourceNamespace', namespace);
    return new RequestMatch({ sourceNamespace: namespace, description: ['sourceNamespace'] });
  }
  /**
   * All of these conditions (AND), e.g. `RequestMatch.all(RequestMatch.userAgent('.*iPhone.*'),
   * RequestMatch.headerExact('x-region', 'southern-spain'))`. Each header, query parameter, label, path and
   * namespace may be constrained once.
   */
  public static all(...matches: RequestMatch[]): RequestMatch {
    if (matches.length === 0) invalid(WHERE, 'all', matches, 'must combine at least one RequestMatch');
    const c: Conditions = { headers: {}, queryParams: {}, sourceLabels: {}, cookies: {}, description: [] };
    for (const m of matches) {
      if (!(m instanceof RequestMatch)) invalid(WHERE, 'all', m, 'must combine RequestMatch objects');
      const twice = (what: string) => invalid(WHERE, 'all', what, 'is constrained twice: a request cannot match both; give them to CanaryTraffic.matching(...) for OR');
      if (m.c.uri) { if (c.uri) twice('uri'); c.uri = m.c.uri; }
      if (m.c.sourceNamespace) { if (c.sourceNamespace) twice('sourceNamespace'); c.sourceNamespace = m.c.sourceNamespace; }
      for (const [k, v] of Object.entries(m.c.headers)) { if (c.headers[k]) twice(`header '${k}'`); c.headers[k] = v; }
      for (const [k, v] of Object.entries(m.c.cookies)) { if (c.cookies[k] !== undefined) twice(`cookie '${k}'`); c.cookies[k] = v; }
      for (const [k, v] of Object.entries(m.c.queryParams)) { if (c.queryParams[k]) twice(`query parameter '${k}'`); c.queryParams[k] = v; }
      for (const [k, v] of Object.entries(m.c.sourceLabels)) { if (c.sourceLabels[k] !== undefined) twice(`source label '${k}'`); c.sourceLabels[k] = v; }
      c.description.push(...m.c.description);
    }
    if (Object.keys(c.cookies).length && c.headers.cookie) {
      invalid(WHERE, 'all', "header 'cookie'", 'is constrained twice (a cookie match is a regex on the cookie header): use RequestMatch.cookie for every cookie');
    }
    if (Object.keys(c.cookies).length > MAX_COOKIES) {
      invalid(WHERE, 'all', Object.keys(c.cookies).sort(), `must combine at most ${MAX_COOKIES} cookies (the header regex lists every order they may come in)`);
    }
    return new RequestMatch(c);
  }

  private readonly c: Conditions;

  private constructor(c: Partial<Conditions> & { description: string[] }) {
    this.c = { headers: {}, queryParams: {}, sourceLabels: {}, cookies: {}, ...c };
  }

  /** The conditions, in words (for messages and docs), e.g. `header user-agent AND cookie beta`. */
  public get description(): string {
    return this.c.description.join(' AND ');
  }

  /** The routing-model match (one VirtualService `match` entry). @internal */
  public _toHttpRequestMatch(): HttpRequestMatch {
    const nonEmpty = (o: { [k: string]: any }) => (Object.keys(o).length ? { ...o } : undefined);
    const headers = { ...this.c.headers };
    if (Object.keys(this.c.cookies).length) headers.cookie = StringMatch.regex(cookieRegex(this.c.cookies));
    return {
      uri: this.c.uri,
      headers: nonEmpty(headers),
      queryParams: nonEmpty(this.c.queryParams),
      sourceLabels: nonEmpty(this.c.sourceLabels),
      sourceNamespace: this.c.sourceNamespace,
    };
  }
}
