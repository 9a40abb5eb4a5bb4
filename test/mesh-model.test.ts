/**
 * Issue 13: combinations of constructs that used to synthesize, validate and analyze clean, and then fail in a
 * cluster. Each test declares the combination and asserts the flows the cluster needs are in the YAML.
 */
import { ApiObject, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  EgressGateway, ExternalService, FlowKind, GoldenSignalAlerts, IstioControlPlane, JwtRule, Mesh, MeshCertificates, MeshedService, MeshedServiceProps,
  MeshGateway, MeshMetricsScraping, MeshWorkload, RoutingApi, ServicePort, TelemetryProvider, ZeroTrustNamespace,
} from '../src';
import { ofKind, one, synthAppValid, synthValid } from './util';

function svc(scope: Chart, id: string, props: Partial<MeshedServiceProps> & { namespace: any }): MeshedService {
  return new MeshedService(scope, id, { image: `example/${id}:1.0`, ports: [ServicePort.http(9080)], ...props });
}

function shop(meshProps: any = {}) {
  const app = Testing.app();
  const platform = new Chart(app, 'platform');
  const mesh = new Mesh(platform, 'mesh', meshProps);
  const team = new Chart(app, 'team');
  const ns = new ZeroTrustNamespace(team, 'ns', { mesh, name: 'shop' });
  return { app, platform, team, mesh, ns };
}

const NS = 'kubernetes.io/metadata.name';

describe('one mesh model: combinations keep the flows the mesh needs', () => {
  test('1. metrics scraping and alerts let the scraper in on 15020/15090 without a namespace setting', () => {
    const { app, platform, team, mesh, ns } = shop();
    const reviews = svc(team, 'reviews', { namespace: ns });
    new MeshMetricsScraping(platform, 'metrics', { mesh });
    new GoldenSignalAlerts(team, 'alerts', { service: reviews });
    const np = one(synthAppValid(app), 'NetworkPolicy', 'allow-metrics-scrape');
    expect(np.metadata.namespace).toBe('shop');
    expect(np.spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { [NS]: 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
      ports: [{ protocol: 'TCP', port: 15020 }, { protocol: 'TCP', port: 15090 }],
    }]);
  });

  test('1b. the scraper is settable, and alerts alone also need it', () => {
    const { app, team, ns } = shop();
    const reviews = svc(team, 'reviews', { namespace: ns });
    new GoldenSignalAlerts(team, 'alerts', { service: reviews, scraper: { namespace: 'observability', podLabels: { app: 'vmagent' } } });
    const np = one(synthAppValid(app), 'NetworkPolicy', 'allow-metrics-scrape');
    expect(np.spec.ingress[0].from).toEqual([{ namespaceSelector: { matchLabels: { [NS]: 'observability' } }, podSelector: { matchLabels: { app: 'vmagent' } } }]);
  });

  test('2. a tracing collector is imported by every Sidecar and allowed by NetworkPolicy', () => {
    const { app, platform, team, mesh, ns } = shop();
    const cp = new IstioControlPlane(platform, 'istio', { mesh, installCrds: false });
    TelemetryProvider.openTelemetry(cp, { name: 'otel', service: 'otel-collector.observability.svc.cluster.local', port: 4317, meshDefault: true });
    const a = svc(team, 'a', { namespace: ns });
    const b = svc(team, 'b', { namespace: ns });
    a.connectsTo(b);
    const objects = synthAppValid(app);
    for (const sc of ofKind(objects, 'Sidecar')) {
      expect(sc.spec.egress[0].hosts).toContain('observability/otel-collector.observability.svc.cluster.local');
    }
    expect(one(objects, 'NetworkPolicy', 'allow-telemetry').spec).toEqual({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { [NS]: 'observability' } } }], ports: [{ protocol: 'TCP', port: 4317 }] }],
    });
  });

  test('2b. an OpenTelemetry access log collector declared after the services still reaches them', () => {
    const { app, platform, team, mesh, ns } = shop();
    svc(team, 'a', { namespace: ns });
    const cp = new IstioControlPlane(platform, 'istio', { mesh, installCrds: false });
    TelemetryProvider.openTelemetryAccessLog(cp, { name: 'otel-als', service: 'logs/otel.logs.svc.cluster.local', port: 4317 });
    const objects = synthAppValid(app);
    expect(one(objects, 'Sidecar', 'default').spec.egress[0].hosts).toEqual(['istio-system/*', 'logs/otel.logs.svc.cluster.local']);
    expect(one(objects, 'Sidecar', 'a').spec.egress[0].hosts).toContain('logs/otel.logs.svc.cluster.local');
    expect(one(objects, 'NetworkPolicy', 'allow-telemetry').spec.egress[0].to).toEqual([{ namespaceSelector: { matchLabels: { [NS]: 'logs' } } }]);
  });

  test('3. istio-csr: egress to the CA pods on the port they listen on (6443), not the Service port', () => {
    const { app, platform, team, mesh, ns } = shop({ caAddress: 'cert-manager-istio-csr.cert-manager.svc:443' });
    new IstioControlPlane(platform, 'istio', { mesh, installCrds: false, certificates: MeshCertificates.istioCsr() });
    svc(team, 'a', { namespace: ns });
    const egress = one(synthAppValid(app), 'NetworkPolicy', 'allow-istiod').spec.egress;
    expect(egress[1]).toEqual({
      to: [{ namespaceSelector: { matchLabels: { [NS]: 'cert-manager' } }, podSelector: { matchLabels: { app: 'cert-manager-istio-csr' } } }],
      ports: [{ protocol: 'TCP', port: 6443 }],
    });
  });

  test('3b. another external CA: its pod port and labels are mesh settings', () => {
    const { app, team, ns } = shop({ caAddress: 'vault-ca.vault.svc:8200', caPodPort: 18200, caPodLabels: { app: 'vault' } });
    svc(team, 'a', { namespace: ns });
    expect(one(synthAppValid(app), 'NetworkPolicy', 'allow-istiod').spec.egress[1]).toEqual({
      to: [{ namespaceSelector: { matchLabels: { [NS]: 'vault' } }, podSelector: { matchLabels: { app: 'vault' } } }],
      ports: [{ protocol: 'TCP', port: 18200 }],
    });
    expect(() => new Mesh(new Chart(Testing.app(), 'x'), 'm', { caPodPort: 1 })).toThrow(/caPodPort 1 is invalid: applies to an external CA: set caAddress too/);
  });

  test('4. egress through an egress gateway: the workload reaches the gateway, never the outside', () => {
    const { app, platform, team, mesh, ns } = shop();
    const egress = new EgressGateway(platform, 'egress', { mesh });
    const stripe = ExternalService.https('api.stripe.com');
    const checkout = svc(team, 'checkout', { namespace: ns });
    checkout.connectsToExternal(stripe);
    egress.addExternalService(ExternalService.https('api.stripe.com')); // declared later, by the platform: still applies
    const objects = synthAppValid(app);
    const np = one(objects, 'NetworkPolicy', 'checkout');
    expect(JSON.stringify(np.spec.egress)).not.toContain('0.0.0.0/0');
    expect(np.spec.egress).toEqual([{
      to: [{ namespaceSelector: { matchLabels: { [NS]: 'istio-egress' } }, podSelector: { matchLabels: { istio: 'egressgateway', app: 'istio-egressgateway' } } }],
      ports: [{ protocol: 'TCP', port: 443 }],
    }]);
    expect(one(objects, 'Sidecar', 'checkout').spec.egress[0].hosts).toEqual([
      'istio-egress/api.stripe.com', 'istio-egress/istio-egressgateway.istio-egress.svc.cluster.local', 'istio-system/*',
    ]);
    // one vocabulary: the workload's ServiceEntry and the gateway's declare the same protocol for the host (IST0177)
    const protocols = ofKind(objects, 'ServiceEntry').filter(s => s.spec.hosts[0] === 'api.stripe.com').map(s => s.spec.ports[0].protocol);
    expect(new Set(protocols)).toEqual(new Set(['HTTPS']));
  });

  test('5. mirroring to another service: callers may reach the mirror target (Sidecar, AuthorizationPolicy, NetworkPolicy)', () => {
    const { app, team, ns } = shop();
    const shadow = svc(team, 'reviews-shadow', { namespace: ns });
    const reviews = svc(team, 'reviews', { namespace: ns, mirror: { service: shadow, percentage: 10 } });
    const frontend = svc(team, 'frontend', { namespace: ns });
    frontend.connectsTo(reviews);
    const objects = synthAppValid(app);
    expect(one(objects, 'Sidecar', 'frontend').spec.egress[0].hosts).toContain('shop/reviews-shadow.shop.svc.cluster.local');
    expect(one(objects, 'AuthorizationPolicy', 'reviews-shadow').spec.rules[0].from[0].source.principals).toEqual([frontend.principal]);
    expect(one(objects, 'NetworkPolicy', 'reviews-shadow').spec.ingress[0].from[0].podSelector).toEqual({ matchLabels: { app: 'frontend' } });
    expect(JSON.stringify(one(objects, 'NetworkPolicy', 'frontend').spec.egress)).toContain('reviews-shadow');
    // a caller declared after the mirror gets the flow too (derived once, in the model)
    const late = svc(team, 'late', { namespace: ns });
    late.connectsTo(reviews);
    expect(one(synthAppValid(app), 'AuthorizationPolicy', 'reviews-shadow').spec.rules[0].from[0].source.principals).toEqual([frontend.principal, late.principal].sort());
  });

  test('6. Gateway API backends live in the service\'s chart, for versions added later too; nothing is patched', () => {
    const { app, platform, team, mesh, ns } = shop();
    const gw = new MeshGateway(platform, 'ingress', { mesh, hosts: ['shop.example.com'], routingApi: RoutingApi.GATEWAY_API });
    const reviews = svc(team, 'reviews', { namespace: ns });
    gw.route({ to: reviews });
    reviews.addVersion('v2', { image: 'example/reviews:2.0' });
    expect(Object.prototype.hasOwnProperty.call(reviews, 'addVersion')).toBe(false);
    const teamObjects = synthValid(team);
    expect(ofKind(teamObjects, 'Service').map(s => s.metadata.name).sort()).toEqual(['reviews', 'reviews-v1', 'reviews-v2']);
    expect(ofKind(synthValid(platform), 'Service').map(s => s.metadata.name)).not.toContain('reviews-v1');
    synthAppValid(app);
  });

  test('7. a cdk8s-plus workload joins the access graph: it calls and is called like a MeshedService', () => {
    const { app, team, ns } = shop();
    const reviews = svc(team, 'reviews', { namespace: ns });
    const sa = new kplus.ServiceAccount(team, 'legacy-sa', { metadata: { name: 'legacy', namespace: 'shop' } });
    const deployment = new kplus.Deployment(team, 'legacy', {
      metadata: { name: 'legacy', namespace: 'shop' },
      serviceAccount: sa,
      containers: [{ image: 'example/legacy:1', portNumber: 8080, securityContext: { user: 1000, group: 1000 } }],
    });
    const legacy = MeshWorkload.fromWorkload(team, 'legacy-in-mesh', deployment, { namespace: ns, ports: [ServicePort.http(8080)], createService: true });
    legacy.connectsTo(reviews);
    const frontend = svc(team, 'frontend', { namespace: ns });
    frontend.connectsTo(legacy);
    const objects = synthAppValid(app);
    expect(one(objects, 'AuthorizationPolicy', 'reviews').spec.rules[0].from[0].source.principals).toEqual(['cluster.local/ns/shop/sa/legacy']);
    expect(one(objects, 'AuthorizationPolicy', 'legacy').spec.rules[0].from[0].source.principals).toEqual([frontend.principal]);
    expect(one(objects, 'Sidecar', 'legacy').spec.egress[0].hosts).toContain('shop/reviews.shop.svc.cluster.local');
    expect(one(objects, 'NetworkPolicy', 'legacy').spec.podSelector).toEqual({ matchLabels: deployment.matchLabels });
    // injected at synth time
    const pod = one(objects, 'Deployment', 'legacy').spec.template.spec;
    expect([...(pod.initContainers ?? []), ...pod.containers].map((c: any) => c.name)).toContain('istio-proxy');
  });

  test('7b. a raw ApiObject joins too; the namespace\'s default account is refused as an identity', () => {
    const { team, ns } = shop();
    const raw = new ApiObject(team, 'raw', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'batch', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'batch' } }, template: { metadata: { labels: { app: 'batch' } }, spec: { serviceAccountName: 'batch', containers: [{ name: 'c', image: 'x' }] } } },
    });
    const w = MeshWorkload.fromWorkload(team, 'batch-in-mesh', raw, { namespace: ns, inject: false });
    expect(w.principal).toBe('cluster.local/ns/shop/sa/batch');
    const anonymous = new ApiObject(team, 'anon', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'anon', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'anon' } }, template: { metadata: { labels: { app: 'anon' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    expect(() => MeshWorkload.fromWorkload(team, 'anon-in-mesh', anonymous, { namespace: ns })).toThrow(/team\/anon-in-mesh: workload serviceAccount 'default' is invalid: must be set on the workload/);
    expect(() => new MeshWorkload(team, 'x', { namespace: ns, name: 'x', podSelector: { app: 'x' }, serviceAccountName: 'default' })).toThrow(/serviceAccountName 'default' is invalid/);
    expect(() => new MeshWorkload(team, 'y', { namespace: ns, name: 'batch', podSelector: { app: 'y' }, serviceAccountName: 'y' })).toThrow(/name 'batch' is invalid: must be unique in namespace 'shop': team\/batch-in-mesh already uses it/);
  });

  test('a gateway named like a service in the same namespace is refused (one workload, one name)', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    const mesh = new Mesh(chart, 'mesh');
    const ns = new ZeroTrustNamespace(chart, 'ns', { mesh, name: 'edge' });
    svc(chart, 'web', { namespace: ns });
    expect(() => new MeshGateway(chart, 'gw', { namespace: ns, name: 'web', hosts: ['a.example.com'] })).toThrow(/name 'web' is invalid: must be unique in namespace 'edge': c\/web already uses it/);
  });

  test('the model is one per app, and a validation pass creates nothing', () => {
    const { app, team, ns } = shop();
    const a = svc(team, 'a', { namespace: ns });
    const b = svc(team, 'b', { namespace: ns });
    a.connectsTo(b);
    const count = () => team.node.findAll().length;
    const before = count();
    for (const c of app.node.findAll()) c.node.validate();
    expect(count()).toBe(before);
    expect(app.node.findAll().filter(c => c.node.id === 'cdk8s-mesh.model')).toHaveLength(1);
  });
});

describe('review findings: one name, one purpose; brought-in workloads validate like MeshedService; scrapers stay local', () => {
  test('a service named like another object of the namespace is refused, never silently merged (no lost token requirement)', () => {
    const { team, ns } = shop();
    const a = svc(team, 'a', { namespace: ns });
    const other = svc(team, 'a-require-jwt', { namespace: ns });
    svc(team, 'caller', { namespace: ns }).connectsTo(other);
    const rule = JwtRule.issuer('https://id.example.com', { jwksUri: 'https://id.example.com/jwks.json' });
    expect(() => ns.requireJwt(a, rule)).toThrow(/AuthorizationPolicy name 'a-require-jwt' is invalid: is needed for both the AuthorizationPolicy of service 'a-require-jwt' and the token requirement of service 'a'/);
    const { team: t2, ns: ns2 } = shop();
    const dns = svc(t2, 'allow-dns', { namespace: ns2 });
    expect(() => svc(t2, 'x', { namespace: ns2 }).connectsTo(dns)).toThrow(/NetworkPolicy name 'allow-dns' is invalid: is needed for both the namespace's NetworkPolicy 'allow-dns' and the NetworkPolicy of workload 'allow-dns'/);
  });

  test('two external hosts that would share a ServiceEntry name are refused', () => {
    const { team, ns } = shop();
    const s = svc(team, 's', { namespace: ns });
    s.connectsToExternal(ExternalService.https('api-eu.example.com'));
    expect(() => s.connectsToExternal(ExternalService.https('api.eu-example.com'))).toThrow(/ServiceEntry name 'external-api-eu-example-com' is invalid: is needed for both/);
  });

  test('MeshWorkload.allowFrom refuses an empty port list (it would open every port), bad methods and mirror edges', () => {
    const { team, ns } = shop();
    const db = new MeshWorkload(team, 'db', { namespace: ns, name: 'db', podSelector: { app: 'db' }, serviceAccountName: 'db', ports: [ServicePort.http(5000)] });
    const caller = svc(team, 'caller', { namespace: ns });
    expect(() => caller.connectsTo(db, { ports: [] })).toThrow(/ports \[\] is invalid: must be a non-empty list/);
    expect(() => caller.connectsTo(db, { methods: ['get'] })).toThrow(/methods 'get' is invalid: must be an uppercase HTTP method/);
    expect(() => db.allowFrom(caller, { kind: FlowKind.MIRROR })).toThrow(/kind 'MIRROR' is invalid/);
  });

  test('a namespace\'s own metricsScraper is admitted in that namespace only', () => {
    const app = Testing.app();
    const c = new Chart(app, 'c');
    const mesh = new Mesh(c, 'mesh');
    const shopNs = new ZeroTrustNamespace(c, 'shop', { mesh, name: 'shop', metricsScraper: { namespace: 'team-monitoring' } });
    const payNs = new ZeroTrustNamespace(c, 'pay', { mesh, name: 'payments' });
    svc(c, 'a', { namespace: shopNs });
    svc(c, 'b', { namespace: payNs });
    const objects = synthAppValid(app);
    expect(ofKind(objects, 'NetworkPolicy', 'allow-metrics-scrape').map(o => o.metadata.namespace)).toEqual(['shop']);
  });
});

test('a mirror edge keeps the original call\'s HTTP limits (GET /api/* only reaches the mirror with GET /api/*)', () => {
  const { app, team, ns } = shop();
  const shadow = svc(team, 'shadow', { namespace: ns });
  const reviews = svc(team, 'reviews', { namespace: ns, mirror: { service: shadow, percentage: 10 } });
  const frontend = svc(team, 'frontend', { namespace: ns });
  frontend.connectsTo(reviews, { methods: ['GET'], paths: ['/api/*'] });
  const rule = one(synthAppValid(app), 'AuthorizationPolicy', 'shadow').spec.rules[0];
  expect(rule.to[0].operation).toEqual({ ports: ['9080'], methods: ['GET'], paths: ['/api/*'] });
});
