/**
 * Hostile inputs of the classes issue 16 names: strings in error messages, regexes, paths, header values, CORS,
 * external addresses and hosts, JWKS URIs. The contract: an input is either refused with a MeshValidationError
 * (construct path, field, escaped value) or accepted, and what is accepted is what Envoy, istiod and the API server
 * accept: RE2 that compiles within Istio's program-size limit, paths that pass the Gateway API's CEL rules (which the
 * strict schema check cannot evaluate), external blocks that are real and canonical, schema-valid objects.
 */
import { App, Chart, Duration } from 'cdk8s';
import * as fc from 'fast-check';
import { RE2JS } from 're2js';
import { checkContract, checkError } from './harness';
import { define } from './properties';
import {
  ExternalService, JwtRule, Mesh, MeshedService, MeshGateway, MeshNamespace, PathMatch, RoutingApi, ServicePort, ZeroTrustNamespace,
} from '../../src';
import { escapeText, invalid, MeshValidationError } from '../../src/errors';
import { checkCorsPolicy } from '../../src/gateway/routes';
import {
  checkHeaderValue, checkPath, checkRegex, nonExternalBlock, parseCidr, RE2_MAX_PROGRAM_SIZE, re2ProgramSize,
} from '../../src/validation';
import { hostileString } from '../util/arbitraries';

// ---------------------------------------------------------------------------------------------------------------
// Generators

/** Characters that must never reach a message or a header raw: controls, CR/LF, bidi, zero-width, BOM, tags. */
export const invisibleChar = fc.constantFrom('\u0000', '\t', '\n', '\r', '\x1b', '\x7f', '\x85', '\u00ad', '\u061c', '\u200b', '\u200e',
  '\u202a', '\u202e', '\u2028', '\u2066', '\u2069', '\ufeff', '\u{e0041}', '\ud800');

/** Text with hostile characters mixed in. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  hostileString,
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), invisibleChar), { maxLength: 6 }).map(a => a.join('')),
);

/** Regexes: valid RE2 pieces, and what RE2 or Envoy refuse (Perl-only syntax, JS escapes, huge repeats, huge classes). */
export const hostileRegex: fc.Arbitrary<string> = fc.letrec<{ re: string; atom: string }>(tie => ({
  atom: fc.oneof(
    { depthSize: 'small' },
    { arbitrary: fc.constantFrom('a', 'b', '/', '\\.', '.', '[a-z]', '[^/]', '\\d', '\\w', '\\s', '\\pL', '\\p{Greek}', '[é-ü]', '\\x{1F600}', '(?i)k', '^', '$', '\\b'), weight: 10 },
    { arbitrary: fc.constantFrom('\\Z', '\\u00e9', '\\1', '(?=a)', '(?!a)', '(?<=a)', '(?>a)', '\\C', '\\k<n>', 'a**', 'a++', '[', '(', ')', '{', '\\'), weight: 2 },
    { arbitrary: tie('re').map(r => `(${r})`), weight: 2 },
    { arbitrary: tie('re').map(r => `(?:${r})`), weight: 1 },
    { arbitrary: tie('re').map(r => `(?P<g>${r})`), weight: 1 },
  ),
  re: fc.oneof(
    { depthSize: 'small' },
    { arbitrary: tie('atom'), weight: 4 },
    { arbitrary: fc.tuple(tie('atom'), fc.constantFrom('*', '+', '?', '*?', '{2}', '{0,3}', '{50}', '{999}', '{1000}', '{1001}', '{3,2}', '{65536}')).map(([a, q]) => a + q), weight: 3 },
    { arbitrary: fc.array(tie('atom'), { minLength: 2, maxLength: 4 }).map(a => a.join('')), weight: 2 },
    { arbitrary: fc.array(tie('atom'), { minLength: 2, maxLength: 3 }).map(a => a.join('|')), weight: 1 },
  ),
})).re;

/** URL paths: valid ones and every trick (dot segments, encodings, controls, query, fragment, backslash, '//'). */
export const hostilePath: fc.Arbitrary<string> = fc.oneof(
  fc.array(fc.oneof(
    fc.stringMatching(/^[a-z0-9._~-]{1,6}$/),
    fc.constantFrom('.', '..', '', '%2e', '%2E%2e', '%2f', '%5c', '%41', '%zz', 'a b', 'a?b', 'a#b', 'a\\b', 'a\nb', 'é', ':@!$&\'()*+,;='),
  ), { minLength: 0, maxLength: 4 }).map(segs => '/' + segs.join('/')),
  hostileText,
);

const octet = fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.constantFrom('256', '01', '-1', ''));
const v4 = fc.tuple(octet, octet, octet, octet).map(o => o.join('.'));
const group = fc.oneof(fc.integer({ min: 0, max: 0xffff }).map(n => n.toString(16)), fc.constantFrom('', 'g', '12345'));
const v6 = fc.oneof(
  fc.array(group, { minLength: 1, maxLength: 9 }).map(g => g.join(':')),
  fc.tuple(fc.array(group, { maxLength: 4 }), fc.array(group, { maxLength: 4 })).map(([a, b]) => `${a.join(':')}::${b.join(':')}`),
  fc.tuple(fc.array(group, { maxLength: 3 }), v4).map(([a, b]) => `${a.join(':')}::${b}`),
);
/** IP addresses and CIDR blocks: valid external ones, reserved ones (metadata, loopback...), every-address and malformed. */
export const hostileCidr: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom('203.0.113.10', '203.0.113.0/24', '198.51.100.0/22', '2001:db8::/48', '2001:db8::10', '8.8.8.8'), weight: 4 },
  { arbitrary: fc.constantFrom('0.0.0.0/0', '::/0', '169.254.169.254', 'fd00:ec2::254', '127.0.0.1', '::1', 'fe80::1', ':', ':::', '10.0.0.300', '1::2::3', '203.0.113.10/24'), weight: 3 },
  { arbitrary: fc.tuple(fc.oneof(v4, v6), fc.option(fc.integer({ min: -1, max: 130 }), { nil: undefined })).map(([a, p]) => (p === undefined ? a : `${a}/${p}`)), weight: 4 },
  { arbitrary: hostileString, weight: 1 },
);

/** Host names: external ones and cluster-internal ones, wildcards, hostile text. */
export const hostileHost: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom('api.example.com', '*.example.com', 'svc.example.com', 'db.example.org'), weight: 4 },
  { arbitrary: fc.constantFrom('reviews.shop.svc', 'reviews.shop.svc.cluster.local', '*.svc.cluster.local', 'kubernetes.default', 'kubernetes.default.svc', 'a.cluster.local', 'localhost', '*.com'), weight: 3 },
  { arbitrary: fc.tuple(fc.stringMatching(/^[a-z]{1,5}$/), fc.stringMatching(/^[a-z]{1,5}$/), fc.constantFrom('svc', 'com', 'local', 'internal')).map(p => p.join('.')), weight: 2 },
  { arbitrary: hostileString, weight: 1 },
);

/** JWKS URIs: public ones, metadata and loopback ones, numeric tricks, plain http, hostile text. */
export const hostileJwksUri: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom('https://idp.example.com/.well-known/jwks.json', 'https://203.0.113.5/jwks'), weight: 3 },
  {
    arbitrary: fc.tuple(fc.constantFrom('https://', 'http://', 'HTTPS://'), fc.oneof(hostileHost, v4, fc.constantFrom('metadata.google.internal', '169.254.169.254', 'metadata', '2852039166', '100.100.100.200', 'a.localhost')), fc.constantFrom('', ':8443', ':99999'), fc.constantFrom('/jwks', '/a b', '/x\ny', ''))
      .map(p => p.join('')),
    weight: 6,
  },
  { arbitrary: hostileText, weight: 1 },
);

/** Header values: plain ones and CR/LF injections, controls, bidi, padding, huge ones. */
export const hostileHeaderValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('Bearer abc', 'text/html; charset=utf-8', '*', 'a\r\nx-admin: true', ' padded ', 'x'.repeat(5000)),
  hostileText,
);

// ---------------------------------------------------------------------------------------------------------------
// Properties

function rejected(fn: () => void): MeshValidationError | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return checkError(e);
  }
}

const RAW_INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]|\udb40[\udc00-\udfff]|[\ud800-\udbff](?![\udc00-\udfff])/;

define({
  name: 'errors: any value, field or allowed text is shown escaped; NaN and Infinity as such',
  group: 'security',
  ciRuns: 300,
  longRuns: 5000,
  property: () => fc.property(hostileText, hostileText, fc.oneof(hostileText, fc.double(), fc.constantFrom(NaN, Infinity, -Infinity)),
    (field, allowed, value) => {
      const chart = new Chart(new App(), 'shop');
      const e = rejected(() => invalid(chart, field || 'f', value, allowed));
      if (!e) throw new Error('invalid() did not throw');
      if (RAW_INVISIBLE.test(e.message)) throw new Error(`raw control/invisible character in ${JSON.stringify(e.message)}`);
      if (typeof value === 'number' && !Number.isFinite(value) && !e.message.includes(String(value))) throw new Error(`${value} not shown: ${e.message}`);
      if (!e.message.startsWith('shop: ')) throw new Error(`no construct path: ${e.message}`);
      if (e.field !== escapeText(field || 'f')) throw new Error(`field not escaped: ${e.field}`);
    }),
});

define({
  name: 'checkRegex: what it accepts compiles in RE2 within Istio\'s program-size limit; it refuses with MeshValidationError',
  group: 'security',
  ciRuns: 400,
  longRuns: 10000,
  property: () => fc.property(hostileRegex, pattern => {
    const e = rejected(() => checkRegex('test', 'regex', pattern));
    if (e) return;
    const compiled = RE2JS.compile(pattern); // throws if RE2 syntax is wrong (RE2 also refuses repeat counts above 1000)
    const size = re2ProgramSize(compiled);
    if (size > RE2_MAX_PROGRAM_SIZE) throw new Error(`accepted ${pattern} with program size ${size}`);
  }),
});

/** The Gateway API HTTPPathMatch CEL rules for Exact and PathPrefix (httproutes CRD, v1.6.1). */
function gatewayApiPathOk(p: string): boolean {
  return p.startsWith('/') && !p.includes('//') && !p.includes('/./') && !p.includes('/../') && !/%2f/i.test(p) && !p.includes('#')
    && !p.endsWith('/..') && !p.endsWith('/.') && /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/.test(p);
}

define({
  name: 'checkPath: what it accepts passes the Gateway API path rules and has no dot segments, controls or encodings of / . \\',
  group: 'security',
  ciRuns: 400,
  longRuns: 10000,
  property: () => fc.property(hostilePath, path => {
    if (rejected(() => checkPath('test', 'path', path))) return;
    if (!gatewayApiPathOk(path)) throw new Error(`accepted ${JSON.stringify(path)}, which the Gateway API refuses`);
    if (/%(2e|2f|5c)/i.test(path) || path.split('/').some(s => s === '.' || s === '..')) throw new Error(`accepted a dot segment or encoding: ${path}`);
  }),
});

define({
  name: 'MeshGateway routes: hostile paths and regexes give schema-valid Istio and Gateway API routes, or MeshValidationError',
  group: 'security',
  ciRuns: 40,
  longRuns: 800,
  property: () => fc.property(fc.constantFrom(RoutingApi.ISTIO, RoutingApi.GATEWAY_API), fc.constantFrom('prefix', 'exact', 'regex'), fc.oneof(hostilePath, hostileRegex), (routingApi, kind, value) => {
    let accepted: string | undefined;
    const o = checkContract('MeshGateway route paths', app => {
      const chart = new Chart(app, 'mesh-system');
      const mesh = new Mesh(chart, 'mesh');
      const gw = new MeshGateway(chart, 'ingress', { mesh, hosts: ['shop.example.com'], routingApi });
      const ns = MeshNamespace.fromName(chart, 'shop', { name: 'shop', mesh });
      const web = new MeshedService(chart, 'web', { namespace: ns, image: 'w:1', ports: [ServicePort.http(8080)] });
      const path = kind === 'prefix' ? PathMatch.prefix(value) : kind === 'exact' ? PathMatch.exact(value) : PathMatch.regex(value);
      accepted = path.value;
      gw.route({ path, to: web, timeout: Duration.seconds(5) });
    });
    if (o.kind === 'synth' && kind !== 'regex' && !gatewayApiPathOk(accepted!)) throw new Error(`accepted path ${accepted} breaks the Gateway API rules`);
  }),
});

define({
  name: 'ExternalService: accepted addresses are canonical external blocks; accepted hosts are not cluster-internal; output schema-valid',
  group: 'security',
  ciRuns: 60,
  longRuns: 1500,
  property: () => fc.property(hostileHost, fc.array(hostileCidr, { maxLength: 3 }), (host, addresses) => {
    let ext: ExternalService | undefined;
    const e = rejected(() => { ext = ExternalService.tcp(host, 5432, addresses); });
    if (e) return;
    for (const a of ext!.addresses) {
      const c = parseCidr(a);
      if (!c || c.prefix === 0 || nonExternalBlock(c)) throw new Error(`accepted address ${a}`);
    }
    if (/(^|\.)svc(\.|$)|\.cluster\.local$|^kubernetes\.default/.test(ext!.host) && !/^svc\./.test(ext!.host)) throw new Error(`accepted internal host ${ext!.host}`);
    checkContract('ExternalService in a ZeroTrustNamespace', app => {
      const chart = new Chart(app, 'apps');
      const mesh = new Mesh(chart, 'mesh');
      const ns = new ZeroTrustNamespace(chart, 'ns', { mesh, name: 'shop' });
      const svc = new MeshedService(chart, 'db-client', { namespace: ns, image: 'c:1', ports: [ServicePort.http(8080)] });
      svc.connectsToExternal(ExternalService.tcp(host, 5432, addresses));
    });
  }),
});

define({
  name: 'JwtRule: an accepted JWKS URI is https, printable, and not on a loopback, link-local or metadata host',
  group: 'security',
  ciRuns: 300,
  longRuns: 5000,
  property: () => fc.property(hostileJwksUri, uri => {
    let rule: JwtRule | undefined;
    if (rejected(() => { rule = JwtRule.issuer('https://idp.example.com', { jwksUri: uri }); })) return;
    const host = /^https:\/\/([^/:]+)/.exec(rule!.jwksUri)?.[1]?.toLowerCase();
    if (!host) throw new Error(`accepted a non-https URI ${uri}`);
    if (RAW_INVISIBLE.test(uri) || /\s/.test(uri)) throw new Error(`accepted a URI with whitespace or controls: ${JSON.stringify(uri)}`);
    const ip = parseCidr(host);
    if ((ip && nonExternalBlock(ip)) || /^(metadata|localhost)|\.localhost$|^100\.100\.100\.200$|^\d+$/.test(host)) throw new Error(`accepted ${uri}`);
  }),
});

define({
  name: 'header values and CORS: accepted values carry no CR, LF, controls or invisible characters; no wildcard origin with credentials',
  group: 'security',
  ciRuns: 300,
  longRuns: 5000,
  property: () => fc.property(hostileHeaderValue, fc.array(fc.oneof(hostileHeaderValue, fc.constantFrom('*', 'https://*', 'https://shop.example.com')), { minLength: 1, maxLength: 3 }), fc.boolean(), (value, origins, credentials) => {
    if (!rejected(() => checkHeaderValue('test', 'value', value))) {
      if (RAW_INVISIBLE.test(value) || value !== value.trim() || value.length > 4096) throw new Error(`accepted header value ${JSON.stringify(value)}`);
    }
    const chart = new Chart(new App(), 'shop');
    if (!rejected(() => checkCorsPolicy(chart, 'cors', { allowOrigins: origins, allowCredentials: credentials }))) {
      if (credentials && origins.some(o => o === '*' || o === 'https://*')) throw new Error(`accepted a wildcard origin with credentials: ${origins}`);
      if (origins.some(o => RAW_INVISIBLE.test(o))) throw new Error(`accepted an origin with controls: ${JSON.stringify(origins)}`);
    }
  }),
});
