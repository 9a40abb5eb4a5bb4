import { Acknowledge, analyze, AnalysisOptions, Finding, FindingLevel } from '../src';
import { deployment, ingress, istio, namespace, NS, reviews, route, service } from './fixtures/analysis/builders';
import { tlsSecret } from './fixtures/analysis/certificate';

interface Case {
  /** `<code> <what>`: the test name starts with the code (docs/analysis.md refers to it). */
  readonly name: string;
  readonly bad: any[];
  readonly clean: any[];
  /** Text the finding's message must contain. */
  readonly message?: string;
  /** Analysis options for both inputs. */
  readonly options?: AnalysisOptions;
}

/** A fixed analysis time: the test certificate is valid then. */
const NOW = new Date('2030-01-01T00:00:00Z');
const code = (c: Case) => c.name.split(' ')[0];
const codesOf = (findings: Finding[]) => findings.map(f => f.code);

const DR_REVIEWS = istio('DestinationRule', 'reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] });
const STRICT = istio('PeerAuthentication', 'default', { mtls: { mode: 'STRICT' } }, 'istio-system');

const CASES: Case[] = [
  // ---------------------------------------------------------------- VirtualService
  {
    name: 'IST0101 VirtualService gateway not found',
    bad: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['shop.example.com'], gateways: ['shop-gw-typo'], http: [route('reviews')] })],
    clean: [...reviews(), ...ingress(), istio('VirtualService', 'reviews', { hosts: ['shop.example.com'], gateways: ['shop'], http: [route('reviews')] })],
    message: 'Referenced gateway not found: "shop-gw-typo"',
  },
  {
    name: 'IST0101 VirtualService destination host not found',
    bad: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [route('reviewz')] })],
    clean: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [route('reviews.shop.svc.cluster.local')] })],
    message: 'Referenced host not found: "reviewz"',
  },
  {
    name: 'IST0101 VirtualService destination subset not found',
    bad: [...reviews(), DR_REVIEWS, istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [route('reviews', { subset: 'v3' })] })],
    clean: [...reviews(), DR_REVIEWS, istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [route('reviews', { subset: 'v2' })] })],
    message: 'Referenced host+subset in destinationrule not found: "reviews+v3"',
  },
  {
    name: 'IST0109 two mesh VirtualServices for one host',
    bad: [...reviews(), istio('VirtualService', 'a', { hosts: ['reviews'], http: [route('reviews')] }), istio('VirtualService', 'b', { hosts: ['reviews.shop.svc.cluster.local'], http: [route('reviews')] })],
    clean: [...reviews(), ...ingress(), istio('VirtualService', 'a', { hosts: ['reviews'], http: [route('reviews')] }), istio('VirtualService', 'b', { hosts: ['shop.example.com'], gateways: ['shop'], http: [route('reviews')] })],
    message: 'define the same host reviews.shop.svc.cluster.local',
  },
  {
    name: 'IST0112 destination port required for a multi-port Service',
    bad: [service('db', [{ name: 'http', port: 80 }, { name: 'grpc', port: 90 }]), istio('VirtualService', 'db', { hosts: ['db'], http: [route('db')] })],
    clean: [service('db', [{ name: 'http', port: 80 }, { name: 'grpc', port: 90 }]), istio('VirtualService', 'db', { hosts: ['db'], http: [route('db', { port: { number: 80 } })] })],
    message: 'multiple ports for destination host db',
  },
  {
    name: 'IST0130 rule after a catch-all rule',
    bad: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [route('reviews'), { match: [{ uri: { prefix: '/v2' } }], ...route('reviews') }] })],
    clean: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/v2' } }], ...route('reviews') }, route('reviews')] })],
    message: 'http rule #1 not used',
  },
  {
    name: 'IST0130 rule all of whose matches repeat earlier ones',
    bad: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/api' } }], ...route('reviews') }, { match: [{ name: 'again', uri: { prefix: '/api' } }], ...route('reviews') }] })],
    clean: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/api/v2' } }], ...route('reviews') }, { match: [{ uri: { prefix: '/api' } }], ...route('reviews') }] })],
    message: 'http rule #1 not used (all matches used by prior rules)',
  },
  {
    name: 'IST0131 URI prefix shadowed by an earlier, shorter prefix',
    bad: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/api' } }], ...route('reviews') }, { match: [{ uri: { prefix: '/api/v2' } }], ...route('reviews') }] })],
    clean: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/api' }, headers: { x: { exact: 'a' } } }], ...route('reviews') }, { match: [{ uri: { prefix: '/api/v2' } }], ...route('reviews') }] })],
    message: 'match #0 of prefix /api/v2 is not used (overlapping match #0 of prefix /api in rule #0)',
  },
  {
    name: 'IST0131 duplicated match in a later rule',
    bad: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], tcp: [{ match: [{ port: 2443 }], ...route('reviews') }, { match: [{ port: 2443 }, { port: 3443 }], ...route('reviews') }] })],
    clean: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], tcp: [{ match: [{ port: 2443 }], ...route('reviews') }, { match: [{ port: 3443 }], ...route('reviews') }] })],
    message: 'tcp rule #1 match #0 is not used (duplicate match in rule #0)',
  },
  {
    name: 'IST0132 VirtualService host not served by its Gateway',
    bad: [...reviews(), ...ingress(), istio('VirtualService', 'reviews', { hosts: ['api.example.com'], gateways: ['shop'], http: [route('reviews')] })],
    clean: [...reviews(), ...ingress(['*.example.com']), istio('VirtualService', 'reviews', { hosts: ['api.example.com'], gateways: ['shop/shop'], http: [route('reviews')] })],
    message: 'host(s) "api.example.com" with gateway shop/shop, which serves none of them',
  },
  {
    name: 'IST0140 gateway route without subset while a mesh route uses subsets',
    bad: [...reviews(), ...ingress(), DR_REVIEWS,
      istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [route('reviews', { subset: 'v1' })] }),
      istio('VirtualService', 'reviews-ingress', { hosts: ['shop.example.com'], gateways: ['shop'], http: [route('reviews')] })],
    clean: [...reviews(), ...ingress(), DR_REVIEWS,
      istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [route('reviews', { subset: 'v1' })] }),
      istio('VirtualService', 'reviews-ingress', { hosts: ['shop.example.com'], gateways: ['shop'], http: [route('reviews', { subset: 'v1' })] })],
    message: 'Subset in virtual service shop/reviews has no effect on ingress gateway shop/reviews-ingress requests',
  },
  {
    name: 'IST0149 JWT claim routing without RequestAuthentication',
    bad: [...reviews(), ...ingress(), istio('VirtualService', 'reviews', { hosts: ['shop.example.com'], gateways: ['shop'], http: [{ match: [{ headers: { '@request.auth.claims.group': { exact: 'admin' } } }], ...route('reviews') }] })],
    clean: [...reviews(), ...ingress(), istio('VirtualService', 'reviews', { hosts: ['shop.example.com'], gateways: ['shop'], http: [{ match: [{ headers: { '@request.auth.claims.group': { exact: 'admin' } } }], ...route('reviews') }] }),
      istio('RequestAuthentication', 'jwt', { selector: { matchLabels: { istio: 'ingress' } }, jwtRules: [{ issuer: 'https://issuer.example.com' }] }, 'istio-ingress')],
    message: 'no RequestAuthentication applies',
  },
  {
    name: 'IST0165 reference to an internal generated Gateway',
    bad: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['a.example.com'], gateways: ['istio-system/gw-istio-autogenerated-k8s-gateway-default'], http: [route('reviews')] })],
    clean: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [route('reviews')] })],
    message: 'implementation-generated internal Gateway',
  },
  {
    name: 'MESH004 route weights not totalling 100',
    bad: [...reviews(), DR_REVIEWS, istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 90 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 20 }] }] })],
    clean: [...reviews(), DR_REVIEWS, istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 90 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 10 }] }] })],
    message: 'route weights total 110',
  },
  {
    name: 'MESH008 an HTTP port on Redis\'s well-known port',
    bad: [service('redis', [{ name: 'http-redis', port: 6379 }]), deployment('redis', { app: 'redis' })],
    clean: [service('redis', [{ name: 'tcp-redis', port: 6379 }]), deployment('redis', { app: 'redis' })],
    message: 'is declared HTTP on Redis\'s well-known port',
  },
  // ---------------------------------------------------------------- DestinationRule
  {
    name: 'IST0128 DestinationRule TLS without CA certificates',
    bad: [istio('ServiceEntry', 'db', { hosts: ['db.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'DNS' }), istio('DestinationRule', 'db', { host: 'db.example.com', trafficPolicy: { tls: { mode: 'SIMPLE' } } })],
    clean: [istio('ServiceEntry', 'db', { hosts: ['db.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'DNS' }), istio('DestinationRule', 'db', { host: 'db.example.com', trafficPolicy: { tls: { mode: 'SIMPLE', caCertificates: '/etc/certs/ca.pem' } } })],
    message: 'has TLS mode SIMPLE but no caCertificates',
  },
  {
    name: 'IST0129 port-level TLS without CA certificates',
    bad: [istio('ServiceEntry', 'db', { hosts: ['db.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'DNS' }), istio('DestinationRule', 'db', { host: 'db.example.com', trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'MUTUAL', clientCertificate: '/c.pem', privateKey: '/k.pem' } }] } })],
    clean: [istio('ServiceEntry', 'db', { hosts: ['db.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'DNS' }), istio('DestinationRule', 'db', { host: 'db.example.com', trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'MUTUAL', credentialName: 'db-client' } }] } })],
    message: 'on port 443',
  },
  {
    name: 'IST0173 subset selecting no pods',
    bad: [...reviews(), istio('DestinationRule', 'reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v4', labels: { version: 'v4' } }] })],
    clean: [...reviews(), DR_REVIEWS],
    message: 'The subset v4 defined in the DestinationRule does not select any pods',
  },
  {
    name: 'IST0174 DestinationRule host matching no service',
    bad: [...reviews(), istio('DestinationRule', 'ratings', { host: 'ratings' })],
    clean: [...reviews(), istio('DestinationRule', 'reviews', { host: 'reviews' }), istio('DestinationRule', 'all', { host: '*.shop.svc.cluster.local' })],
    message: 'DestinationRule for host "ratings" does not match any Service',
  },
  {
    name: 'MESH001 tls DISABLE to a STRICT mTLS service',
    bad: [...reviews(), STRICT, istio('DestinationRule', 'reviews', { host: 'reviews', trafficPolicy: { tls: { mode: 'DISABLE' } } })],
    // A trafficPolicy without tls keeps auto mTLS.
    clean: [...reviews(), STRICT, istio('DestinationRule', 'reviews', { host: 'reviews', trafficPolicy: { connectionPool: { tcp: { maxConnections: 10 } } } })],
    message: 'sets tls mode DISABLE for reviews.shop, whose workloads require STRICT mTLS',
  },
  {
    name: 'MESH001 port-level SIMPLE under namespace STRICT',
    bad: [...reviews(), istio('PeerAuthentication', 'strict', { mtls: { mode: 'STRICT' } }), istio('DestinationRule', 'reviews', { host: 'reviews', trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, tls: { mode: 'SIMPLE', caCertificates: '/ca.pem' } }] } })],
    // PERMISSIVE at workload level overrides the namespace.
    clean: [...reviews(), istio('PeerAuthentication', 'strict', { mtls: { mode: 'STRICT' } }), istio('PeerAuthentication', 'reviews', { selector: { matchLabels: { app: 'reviews' } }, mtls: { mode: 'PERMISSIVE' } }),
      istio('DestinationRule', 'reviews', { host: 'reviews', trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, tls: { mode: 'SIMPLE', caCertificates: '/ca.pem' } }] } })],
    message: 'SIMPLE on port 9080',
  },
  // ---------------------------------------------------------------- Gateway
  {
    name: 'IST0101 Gateway selector matching no workload',
    bad: [istio('Gateway', 'gw', { selector: { istio: 'ingresss' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] })],
    clean: ingress(),
    message: 'Referenced selector not found: "istio=ingresss"',
  },
  {
    name: 'IST0101 Gateway credentialName secret not found',
    bad: ingress(['shop.example.com'], [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialName: 'shop-cert' } }]),
    clean: [...ingress(['shop.example.com'], [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialName: 'shop-cert' } }]),
      { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'shop', namespace: 'istio-ingress' }, spec: { secretName: 'shop-cert', dnsNames: ['shop.example.com'], issuerRef: { name: 'le', kind: 'ClusterIssuer' } } }],
    message: 'Referenced credentialName not found: "shop-cert" in namespace istio-ingress',
  },
  {
    name: 'IST0138 one certificate on several Gateways',
    bad: [...ingress(), istio('Gateway', 'a', { selector: { istio: 'ingress' }, servers: [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['a.example.com'], tls: { mode: 'SIMPLE', credentialName: 'wild' } }] }),
      istio('Gateway', 'b', { selector: { istio: 'ingress' }, servers: [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['b.example.com'], tls: { mode: 'SIMPLE', credentialName: 'wild' } }] }),
      tlsSecret('wild', 'istio-ingress')],
    clean: [...ingress(), istio('Gateway', 'a', { selector: { istio: 'ingress' }, servers: [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['a.example.com', 'b.example.com'], tls: { mode: 'SIMPLE', credentialName: 'wild' } }] }),
      tlsSecret('wild', 'istio-ingress')],
    message: 'Duplicate certificate "wild" in gateways shop/a and shop/b',
  },
  {
    name: 'IST0138 one certificate on a Gateway and one with a wider selector',
    // Istio 1.30.3 compares a Gateway with those whose selector contains all of its labels.
    bad: [...ingress(), istio('Gateway', 'a', { selector: { istio: 'ingress' }, servers: [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['a.example.com'], tls: { mode: 'SIMPLE', credentialName: 'wild' } }] }),
      istio('Gateway', 'b', { selector: { istio: 'ingress', app: 'edge' }, servers: [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['b.example.com'], tls: { mode: 'SIMPLE', credentialName: 'wild' } }] }),
      tlsSecret('wild', 'istio-ingress')],
    clean: [...ingress(), istio('Gateway', 'a', { selector: { istio: 'ingress' }, servers: [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['a.example.com'], tls: { mode: 'SIMPLE', credentialName: 'wild' } }] }),
      istio('Gateway', 'b', { selector: { istio: 'other' }, servers: [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['b.example.com'], tls: { mode: 'SIMPLE', credentialName: 'wild' } }] }),
      tlsSecret('wild', 'istio-ingress')],
    message: 'in gateways shop/a and shop/b',
  },
  {
    name: 'IST0145 Gateways with the same selector, port and host',
    bad: [...ingress(), istio('Gateway', 'other', { selector: { istio: 'ingress' }, servers: [{ port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['shop.example.com'] }] })],
    // Istio 1.30.3 compares the hosts as written: a wildcard does not conflict with the names it covers.
    clean: [...ingress(), istio('Gateway', 'other', { selector: { istio: 'ingress' }, servers: [{ port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['*.example.com'] }] })],
    message: 'Conflict with gateways shop/other (workload selector istio=ingress, port 8080, hosts shop.example.com)',
  },
  {
    name: 'IST0145 Gateways with different selectors that select the same workload',
    bad: [...ingress(), istio('Gateway', 'other', { selector: { istio: 'ingress', app: 'ingress' }, servers: [{ port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['shop.example.com'] }] }),
      { ...deployment('ingress', { istio: 'ingress', app: 'ingress' }, 'istio-ingress') }],
    clean: [...ingress(), istio('Gateway', 'other', { selector: { istio: 'ingress', app: 'ingress' }, servers: [{ port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['shop.example.com'], bind: '10.0.0.1' }] }),
      { ...deployment('ingress', { istio: 'ingress', app: 'ingress' }, 'istio-ingress') }],
    message: 'Conflict with gateways shop/shop',
  },
  {
    name: 'IST0161 credential Secret without a key pair',
    bad: [...ingress(['shop.example.com'], [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialName: 'shop-cert' } }]),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-cert', namespace: 'istio-ingress' }, data: { 'ca.crt': 'x' } }],
    clean: [...ingress(['shop.example.com'], [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialName: 'shop-cert' } }]),
      tlsSecret('shop-cert', 'istio-ingress')],
    message: 'has neither tls.crt/tls.key nor cert/key',
  },
  {
    name: 'IST0161 credential Secret whose certificate is not a certificate',
    bad: [...ingress(['shop.example.com'], [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialName: 'shop-cert' } }]),
      tlsSecret('shop-cert', 'istio-ingress', 'not a certificate')],
    clean: [...ingress(['shop.example.com'], [{ port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialName: 'shop-cert' } }]),
      tlsSecret('shop-cert', 'istio-ingress')],
    message: 'has a tls.crt that is not a PEM certificate',
  },
  {
    name: 'IST0162 Gateway port not on the gateway Service',
    bad: ingress(['*'], [{ port: { number: 9090, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }]),
    clean: ingress(['*'], [{ port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }]),
    message: 'port 9090',
  },
  // ---------------------------------------------------------------- Sidecar / Telemetry
  {
    name: 'IST0101 Sidecar selector matching no workload',
    bad: [...reviews(), istio('Sidecar', 's', { workloadSelector: { labels: { app: 'ratings' } }, egress: [{ hosts: ['./*'] }] })],
    clean: [...reviews(), istio('Sidecar', 's', { workloadSelector: { labels: { app: 'reviews' } }, egress: [{ hosts: ['./*'] }] })],
    message: 'Referenced selector not found: "app=ratings"',
  },
  {
    name: 'IST0110 two Sidecars selecting one workload',
    bad: [...reviews(), istio('Sidecar', 'a', { workloadSelector: { labels: { app: 'reviews' } }, egress: [{ hosts: ['./*'] }] }), istio('Sidecar', 'b', { workloadSelector: { labels: { version: 'v1' } }, egress: [{ hosts: ['./*'] }] })],
    clean: [...reviews(), istio('Sidecar', 'a', { workloadSelector: { labels: { version: 'v2' } }, egress: [{ hosts: ['./*'] }] }), istio('Sidecar', 'b', { workloadSelector: { labels: { version: 'v1' } }, egress: [{ hosts: ['./*'] }] })],
    message: 'also select workload Deployment reviews-v1',
  },
  {
    name: 'IST0111 two Sidecars without selector in a namespace',
    bad: [istio('Sidecar', 'a', { egress: [{ hosts: ['./*'] }] }), istio('Sidecar', 'b', { egress: [{ hosts: ['istio-system/*'] }] })],
    clean: [istio('Sidecar', 'a', { egress: [{ hosts: ['./*', 'istio-system/*'] }] }), istio('Sidecar', 'b', { egress: [{ hosts: ['./*'] }] }, 'other')],
    message: 'have no workload selector either',
  },
  {
    name: 'IST0101 Telemetry selector matching no workload',
    bad: [...reviews(), istio('Telemetry', 't', { selector: { matchLabels: { app: 'nope' } }, metrics: [{ providers: [{ name: 'prometheus' }] }] })],
    clean: [...reviews(), istio('Telemetry', 't', { selector: { matchLabels: { app: 'reviews' } }, metrics: [{ providers: [{ name: 'prometheus' }] }] })],
    message: 'Referenced selector not found: "app=nope"',
  },
  {
    name: 'IST0157 Telemetry without providers and no default provider',
    bad: [istio('Telemetry', 't', { tracing: [{ randomSamplingPercentage: 10 }] }, 'istio-system')],
    clean: [istio('Telemetry', 't', { tracing: [{ providers: [{ name: 'otel' }], randomSamplingPercentage: 10 }], metrics: [{ overrides: [] }] }, 'istio-system')],
    message: 'tracing[0] names no providers',
  },
  {
    name: 'IST0159 two Telemetries selecting one workload',
    bad: [...reviews(), istio('Telemetry', 'a', { selector: { matchLabels: { app: 'reviews' } }, accessLogging: [{ providers: [{ name: 'envoy' }] }] }), istio('Telemetry', 'b', { selector: { matchLabels: { version: 'v2' } }, accessLogging: [{ providers: [{ name: 'envoy' }] }] })],
    clean: [...reviews(), istio('Telemetry', 'a', { selector: { matchLabels: { version: 'v1' } }, accessLogging: [{ providers: [{ name: 'envoy' }] }] }), istio('Telemetry', 'b', { selector: { matchLabels: { version: 'v2' } }, accessLogging: [{ providers: [{ name: 'envoy' }] }] })],
    message: 'also select workload Deployment reviews-v2',
  },
  {
    name: 'IST0160 two Telemetries without selector in a namespace',
    bad: [istio('Telemetry', 'a', { accessLogging: [{ providers: [{ name: 'envoy' }] }] }), istio('Telemetry', 'b', { metrics: [{ providers: [{ name: 'prometheus' }] }] })],
    clean: [istio('Telemetry', 'a', { accessLogging: [{ providers: [{ name: 'envoy' }] }], metrics: [{ providers: [{ name: 'prometheus' }] }] })],
    message: 'have no workload selector either',
  },
  // ---------------------------------------------------------------- Security
  {
    name: 'IST0127 AuthorizationPolicy selecting no workload',
    bad: [...reviews(), istio('AuthorizationPolicy', 'p', { selector: { matchLabels: { app: 'ratings' } }, rules: [{}] })],
    clean: [...reviews(), istio('AuthorizationPolicy', 'p', { selector: { matchLabels: { app: 'reviews' } }, rules: [{}] })],
    message: 'No matching workloads for this resource with the following labels: app=ratings',
  },
  {
    name: 'IST0101 AuthorizationPolicy source namespace not found',
    bad: [...reviews(), namespace('shop'), istio('AuthorizationPolicy', 'p', { selector: { matchLabels: { app: 'reviews' } }, rules: [{ from: [{ source: { namespaces: ['frontned'] } }] }] })],
    clean: [...reviews(), namespace('shop'), namespace('frontend'), istio('AuthorizationPolicy', 'p', { selector: { matchLabels: { app: 'reviews' } }, rules: [{ from: [{ source: { namespaces: ['frontend', 'team-*'] } }] }] })],
    message: 'Referenced namespace not found: "frontned"',
  },
  {
    name: 'MESH002 spiffe:// prefix in a principal',
    bad: [...reviews(), istio('AuthorizationPolicy', 'p', { selector: { matchLabels: { app: 'reviews' } }, rules: [{ from: [{ source: { principals: ['spiffe://cluster.local/ns/shop/sa/frontend'] } }] }] })],
    clean: [...reviews(), istio('AuthorizationPolicy', 'p', { selector: { matchLabels: { app: 'reviews' } }, rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/frontend'] } }] }] })],
    message: 'Write "cluster.local/ns/shop/sa/frontend"',
  },
  {
    name: 'MESH003 HTTP-only fields on a TCP port',
    bad: [service('db', [{ name: 'tcp-db', port: 5432 }]), deployment('db', { app: 'db' }),
      istio('AuthorizationPolicy', 'p', { selector: { matchLabels: { app: 'db' } }, rules: [{ to: [{ operation: { methods: ['GET'], ports: ['5432'] } }] }] })],
    clean: [service('db', [{ name: 'tcp-db', port: 5432 }]), deployment('db', { app: 'db' }),
      istio('AuthorizationPolicy', 'p', { selector: { matchLabels: { app: 'db' } }, rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/api'] } }], to: [{ operation: { ports: ['5432'] } }] }] })],
    message: 'uses HTTP-only fields (methods) but applies only to TCP ports (5432)',
  },
  // ---------------------------------------------------------------- Ambient mode (issue 18): what has no effect there
  {
    name: 'MESH005 sidecar annotations on an ambient pod',
    bad: [namespace('shop', { 'istio.io/dataplane-mode': 'ambient' }),
      deployment('reviews', { app: 'reviews' }, 'shop', {}, { 'sidecar.istio.io/proxyCPU': '100m', 'sidecar.istio.io/inject': 'false' })],
    // the same annotations where a sidecar reads them; an ambient pod opting out of injection is fine
    clean: [namespace('shop', { 'istio-injection': 'enabled' }), deployment('reviews', { app: 'reviews' }, 'shop', {}, { 'sidecar.istio.io/proxyCPU': '100m' }),
      namespace('amb', { 'istio.io/dataplane-mode': 'ambient' }), deployment('ratings', { app: 'ratings' }, 'amb', {}, { 'sidecar.istio.io/inject': 'false' })],
    message: 'The pods of Deployment reviews run in ambient mode (no sidecar), so their annotations sidecar.istio.io/proxyCPU have no effect',
  },
  {
    name: 'MESH005 a pod labelled ambient in a sidecar namespace',
    bad: [namespace('shop', { 'istio-injection': 'enabled' }),
      deployment('reviews', { 'app': 'reviews', 'istio.io/dataplane-mode': 'ambient' }, 'shop', {}, { 'sidecar.istio.io/logLevel': 'debug' })],
    clean: [namespace('shop', { 'istio.io/dataplane-mode': 'ambient' }),
      deployment('reviews', { 'app': 'reviews', 'istio.io/dataplane-mode': 'none' }, 'shop', {}, { 'sidecar.istio.io/logLevel': 'debug' })],
    message: 'sidecar.istio.io/logLevel have no effect',
  },
  {
    name: 'MESH006 EnvoyFilter selecting ambient workloads without a waypoint',
    bad: [namespace('shop', { 'istio.io/dataplane-mode': 'ambient' }), ...reviews(),
      istio('EnvoyFilter', 'ef', { workloadSelector: { labels: { app: 'reviews' } }, configPatches: [{ applyTo: 'HTTP_FILTER', patch: { operation: 'INSERT_FIRST', value: { name: 'envoy.filters.http.lua' } } }] })],
    clean: [namespace('shop', { 'istio-injection': 'enabled' }), ...reviews(),
      istio('EnvoyFilter', 'ef', { workloadSelector: { labels: { app: 'reviews' } }, configPatches: [{ applyTo: 'HTTP_FILTER', patch: { operation: 'INSERT_FIRST', value: { name: 'envoy.filters.http.lua' } } }] })],
    message: 'EnvoyFilter ef selects only ambient workloads (reviews-v1, reviews-v2), whose pods run no Envoy proxy, so it has no effect. No waypoint serves them either',
  },
  {
    name: 'MESH006 EnvoyFilter selecting the pods behind a waypoint',
    bad: [namespace('shop', { 'istio.io/dataplane-mode': 'ambient' }), { ...service('reviews'), metadata: { name: 'reviews', namespace: 'shop', labels: { 'istio.io/use-waypoint': 'waypoint' } } },
      deployment('reviews-v1', { app: 'reviews', version: 'v1' }),
      istio('EnvoyFilter', 'ef', { workloadSelector: { labels: { app: 'reviews' } }, configPatches: [{ applyTo: 'HTTP_FILTER', patch: { operation: 'INSERT_FIRST', value: { name: 'envoy.filters.http.lua' } } }] })],
    // targeting the waypoint is how an EnvoyFilter reaches ambient traffic
    clean: [namespace('shop', { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'waypoint' }), ...reviews(),
      istio('EnvoyFilter', 'ef', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }], configPatches: [{ applyTo: 'HTTP_FILTER', patch: { operation: 'INSERT_FIRST', value: { name: 'envoy.filters.http.lua' } } }] })],
    message: 'Their layer-7 traffic goes through waypoint waypoint: target it with targetRefs',
  },
  {
    name: 'MESH007 HTTP rules on ambient pods without a waypoint',
    bad: [namespace('shop', { 'istio.io/dataplane-mode': 'ambient' }), ...reviews(),
      istio('AuthorizationPolicy', 'p', { selector: { matchLabels: { app: 'reviews' } }, rules: [{ to: [{ operation: { methods: ['GET'], ports: ['9080'] } }] }] })],
    clean: [namespace('shop', { 'istio.io/dataplane-mode': 'ambient' }), ...reviews(),
      istio('AuthorizationPolicy', 'p', { selector: { matchLabels: { app: 'reviews' } }, rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/frontend'] } }], to: [{ operation: { ports: ['9080'] } }] }] }),
      istio('AuthorizationPolicy', 'l7', { targetRefs: [{ group: '', kind: 'Service', name: 'reviews' }], rules: [{ to: [{ operation: { methods: ['GET'] } }] }] })],
    message: 'Rule #0 uses HTTP fields (methods) but selects ambient workloads (reviews-v1, reviews-v2), where ztunnel enforces it at layer 4: ztunnel cannot match them, so the rule never allows anything. No waypoint serves them',
  },
  {
    name: 'MESH007 a DENY rule with HTTP fields on ambient pods behind a namespace waypoint',
    bad: [namespace('shop', { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': 'wp' }), ...reviews(),
      istio('AuthorizationPolicy', 'p', { action: 'DENY', selector: { matchLabels: { app: 'reviews' } }, rules: [{ to: [{ operation: { paths: ['/admin'] } }] }] })],
    clean: [namespace('shop', { 'istio-injection': 'enabled' }), ...reviews(),
      istio('AuthorizationPolicy', 'p', { action: 'DENY', selector: { matchLabels: { app: 'reviews' } }, rules: [{ to: [{ operation: { paths: ['/admin'] } }] }] })],
    message: 'ztunnel drops the HTTP conditions, so the rule denies more than written. Attach the HTTP rules to waypoint wp',
  },
  // ---------------------------------------------------------------- Injection and workloads
  {
    name: 'IST0123 namespace with two injection labels',
    bad: [namespace('shop', { 'istio-injection': 'enabled', 'istio.io/rev': 'canary' })],
    clean: [namespace('shop', { 'istio.io/rev': 'canary' })],
    message: 'more than one injection label (istio-injection=enabled, istio.io/rev=canary)',
  },
  {
    name: 'IST0123 revision and ambient labels together',
    bad: [namespace('shop', { 'istio.io/rev': 'canary', 'istio.io/dataplane-mode': 'ambient' })],
    // Istio 1.30.3: with istio-injection=disabled the other labels are not counted.
    clean: [namespace('shop', { 'istio-injection': 'disabled', 'istio.io/rev': 'canary' })],
    message: 'istio.io/rev=canary, istio.io/dataplane-mode=ambient',
  },
  {
    name: 'IST0102 namespace not enabled for injection',
    bad: [namespace('shop')],
    clean: [namespace('shop', { 'istio.io/rev': 'default' }), namespace('ambient', { 'istio.io/dataplane-mode': 'ambient' }), namespace('istio-system')],
    message: "Run 'kubectl label namespace shop istio-injection=enabled'",
  },
  {
    name: 'IST0148 namespace injected by default',
    bad: [namespace('shop'), injectorConfigMap(true)],
    clean: [namespace('shop'), injectorConfigMap(false)],
    message: 'injects every namespace by default',
  },
  {
    name: 'IST0103 Pod without proxy in an injected namespace',
    bad: [namespace('shop', { 'istio-injection': 'enabled' }), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'a' }] } }],
    clean: [namespace('shop', { 'istio-injection': 'enabled' }), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop', labels: { 'sidecar.istio.io/inject': 'false' } }, spec: { containers: [{ name: 'app', image: 'a' }] } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'q', namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'a' }, { name: 'istio-proxy', image: 'proxyv2' }] } }],
    message: 'The pod shop/p is missing the Istio proxy',
  },
  {
    name: 'IST0144 application running as UID 1337',
    bad: [deployment('app', { app: 'app' }, NS, { securityContext: { runAsUser: 1337 } })],
    clean: [deployment('app', { app: 'app' }, NS, { securityContext: { runAsUser: 1000 } })],
    message: 'container app runs as it',
  },
  {
    name: 'IST0146 image: auto on a Deployment that nothing injects',
    bad: [namespace('gw'), { ...deployment('gw', { istio: 'gw' }, 'gw'), spec: { selector: { matchLabels: { istio: 'gw' } }, template: { metadata: { labels: { istio: 'gw' } }, spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } } } }],
    clean: [namespace('gw'), { ...deployment('gw', { istio: 'gw' }, 'gw'), spec: { selector: { matchLabels: { istio: 'gw' } }, template: { metadata: { labels: { 'istio': 'gw', 'sidecar.istio.io/inject': 'true' } }, spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } } } }],
    message: 'uses image: auto',
  },
  {
    name: 'IST0147 image: auto on a Pod that nothing injects',
    bad: [namespace('gw'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'gw', namespace: 'gw' }, spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } }],
    clean: [namespace('gw', { 'istio-injection': 'enabled' }), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'gw', namespace: 'gw' }, spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } }],
    message: 'Pod gw uses image: auto',
  },
  // ---------------------------------------------------------------- Annotations (Istio's catalogue) and deprecations
  {
    name: 'IST0108 unknown Istio annotation',
    bad: [annotated('Service', { 'sidecar.istio.io/injectt': 'true' })],
    clean: [annotated('Service', { 'networking.istio.io/exportTo': '.', 'example.com/other': 'x' })],
    message: 'Unknown annotation: sidecar.istio.io/injectt',
  },
  {
    name: 'IST0107 annotation on the wrong kind',
    bad: [annotated('Service', { 'sidecar.istio.io/proxyCPU': '100m' })],
    clean: [annotated('Pod', { 'sidecar.istio.io/proxyCPU': '100m' })],
    message: 'sidecar.istio.io/proxyCPU can only be applied to Pod, not to a Service',
  },
  {
    name: 'IST0107 pod annotation on a Deployment instead of its pod template',
    bad: [{ ...deployment('api', { app: 'api' }), metadata: { name: 'api', namespace: NS, annotations: { 'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: true' } } }],
    clean: [deployment('api', { app: 'api' }, NS, {}, { 'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: true' })],
    message: 'proxy.istio.io/config can only be applied to Pod, not to a Deployment',
  },
  {
    name: 'IST0125 invalid annotation value',
    bad: [annotated('Pod', { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.0.0.0/8,10.1.0.0', 'sidecar.istio.io/interceptionMode': 'redirect' })],
    clean: [annotated('Pod', { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.0.0.0/8,fd00::/8', 'sidecar.istio.io/interceptionMode': 'TPROXY', 'traffic.sidecar.istio.io/includeInboundPorts': '*' })],
    message: "failed parsing cidr '10.1.0.0'",
  },
  {
    name: 'IST0135 deprecated annotation',
    bad: [annotated('Pod', { 'sidecar.istio.io/inject': 'false' })],
    // with the label present Istio 1.30.3 does not report the annotation
    clean: [{ ...annotated('Pod', { 'sidecar.istio.io/inject': 'false' }), metadata: { name: 'x', namespace: NS, labels: { 'sidecar.istio.io/inject': 'false' }, annotations: { 'sidecar.istio.io/inject': 'false' } } }],
    message: 'sidecar.istio.io/inject is deprecated in favor of the "sidecar.istio.io/inject" label',
  },
  {
    name: 'IST0136 alpha annotation, when asked for',
    bad: [annotated('Pod', { 'sidecar.istio.io/nativeSidecar': 'true' })],
    // proxy.istio.io/config is Beta
    clean: [annotated('Pod', { 'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: true' })],
    options: { alphaAnnotations: true },
    message: 'sidecar.istio.io/nativeSidecar is an alpha annotation of Istio 1.30.3',
  },
  {
    name: 'IST0002 deprecated field',
    bad: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ fault: { delay: { percent: 10, fixedDelay: '1s' } }, ...route('reviews') }] })],
    clean: [...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ fault: { delay: { percentage: { value: 10 }, fixedDelay: '1s' } }, ...route('reviews') }] })],
    message: 'HTTPRoute.fault.delay.percent is deprecated',
  },
  // ---------------------------------------------------------------- Status, CRDs and the installation
  {
    name: 'IST0171 negative status condition',
    bad: [{ ...httpRoute('reviews'), status: { parents: [{ parentRef: { name: 'shop' }, controllerName: 'istio.io/gateway-controller', conditions: [{ type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound', message: 'backend not found' }] }] } }, ...reviews()],
    clean: [{ ...httpRoute('reviews'), status: { parents: [{ parentRef: { name: 'shop' }, controllerName: 'istio.io/gateway-controller', conditions: [{ type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' }] }] } }, ...reviews()],
    message: 'The status condition ResolvedRefs is False (reason BackendNotFound)',
  },
  {
    name: 'IST0176 Gateway API CRD below the minimum version',
    bad: [gatewayApiCrd('tlsroutes', 'v1.4.1')],
    clean: [gatewayApiCrd('tlsroutes', 'v1.5.0'), gatewayApiCrd('httproutes', 'v1.0.0')],
    message: 'is at bundle version v1.4.1, below the minimum 1.5.0',
  },
  {
    name: 'IST0163 Istio webhook without a service or URL',
    bad: [istioWebhook({})],
    clean: [istioWebhook({ url: 'https://istiod.example.com:15017/inject' })],
    message: 'is blank',
  },
  {
    name: 'IST0164 Istio webhook URL to an IP address',
    bad: [istioWebhook({ url: 'https://10.0.0.5:15017/inject' })],
    clean: [istioWebhook({ url: 'https://istiod.example.com:15017/inject' })],
    message: 'is an IP address',
  },
  {
    name: 'IST0158 proxy image other than the injector\'s',
    bad: [namespace('shop', { 'istio-injection': 'enabled' }), injectorValues({ global: { hub: 'docker.io/istio', tag: '1.30.3', proxy: { image: 'proxyv2' } } }), proxyPod('docker.io/istio/proxyv2:1.29.0')],
    clean: [namespace('shop', { 'istio-injection': 'enabled' }), injectorValues({ global: { hub: 'docker.io/istio', tag: '1.30.3', proxy: { image: 'proxyv2' } } }), proxyPod('docker.io/istio/proxyv2:1.30.3-distroless')],
    message: 'does not match the injector\'s (docker.io/istio/proxyv2:1.30.3): p',
  },
  {
    name: 'IST0175 RequestAuthentication while istiod does not block JWKS CIDRs',
    bad: [istiod([]), istio('RequestAuthentication', 'jwt', { jwtRules: [{ issuer: 'https://issuer.example.com', jwksUri: 'https://issuer.example.com/jwks' }] })],
    clean: [istiod([{ name: 'BLOCKED_CIDRS_IN_JWKS_URIS', value: '169.254.0.0/16' }]), istio('RequestAuthentication', 'jwt', { jwtRules: [{ issuer: 'https://issuer.example.com', jwksUri: 'https://issuer.example.com/jwks' }] })],
    message: '1 RequestAuthentication(s) (shop/jwt)',
  },
  {
    name: 'IST0126 meshNetworks endpoint from an unknown registry',
    bad: [meshNetworks('cluster-2')],
    clean: [meshNetworks('Kubernetes'), meshNetworks('cluster-2', 'istio-2'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'istio-remote-secret-cluster-2', namespace: 'istio-system', labels: { 'istio/multiCluster': 'true' } }, stringData: { 'cluster-2': 'kubeconfig' } }],
    message: 'Unknown service registry cluster-2 in network network1',
  },
  {
    name: 'IST0167 Sidecar in an ambient namespace',
    bad: [namespace('shop', { 'istio.io/dataplane-mode': 'ambient' }), istio('Sidecar', 'default', { egress: [{ hosts: ['./*'] }] })],
    clean: [namespace('shop', { 'istio-injection': 'enabled' }), istio('Sidecar', 'default', { egress: [{ hosts: ['./*'] }] })],
    message: 'namespace shop is in ambient mode, the policy has no impact',
  },
  // ---------------------------------------------------------------- Service ports
  {
    name: 'IST0116 one service port with two protocols (TCP and UDP) on an in-mesh workload',
    bad: [namespace(NS, { 'istio-injection': 'enabled' }), deployment('dns', { app: 'dns' }), service('dns-tcp', [{ name: 'tcp-dns', port: 53 }], { app: 'dns' }), service('dns-udp', [{ name: 'udp-dns', port: 53, protocol: 'UDP' }], { app: 'dns' })],
    // Istio 1.30.3 compares the port's protocol field, not the protocol read from the name.
    clean: [namespace(NS, { 'istio-injection': 'enabled' }), deployment('api', { app: 'api' }), service('api-http', [{ name: 'http', port: 8080 }], { app: 'api' }), service('api-tcp', [{ name: 'tcp', port: 8080 }], { app: 'api' })],
    message: 'using port 53 but different protocols: TCP, UDP',
  },
  {
    name: 'IST0118 port name without protocol prefix',
    bad: [service('api', [{ name: 'web-http', port: 8080 }])],
    clean: [service('api', [{ name: 'http-web', port: 8080 }, { name: 'metrics', port: 9090, appProtocol: 'http' }])],
    message: 'Port name "web-http" (port: 8080, targetPort: 8080)',
  },
  {
    name: 'IST0137 one target port from two service ports',
    bad: [namespace(NS, { 'istio-injection': 'enabled' }), deployment('api', { app: 'api' }), service('a', [{ name: 'http', port: 80, targetPort: 8080 }], { app: 'api' }), service('b', [{ name: 'http', port: 8080, targetPort: 8080 }], { app: 'api' })],
    clean: [namespace(NS, { 'istio-injection': 'enabled' }), deployment('api', { app: 'api' }), service('a', [{ name: 'http', port: 80, targetPort: 8080 }], { app: 'api' }), service('b', [{ name: 'http', port: 80, targetPort: 8080 }], { app: 'api' })],
    message: 'different ports: 80, 8080',
  },
  {
    name: 'IST0150 ExternalName Service port without protocol prefix',
    bad: [service('ext', [{ name: 'db', port: 5432 }], {}, NS, { type: 'ExternalName', externalName: 'db.example.com' })],
    clean: [service('ext', [{ name: 'tcp-db', port: 5432 }], {}, NS, { type: 'ExternalName', externalName: 'db.example.com' })],
    message: 'ExternalName Service',
  },
  // ---------------------------------------------------------------- ServiceEntry
  {
    name: 'IST0134 TCP ServiceEntry without addresses',
    bad: [istio('ServiceEntry', 'db', { hosts: ['db.example.com'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }], resolution: 'DNS' })],
    clean: [istio('ServiceEntry', 'db', { hosts: ['db.example.com'], addresses: ['10.0.0.5'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }], resolution: 'DNS' })],
    message: 'addresses are required for port 5432',
  },
  {
    name: 'IST0177 ServiceEntries with conflicting protocols',
    bad: [istio('ServiceEntry', 'a', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }], resolution: 'DNS' }), istio('ServiceEntry', 'b', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'DNS' })],
    clean: [istio('ServiceEntry', 'a', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }], resolution: 'DNS' }), istio('ServiceEntry', 'b', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }], resolution: 'DNS' })],
    message: 'api.example.com:443 with conflicting protocols',
  },
  // ---------------------------------------------------------------- Webhooks, Gateway API, EnvoyFilter
  {
    name: 'IST0139 injection webhook to a missing Service',
    bad: [webhook('istio-sidecar-injector', 'istiod')],
    clean: [webhook('istio-sidecar-injector', 'istiod'), service('istiod', [{ name: 'https-webhook', port: 443 }], { app: 'istiod' }, 'istio-system')],
    message: 'points to Service istio-system/istiod',
  },
  {
    name: 'IST0139 two injection webhooks with the same selectors',
    bad: [webhook('a', 'istiod'), webhook('b', 'istiod'), service('istiod', [{ name: 'https-webhook', port: 443 }], { app: 'istiod' }, 'istio-system')],
    clean: [webhook('a', 'istiod'), webhook('b', 'istiod', { matchLabels: { 'istio.io/rev': 'canary' } }), service('istiod', [{ name: 'https-webhook', port: 443 }], { app: 'istiod' }, 'istio-system')],
    message: 'pods would be injected twice',
  },
  {
    name: 'IST0166 selector on a Kubernetes Gateway',
    bad: [istio('AuthorizationPolicy', 'p', { selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'shop' } }, action: 'DENY', rules: [{ from: [{ source: { namespaces: ['dev'] } }] }] })],
    clean: [istio('AuthorizationPolicy', 'p', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shop' }], action: 'DENY', rules: [{ from: [{ source: { namespaces: ['dev'] } }] }] })],
    message: 'Ineffective selector on Kubernetes Gateway shop',
  },
  {
    name: 'IST0101 HTTPRoute backend Service not found',
    bad: [...reviews(), httpRoute('reviews-x')],
    clean: [...reviews(), httpRoute('reviews')],
    message: 'Referenced Service not found: "shop/reviews-x"',
  },
  {
    name: 'IST0151 relative EnvoyFilter patch without priority',
    bad: [envoyFilter({ applyTo: 'HTTP_FILTER', patch: { operation: 'INSERT_BEFORE', value: {} } })],
    clean: [envoyFilter({ applyTo: 'HTTP_FILTER', patch: { operation: 'INSERT_BEFORE', value: {} } }, 10)],
    message: 'relative operation INSERT_BEFORE without priority',
  },
  {
    name: 'IST0152 REPLACE outside filters',
    bad: [envoyFilter({ applyTo: 'CLUSTER', patch: { operation: 'REPLACE', value: {} } })],
    clean: [envoyFilter({ applyTo: 'NETWORK_FILTER', patch: { operation: 'REPLACE', value: {} } })],
    message: 'REPLACE on CLUSTER',
  },
  {
    name: 'IST0153 ADD on a route configuration',
    bad: [envoyFilter({ applyTo: 'HTTP_ROUTE', patch: { operation: 'ADD', value: {} } })],
    clean: [envoyFilter({ applyTo: 'HTTP_ROUTE', patch: { operation: 'MERGE', value: {} } })],
    message: 'ADD on HTTP_ROUTE',
  },
  {
    name: 'IST0154 REMOVE on a route configuration',
    bad: [envoyFilter({ applyTo: 'ROUTE_CONFIGURATION', patch: { operation: 'REMOVE' } })],
    clean: [envoyFilter({ applyTo: 'HTTP_FILTER', patch: { operation: 'REMOVE' } })],
    message: 'REMOVE on ROUTE_CONFIGURATION',
  },
  {
    name: 'IST0151 REMOVE of a filter without priority (INSERT_FIRST is absolute)',
    bad: [envoyFilter({ applyTo: 'HTTP_FILTER', match: { listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } } } }, patch: { operation: 'REMOVE' } })],
    clean: [envoyFilter({ applyTo: 'HTTP_FILTER', patch: { operation: 'INSERT_FIRST', value: { name: 'x' } } })],
    message: 'relative operation REMOVE without priority',
  },
  {
    name: 'IST0155 relative patch of a filter that a proxyVersion patch also patches',
    bad: [istio('EnvoyFilter', 'ef', {
      configPatches: [
        { applyTo: 'HTTP_FILTER', match: { proxy: { proxyVersion: '^1\\.30.*' } }, patch: { operation: 'MERGE', value: { name: 'envoy.filters.http.lua' } } },
        { applyTo: 'HTTP_FILTER', patch: { operation: 'INSERT_BEFORE', value: { name: 'envoy.filters.http.lua' } } },
      ],
    })],
    clean: [istio('EnvoyFilter', 'ef', {
      priority: 10,
      configPatches: [
        { applyTo: 'HTTP_FILTER', match: { proxy: { proxyVersion: '^1\\.30.*' } }, patch: { operation: 'MERGE', value: { name: 'envoy.filters.http.lua' } } },
        { applyTo: 'HTTP_FILTER', patch: { operation: 'INSERT_BEFORE', value: { name: 'envoy.filters.http.lua' } } },
      ],
    })],
    message: 'which an earlier patch matching a proxyVersion also patches',
  },
];

function meshNetworks(registry: string, name = 'istio'): any {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'istio-system' }, data: { meshNetworks: `networks:\n  network1:\n    endpoints:\n    - fromRegistry: ${registry}\n    gateways:\n    - address: 1.1.1.1\n      port: 15443\n` } };
}

function gatewayApiCrd(plural: string, version: string): any {
  return { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${plural}.gateway.networking.k8s.io`, annotations: { 'gateway.networking.k8s.io/bundle-version': version } }, spec: { group: 'gateway.networking.k8s.io' } };
}

function istioWebhook(clientConfig: any): any {
  return { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'istio-validator-istio-system' }, webhooks: [{ name: 'rev.validation.istio.io', clientConfig }] };
}

function injectorValues(values: any): any {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-sidecar-injector', namespace: 'istio-system' }, data: { values: JSON.stringify(values) } };
}

function proxyPod(image: string): any {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: NS }, spec: { containers: [{ name: 'app', image: 'a' }, { name: 'istio-proxy', image }] } };
}

function istiod(env: any[]): any {
  const d = deployment('istiod', { app: 'istiod' }, 'istio-system', { containers: [{ name: 'discovery', image: 'pilot', env }] });
  return { ...d, metadata: { ...d.metadata, labels: { app: 'istiod' } } };
}

function annotated(kind: 'Service' | 'Pod', annotations: Record<string, string>): any {
  const spec = kind === 'Pod' ? { containers: [{ name: 'app', image: 'a' }] } : { selector: { app: 'x' }, ports: [{ name: 'http', port: 80 }] };
  return { apiVersion: 'v1', kind, metadata: { name: 'x', namespace: NS, annotations }, spec };
}

function injectorConfigMap(byDefault: boolean): any {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-sidecar-injector', namespace: 'istio-system' }, data: { values: JSON.stringify({ sidecarInjectorWebhook: { enableNamespacesByDefault: byDefault } }) } };
}

function webhook(name: string, svc: string, objectSelector?: any): any {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name },
    webhooks: [{
      name: 'rev.namespace.sidecar-injector.istio.io',
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      clientConfig: { service: { name: svc, namespace: 'istio-system', path: '/inject', port: 443 } },
      namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } },
      ...(objectSelector ? { objectSelector } : {}),
    }],
  };
}

function httpRoute(backend: string): any {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'reviews', namespace: NS },
    spec: { parentRefs: [{ name: 'shop' }], rules: [{ backendRefs: [{ name: backend, port: 9080 }] }] },
  };
}

function envoyFilter(patch: any, priority?: number): any {
  return istio('EnvoyFilter', 'ef', { ...(priority !== undefined ? { priority } : {}), configPatches: [patch] });
}

describe('analyze: every implemented code, misconfigured and clean', () => {
  test.each(CASES.map(c => [c.name, c] as const))('%s', (_name, c) => {
    const bad = analyze(c.bad, { now: NOW, ...c.options }).filter(f => f.code === code(c));
    expect(bad.length).toBeGreaterThan(0);
    if (c.message) expect(bad.map(f => f.message).join('\n')).toContain(c.message);
    expect(analyze(c.clean, { now: NOW, ...c.options }).filter(f => f.code === code(c))).toEqual([]);
  });
});

describe('analyze: Istio annotation catalogue', () => {
  test('alpha annotations are not reported by default, as istioctl leaves them out', () => {
    expect(analyze([annotated('Pod', { 'sidecar.istio.io/nativeSidecar': 'true' })])).toEqual([]);
  });
});

describe('analyze: findings', () => {
  test('carry code, name, level, object and a message that says what to do', () => {
    const findings = analyze([...reviews(), istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [route('reviewz')] })]);
    expect(findings).toEqual([{
      code: 'IST0101',
      name: 'ReferencedResourceNotFound',
      level: FindingLevel.ERROR,
      object: { kind: 'VirtualService', namespace: 'shop', name: 'reviews' },
      message: 'Referenced host not found: "reviewz". Create the Service or a ServiceEntry for it, or fix the destination host.',
    }]);
  });

  test('a clean Bookinfo-like mesh has no findings', () => {
    const objects = [
      namespace('shop', { 'istio.io/rev': 'default' }), ...reviews(), DR_REVIEWS, STRICT, ...ingress(),
      service('productpage', [{ name: 'http', port: 9080 }]), deployment('productpage', { app: 'productpage', version: 'v1' }),
      istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ match: [{ headers: { 'end-user': { exact: 'jason' } } }], ...route('reviews', { subset: 'v2' }) }, route('reviews', { subset: 'v1' })] }),
      istio('VirtualService', 'productpage', { hosts: ['shop.example.com'], gateways: ['shop'], http: [route('productpage')] }),
      istio('AuthorizationPolicy', 'reviews', { selector: { matchLabels: { app: 'reviews' } }, rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/productpage'] } }], to: [{ operation: { methods: ['GET'] } }] }] }),
      istio('Sidecar', 'default', { egress: [{ hosts: ['./*', 'istio-system/*'] }] }),
    ];
    expect(analyze(objects)).toEqual([]);
  });

  test('short names resolve in the object namespace; objects without namespace go to defaultNamespace', () => {
    const vs = { ...istio('VirtualService', 'r', { hosts: ['reviews'], http: [route('reviews')] }), metadata: { name: 'r' } };
    expect(analyze([...reviews(), vs])).toHaveLength(1); // default namespace: reviews.default does not exist
    expect(analyze([...reviews(), vs], { defaultNamespace: 'shop' })).toEqual([]);
    // name.namespace and FQDN forms reach the same Service
    const other = istio('VirtualService', 'x', { hosts: ['x.example.com'], http: [route('reviews.shop'), route('reviews.shop.svc.cluster.local')] }, 'other');
    expect(analyze([...reviews(), other]).filter(f => f.code === 'IST0101')).toEqual([]);
  });

  test('ServiceEntry hosts (exact and wildcard) and declared existing objects count as destinations', () => {
    const se = istio('ServiceEntry', 'ext', { hosts: ['*.googleapis.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'NONE' });
    const vs = istio('VirtualService', 'g', { hosts: ['storage.googleapis.com'], tls: [{ match: [{ port: 443, sniHosts: ['storage.googleapis.com'] }], ...route('storage.googleapis.com') }] });
    expect(analyze([se, vs])).toEqual([]);
    const toRatings = istio('VirtualService', 'r', { hosts: ['reviews'], http: [route('ratings')] });
    expect(codesOf(analyze([...reviews(), toRatings]))).toEqual(['IST0101']);
    expect(analyze([...reviews(), toRatings], { existingObjects: [{ kind: 'Service', namespace: 'shop', name: 'ratings' }] })).toEqual([]);
  });

  test('output is sorted: errors first, then by object and code', () => {
    const findings = analyze([
      service('z', [{ name: 'web', port: 80 }]),
      istio('VirtualService', 'a', { hosts: ['a'], http: [route('missing')] }),
      istio('DestinationRule', 'b', { host: 'nowhere' }),
    ]);
    expect(findings.map(f => f.level)).toEqual([FindingLevel.ERROR, FindingLevel.WARNING, FindingLevel.INFO]);
  });

  test('input that is not an object, or has odd field types, does not throw', () => {
    expect(() => analyze([null, 42, 'x', [], { kind: 'VirtualService', spec: { hosts: 'nope', http: { route: 1 } } },
      { kind: 'Service', spec: { ports: 'x', selector: [] } }, { kind: 'Gateway', apiVersion: 'networking.istio.io/v1', spec: { servers: [null, { port: 'x' }] } },
      { kind: 'DestinationRule', spec: { host: 5, subsets: [null] } }, { kind: 'AuthorizationPolicy', spec: { rules: [null, { from: 'x' }] } }])).not.toThrow();
  });
});

describe('analyze: acknowledgements', () => {
  const bad = () => [service('api', [{ name: 'web', port: 8080 }])];

  test('Acknowledge.finding drops that code on that object only', () => {
    expect(codesOf(analyze(bad()))).toEqual(['IST0118']);
    expect(analyze(bad(), { acknowledgements: [Acknowledge.finding('IST0118', { kind: 'Service', namespace: 'shop', name: 'api' })] })).toEqual([]);
    expect(analyze(bad(), { acknowledgements: [Acknowledge.finding('IST0118', { kind: 'Service', name: 'api' })] })).toEqual([]);
    expect(codesOf(analyze(bad(), { acknowledgements: [Acknowledge.finding('IST0118', { kind: 'Service', namespace: 'other', name: 'api' })] }))).toEqual(['IST0118']);
    expect(codesOf(analyze(bad(), { acknowledgements: [Acknowledge.finding('IST0101', { kind: 'Service', name: 'api' })] }))).toEqual(['IST0118']);
    expect(analyze(bad(), { acknowledgements: [Acknowledge.everywhere('IST0118', 'legacy services')] })).toEqual([]);
  });

  test("istioctl's galley.istio.io/analyze-suppress annotation is honoured too (a code list, or *)", () => {
    const svc = bad()[0];
    svc.metadata.annotations = { 'galley.istio.io/analyze-suppress': 'IST0101,IST0118' };
    expect(analyze([svc])).toEqual([]);
    svc.metadata.annotations = { 'galley.istio.io/analyze-suppress': '*' };
    expect(analyze([svc])).toEqual([]);
    svc.metadata.annotations = { 'galley.istio.io/analyze-suppress': 'IST0101' };
    expect(codesOf(analyze([svc]))).toEqual(['IST0118']);
  });

  test('the acknowledge annotation drops the listed codes on the annotated object', () => {
    const svc = bad()[0];
    svc.metadata.annotations = { 'analysis.cdk8s-mesh.dev/acknowledge': 'MESH003, IST0118' };
    expect(analyze([svc])).toEqual([]);
    svc.metadata.annotations = { 'analysis.cdk8s-mesh.dev/acknowledge': 'IST0116' };
    expect(codesOf(analyze([svc]))).toEqual(['IST0118']);
  });
});
