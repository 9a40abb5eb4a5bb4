import { Chart, Duration, Testing } from 'cdk8s';
import {
  CaKeyAlgorithm, GatewayDeployment, GatewayServiceType, GatewayTls, IssuerKind, Mesh, MeshedService, MeshGateway,
  MeshGatewayProps, MeshNamespace, PathMatch, RoutingApi, ServicePort, StringMatch, TlsVersion,
} from '../src';
import { expectValid, one, ofKind, yamlOf } from './util';

/**
 * synthValid, except that a Gateway API Gateway's `spec.addresses` entry of type Hostname is checked here: the shared
 * strict validator adds `additionalProperties: false` inside the CRD's `oneOf` branches (which only constrain `type`),
 * so it rejects every non-IPAddress address that the API server accepts. Everything else is validated strictly.
 */
function synthValid(chart: Chart): any[] {
  const objects = Testing.synth(chart);
  const copies = objects.map(o => {
    if (o.kind !== 'Gateway' || !o.apiVersion.startsWith('gateway.networking.k8s.io/') || !o.spec.addresses) return o;
    for (const a of o.spec.addresses) {
      expect(a.type).toBe('Hostname');
      expect(a.value).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
    }
    const { addresses, ...spec } = o.spec;
    return { ...o, spec };
  });
  expectValid(copies, '1.33');
  return objects;
}

function setup() {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', {});
  const shop = MeshNamespace.fromName(chart, 'shop', { name: 'shop', mesh });
  const frontend = new MeshedService(chart, 'frontend', { namespace: shop, image: 'example/frontend:1', ports: [ServicePort.http(9080)] });
  const reviews = new MeshedService(chart, 'reviews', { namespace: shop, image: 'example/reviews:1', version: 'v1', ports: [ServicePort.http(9080), ServicePort.grpc(7070)] });
  return { chart, mesh, shop, frontend, reviews };
}

function gw(chart: Chart, props: Partial<MeshGatewayProps> & { mesh: any }, id = 'ingress'): MeshGateway {
  return new MeshGateway(chart, id, props as MeshGatewayProps);
}

const TLS = GatewayTls.certManager({ issuer: 'letsencrypt' });

/**
 * Host, path, destinations (service host, port, subset, weight): the behaviour, whatever the API. Istio writes a
 * whole-segment prefix `/p` as `exact: /p` and `prefix: /p/`: both read as `prefix:/p` (the Gateway API's PathPrefix).
 */
function istioTable(objects: any[]): any[] {
  const out: any[] = [];
  for (const vs of ofKind(objects, 'VirtualService')) {
    if (!vs.spec.gateways) continue;
    for (const h of vs.spec.hosts) {
      const rules: any[] = vs.spec.http ?? [];
      const segments = new Set(rules.flatMap(r => r.match.map((m: any) => m.uri.prefix)).filter((p: string) => p && p !== '/' && p.endsWith('/')));
      for (const r of rules) {
        for (const m of r.match) {
          const kind = Object.keys(m.uri)[0];
          const value = m.uri[kind];
          const path = kind === 'prefix' && segments.has(value) ? `prefix:${value.slice(0, -1)}`
            : kind === 'exact' && segments.has(`${value}/`) ? `prefix:${value}` : `${kind}:${value}`;
          const row = {
            host: h,
            path,
            headers: m.headers ?? {},
            to: (r.route ?? []).map((d: any) => `${d.destination.host}:${d.destination.port.number}/${d.destination.subset ?? '*'}@${d.weight ?? 100}`),
          };
          if (JSON.stringify(out[out.length - 1]) !== JSON.stringify(row)) out.push(row);
        }
      }
    }
  }
  return out;
}

function gatewayApiTable(objects: any[]): any[] {
  const versionOf = new Map<string, string>();
  for (const s of ofKind(objects, 'Service')) if (s.metadata.labels?.version && s.metadata.name !== s.metadata.labels.app) versionOf.set(`${s.metadata.namespace}/${s.metadata.name}`, s.metadata.labels.version);
  const out: any[] = [];
  for (const r of ofKind(objects, 'HTTPRoute')) {
    if (!r.spec.hostnames) continue;
    for (const h of r.spec.hostnames) {
      for (const rule of r.spec.rules) {
        const m = rule.matches[0];
        const kind = { Exact: 'exact', PathPrefix: 'prefix', RegularExpression: 'regex' }[m.path.type as string];
        const headers: any = {};
        for (const hm of m.headers ?? []) headers[hm.name] = { [hm.type === 'Exact' ? 'exact' : 'regex']: hm.value };
        out.push({
          host: h,
          path: `${kind}:${m.path.value}`,
          headers,
          to: (rule.backendRefs ?? []).map((b: any) => {
            const ns = b.namespace ?? r.metadata.namespace;
            const version = versionOf.get(`${ns}/${b.name}`);
            const app = version ? b.name.slice(0, b.name.length - version.length - 1) : b.name;
            return `${app}.${ns}.svc.cluster.local:${b.port}/${version ?? '*'}@${b.weight ?? 100}`;
          }),
        });
      }
    }
  }
  return out;
}

describe('MeshGateway', () => {
  test('ingress with cert-manager TLS, Istio API (snapshot)', () => {
    const { chart, mesh, frontend } = setup();
    const g = gw(chart, { mesh, hosts: ['shop.example.com'], tls: TLS, minReplicas: 2, serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' } });
    g.route({ path: PathMatch.prefix('/'), to: frontend, timeout: Duration.seconds(10) });
    const objects = synthValid(chart);
    const mine = objects.filter(o => o.metadata.namespace === 'istio-ingress');
    expect(mine.map(o => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Certificate/istio-ingressgateway-https-443-tls', 'ServiceAccount/istio-ingressgateway', 'Role/istio-ingressgateway',
      'RoleBinding/istio-ingressgateway', 'Deployment/istio-ingressgateway', 'Service/istio-ingressgateway',
      'HorizontalPodAutoscaler/istio-ingressgateway', 'PodDisruptionBudget/istio-ingressgateway', 'Gateway/istio-ingressgateway',
      'VirtualService/istio-ingressgateway-shop.example.com',
    ]);
    expect(yamlOf(mine)).toMatchSnapshot();

    // Service: status-port plus one port per listener, LoadBalancer, selecting the gateway pods
    const svc = one(objects, 'Service', 'istio-ingressgateway');
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.ports).toEqual([
      { name: 'status-port', port: 15021, targetPort: 15021, protocol: 'TCP', appProtocol: 'http' },
      { name: 'http-80', port: 80, targetPort: 80, protocol: 'TCP' },
      { name: 'https-443', port: 443, targetPort: 443, protocol: 'TCP' },
    ]);
    expect(svc.spec.selector).toEqual({ istio: 'ingressgateway', app: 'istio-ingressgateway' });
    expect(svc.metadata.annotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' });

    // the gateway injection template, applied at synth time
    const pod = one(objects, 'Deployment', 'istio-ingressgateway').spec.template;
    expect(pod.spec.initContainers).toBeUndefined();
    expect(pod.spec.containers).toHaveLength(1);
    const proxy = pod.spec.containers[0];
    expect(proxy.name).toBe('istio-proxy');
    expect(proxy.image).toBe(mesh.proxyImage);
    expect(proxy.args.slice(0, 2)).toEqual(['proxy', 'router']);
    expect(proxy.securityContext.runAsUser).toBe(1337);
    expect(proxy.readinessProbe.httpGet).toEqual({ path: '/healthz/ready', port: 15021 });
    expect(pod.spec.securityContext.sysctls).toEqual([{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }]);
    expect(pod.metadata.labels).toMatchObject({ istio: 'ingressgateway', app: 'istio-ingressgateway' });
    expect(pod.metadata.labels['security.istio.io/tlsMode']).toBeUndefined();

    // Role: only the 'list' on secrets that istiod's SubjectAccessReview checks
    expect(one(objects, 'Role').rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }]);
    // TLS: Gateway server with the cert-manager secret, HTTP redirecting
    const servers = one(objects, 'Gateway').spec.servers;
    expect(servers).toEqual([
      { port: { number: 443, name: 'https-443', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialName: 'istio-ingressgateway-https-443-tls', minProtocolVersion: 'TLSV1_2' } },
      { port: { number: 80, name: 'http-80', protocol: 'HTTP' }, hosts: ['shop.example.com'], tls: { httpsRedirect: true } },
    ]);
    const cert = one(objects, 'Certificate');
    expect(cert.spec.dnsNames).toEqual(['shop.example.com']);
    expect(cert.spec.issuerRef).toEqual({ name: 'letsencrypt', kind: 'ClusterIssuer', group: 'cert-manager.io' });

    // the allowFrom edge, recorded on the service
    expect(frontend.inboundRules).toHaveLength(1);
    expect(frontend.inboundRules[0].source).toBe(g);
    expect(frontend.inboundRules[0].ports.map(p => p.port)).toEqual([9080]);
    expect(g.principal).toBe('cluster.local/ns/istio-ingress/sa/istio-ingressgateway');
  });

  test('both routing APIs give the same route table, including a canary added after the route', () => {
    const build = (api: RoutingApi) => {
      const { chart, mesh, frontend, reviews } = setup();
      const g = gw(chart, { mesh, hosts: ['shop.example.com', 'api.example.com'], tls: TLS, routingApi: api });
      g.route({ host: 'shop.example.com', to: frontend });
      g.route({ host: 'api.example.com', path: PathMatch.prefix('/reviews'), to: reviews, port: ServicePort.http(9080), rewrite: '/' });
      g.route({ host: 'api.example.com', path: PathMatch.exact('/healthz'), to: reviews, port: ServicePort.http(9080), version: reviews.versions[0] });
      // a canary, after the routes
      const v2 = reviews.addVersion('v2', { image: 'example/reviews:2' });
      reviews.replaceHttpRoutes([
        { matches: [{ headers: { 'x-canary': StringMatch.exact('1') } }], destinations: [{ version: v2 }] },
        { destinations: [{ version: reviews.versions[0], weight: 90 }, { version: v2, weight: 10 }] },
      ]);
      return { objects: synthValid(chart), reviews, g };
    };
    const istio = build(RoutingApi.ISTIO);
    const k8s = build(RoutingApi.GATEWAY_API);
    const ti = istioTable(istio.objects);
    expect(ti).toEqual(gatewayApiTable(k8s.objects));
    expect(ti).toContainEqual({
      host: 'api.example.com',
      path: 'prefix:/reviews',
      headers: {},
      to: ['reviews.shop.svc.cluster.local:9080/v1@90', 'reviews.shop.svc.cluster.local:9080/v2@10'],
    });
    expect(ti).toContainEqual({
      host: 'api.example.com', path: 'prefix:/reviews', headers: { 'x-canary': { exact: '1' } }, to: ['reviews.shop.svc.cluster.local:9080/v2@100'],
    });
    expect(ti.find(r => r.host === 'api.example.com')).toMatchObject({ host: 'api.example.com', path: 'exact:/healthz', to: ['reviews.shop.svc.cluster.local:9080/v1@100'] });

    const o = k8s.objects;
    expect(yamlOf(o.filter(x => x.metadata.namespace === 'istio-ingress' && x.kind !== 'Deployment' || x.kind === 'ReferenceGrant'))).toMatchSnapshot();
    const gateway = one(o, 'Gateway');
    expect(gateway.spec.gatewayClassName).toBe('istio');
    expect(gateway.spec.addresses).toEqual([{ type: 'Hostname', value: 'istio-ingressgateway.istio-ingress.svc.cluster.local' }]);
    // per-version backend Services, granted to the gateway's routes
    expect(ofKind(o, 'Service').map(s => s.metadata.name).sort()).toEqual(['frontend', 'frontend-v1', 'istio-ingressgateway', 'reviews', 'reviews-v1', 'reviews-v2']);
    const grant = one(o, 'ReferenceGrant');
    expect(grant.metadata.namespace).toBe('shop');
    expect(grant.spec.to.map((t: any) => t.name)).toEqual(['frontend', 'frontend-v1', 'reviews', 'reviews-v1', 'reviews-v2']);
    expect(grant.spec.from).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'istio-ingress' }]);
    const redirect = one(o, 'HTTPRoute', 'istio-ingressgateway-https-redirect');
    expect(redirect.spec.rules[0].filters[0].requestRedirect).toEqual({ scheme: 'https', statusCode: 301 });
    expect(k8s.reviews.inboundRules.map(r => r.source)).toEqual([k8s.g, k8s.g]);
  });

  test('options: NodePort, ClusterIP, listeners, passthrough, mutual TLS, secret, redirect, CORS, gRPC', () => {
    const { chart, mesh, frontend, reviews } = setup();
    const g = gw(chart, {
      mesh,
      serviceType: GatewayServiceType.NODE_PORT,
      listeners: [
        { port: 8443, hosts: ['*.example.com'], tls: GatewayTls.secret('wildcard-cert', { minProtocolVersion: TlsVersion.TLSV1_3 }) },
        { port: 9443, hosts: ['partner.example.com'], tls: GatewayTls.mutual({ secretName: 'partner-cert', cipherSuites: ['ECDHE-ECDSA-AES256-GCM-SHA384'] }) },
        { port: 15443, hosts: ['db.example.com'], tls: GatewayTls.passthrough() },
        { port: 80, hosts: ['*'] },
      ],
    });
    g.route({ host: 'www.example.com', to: frontend, cors: { allowOrigins: ['https://shop.example.com'], allowMethods: ['GET'], maxAge: Duration.minutes(1) } });
    g.route({ host: 'old.example.com', redirect: { host: 'www.example.com', statusCode: 308 } });
    g.route({ host: 'grpc.example.com', to: reviews, port: ServicePort.grpc(7070) });
    g.route({ host: 'db.example.com', to: reviews, port: ServicePort.grpc(7070) });
    const objects = synthValid(chart);
    expect(one(objects, 'Service', 'istio-ingressgateway').spec.type).toBe('NodePort');
    const servers = one(objects, 'Gateway').spec.servers;
    expect(servers.map((s: any) => s.tls?.mode)).toEqual(['SIMPLE', 'MUTUAL', 'PASSTHROUGH', undefined]);
    const tlsVs = one(objects, 'VirtualService', 'istio-ingressgateway-db.example.com');
    expect(tlsVs.spec.tls).toEqual([{ match: [{ sniHosts: ['db.example.com'], port: 15443 }], route: [{ destination: { host: 'reviews.shop.svc.cluster.local', port: { number: 7070 } } }] }]);
    expect(one(objects, 'VirtualService', 'istio-ingressgateway-old.example.com').spec.http[0].redirect).toEqual({ authority: 'www.example.com', redirectCode: 308 });
    expect(ofKind(objects, 'PodDisruptionBudget')).toHaveLength(0);

    const c2 = Testing.chart();
    const m2 = new Mesh(c2, 'mesh', {});
    gw(c2, { mesh: m2, name: 'internal', serviceType: GatewayServiceType.CLUSTER_IP, hosts: ['internal.example.com'] });
    const o2 = synthValid(c2);
    expect(one(o2, 'Service').spec.type).toBe('ClusterIP');
    expect(one(o2, 'Service').spec.selector).toEqual({ istio: 'internal', app: 'internal' });
  });

  test('Gateway API with Istio-automated deployment: no workload objects, principal of <name>-istio', () => {
    const { chart, mesh, frontend } = setup();
    const g = gw(chart, { mesh, hosts: ['shop.example.com'], routingApi: RoutingApi.GATEWAY_API, deployment: GatewayDeployment.ISTIO_AUTOMATED, serviceType: GatewayServiceType.CLUSTER_IP });
    g.route({ to: frontend });
    const objects = synthValid(chart);
    expect(ofKind(objects, 'Deployment').map(d => d.metadata.name)).toEqual(['frontend-v1', 'reviews-v1']);
    const gateway = one(objects, 'Gateway');
    expect(gateway.spec.addresses).toBeUndefined();
    expect(gateway.metadata.annotations).toEqual({ 'networking.istio.io/service-type': 'ClusterIP' });
    expect(g.principal).toBe('cluster.local/ns/istio-ingress/sa/istio-ingressgateway-istio');
    expect(g.podSelector).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'istio-ingressgateway' });
  });

  test('Gateway API timeouts are written in units of at most 5 digits (GEP-2257), found by the property tests', () => {
    const { chart, mesh, frontend } = setup();
    const g = gw(chart, { mesh, hosts: ['shop.example.com'], routingApi: RoutingApi.GATEWAY_API });
    g.route({ to: frontend, timeout: Duration.millis(119986) });
    g.route({ host: 'shop.example.com', path: PathMatch.prefix('/slow'), to: frontend, timeout: Duration.hours(2) });
    const objects = synthValid(chart);
    const timeouts = ofKind(objects, 'HTTPRoute').flatMap(r => r.spec.rules).map((r: any) => r.timeouts?.request).filter(Boolean).sort();
    expect(timeouts).toEqual(['1m59s986ms', '2h']);
  });

  test('no synthesized document contains private key material', () => {
    const { chart, mesh, frontend } = setup();
    gw(chart, { mesh, hosts: ['shop.example.com'], tls: GatewayTls.certManager({ issuer: 'ca', kind: IssuerKind.ISSUER, keyAlgorithm: CaKeyAlgorithm.rsa(4096) }) }).route({ to: frontend });
    gw(chart, { mesh, name: 'api', hosts: ['api.example.com'], tls: TLS, routingApi: RoutingApi.GATEWAY_API }, 'api').route({ to: frontend });
    const text = yamlOf(synthValid(chart));
    expect(text).not.toMatch(/PRIVATE KEY/);
    expect(text).toContain('kind: Certificate');
  });

  describe('bad input', () => {
    const expectError = (fn: () => void, message: RegExp) => expect(fn).toThrow(message);

    test('a host that is not a DNS name or wildcard', () => {
      const { chart, mesh } = setup();
      expectError(() => gw(chart, { mesh, hosts: ['Shop_example.com'] }), /ingress: listeners\[0\]\.hosts 'Shop_example.com' is invalid: must be a DNS name/);
      const g = gw(chart, { mesh, hosts: ['*'] }, 'any');
      expectError(() => g.route({ host: '*', redirect: { scheme: 'https' } }), /any: routes\[0\]\.host '\*' is invalid: .*'\*' is for listeners/);
    });

    test('two listeners on one port with conflicting TLS', () => {
      const { chart, mesh } = setup();
      expectError(() => gw(chart, { mesh, listeners: [{ port: 443, hosts: ['a.example.com'], tls: TLS }, { port: 443, hosts: ['b.example.com'] }] }),
        /listeners\[1\]\.tls 'HTTP on port 443' is invalid: conflicts with listener 'https-443'/);
      expectError(() => gw(chart, { mesh, listeners: [{ port: 443, hosts: ['a.example.com'], tls: TLS }, { port: 443, hosts: ['a.example.com'], tls: GatewayTls.secret('other') }] }, 'two'),
        /two: listeners\[1\]\.tls 'a.example.com' is invalid: conflicts with listener 'https-443' on port 443/);
    });

    test('a route to a port the service does not expose', () => {
      const { chart, mesh, frontend } = setup();
      const g = gw(chart, { mesh, hosts: ['shop.example.com'] });
      expectError(() => g.route({ to: frontend, port: ServicePort.http(8080) }), /routes\[0\]\.port 'http\/8080' is invalid: must be a port frontend.shop.svc.cluster.local exposes: http\/9080/);
    });

    test('TLS SIMPLE without an issuer or a secret', () => {
      const { chart, mesh } = setup();
      expectError(() => gw(chart, { mesh, hosts: ['a.example.com'], tls: GatewayTls.secret('') }), /tls\.secretName '' is invalid: must name the Secret/);
      expectError(() => gw(chart, { mesh, hosts: ['a.example.com'], tls: GatewayTls.certManager({ issuer: '' }) }, 'b'), /tls\.issuer '' is invalid: must name a cert-manager issuer/);
    });

    test('certificate duration shorter than renewBefore', () => {
      const { chart, mesh } = setup();
      expectError(() => gw(chart, { mesh, hosts: ['a.example.com'], tls: GatewayTls.certManager({ issuer: 'le', duration: Duration.hours(24), renewBefore: Duration.hours(48) }) }),
        /tls\.renewBefore '2 days' is invalid: must be shorter than the certificate's duration/);
    });

    test('RSA key below 2048 bits', () => {
      const { chart, mesh } = setup();
      expectError(() => gw(chart, { mesh, hosts: ['a.example.com'], tls: GatewayTls.certManager({ issuer: 'le', keyAlgorithm: CaKeyAlgorithm.rsa(1024) }) }),
        /tls\.keyAlgorithm 'RSA 1024' is invalid: RSA keys must be 2048, 3072, 4096 bits/);
    });

    test('a route host no listener serves (IST0132)', () => {
      const { chart, mesh, frontend } = setup();
      const g = gw(chart, { mesh, hosts: ['*.example.com'] });
      g.route({ host: 'shop.example.com', to: frontend });
      expectError(() => g.route({ host: 'shop.example.org', to: frontend }), /routes\[1\]\.host 'shop.example.org' is invalid: is not served by any listener of the gateway \(IST0132\)/);
    });

    test('options the Gateway API cannot express', () => {
      const { chart, mesh, frontend } = setup();
      expectError(() => gw(chart, { mesh, hosts: ['a.example.com'], tls: GatewayTls.mutual({ secretName: 'x' }), routingApi: RoutingApi.GATEWAY_API }),
        /tls 'GatewayTls.mutual\(\)' is invalid: is not expressible with the Gateway API standard channel: set the MeshGateway's routingApi to RoutingApi.ISTIO$/);
      const g = gw(chart, { mesh, hosts: ['a.example.com'], routingApi: RoutingApi.GATEWAY_API }, 'k');
      expectError(() => g.route({ to: frontend, retries: { attempts: 3 } }), /routes\[0\]\.retries .* is invalid: are not in the Gateway API standard channel: set the MeshGateway's routingApi to RoutingApi.ISTIO, or drop retries$/);
      expectError(() => gw(chart, { mesh, hosts: ['a.example.com'], deployment: GatewayDeployment.ISTIO_AUTOMATED }, 'auto'), /deployment 'ISTIO_AUTOMATED' is invalid: ISTIO_AUTOMATED needs routingApi GATEWAY_API/);
    });

    test('route: exactly one of to and redirect; certManager for host *', () => {
      const { chart, mesh, frontend } = setup();
      const g = gw(chart, { mesh, hosts: ['a.example.com'] });
      expectError(() => g.route({ to: frontend, redirect: { scheme: 'https' } }), /routes\[0\]\.to 'to and redirect' is invalid: exactly one of `to` and `redirect`/);
      expectError(() => gw(chart, { mesh, hosts: ['*'], tls: TLS }, 'star'), /cannot issue a certificate for host '\*'/);
    });
  });
});
