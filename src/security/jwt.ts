import { invalid } from '../errors';
import { compact, hasInvisible, nonExternalBlock, parseCidr } from '../validation';

/** Where a token is read from: a request header, with an optional value prefix. */
export interface JwtHeader {
  /** The header name, e.g. `x-jwt-assertion`. */
  readonly name: string;
  /**
   * The prefix before the token in the header value, e.g. `Bearer ` (with its trailing space).
   * @default - the whole value is the token
   */
  readonly prefix?: string;
}

/** How tokens of one issuer are validated (a RequestAuthentication `jwtRules` entry). */
export interface JwtRuleOptions {
  /**
   * The URL of the issuer's JSON Web Key Set. Must be `https://`: the keys decide which tokens are trusted, so they
   * must not be fetched over a connection anyone on the path could alter. Must not point at a loopback, link-local
   * or cloud metadata address (169.254.169.254, fd00:ec2::254, metadata.google.internal...): istiod fetches it, and
   * such a URL would make istiod read the node's credentials endpoint.
   */
  readonly jwksUri: string;
  /**
   * Accepted `aud` values; a token must carry one of them.
   * @default - any audience
   */
  readonly audiences?: string[];
  /**
   * Headers the token is read from.
   * @default - `Authorization: Bearer <token>` (and the `access_token` query parameter), Istio's default
   */
  readonly fromHeaders?: JwtHeader[];
  /**
   * Cookies the token is read from.
   * @default - none
   */
  readonly fromCookies?: string[];
  /**
   * Pass the token on to the application (it is removed from the request by default).
   * @default false
   */
  readonly forwardOriginalToken?: boolean;
}

const URL_HTTPS = /^https:\/\/([a-zA-Z0-9.-]+)(:\d{1,5})?(\/[\x21-\x7e]*)?$/;
/**
 * Host names of cloud metadata services (and the loopback name), which a JWKS URI must never name: istiod would fetch
 * the node's credentials. IP literals are checked by address (link-local, loopback...).
 */
const METADATA_HOSTS = [
  'localhost', 'metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal',
  'metadata.azure.com', 'metadata.tencentyun.com', 'metadata.platformequinix.com',
];
/** Metadata addresses outside the link-local block: Alibaba Cloud's (100.100.100.200) and Oracle's v1 (192.0.0.192). */
const METADATA_ADDRESSES = ['100.100.100.200', '192.0.0.192'];
const HEADER = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const COOKIE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Tokens of one issuer, validated by the proxies: `JwtRule.issuer('https://accounts.example.com', { jwksUri, audiences })`.
 * Used with `ZeroTrustNamespace.acceptJwt` (validate tokens when present) and `requireJwt` (demand one).
 */
export class JwtRule {
  /** Tokens issued by `issuer` (the exact `iss` claim), signed with keys from `options.jwksUri`. */
  public static issuer(issuer: string, options: JwtRuleOptions): JwtRule {
    return new JwtRule(issuer, options);
  }

  /** The `iss` claim. */
  public readonly iss: string;
  /** The key set URL (https). */
  public readonly jwksUri: string;
  /** Accepted audiences, sorted; empty means any. */
  public readonly audiences: string[];
  /** Headers the token is read from. */
  public readonly fromHeaders: JwtHeader[];
  /** Cookies the token is read from. */
  public readonly fromCookies: string[];
  /** Whether the token is passed on to the application. */
  public readonly forwardOriginalToken: boolean;

  private constructor(issuer: string, options: JwtRuleOptions) {
    const where = 'JwtRule';
    if (typeof issuer !== 'string' || issuer.length === 0 || /[\s*]/.test(issuer) || hasInvisible(issuer) || issuer.length > 1024) {
      invalid(where, 'issuer', issuer, "must be the token's `iss` value: non-empty, at most 1024 characters, no spaces, control or invisible characters, no '*'");
    }
    if (!options || typeof options.jwksUri !== 'string' || !URL_HTTPS.test(options.jwksUri)) {
      invalid(where, 'jwksUri', options?.jwksUri, "must be an https:// URL (the signing keys must not travel in plain text), e.g. 'https://accounts.example.com/.well-known/jwks.json'");
    }
    checkJwksHost(where, options.jwksUri);
    for (const a of options.audiences ?? []) {
      if (typeof a !== 'string' || a.length === 0 || /\s/.test(a) || hasInvisible(a)) invalid(where, 'audiences', a, 'must be non-empty strings without spaces, control or invisible characters');
    }
    for (const h of options.fromHeaders ?? []) {
      if (!h || typeof h.name !== 'string' || !HEADER.test(h.name)) invalid(where, 'fromHeaders.name', h?.name, 'must be an HTTP header name');
      if (h.prefix !== undefined) {
        // a prefix such as 'Bearer ' may end with a space; otherwise the header value rules apply
        if (typeof h.prefix !== 'string' || !/^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(h.prefix)) {
          invalid(where, 'fromHeaders.prefix', h?.prefix, "must be a header value prefix such as 'Bearer ': visible ASCII and spaces, at most 255 characters, no control characters");
        }
      }
    }
    for (const c of options.fromCookies ?? []) {
      if (typeof c !== 'string' || !COOKIE.test(c)) invalid(where, 'fromCookies', c, 'must be cookie names');
    }
    this.iss = issuer;
    this.jwksUri = options.jwksUri;
    this.audiences = [...new Set(options.audiences ?? [])].sort();
    this.fromHeaders = (options.fromHeaders ?? []).map(h => ({ name: h.name, prefix: h.prefix }));
    this.fromCookies = [...new Set(options.fromCookies ?? [])].sort();
    this.forwardOriginalToken = options.forwardOriginalToken ?? false;
  }

  /** The RequestAuthentication `jwtRules` entry. @internal */
  public _render(): any {
    return compact({
      issuer: this.iss,
      jwksUri: this.jwksUri,
      audiences: this.audiences.length ? [...this.audiences] : undefined,
      fromHeaders: this.fromHeaders.length ? this.fromHeaders.map(h => compact({ name: h.name, prefix: h.prefix })) : undefined,
      fromCookies: this.fromCookies.length ? [...this.fromCookies] : undefined,
      forwardOriginalToken: this.forwardOriginalToken || undefined,
    });
  }
}

/** Refuses a JWKS URI on a loopback, link-local or cloud metadata host. */
function checkJwksHost(where: string, uri: string) {
  const host = URL_HTTPS.exec(uri)![1].toLowerCase().replace(/\.$/, '');
  const what = 'must not point at a loopback, link-local or cloud metadata address (istiod would fetch the node\'s credentials endpoint): use the issuer\'s public JWKS URL';
  if (METADATA_HOSTS.includes(host) || host.endsWith('.localhost') || METADATA_ADDRESSES.includes(host)) invalid(where, 'jwksUri', uri, what);
  if (/^[0-9.]+$/.test(host)) {
    const ip = parseCidr(host);
    // only dotted quads: other numeric forms (2852039166, 0251.0376...) are how metadata filters are evaded
    if (ip === undefined) invalid(where, 'jwksUri', uri, 'must name its host as a DNS name or a dotted-quad IPv4 address');
    if (nonExternalBlock(ip)) invalid(where, 'jwksUri', uri, what);
  }
}

/** What a service demands of end-user tokens (`ZeroTrustNamespace.requireJwt`). */
export interface JwtRequirementOptions {
  /**
   * The request paths that need NO token: exact (`/healthz`) or prefix (`/public/*`, which also covers `/public`).
   * Every other path needs one, including any variant of these the proxy does not normalize to them (`/PUBLIC/x`,
   * `/public;x`): the requirement fails closed (a DENY policy with `notPaths`, as Istio's security best practices
   * ask, never a DENY with a positive path list that a variant would slip past). Paths are matched after the mesh's
   * path normalization (`DECODE_AND_MERGE_SLASHES`: `%2F` decoded, `//` merged, dot segments removed).
   * @default - no exception: every path needs a token
   */
  readonly exceptPaths?: string[];
  /**
   * The token subjects (`sub`) accepted; the request principal must be `<issuer>/<subject>`.
   * @default - any subject of the issuer (`<issuer>/*`)
   */
  readonly subjects?: string[];
  /**
   * Claims the token must carry, claim name to required value (for a list claim such as `groups`: a value it must
   * contain).
   * @default - none
   */
  readonly claims?: { [claim: string]: string };
}

const PATH = /^(\*|\/[^\s*]*\*?|\*[^\s*]+)$/;

/**
 * Checks AuthorizationPolicy `paths`: exact, a prefix ending in `*`, a suffix starting with `*`, or `*`. @internal
 */
export function checkPaths(scope: string, field: string, paths: string[] | undefined): string[] {
  if (paths === undefined) return [];
  if (!Array.isArray(paths) || paths.length === 0) invalid(scope, field, paths, 'must be a non-empty list of paths (omit it for every path)');
  for (const p of paths) {
    if (typeof p !== 'string' || !PATH.test(p)) {
      invalid(scope, field, p, "must be an exact path ('/a/b'), a prefix ('/a/*'), a suffix ('*.png') or '*': Istio accepts '*' only at the start or the end");
    }
  }
  return [...new Set(paths)].sort();
}
