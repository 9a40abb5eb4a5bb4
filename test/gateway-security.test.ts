/**
 * Gateways, secure by default: no mesh CA Secret as a credential, no gateway in the root namespace, a RuntimeDefault
 * seccomp profile, and a Role that grants only what istiod checks.
 */
import { Duration, Testing } from 'cdk8s';
import { EgressGateway, GatewayTls, Mesh, MeshGateway, MeshNamespace, PathMatch } from '../src';
import { one, synthValid } from './util';
import { checkCorsPolicy, checkRouteInputs } from '../src/gateway/routes';

function setup() {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', {});
  return { chart, mesh };
}

describe('gateway credentials', () => {
  test.each(['cacerts', 'istio-ca-secret', 'istio-root-ca', 'istiod-tls', 'cacerts-cacert'])('credentialName %s (a mesh CA Secret) is refused', name => {
    const { chart, mesh } = setup();
    expect(() => new MeshGateway(chart, 'ingress', { mesh, hosts: ['shop.example.com'], tls: GatewayTls.secret(name) }))
      .toThrow(new RegExp(`test/ingress: listeners\\[0\\]\\.tls\\.secretName '${name}' is invalid: must not be one of the mesh CA's Secrets`));
  });

  test('also through GatewayTls.mutual and a cert-manager secretName (which would overwrite the CA)', () => {
    const a = setup();
    expect(() => new MeshGateway(a.chart, 'ingress', { mesh: a.mesh, hosts: ['shop.example.com'], tls: GatewayTls.mutual({ secretName: 'cacerts' }) }))
      .toThrow(/secretName 'cacerts' is invalid: must not be one of the mesh CA's Secrets/);
    const b = setup();
    expect(() => new MeshGateway(b.chart, 'ingress', { mesh: b.mesh, hosts: ['shop.example.com'], tls: GatewayTls.certManager({ issuer: 'le', secretName: 'cacerts' }) }))
      .toThrow(/secretName 'cacerts' is invalid: must not be one of the mesh CA's Secrets/);
  });
});

describe('gateway placement', () => {
  test('a gateway in the mesh\'s root namespace is refused (it could read the CA\'s keys)', () => {
    const { chart, mesh } = setup();
    const root = MeshNamespace.fromName(chart, 'root', { name: 'istio-system', mesh });
    expect(() => new MeshGateway(chart, 'ingress', { mesh, namespace: root, hosts: ['shop.example.com'] }))
      .toThrow(/test\/ingress: namespace 'istio-system' is invalid: must not be the mesh's root namespace: a gateway may read every Secret of its namespace/);
    const other = setup();
    const root2 = MeshNamespace.fromName(other.chart, 'root', { name: 'istio-system', mesh: other.mesh });
    expect(() => new EgressGateway(other.chart, 'egress', { namespace: root2 })).toThrow(/egress: namespace 'istio-system' is invalid: must not be the mesh's root namespace/);
  });

  test('allowRootNamespace is the named opt-out, on both gateways', () => {
    const { chart, mesh } = setup();
    const root = MeshNamespace.fromName(chart, 'root', { name: 'istio-system', mesh });
    expect(new MeshGateway(chart, 'ingress', { mesh, namespace: root, hosts: ['shop.example.com'], allowRootNamespace: true }).namespace.name).toBe('istio-system');
    expect(new EgressGateway(chart, 'egress', { namespace: root, allowRootNamespace: true }).namespace.name).toBe('istio-system');
    synthValid(chart);
  });
});

describe('gateway workload', () => {
  const { chart, mesh } = setup();
  new MeshGateway(chart, 'ingress', { mesh, hosts: ['shop.example.com'], tls: GatewayTls.secret('shop-cert') });
  const objects = synthValid(chart);

  test('the pods run with the RuntimeDefault seccomp profile', () => {
    const pod = one(objects, 'Deployment').spec.template.spec;
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(pod.securityContext.sysctls).toEqual([{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }]);
  });

  test('the Role grants only `list` on secrets, the one verb istiod\'s SubjectAccessReview checks; the pod has no API token', () => {
    expect(one(objects, 'Role').rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }]);
    expect(one(objects, 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(false);
  });
});

describe('route inputs that reach Envoy', () => {
  test('PathMatch: prefix and exact are RFC 3986 paths without dot segments; regex is real RE2 within Envoy\'s limits', () => {
    expect(() => PathMatch.prefix('/a/../admin')).toThrow(/PathMatch: prefix '\/a\/..\/admin' is invalid: must not contain '.' or '..' segments/);
    expect(() => PathMatch.exact('/a%2e%2e/x')).toThrow(/PathMatch: exact .* is invalid: must not percent-encode/);
    expect(() => PathMatch.exact('/a?b=1')).toThrow(/PathMatch: exact '\/a\?b=1' is invalid: must be a URL path/);
    expect(() => PathMatch.prefix('/a\r\nx')).toThrow(/PathMatch: prefix '\/a\\r\\nx' is invalid/);
    expect(() => PathMatch.regex('/a{1001}')).toThrow(/PathMatch: regex '\/a\{1001\}' is invalid: .*repeat counts are at most 1000/);
    expect(() => PathMatch.regex('/\\Z')).toThrow(/PathMatch: regex .* is invalid: must be an RE2 regular expression/);
    expect(() => PathMatch.regex('/(?=a)')).toThrow(/no lookahead/);
    expect(PathMatch.regex('(?i)/api/v[0-9]+/.*').value).toBe('(?i)/api/v[0-9]+/.*');
    expect(PathMatch.prefix('/api/v1').value).toBe('/api/v1');
  });

  test('CORS: a wildcard origin with credentials is refused', () => {
    const scope = Testing.chart();
    const cors = (c: any) => () => checkCorsPolicy(scope, 'routes[0].cors', c);
    expect(cors({ allowOrigins: ['*'], allowCredentials: true }))
      .toThrow("test: routes[0].cors.allowOrigins '*' is invalid: must not be a wildcard origin when allowCredentials is true");
    expect(cors({ allowOrigins: ['https://shop.example.com', 'https://*'], allowCredentials: true })).toThrow(/allowOrigins 'https:\/\/\*' is invalid: must not be a wildcard origin/);
    expect(cors({ allowOrigins: ['*'] })).not.toThrow();
    expect(cors({ allowOrigins: ['https://*.example.com'], allowCredentials: true })).not.toThrow();
    expect(cors({ allowOrigins: ['https://shop.example.com\r\nx: y'] })).toThrow(/allowOrigins .* is invalid: must be an HTTP header value/);
    expect(cors({ allowOrigins: ['https://shop.example.com:70000'] })).toThrow(/must have a port from 1 to 65535/);
    expect(cors({ allowOrigins: ['https://a.example.com'], maxAge: Duration.days(2) })).toThrow(/maxAge '2 days' is invalid: must be whole seconds from 1 to 86400/);
    expect(cors({ allowOrigins: ['https://a.example.com'], allowHeaders: ['x-ok', 'bad header'] })).toThrow(/allowHeaders 'bad header' is invalid/);
  });

  test('rewrite, redirect and timeout', () => {
    const scope = Testing.chart();
    const check = (o: any) => () => checkRouteInputs(scope, 'routes[0]', o);
    expect(check({ rewrite: '/../etc' })).toThrow(/routes\[0\].rewrite '\/..\/etc' is invalid: must not contain '.' or '..' segments/);
    expect(check({ redirect: { path: '/x\ny' } })).toThrow(/redirect.path '\/x\\ny' is invalid/);
    expect(check({ redirect: { host: 'evil.example.com\r\n' } })).toThrow(/redirect.host/);
    expect(check({ timeout: Duration.days(365 * 11) })).toThrow(/routes\[0\].timeout .* is invalid: must be a whole number of milliseconds from 1 ms to 10 years/);
    expect(check({ timeout: Duration.millis(0.5) })).toThrow(/timeout 0.5 is invalid/);
    expect(check({ rewrite: '/v2', redirect: undefined, timeout: Duration.seconds(30), cors: { allowOrigins: ['https://a.example.com'] } })).not.toThrow();
  });
});
