/**
 * Hostile input: error messages that cannot be forged or hidden, and one set of rules for every string that reaches
 * Envoy or an HTTP header (issue 16, "Secure by default, for real").
 */
import { Chart, Testing } from 'cdk8s';
import { RE2JS } from 're2js';
import { ExternalService, JwtRule } from '../src';
import { inScope, invalid, MeshValidationError, show } from '../src/errors';
import {
  checkDurationMillis, checkHeaderValue, checkPath, checkPrincipal, checkRegex, RE2_MAX_PROGRAM_SIZE, re2ProgramSize,
} from '../src/validation';

function errorOf(fn: () => unknown): MeshValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MeshValidationError);
    return e as MeshValidationError;
  }
  throw new Error('expected a MeshValidationError');
}

describe('error messages', () => {
  const chart = () => new Chart(Testing.app(), 'shop');

  test('name the construct path, the field, the value and what is allowed', () => {
    const e = errorOf(() => invalid(chart(), 'replicas', 0, 'must be at least 1'));
    expect(e.message).toBe('shop: replicas 0 is invalid: must be at least 1');
    expect([e.constructPath, e.field, e.value, e.allowed]).toEqual(['shop', 'replicas', '0', 'must be at least 1']);
  });

  test('CR/LF in a value cannot forge a second line', () => {
    const e = errorOf(() => invalid(chart(), 'host', 'a.example.com\r\nshop: host is valid', 'must be a DNS name'));
    expect(e.message).not.toMatch(/[\r\n]/);
    expect(e.message).toBe("shop: host 'a.example.com\\r\\nshop: host is valid' is invalid: must be a DNS name");
  });

  test('bidirectional, zero-width and other invisible characters are shown as escapes', () => {
    const hostile = ['admin\u202Egnp.exe', 'a\u200Bb', 'x\u2066y\u2069', '\uFEFFbom', 'tab\there', 'esc\x1b[31m', 'del\x7f', 'nul\0', 'tag\u{E0041}', 'c1\x85', 'ls\u2028'];
    for (const v of hostile) {
      const e = errorOf(() => invalid(chart(), 'name', v, 'must be a name'));
      expect(e.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]|\udb40/);
    }
    expect(errorOf(() => invalid(chart(), 'name', 'admin\u202Egnp.exe', 'x')).message).toContain("'admin\\u{202E}gnp.exe'");
    expect(errorOf(() => invalid(chart(), 'name', 'esc\x1b[31m', 'x')).message).toContain("'esc\\x1b[31m'");
    // printable non-ASCII text is kept as it is
    expect(errorOf(() => invalid(chart(), 'name', 'café', 'x')).message).toContain("'café'");
  });

  test('the field and the allowed text are escaped too (they may quote user keys)', () => {
    const e = errorOf(() => invalid(chart(), "labels['a\nb']", 1, 'not \u202Ethis'));
    expect(e.message).toBe("shop: labels['a\\nb'] 1 is invalid: not \\u{202E}this");
  });

  test('a value that was not given reads "(not set)", not "undefined"; null stays null', () => {
    expect(show(undefined)).toBe('(not set)');
    expect(show(null)).toBe('null');
    expect(errorOf(() => invalid(chart(), 'traffic', undefined, 'must be set')).message).toBe('shop: traffic (not set) is invalid: must be set');
  });

  test('NaN and Infinity are shown as such, also inside objects', () => {
    expect(show(NaN)).toBe('NaN');
    expect(show(Infinity)).toBe('Infinity');
    expect(show(-Infinity)).toBe('-Infinity');
    expect(show({ weight: NaN, max: Infinity })).toBe('{"weight":NaN,"max":Infinity}');
    expect(show([1, NaN])).toBe('[1,NaN]');
    expect(errorOf(() => invalid(chart(), 'weight', NaN, 'must be a number')).message).toBe('shop: weight NaN is invalid: must be a number');
  });

  test('a very long value is cut', () => {
    const e = errorOf(() => invalid(chart(), 'host', 'a'.repeat(100_000), 'x'));
    expect(e.message.length).toBeLessThan(300);
  });

  test('inScope puts the construct path in front of an error from a value or helper that had none', () => {
    const c = chart();
    const e = errorOf(() => inScope(c, () => invalid('ExternalService', 'host', 'x', 'must be a DNS name')));
    expect(e.message).toBe("shop: ExternalService: host 'x' is invalid: must be a DNS name");
    // an error that already names the construct (or a child) is left as it is
    const same = errorOf(() => inScope(c, () => invalid(c, 'host', 'x', 'y')));
    expect(same.message).toBe("shop: host 'x' is invalid: y");
    expect(() => inScope(c, () => { throw new TypeError('boom'); })).toThrow(TypeError);
  });
});

describe('checkRegex: the real RE2, with Envoy\'s limits', () => {
  const ok = (p: string) => expect(() => checkRegex('test', 'regex', p)).not.toThrow();
  const bad = (p: string, why: RegExp) => expect(() => checkRegex('test', 'regex', p)).toThrow(why);

  test('accepts RE2 syntax, including what JavaScript lacks', () => {
    for (const p of ['(?i)abc', '^/api/v[0-9]+/.*$', '[[:alpha:]]+', '\\pL+', '(?P<id>[0-9]+)', '(?<id>[0-9]+)', '\\x{10FFFF}', '\\Qa.b\\E', '\\z', 'a{1000}', '.*iPhone.*']) ok(p);
  });

  test('rejects what RE2 rejects, with a hint', () => {
    bad('\\Z', /regex '\\Z' is invalid: must be an RE2 regular expression as Envoy compiles it \(invalid escape sequence.*\\z \(not \\Z\)/);
    bad('\\u00e9', /invalid escape sequence.*\\x\{hex\} \(not \\u\)/);
    bad('(a)\\1', /invalid escape sequence/);
    bad('(?=a)b', /no lookahead, lookbehind/);
    bad('(?<=a)b', /must be an RE2 regular expression/);
    bad('a**', /invalid nested repetition/);
    bad('(', /missing closing \)/);
    bad('', /must be a non-empty RE2 regular expression/);
  });

  test('repeat counts above 1000 are rejected, also when nested repetitions multiply', () => {
    bad('a{1001}', /regex 'a\{1001\}' is invalid: .*repeat counts are at most 1000/);
    bad('((a{100}){100}){100}', /repeat counts are at most 1000/);
    bad('(a{999}){30}', /repeat counts are at most 1000/);
  });

  test('programs larger than Istio\'s re2.max_program_size.error_level (32768) are rejected', () => {
    expect(RE2_MAX_PROGRAM_SIZE).toBe(32768);
    bad('\\pL{40}', /compiles to an RE2 program of about \d+ instructions; Istio's proxies refuse more than 32768/);
    bad('.{1000}.{1000}', /refuse more than 32768/);
    ok('.{1000}');
    ok('\\pL{10}');
  });

  // C++ RE2's ProgramSize() for each pattern, measured with libre2 20220601 (RE2 pattern, RE2::Quiet, the options
  // Envoy compiles with). The estimate must never be below it, or a regex Envoy refuses could pass.
  const CPP_PROGRAM_SIZE: Array<[string, number]> = [
    ['a', 5], ['abc', 7], ['(?i)abc', 7], ['^/api/v[0-9]+/.*$', 15], ['.*', 12], ['a{1000}', 1004], ['[a-z]{50}', 54],
    ['/[^/]+/reviews/[0-9]+', 25], ['.{1000}', 8004], ['(?i)[a-z]{1000}', 6004], ['\\pL', 1197], ['\\pL{10}', 11934],
    ['\\pL{27}', 32215], ['\\PL', 1201], ['\\pN', 237], ['\\p{Greek}+', 67], ['[é]', 6], ['é{100}', 204], ['(?i)k', 8],
    ['(abc|def|ghi){500}', 5504], ['[^/]{1000}', 8004], ['(?s).{500}', 3504], ['\\w+@\\w+\\.com', 17],
    ['^(GET|POST|PUT)$', 13], ['[\\x{0}-\\x{10FFFF}]{1000}', 7004], ['.*iPhone.*', 26],
    ['(?i)^bearer [A-Za-z0-9._~+/-]+=*$', 17], ['[\\p{Han}\\p{Hiragana}]{20}', 1864], ['\\d{3}-\\d{4}', 12], ['\\S+\\s+\\S+', 32],
  ];
  test.each(CPP_PROGRAM_SIZE)('the program size estimate of %s is not below C++ RE2\'s (%d)', (p, cpp) => {
    const estimate = re2ProgramSize(RE2JS.compile(p));
    expect(estimate).toBeGreaterThanOrEqual(cpp);
    expect(estimate).toBeLessThanOrEqual(cpp * 3 + 40);
  });
});

describe('checkHeaderValue', () => {
  const bad = (v: any) => expect(() => checkHeaderValue('test', 'value', v)).toThrow(/value .* is invalid: must be an HTTP header value|must be a string|at most 4096/);
  test('accepts visible text with inner spaces', () => {
    for (const v of ['Bearer abc', 'text/html; charset=utf-8', '*']) expect(() => checkHeaderValue('test', 'value', v)).not.toThrow();
  });
  test('rejects CR, LF, NUL, tab, other controls, bidi, leading/trailing space, overlong values', () => {
    for (const v of ['a\tb', 'a\r\nx-admin: true', 'a\nb', 'a\0b', 'a\x1bb', ' a', 'a ', 'a\u202Eb', 'a\u200Bb', '', 'a'.repeat(4097), 42]) bad(v);
    expect(() => checkHeaderValue('test', 'value', 'a\r\nb')).toThrow("test: value 'a\\r\\nb' is invalid");
  });
});

describe('checkPath', () => {
  test('accepts RFC 3986 paths', () => {
    for (const p of ['/', '/api/v1', '/a-b_c.d~e', '/%7Euser', '/.well-known/jwks.json', '/a..b', '/a/']) expect(() => checkPath('test', 'path', p)).not.toThrow();
  });
  test('rejects dot segments, encoded dots and slashes, control characters, query, fragment, backslash', () => {
    const cases: Array<[string, RegExp]> = [
      ['/a/../admin', /must not contain '.' or '..' segments/],
      ['/a/..', /segments/],
      ['/./a', /segments/],
      ['/a//b', /must not contain '\/\/'/],
      ['//', /must not contain '\/\/'/],
      ['/a/%2e%2e/admin', /must not percent-encode/],
      ['/a%2Fb', /must not percent-encode/],
      ['/a\r\nb', /must be a URL path/],
      ['/a b', /must be a URL path/],
      ['/a?x=1', /must be a URL path/],
      ['/a#x', /must be a URL path/],
      ['/a\\b', /must be a URL path/],
      ['a/b', /must be a URL path/],
      ['', /non-empty path/],
    ];
    for (const [p, why] of cases) expect(() => checkPath('test', 'path', p)).toThrow(why);
  });
});

describe('checkDurationMillis (Envoy and protobuf Duration limits)', () => {
  test('accepts 1 ms to 10 years', () => {
    for (const ms of [1, 15_000, 315_360_000_000]) expect(() => checkDurationMillis('test', 'timeout', ms)).not.toThrow();
  });
  test('rejects zero, negative, fractional, NaN, Infinity and more than 10 years', () => {
    for (const ms of [0, -1, 1.5, NaN, Infinity, 315_360_000_001, 1e300]) {
      expect(() => checkDurationMillis('test', 'timeout', ms)).toThrow(/timeout .* is invalid: must be a whole number of milliseconds from 1 ms to 10 years/);
    }
    expect(() => checkDurationMillis('test', 'timeout', NaN)).toThrow('test: timeout NaN is invalid');
  });
});

describe('ExternalService: only real external destinations', () => {
  test('every address (0.0.0.0/0, ::/0) and blocks broader than /8 or an IPv6 /32 are refused', () => {
    expect(() => ExternalService.tcp('db.example.com', 5432, ['0.0.0.0/0'])).toThrow(/ExternalService: addresses '0.0.0.0\/0' is invalid: must not be every address/);
    expect(() => ExternalService.tcp('db.example.com', 5432, ['::/0'])).toThrow(/addresses '::\/0' is invalid: must not be every address/);
    expect(() => ExternalService.tcp('db.example.com', 5432, ['128.0.0.0/1'])).toThrow(/must not be broader than a \/8 for IPv4/);
    expect(() => ExternalService.tcp('db.example.com', 5432, ['2000::/3'])).toThrow(/must not be broader than a \/32 for IPv6/);
  });

  test('malformed IPv6 is refused (\':\' used to become \':/128\')', () => {
    for (const a of [':', ':::', '1::2::3', '2001:db8::g', '2001:db8:0:0:0:0:0:0:1', '2001:db8::/129', '1.2.3.4/33', '01.2.3.4', '1.2.3', '2001:db8::1.2.3.256', '']) {
      expect(() => ExternalService.tcp('db.example.com', 5432, [a])).toThrow(/must be an IPv4 or IPv6 address or CIDR block/);
    }
    const ok = ExternalService.tcp('db.example.com', 5432, ['2001:db8::10', '2001:db8:1::/48', '::ffff:203.0.113.9', '203.0.113.0/24', '198.51.100.7']);
    expect(ok.addresses).toEqual(['198.51.100.7', '2001:db8:1::/48', '2001:db8::10', '203.0.113.0/24', '::ffff:203.0.113.9']);
  });

  test('loopback, link-local (cloud metadata), unspecified and multicast addresses are not external', () => {
    const cases: Array<[string, RegExp]> = [
      ['169.254.169.254', /overlaps 169.254.0.0\/16 \(link-local, where cloud metadata services answer/],
      ['fd00:ec2::254', /overlaps fd00:ec2::254\/128 \(the AWS metadata service/],
      ['127.0.0.1', /loopback/],
      ['::1', /loopback/],
      ['fe80::1', /link-local/],
      ['0.0.0.0', /unspecified/],
      ['224.0.0.1', /multicast/],
      ['160.0.0.0/4', /must not be broader|overlaps/],
    ];
    for (const [a, why] of cases) expect(() => ExternalService.tcp('db.example.com', 5432, [a])).toThrow(why);
  });

  test('a CIDR block with host bits set is refused, naming the canonical block', () => {
    expect(() => ExternalService.tcp('db.example.com', 5432, ['203.0.113.10/24'])).toThrow(/must be written canonically, with the host bits zero: '203.0.113.0\/24'/);
    expect(() => ExternalService.tcp('db.example.com', 5432, ['2001:db8::1/32'])).toThrow(/'2001:db8::\/32'/);
  });

  test('cluster-internal hosts are not external', () => {
    for (const h of ['reviews.shop.svc', 'reviews.shop.svc.cluster.local', 'reviews.shop.svc.prod.example', '*.shop.svc', '*.svc.cluster.local',
      'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'foo.cluster.local']) {
      expect(() => ExternalService.https(h)).toThrow(/is a cluster-internal name .* not an external destination: declare the service in the mesh/);
    }
    // an external name that merely contains 'svc' is fine
    expect(ExternalService.https('svc.example.com').host).toBe('svc.example.com');
    expect(ExternalService.https('api.svc-status.io').host).toBe('api.svc-status.io');
  });
});

describe('JwtRule: inputs that would reach istiod or a header', () => {
  const rule = (jwksUri: string, extra: object = {}) => JwtRule.issuer('https://idp.example.com', { jwksUri, ...extra });

  test('a JWKS URI on a link-local, loopback or cloud metadata address is refused', () => {
    for (const uri of [
      'https://169.254.169.254/latest/meta-data/', 'https://metadata.google.internal/computeMetadata/v1/', 'https://metadata/x',
      'https://METADATA.google.internal./jwks', 'https://localhost/jwks', 'https://a.localhost/jwks', 'https://127.0.0.1:8443/jwks',
      'https://100.100.100.200/latest/meta-data', 'https://instance-data.ec2.internal/jwks', 'https://metadata.azure.com/jwks',
    ]) {
      expect(() => rule(uri)).toThrow(/JwtRule: jwksUri .* is invalid: must not point at a loopback, link-local or cloud metadata address/);
    }
    expect(() => rule('https://2852039166/jwks')).toThrow(/must name its host as a DNS name or a dotted-quad IPv4 address/);
    expect(() => rule('https://[fd00:ec2::254]/jwks')).toThrow(/must be an https:\/\/ URL/);
    expect(rule('https://idp.example.com/.well-known/jwks.json').jwksUri).toBe('https://idp.example.com/.well-known/jwks.json');
    expect(rule('https://203.0.113.5/jwks').jwksUri).toBe('https://203.0.113.5/jwks');
  });

  test('control and invisible characters in the issuer, audiences, URI or header prefix are refused', () => {
    expect(() => JwtRule.issuer('https://idp\u202E.example.com', { jwksUri: 'https://idp.example.com/jwks' })).toThrow(/issuer 'https:\/\/idp\\u\{202E\}.example.com' is invalid/);
    expect(() => rule('https://idp.example.com/jwks', { audiences: ['api\u200B'] })).toThrow(/audiences 'api\\u\{200B\}' is invalid/);
    expect(() => rule('https://idp.example.com/jw\nks')).toThrow(/jwksUri 'https:\/\/idp.example.com\/jw\\nks' is invalid/);
    expect(() => rule('https://idp.example.com/jwks', { fromHeaders: [{ name: 'x-token', prefix: 'Bearer\r\nx-admin: 1 ' }] }))
      .toThrow(/fromHeaders.prefix 'Bearer\\r\\nx-admin: 1 ' is invalid/);
    expect(rule('https://idp.example.com/jwks', { fromHeaders: [{ name: 'authorization', prefix: 'Bearer ' }] }).fromHeaders[0].prefix).toBe('Bearer ');
  });
});

describe('checkPrincipal (custom callers)', () => {
  test('exactly one workload of the mesh\'s trust domain, no wildcard', () => {
    expect(() => checkPrincipal('test', 'caller principal', 'cluster.local/ns/shop/sa/frontend', 'cluster.local')).not.toThrow();
    for (const p of ['*', 'cluster.local/ns/*/sa/*', 'cluster.local/ns/shop/sa/*', '*/ns/shop/sa/frontend', 'other.example/ns/shop/sa/frontend',
      'cluster.local/ns/Shop/sa/frontend', 'cluster.local/ns/shop/sa/', 'cluster.local/ns/shop/sa/a/b', 'cluster.local/ns/shop/sa/front\u202Eend']) {
      expect(() => checkPrincipal('test', 'caller principal', p, 'cluster.local')).toThrow(/test: caller principal .* is invalid: must be/);
    }
  });
});
