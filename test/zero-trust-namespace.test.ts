import { ApiObject, App, Chart, Testing } from 'cdk8s';
import {
  analyze, EgressGateway, ExternalService, GatewayDeployment, InjectionMode, IstioControlPlane, JwtRule, Mesh, MeshedService,
  MeshedServiceProps, MeshGateway, MeshNamespace, PodSecurityLevel, PolicyMode, RoutingApi, ServicePort, UpstreamTls,
  ZeroTrustNamespace, ZeroTrustNamespaceProps,
} from '../src';
import { expectValid, ofKind, one, synthAppValid, synthValid, yamlOf } from './util';
import { BASELINE_ALLOWED_CAPABILITIES } from '../src/security/constants';

const POLICY_KINDS = ['Namespace', 'PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication', 'NetworkPolicy', 'Sidecar', 'ServiceEntry'];

function setup(meshProps: any = {}, nsProps: Partial<ZeroTrustNamespaceProps> = {}) {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', meshProps);
  const ns = new ZeroTrustNamespace(chart, 'ns', { mesh, name: 'shop', ...nsProps });
  return { chart, mesh, ns };
}

function svc(scope: Chart, id: string, props: Partial<MeshedServiceProps> & { namespace: any }): MeshedService {
  return new MeshedService(scope, id, { image: `example/${id}:1.0`, ports: [ServicePort.http(9080)], ...props });
}

/** The objects ZeroTrustNamespace renders (the services' own Deployments, Services... are not its). */
function policyObjects(objects: any[]): any[] {
  return objects.filter(o => POLICY_KINDS.includes(o.kind) || (o.kind === 'DestinationRule' && o.metadata.name.startsWith('external-')));
}

function jwt() {
  return JwtRule.issuer('https://accounts.example.com', {
    jwksUri: 'https://accounts.example.com/.well-known/jwks.json',
    audiences: ['shop'],
    fromHeaders: [{ name: 'x-jwt', prefix: 'Bearer ' }],
    forwardOriginalToken: true,
  });
}

/** A shop: frontend -> reviews (GET /api/*) -> ratings -> db (TCP), with external calls, JWT and the escape hatches. */
function shop(meshProps: any = {}, nsProps: Partial<ZeroTrustNamespaceProps> = {}) {
  const { chart, mesh, ns } = setup(meshProps, nsProps);
  const frontend = svc(chart, 'frontend', { namespace: ns });
  const reviews = svc(chart, 'reviews', { namespace: ns, ports: [ServicePort.http(9080), ServicePort.http(9081, { nameSuffix: 'admin' })] });
  const ratings = svc(chart, 'ratings', { namespace: ns, ports: [ServicePort.grpc(8080, { targetPort: 18080 })] });
  const db = svc(chart, 'db', { namespace: ns, ports: [ServicePort.tcp(5432)] });
  frontend.connectsTo(reviews, { ports: [reviews.ports[0]], methods: ['GET'], paths: ['/api/*'] });
  reviews.connectsTo(ratings);
  ratings.connectsTo(db);
  reviews.connectsTo(db);
  frontend.connectsToExternal(ExternalService.https('api.stripe.com'));
  reviews.connectsToExternal(ExternalService.http('legacy.example.com', 80, { originateTls: true }));
  ratings.connectsToExternal(ExternalService.tcp('pg.example.com', 5432, ['203.0.113.10']));
  ns.requireJwt(frontend, jwt(), { exceptPaths: ['/healthz', '/public/*'], claims: { group: 'customers' } });
  ns.permissiveMtls(db, db.ports[0], { namespaces: ['legacy'], cidrs: ['10.20.0.0/16'] });
  ns.allowFromAnyMeshed(reviews, { ports: [reviews.ports[1]] });
  return { chart, mesh, ns, frontend, reviews, ratings, db };
}

describe('ZeroTrustNamespace', () => {
  test('a shop namespace (snapshot, schema-valid)', () => {
    const { chart } = shop({}, { metricsScraper: { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' } } });
    const objects = synthValid(chart);
    expect(yamlOf(policyObjects(objects))).toMatchSnapshot();
  });

  test('deterministic: two synths give the same objects', () => {
    const a = shop().chart;
    const b = shop().chart;
    expect(JSON.stringify(Testing.synth(a))).toEqual(JSON.stringify(Testing.synth(b)));
    expect(JSON.stringify(Testing.synth(a))).toEqual(JSON.stringify(Testing.synth(b)));
  });

  describe('namespace labels', () => {
    test('default revision: istio-injection=enabled, no istio.io/rev (IST0123)', () => {
      for (const injectionMode of [InjectionMode.WEBHOOK, InjectionMode.SYNTH_TIME]) {
        const { chart } = setup({ injectionMode });
        const labels = one(synthValid(chart), 'Namespace', 'shop').metadata.labels;
        expect(labels['istio-injection']).toBe('enabled');
        expect(labels['istio.io/rev']).toBeUndefined();
      }
    });

    test('revisioned mesh: istio.io/rev only', () => {
      const { chart } = setup({ revision: '1-30', injectionMode: InjectionMode.WEBHOOK });
      const labels = one(synthValid(chart), 'Namespace', 'shop').metadata.labels;
      expect(labels['istio.io/rev']).toBe('1-30');
      expect(labels['istio-injection']).toBeUndefined();
    });

    test('Pod Security: restricted with CNI (the default); privileged enforce, restricted warn/audit with the cni: false opt-out', () => {
      const cni = one(synthValid(setup().chart), 'Namespace', 'shop').metadata.labels;
      expect(cni).toMatchObject({
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'v1.33',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
      });
      expect(setup().mesh.cni).toBe(true);
      const noCni = one(synthValid(setup({ cni: false }).chart), 'Namespace', 'shop').metadata.labels;
      expect(noCni['pod-security.kubernetes.io/enforce']).toBe('privileged');
      expect(noCni['pod-security.kubernetes.io/warn']).toBe('restricted');
    });

    test('the injected pods match the chosen level: restricted-clean with CNI; NET_ADMIN/NET_RAW (not baseline) without', () => {
      const pods = (meshProps: any) => {
        const { chart, ns } = setup(meshProps);
        svc(chart, 'web', { namespace: ns });
        return ofKind(synthValid(chart), 'Deployment').map(d => d.spec.template.spec);
      };
      for (const spec of pods({})) {
        const containers = [...spec.containers, ...(spec.initContainers ?? [])];
        for (const c of containers) {
          const sc = c.securityContext ?? {};
          expect(sc.capabilities?.add ?? []).toEqual([]);
          expect(sc.capabilities?.drop).toContain('ALL');
          expect(sc.allowPrivilegeEscalation).toBe(false);
          expect(sc.privileged ?? false).toBe(false);
          expect(sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot).toBe(true);
          expect(sc.runAsUser ?? spec.securityContext?.runAsUser).not.toBe(0);
          expect(sc.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
        }
      }
      const added = pods({ cni: false }).flatMap(s => (s.initContainers ?? []).flatMap((c: any) => c.securityContext?.capabilities?.add ?? []));
      expect(added).toEqual(expect.arrayContaining(['NET_ADMIN', 'NET_RAW']));
      expect(added.filter((c: string) => !BASELINE_ALLOWED_CAPABILITIES.includes(c)).sort()).toEqual(['NET_ADMIN', 'NET_RAW']);
    });
  });

  test('STRICT mTLS, allow-nothing, and one ALLOW policy per service with exactly its callers', () => {
    const { chart, frontend, db } = shop();
    const objects = synthValid(chart);
    expect(one(objects, 'PeerAuthentication', 'default').spec).toEqual({ mtls: { mode: 'STRICT' } });
    expect(one(objects, 'AuthorizationPolicy', 'allow-nothing').spec).toEqual({});
    const r = one(objects, 'AuthorizationPolicy', 'reviews').spec;
    expect(r.selector).toEqual({ matchLabels: { app: 'reviews' } });
    expect(r.action).toBe('ALLOW');
    expect(r.rules).toContainEqual({
      from: [{ source: { principals: [frontend.principal] } }],
      to: [{ operation: { ports: ['9080'], methods: ['GET'], paths: ['/api/*'] } }],
    });
    // allowFromAnyMeshed: any mTLS peer on the admin port
    expect(r.rules).toContainEqual({ from: [{ source: { principals: ['*'] } }], to: [{ operation: { ports: ['9081'] } }] });
    // the TCP port gets ports only; the permissive port admits unauthenticated peers only (the NetworkPolicy names
    // their namespaces and blocks), never a rule without `from`
    const d = one(objects, 'AuthorizationPolicy', 'db').spec;
    expect(d.rules).toContainEqual({ from: [{ source: { notPrincipals: ['*'] } }], to: [{ operation: { ports: ['5432'] } }] });
    expect(d.rules.every((x: any) => x.from)).toBe(true);
    expect(d.rules.every((x: any) => Object.keys(x.to[0].operation).join() === 'ports')).toBe(true);
    expect(JSON.stringify(objects)).not.toContain('spiffe://');
    // per-port exception on a selected PeerAuthentication (Istio rejects port-level mTLS without a selector)
    expect(one(objects, 'PeerAuthentication', 'db-permissive').spec).toEqual({
      selector: { matchLabels: { app: 'db' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { 5432: { mode: 'PERMISSIVE' } },
    });
    expect(db.principal).toBe('cluster.local/ns/shop/sa/db');
    // targetPort, not port
    expect(one(objects, 'AuthorizationPolicy', 'ratings').spec.rules[0].to[0].operation.ports).toEqual(['18080']);
  });

  test('connections added after the namespace and the services still reach the output (lazy)', () => {
    const { chart, ns } = setup();
    const a = svc(chart, 'a', { namespace: ns });
    const b = svc(chart, 'b', { namespace: ns });
    expect(ofKind(Testing.synth(chart), 'AuthorizationPolicy', 'b')).toHaveLength(0);
    a.connectsTo(b);
    const objects = synthValid(chart);
    expect(one(objects, 'AuthorizationPolicy', 'b').spec.rules[0].from[0].source.principals).toEqual([a.principal]);
    expect(one(objects, 'Sidecar', 'a').spec.egress[0].hosts).toEqual(['istio-system/*', `shop/${b.host}`]);
  });

  describe('the synthesized policies allow exactly the declared graph', () => {
    function graph() {
      const app = Testing.app();
      const platform = new Chart(app, 'platform');
      const mesh = new Mesh(platform, 'mesh', { trustDomain: 'example.org' });
      const charts = ['shop', 'pay'].map(n => new Chart(app, n));
      const nss = charts.map((c, i) => new ZeroTrustNamespace(c, 'ns', { mesh, name: ['shop', 'pay'][i] }));
      const services: MeshedService[] = [];
      for (let i = 0; i < 12; i++) {
        const k = i % 2;
        const ports = i % 3 === 0 ? [ServicePort.http(8080), ServicePort.tcp(9000 + i)] : [ServicePort.grpc(7000 + i, { targetPort: 17000 + i })];
        services.push(svc(charts[k], `s${i}`, { namespace: nss[k], ports, serviceAccountName: `sa-${i}` }));
      }
      // a deterministic sparse graph, across namespaces, some with port subsets and HTTP constraints
      for (let i = 0; i < 12; i++) {
        for (const j of [(i * 5 + 1) % 12, (i * 7 + 3) % 12]) {
          if (i === j) continue;
          const t = services[j];
          if (t.ports.length > 1 && i % 2 === 0) services[i].connectsTo(t, { ports: [t.ports[0]], methods: ['GET', 'POST'] });
          else services[i].connectsTo(t);
        }
      }
      const objects = [...synthValidApp(app)];
      return { services, objects, mesh };
    }
    function synthValidApp(app: App) {
      const objects = app.charts.flatMap(c => Testing.synth(c));
      expectValid(objects);
      return objects;
    }
    const declared = (services: MeshedService[]) => new Set(services.flatMap(t => t.inboundRules.flatMap(e =>
      e.ports.map(p => `${e.source.principal} -> ${t.namespace.name}/${t.name}:${p.targetPort}`))));

    test('AuthorizationPolicies: (principal, service, port) derived back equals the declared edges', () => {
      const { services, objects } = graph();
      const derived = new Set<string>();
      for (const ap of ofKind(objects, 'AuthorizationPolicy')) {
        if (ap.metadata.name === 'allow-nothing') {
          expect(ap.spec).toEqual({});
          continue;
        }
        expect(ap.spec.action).toBe('ALLOW');
        for (const rule of ap.spec.rules) {
          expect(rule.from).toBeDefined();
          for (const from of rule.from) {
            for (const principal of from.source.principals) {
              expect(principal).not.toBe('*');
              for (const to of rule.to) {
                for (const port of to.operation.ports) derived.add(`${principal} -> ${ap.metadata.namespace}/${ap.spec.selector.matchLabels.app}:${port}`);
              }
            }
          }
        }
      }
      expect([...derived].sort()).toEqual([...declared(services)].sort());
      expect(derived.size).toBeGreaterThan(20);
      expect(ofKind(objects, 'AuthorizationPolicy', 'allow-nothing')).toHaveLength(2);
    });

    test('NetworkPolicies: ingress and egress (pods, port) derived back equal the declared edges', () => {
      const { services, objects } = graph();
      const podKey = (ns: string, sel: any) => {
        const s = services.find(x => x.namespace.name === ns && x.name === sel.matchLabels.app)!;
        return s.principal; // identify the pods by the workload they select
      };
      const ingress = new Set<string>();
      const egress = new Set<string>();
      for (const np of ofKind(objects, 'NetworkPolicy')) {
        if (['default-deny', 'allow-dns', 'allow-istiod'].includes(np.metadata.name)) continue;
        const ns = np.metadata.namespace;
        const self = services.find(x => x.namespace.name === ns && x.name === np.spec.podSelector.matchLabels.app)!;
        for (const r of np.spec.ingress ?? []) {
          for (const peer of r.from) {
            for (const p of r.ports) ingress.add(`${podKey(peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name'], peer.podSelector)} -> ${ns}/${self.name}:${p.port}`);
          }
        }
        for (const r of np.spec.egress ?? []) {
          for (const peer of r.to) {
            const tns = peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name'];
            for (const p of r.ports) egress.add(`${self.principal} -> ${tns}/${peer.podSelector.matchLabels.app}:${p.port}`);
          }
        }
      }
      expect([...ingress].sort()).toEqual([...declared(services)].sort());
      expect([...egress].sort()).toEqual([...declared(services)].sort());
      for (const ns of ['shop', 'pay']) {
        expect(one(objects.filter(o => o.metadata.namespace === ns), 'NetworkPolicy', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      }
    });

    test('Sidecars list exactly the hosts each service calls plus the control plane', () => {
      const { services, objects } = graph();
      for (const s of services) {
        const sc = one(objects.filter(o => o.metadata.namespace === s.namespace.name), 'Sidecar', s.name).spec;
        const expected = new Set(s.outboundDependencies.map(e => `${e.target.namespace.name}/${e.target.host}`));
        expect(sc.egress[0].hosts).toEqual(['istio-system/*', ...[...expected].sort()]);
        expect(sc.outboundTrafficPolicy).toEqual({ mode: 'REGISTRY_ONLY' });
        expect(sc.workloadSelector).toEqual({ labels: s.podSelector });
      }
    });
  });

  test('per-proxy hosts with and without Sidecar scoping: 200 services, 3 dependencies each', () => {
    const { chart, ns } = setup();
    const services: MeshedService[] = [];
    for (let i = 0; i < 200; i++) services.push(svc(chart, `svc-${i}`, { namespace: ns }));
    for (let i = 0; i < 200; i++) for (const d of [1, 2, 3]) services[i].connectsTo(services[(i + d) % 200]);
    const start = Date.now();
    const objects = Testing.synth(chart);
    const ms = Date.now() - start;
    const withoutScoping = ofKind(objects, 'Service').length; // every proxy learns every service of the mesh
    const sidecars = ofKind(objects, 'Sidecar').filter(s => s.spec.workloadSelector);
    const perProxy = sidecars.map(s => s.spec.egress[0].hosts.filter((h: string) => !h.endsWith('/*')).length);
    expect(withoutScoping).toBe(200);
    expect(sidecars).toHaveLength(200);
    expect(new Set(perProxy)).toEqual(new Set([3]));
    expect(sidecars.every(s => s.spec.egress[0].hosts.includes('istio-system/*'))).toBe(true);
    // eslint-disable-next-line no-console
    console.log(`per-proxy service hosts: ${withoutScoping} without Sidecar scoping, ${perProxy[0]} + istio-system/* with; synth of 200 services ${ms} ms`);
  });

  test('external hosts are checked in linear time: 2,000 hosts in one namespace read each declaration a bounded number of times', () => {
    const { chart, ns } = setup();
    const workloads = [0, 1, 2, 3].map(i => svc(chart, `w${i}`, { namespace: ns }));
    // every read of a property of a declared destination counts: the protocol check (IST0177) must look a new host up,
    // not compare it with every earlier one (that is n^2/2 = 2,000,000 reads for 2,000 hosts)
    let reads = 0;
    const counted = (x: ExternalService) => new Proxy(x, { get: (t, k, r) => { reads++; return Reflect.get(t, k, r); } });
    const n = 2000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) workloads[i % 4].connectsToExternal(counted(ExternalService.https(`h${i}.example.com`, 443 + (i % 3))));
    // the same host and port again, from another workload: still checked (and accepted with the same settings)
    workloads[1].connectsToExternal(counted(ExternalService.https('h0.example.com', 443)));
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    // eslint-disable-next-line no-console
    console.log(`${n} external hosts declared in one namespace: ${reads} property reads, ${ms.toFixed(0)} ms`);
    expect(reads).toBeLessThan(50 * n);
    expect(ns.node.children.filter(c => c instanceof ApiObject && c.kind === 'ServiceEntry')).toHaveLength(n);
    // the check still refuses a clash, wherever the earlier declaration is
    expect(() => workloads[3].connectsToExternal(ExternalService.tls('h1000.example.com', 443 + (1000 % 3))))
      .toThrow(/test\/ns: external h1000.example.com port 444 is invalid: is declared twice with different settings \(HTTPS->444 by test\/w0 and TLS->444 by test\/w3\)/);
  });

  describe('egress', () => {
    test('ServiceEntries, TLS origination, Sidecar hosts and NetworkPolicy egress for external destinations', () => {
      const { chart } = shop();
      const objects = synthValid(chart);
      expect(one(objects, 'ServiceEntry', 'external-api-stripe-com').spec).toEqual({
        hosts: ['api.stripe.com'],
        ports: [{ number: 443, name: 'https-443', protocol: 'HTTPS' }],
        location: 'MESH_EXTERNAL',
        resolution: 'DNS',
        exportTo: ['.'],
      });
      expect(one(objects, 'ServiceEntry', 'external-legacy-example-com').spec.ports).toEqual([{ number: 80, name: 'http-80', protocol: 'HTTP', targetPort: 443 }]);
      expect(one(objects, 'DestinationRule', 'external-legacy-example-com').spec).toEqual({
        host: 'legacy.example.com',
        exportTo: ['.'],
        // the OS's CA certificates, said explicitly (Istio 1.30.3 cluster_tls.go reads an empty caCertificates as
        // 'system'; written out, istioctl analyze has no IST0129 to report)
        trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, tls: { mode: 'SIMPLE', sni: 'legacy.example.com', subjectAltNames: ['legacy.example.com'], caCertificates: 'system' } }] },
      });
      expect(analyze(objects).filter(f => f.code === 'IST0128' || f.code === 'IST0129')).toEqual([]);
      expect(one(objects, 'ServiceEntry', 'external-pg-example-com').spec.addresses).toEqual(['203.0.113.10']);
      expect(one(objects, 'Sidecar', 'frontend').spec.egress[0].hosts).toEqual(['istio-system/*', 'shop/api.stripe.com', 'shop/reviews.shop.svc.cluster.local']);
      // NetworkPolicy: L3 cannot name hosts, so the port is opened to any address; the wire port with TLS origination
      expect(one(objects, 'NetworkPolicy', 'frontend').spec.egress).toContainEqual({
        to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }], ports: [{ protocol: 'TCP', port: 443 }],
      });
      expect(one(objects, 'NetworkPolicy', 'reviews').spec.egress).toContainEqual({
        to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }], ports: [{ protocol: 'TCP', port: 443 }],
      });
      expect(one(objects, 'NetworkPolicy', 'ratings').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '203.0.113.10/32' } }], ports: [{ protocol: 'TCP', port: 5432 }] });
      // DNS and istiod for every pod
      expect(one(objects, 'NetworkPolicy', 'allow-dns').spec.egress[0].ports).toEqual([{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
      expect(one(objects, 'NetworkPolicy', 'allow-istiod').spec.egress).toEqual([{
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { 'app': 'istiod', 'istio.io/rev': 'default' } } }],
        ports: [{ protocol: 'TCP', port: 15012 }],
      }]);
    });

    test('wildcard HTTPS hosts resolve NONE', () => {
      const { chart, ns } = setup();
      svc(chart, 'a', { namespace: ns }).connectsToExternal(ExternalService.https('*.wikipedia.org'));
      const se = one(synthValid(chart), 'ServiceEntry', 'external-wildcard-wikipedia-org').spec;
      expect(se).toMatchObject({ hosts: ['*.wikipedia.org'], resolution: 'NONE' });
    });

    test('allowAnyEgress: no REGISTRY_ONLY, no egress NetworkPolicies', () => {
      const { chart } = shop({}, { allowAnyEgress: true });
      const objects = synthValid(chart);
      expect(one(objects, 'Sidecar', 'frontend').spec.outboundTrafficPolicy).toBeUndefined();
      expect(one(objects, 'NetworkPolicy', 'default-deny').spec.policyTypes).toEqual(['Ingress']);
      expect(ofKind(objects, 'NetworkPolicy').some(n => n.spec.egress)).toBe(false);
    });

    test('an external CA (istio-csr) gets its own egress rule, to the port its pods listen on', () => {
      // istio-csr's Service maps 443 to its pods' 6443; a NetworkPolicy matches the pod's port (issue 13, item 3)
      const { chart } = setup({ caAddress: 'cert-manager-istio-csr.cert-manager.svc:443' });
      expect(one(synthValid(chart), 'NetworkPolicy', 'allow-istiod').spec.egress[1]).toEqual({
        to: [{
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'cert-manager' } },
          podSelector: { matchLabels: { app: 'cert-manager-istio-csr' } },
        }],
        ports: [{ protocol: 'TCP', port: 6443 }],
      });
    });
  });

  test('JWT: RequestAuthentication and a DENY policy AND-ed with the caller list', () => {
    const { chart } = shop();
    const objects = synthValid(chart);
    expect(one(objects, 'RequestAuthentication', 'frontend-jwt').spec).toEqual({
      selector: { matchLabels: { app: 'frontend' } },
      jwtRules: [{
        issuer: 'https://accounts.example.com',
        jwksUri: 'https://accounts.example.com/.well-known/jwks.json',
        audiences: ['shop'],
        fromHeaders: [{ name: 'x-jwt', prefix: 'Bearer ' }],
        forwardOriginalToken: true,
      }],
    });
    const deny = one(objects, 'AuthorizationPolicy', 'frontend-require-jwt').spec;
    expect(deny.action).toBe('DENY');
    // negative path matching (Istio's DENY-with-negative-match pattern); '/public/*' also exempts '/public'
    const to = [{ operation: { ports: ['9080'], notPaths: ['/healthz', '/public', '/public/*'] } }];
    expect(deny.rules).toEqual([
      { from: [{ source: { notRequestPrincipals: ['https://accounts.example.com/*'] } }], to },
      { to, when: [{ key: 'request.auth.claims[group]', notValues: ['customers'] }] },
    ]);
  });

  test('JWT: namespace-wide acceptance and subjects', () => {
    const { chart, ns } = setup();
    const a = svc(chart, 'a', { namespace: ns });
    ns.acceptJwt(jwt());
    ns.requireJwt(a, jwt(), { subjects: ['alice'] });
    const objects = synthValid(chart);
    expect(one(objects, 'RequestAuthentication', 'jwt').spec.selector).toBeUndefined();
    expect(one(objects, 'AuthorizationPolicy', 'a-require-jwt').spec.rules[0].from[0].source.notRequestPrincipals).toEqual(['https://accounts.example.com/alice']);
  });

  test('DRY_RUN: every AuthorizationPolicy shadow-evaluated; no NetworkPolicy or Sidecar', () => {
    const { chart } = shop({}, { mode: PolicyMode.DRY_RUN });
    const objects = synthValid(chart);
    const aps = ofKind(objects, 'AuthorizationPolicy');
    expect(aps.map(a => a.metadata.name)).toContain('allow-nothing');
    for (const a of aps) expect(a.metadata.annotations).toEqual({ 'istio.io/dry-run': 'true' });
    expect(ofKind(objects, 'NetworkPolicy')).toHaveLength(0);
    expect(ofKind(objects, 'Sidecar')).toHaveLength(0);
  });

  test('AUDIT: AUDIT actions, no allow-nothing, nothing that blocks', () => {
    const { chart } = shop({}, { mode: PolicyMode.AUDIT });
    const objects = synthValid(chart);
    const aps = ofKind(objects, 'AuthorizationPolicy');
    expect(aps.map(a => a.metadata.name)).not.toContain('allow-nothing');
    expect(new Set(aps.map(a => a.spec.action))).toEqual(new Set(['AUDIT']));
    expect(ofKind(objects, 'NetworkPolicy')).toHaveLength(0);
    expect(one(objects, 'PeerAuthentication', 'default').spec.mtls.mode).toBe('STRICT');
  });

  test('metrics scrape ingress on 15020 and 15090 only when a scraper is named', () => {
    expect(ofKind(synthValid(setup().chart), 'NetworkPolicy', 'allow-metrics-scrape')).toHaveLength(0);
    const np = one(synthValid(setup({}, { metricsScraper: { namespace: 'monitoring' } }).chart), 'NetworkPolicy', 'allow-metrics-scrape').spec;
    expect(np.ingress).toEqual([{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 15020 }, { protocol: 'TCP', port: 15090 }] }]);
  });

  describe('bad input', () => {
    test('a connection to something that is not a meshed service', () => {
      const { chart, ns } = setup();
      const a = svc(chart, 'a', { namespace: ns });
      expect(() => a.connectsTo({} as any)).toThrow(/connectsTo target .* is invalid: must be a meshed service/);
      expect(() => ns.allowFromAnyMeshed({ name: 'x' } as any)).toThrow(/allowFromAnyMeshed service .* is invalid: must be a meshed service/);
    });

    test('a service in a plain namespace without a mesh', () => {
      const chart = Testing.chart();
      expect(() => svc(chart, 'a', { namespace: { name: 'plain' } as any })).toThrow(/namespace .* is invalid: must be a meshed namespace/);
    });

    test('a port the target does not expose', () => {
      const { chart, ns } = setup();
      const a = svc(chart, 'a', { namespace: ns });
      const b = svc(chart, 'b', { namespace: ns });
      expect(() => a.connectsTo(b, { ports: [ServicePort.http(1234)] })).toThrow(/port 'http\/1234' is invalid: must be a port b exposes: http\/9080/);
      expect(() => ns.permissiveMtls(b, ServicePort.tcp(9080), { namespaces: ['legacy'] })).toThrow(/permissiveMtls port 'tcp\/9080' is invalid: must be a port b exposes/);
      expect(() => ns.allowFromAnyMeshed(b, { ports: [ServicePort.http(1)] })).toThrow(/allowFromAnyMeshed port 'http\/1' is invalid/);
    });

    test('a policy for a service of another namespace', () => {
      const { chart, mesh, ns } = setup();
      const other = MeshNamespace.fromName(chart, 'other', { name: 'other', mesh });
      const b = svc(chart, 'b', { namespace: other });
      expect(() => ns.permissiveMtls(b, b.ports[0], { namespaces: ['legacy'] })).toThrow(/ns: permissiveMtls service 'test\/b' is invalid: must be in namespace 'shop', not 'other'/);
    });

    test('a path Istio does not accept (* only at the start or the end); token exceptions: exact or /x/* only', () => {
      const { chart, ns } = setup();
      const a = svc(chart, 'a', { namespace: ns });
      const b = svc(chart, 'b', { namespace: ns });
      expect(() => ns.requireJwt(a, jwt(), { exceptPaths: ['/api/*/items'] })).toThrow(/requireJwt exceptPaths '\/api\/\*\/items' is invalid: must be an exact path \('\/healthz'\) or a prefix ending in '\/\*'/);
      expect(() => ns.requireJwt(a, jwt(), { exceptPaths: ['*.css'] })).toThrow(/exceptPaths '\*.css' is invalid: .*a suffix such as '\*.css' would exempt/);
      expect(() => ns.requireJwt(a, jwt(), { exceptPaths: ['/*'] })).toThrow(/exceptPaths '\/\*' is invalid: must not exempt every path/);
      expect(() => ns.requireJwt(a, jwt(), { exceptPaths: ['/a/../b'] })).toThrow(/exceptPaths '\/a\/..\/b' is invalid: must not contain '.' or '..' segments/);
      expect(() => a.connectsTo(b, { paths: ['/a*b'] })).toThrow(/paths '\/a\*b' is invalid/);
    });

    test('a JWKS URI that is not https', () => {
      expect(() => JwtRule.issuer('https://idp', { jwksUri: 'http://idp/jwks.json' })).toThrow(/JwtRule: jwksUri 'http:\/\/idp\/jwks.json' is invalid: must be an https:\/\/ URL/);
    });

    test('one issuer accepted twice with different settings', () => {
      const { chart, ns } = setup();
      const a = svc(chart, 'a', { namespace: ns });
      ns.acceptJwt(jwt(), a);
      const other = JwtRule.issuer('https://accounts.example.com', { jwksUri: 'https://elsewhere.example.com/jwks' });
      expect(() => ns.acceptJwt(other, a)).toThrow(/jwt issuer 'https:\/\/accounts.example.com' is invalid: is already accepted with different settings/);
    });

    test('JWT requirement on a service without HTTP ports', () => {
      const { chart, ns } = setup();
      const db = svc(chart, 'db', { namespace: ns, ports: [ServicePort.tcp(5432)] });
      expect(() => ns.requireJwt(db, jwt())).toThrow(/requireJwt service 'test\/db' is invalid: must have an HTTP port/);
    });

    test('an external host that is not a valid DNS name, or a wildcard where Istio cannot use one', () => {
      expect(() => ExternalService.https('api_stripe.com')).toThrow(/ExternalService: host 'api_stripe.com' is invalid: must be a lowercase fully qualified DNS name/);
      expect(() => ExternalService.https('localhost')).toThrow(/host 'localhost' is invalid/);
      expect(() => ExternalService.https('API.example.com')).toThrow(/host 'API.example.com' is invalid/);
      expect(() => ExternalService.https('a.*.example.com')).toThrow(/wildcard is allowed only as a leading/);
      expect(() => ExternalService.https('*.com')).toThrow(/host '\*.com' is invalid/);
      expect(() => ExternalService.tcp('*.example.com', 5432)).toThrow(/must not be a wildcard for TCP/);
      expect(() => ExternalService.http('*.example.com', 80, { originateTls: true })).toThrow(/must not be a wildcard with originateTls/);
      expect(() => ExternalService.tcp('db.example.com', 5432, ['10.0.0.300'])).toThrow(/addresses '10.0.0.300' is invalid/);
      expect(() => ExternalService.https('api.example.com', 70000)).toThrow(/port 70000 is invalid/);
    });

    test('one external host and port declared with different protocols', () => {
      const { chart, ns } = setup();
      const a = svc(chart, 'a', { namespace: ns });
      a.connectsToExternal(ExternalService.https('api.example.com', 8443));
      // refused when declared, naming both declarations
      expect(() => a.connectsToExternal(ExternalService.tls('api.example.com', 8443)))
        .toThrow(/test\/ns: external api.example.com port 8443 is invalid: is declared twice with different settings \(HTTPS->8443 by test\/a and TLS->8443 by test\/a\)/);
    });

    test('two ZeroTrustNamespaces with the same name in one app', () => {
      const app = Testing.app();
      const c1 = new Chart(app, 'one');
      const c2 = new Chart(app, 'two');
      const mesh = new Mesh(c1, 'mesh');
      new ZeroTrustNamespace(c1, 'ns', { mesh, name: 'shop' });
      expect(() => new ZeroTrustNamespace(c2, 'ns', { mesh, name: 'shop' })).toThrow(/two\/ns: name 'shop' is invalid: must be unique in the app: one\/ns already defines namespace 'shop'/);
    });

    test('a Pod Security level stricter than the proxy setup allows', () => {
      expect(() => setup({ cni: false }, { podSecurity: PodSecurityLevel.BASELINE })).toThrow(/podSecurity 'baseline' is invalid: must be 'privileged' with the mesh's cni: false opt-out/);
      expect(() => setup({}, { podSecurity: PodSecurityLevel.BASELINE })).not.toThrow();
    });

    test('the control plane namespace', () => {
      expect(() => setup({}, { name: 'istio-system' })).toThrow(/name 'istio-system' is invalid: must not be the control plane's namespace/);
    });

    test('conflicting modes: callers told to send plain text to a STRICT port, from any namespace', () => {
      const app = Testing.app();
      const a = new Chart(app, 'a');
      const b = new Chart(app, 'b');
      const mesh = new Mesh(a, 'mesh');
      const nsA = new ZeroTrustNamespace(a, 'ns', { mesh, name: 'ns-a' });
      const nsB = new ZeroTrustNamespace(b, 'ns', { mesh, name: 'ns-b', mode: PolicyMode.DRY_RUN });
      const legacy = svc(a, 'legacy', { namespace: nsA, trafficPolicy: { tls: UpstreamTls.disabledAllowPlaintext() } });
      const caller = svc(b, 'caller', { namespace: nsB });
      const back = svc(a, 'back', { namespace: nsA });
      caller.connectsTo(legacy);
      legacy.connectsTo(caller); // a cycle between the namespaces changes nothing: the rule is per port
      back.connectsTo(caller);
      expect(() => Testing.synth(b)).toThrow(/a\/ns: legacy port http\/9080 'plaintext \(UpstreamTls.disabledAllowPlaintext\)' is invalid: conflicts with STRICT mTLS in namespace 'ns-a'/);
      nsA.permissiveMtls(legacy, legacy.ports[0], { namespaces: ['ns-b'] });
      expect(() => Testing.synth(b)).not.toThrow();
    });
  });
});

/** Istio's path normalization as the mesh config sets it (DECODE_AND_MERGE_SLASHES): decode, merge, dot segments. */
function normalizePath(path: string): string {
  const decoded = path.replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
  const merged = decoded.replace(/\/{2,}/g, '/');
  const out: string[] = [];
  for (const seg of merged.split('/').slice(1)) {
    if (seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}

/** An AuthorizationPolicy path pattern (exact, prefix `x*`, suffix `*x`, `*`) against a normalized path. */
function pathMatches(pattern: string, path: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return path.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return path.endsWith(pattern.slice(1));
  return pattern === path;
}

/** Whether a DENY policy denies a request on `port` to `path` with request principal `principal` (none: no token). */
function denies(spec: any, path: string, principal?: string, port = '9080'): boolean {
  const p = normalizePath(path);
  const principalIn = (list: string[]) => principal !== undefined && list.some(x => pathMatches(x, principal));
  return spec.rules.some((r: any) => {
    const from = !r.from || r.from.some((f: any) => !f.source.notRequestPrincipals || !principalIn(f.source.notRequestPrincipals));
    const to = !r.to || r.to.some((t: any) => (!t.operation.ports || t.operation.ports.includes(port))
      && (!t.operation.notPaths || !t.operation.notPaths.some((x: string) => pathMatches(x, p)))
      && (!t.operation.paths || t.operation.paths.some((x: string) => pathMatches(x, p))));
    // claims: only requests with a token reach them here (the principal rule denies the rest)
    const when = !r.when || principal === undefined;
    return from && to && when;
  });
}

describe('issue 16: policy and defaults', () => {
  test('requireJwt fails closed: every path but the exact exceptions needs a token, /x/* covers /x, after the mesh normalizes paths', () => {
    const { chart, ns, mesh } = setup();
    const a = svc(chart, 'a', { namespace: ns });
    ns.requireJwt(a, jwt(), { exceptPaths: ['/healthz', '/public/*'] });
    const spec = one(synthValid(chart), 'AuthorizationPolicy', 'a-require-jwt').spec;
    expect(spec.action).toBe('DENY');
    expect(spec.rules.every((r: any) => r.to.every((t: any) => t.operation.paths === undefined))).toBe(true);
    // variants of protected paths, and of exempt ones the proxy does not normalize to them: denied without a token
    for (const path of ['/api/checkout/', '/api/orders', '/API/CHECKOUT', '//api/checkout', '/PUBLIC/x', '/healthz/x', '/public;x', '/public%2F..%2Fadmin', '/']) {
      expect([path, denies(spec, path)]).toEqual([path, true]);
    }
    for (const path of ['/public', '/public/x', '//public//x', '/healthz']) expect([path, denies(spec, path)]).toEqual([path, false]);
    expect(denies(spec, '/api/checkout', 'https://accounts.example.com/alice')).toBe(false);
    // the mesh config normalizes paths before authorization matches them
    const cp = new IstioControlPlane(Testing.chart(), 'istio', { mesh });
    expect(cp.meshConfig.pathNormalization).toEqual({ normalization: 'DECODE_AND_MERGE_SLASHES' });
  });

  test('two requireJwt calls are "any of": a token of either issuer passes; claims or different exceptions are refused', () => {
    const { chart, ns } = setup();
    const a = svc(chart, 'a', { namespace: ns });
    const b = svc(chart, 'b', { namespace: ns });
    const partner = JwtRule.issuer('https://partner.example.com', { jwksUri: 'https://partner.example.com/jwks.json' });
    ns.requireJwt(a, jwt(), { exceptPaths: ['/healthz'] });
    ns.requireJwt(a, partner, { exceptPaths: ['/healthz'], subjects: ['bot'] });
    const objects = synthValid(chart);
    const spec = one(objects, 'AuthorizationPolicy', 'a-require-jwt').spec;
    expect(spec.rules).toEqual([{
      from: [{ source: { notRequestPrincipals: ['https://accounts.example.com/*', 'https://partner.example.com/bot'] } }],
      to: [{ operation: { ports: ['9080'], notPaths: ['/healthz'] } }],
    }]);
    expect(denies(spec, '/x', 'https://accounts.example.com/alice')).toBe(false);
    expect(denies(spec, '/x', 'https://partner.example.com/bot')).toBe(false);
    expect(denies(spec, '/x', 'https://partner.example.com/eve')).toBe(true);
    expect(denies(spec, '/x')).toBe(true);
    expect(one(objects, 'RequestAuthentication', 'a-jwt').spec.jwtRules.map((r: any) => r.issuer)).toEqual(['https://accounts.example.com', 'https://partner.example.com']);
    expect(() => ns.requireJwt(a, partner, { exceptPaths: ['/public/*'] })).toThrow(/requireJwt exceptPaths '\["\/public\/\*"\]' is invalid: must equal the exceptPaths of a's earlier requireJwt/);
    expect(() => ns.requireJwt(a, partner, { exceptPaths: ['/healthz'], claims: { group: 'x' } })).toThrow(/requireJwt claims .* is invalid: cannot be combined with a second token requirement on a/);
    ns.requireJwt(b, jwt(), { claims: { group: 'x' } });
    expect(() => ns.requireJwt(b, partner)).toThrow(/requireJwt claims .* is invalid: cannot be combined with a second token requirement on b/);
  });

  test('permissiveMtls lets in plain text only from the named sources, besides the declared principals', () => {
    const { chart, ns } = setup();
    const caller = svc(chart, 'caller', { namespace: ns });
    const db = svc(chart, 'db', { namespace: ns, ports: [ServicePort.tcp(5432)] });
    const cache = svc(chart, 'cache', { namespace: ns, ports: [ServicePort.tcp(6379)] });
    caller.connectsTo(db);
    ns.permissiveMtls(db, db.ports[0], { cidrs: ['10.20.0.7', '10.30.1.2/16'] });
    ns.permissiveMtls(cache, cache.ports[0], { namespaces: ['legacy'] });
    const objects = synthValid(chart);
    const ap = one(objects, 'AuthorizationPolicy', 'db').spec;
    expect(ap.rules).toEqual([
      { from: [{ source: { notPrincipals: ['*'], ipBlocks: ['10.20.0.7/32', '10.30.0.0/16'] } }], to: [{ operation: { ports: ['5432'] } }] },
      { from: [{ source: { principals: [caller.principal] } }], to: [{ operation: { ports: ['5432'] } }] },
    ]);
    expect(one(objects, 'AuthorizationPolicy', 'cache').spec.rules).toEqual([{ from: [{ source: { notPrincipals: ['*'] } }], to: [{ operation: { ports: ['6379'] } }] }]);
    const np = one(objects, 'NetworkPolicy', 'db').spec;
    expect(np.ingress.every((r: any) => r.from && r.from.length)).toBe(true);
    expect(np.ingress).toContainEqual({ from: [{ ipBlock: { cidr: '10.20.0.7/32' } }, { ipBlock: { cidr: '10.30.0.0/16' } }], ports: [{ protocol: 'TCP', port: 5432 }] });
    expect(one(objects, 'NetworkPolicy', 'cache').spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'legacy' } } }], ports: [{ protocol: 'TCP', port: 6379 }] },
    ]);
    expect(() => ns.permissiveMtls(db, db.ports[0], {})).toThrow(/permissiveMtls from '\{\}' is invalid: must name the plain-text callers/);
    expect(() => ns.permissiveMtls(db, db.ports[0], { cidrs: ['0.0.0.0/0'] })).toThrow(/permissiveMtls from.cidrs '0.0.0.0\/0' is invalid: must not be everywhere/);
    expect(() => ns.permissiveMtls(db, db.ports[0], { cidrs: ['10.0.0.300'] })).toThrow(/permissiveMtls from.cidrs '10.0.0.300' is invalid/);
    expect(() => ns.permissiveMtls(db, db.ports[0], { namespaces: ['Legacy'] })).toThrow(/permissiveMtls from.namespaces 'Legacy' is invalid/);
  });

  describe('identity', () => {
    test("serviceAccountName 'default' is refused", () => {
      const { chart, ns } = setup();
      expect(() => svc(chart, 'a', { namespace: ns, serviceAccountName: 'default' }))
        .toThrow(/test\/a: serviceAccountName 'default' is invalid: must not be 'default': every pod of the namespace that names no ServiceAccount runs as it/);
    });

    test('a shared ServiceAccount is an explicit choice (sharedIdentity), emitted once', () => {
      const { chart, ns } = setup();
      const a = svc(chart, 'a', { namespace: ns, serviceAccountName: 'shop-app' });
      expect(() => svc(chart, 'b', { namespace: ns, serviceAccountName: 'shop-app' }))
        .toThrow(/test\/b: serviceAccountName 'shop-app' is invalid: is already the identity of test\/a: .*sharedIdentity/);
      const c = svc(chart, 'c', { namespace: ns, sharedIdentity: a });
      expect(c.principal).toBe(a.principal);
      expect(c.serviceAccount).toBe(a.serviceAccount);
      const objects = synthValid(chart);
      expect(ofKind(objects, 'ServiceAccount', 'shop-app')).toHaveLength(1);
      expect(ofKind(objects, 'ServiceAccount').map(o => o.metadata.name).sort()).toEqual(['shop-app']);
      expect(one(objects, 'Deployment', 'c-v1').spec.template.spec.serviceAccountName).toBe('shop-app');
      expect(() => svc(chart, 'd', { namespace: ns, sharedIdentity: a, serviceAccountName: 'x' })).toThrow(/serviceAccountName 'x' is invalid: must not be given with sharedIdentity/);
      const other = new ZeroTrustNamespace(chart, 'other', { mesh: ns.mesh, name: 'other' });
      expect(() => svc(chart, 'e', { namespace: other, sharedIdentity: a })).toThrow(/sharedIdentity 'test\/a' is invalid: must be a service of namespace 'other'/);
    });

    test('a gateway inside a ZeroTrustNamespace is refused (default-deny ingress would cut its load balancer)', () => {
      const { chart, ns } = setup();
      expect(() => new MeshGateway(chart, 'ingress', { namespace: ns, hosts: ['shop.example.com'] }))
        .toThrow(/test\/ns: gateway 'test\/ingress' is invalid: must not be in ZeroTrustNamespace 'shop': .*load balancer/);
      const late = setup();
      const edge = MeshNamespace.fromName(late.chart, 'edge', { name: 'shop', mesh: late.mesh });
      // declared through another namespace handle of the same name: still refused
      expect(() => new EgressGateway(late.chart, 'egress', { namespace: edge })).toThrow(/gateway 'test\/egress' is invalid: must not be in ZeroTrustNamespace 'shop': .*egress gateway/);
    });

    test('a custom caller with a wildcard principal is refused', () => {
      const { chart, ns } = setup();
      const b = svc(chart, 'b', { namespace: ns });
      const wild = { name: 'wild', namespace: ns, mesh: ns.mesh, serviceAccountName: 'x', principal: 'cluster.local/ns/*', podSelector: { app: 'wild' }, node: chart.node } as any;
      expect(() => b.allowFrom(wild)).toThrow(/principal 'cluster.local\/ns\/\*' is invalid: must be one workload's principal/);
    });
  });

  test('the DNS rule follows the cluster DNS settings', () => {
    const { chart } = setup({}, { clusterDns: { namespace: 'dns', podLabels: { 'app.kubernetes.io/name': 'coredns' }, port: 5353 } });
    expect(one(synthValid(chart), 'NetworkPolicy', 'allow-dns').spec.egress).toEqual([{
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dns' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'coredns' } } }],
      ports: [{ protocol: 'UDP', port: 5353 }, { protocol: 'TCP', port: 5353 }],
    }]);
    expect(() => setup({}, { clusterDns: { podLabels: {} } })).toThrow(/clusterDns.podLabels '\{\}' is invalid: must select the DNS pods/);
    expect(() => setup({}, { clusterDns: { port: 0 } })).toThrow(/clusterDns.port/);
    expect(() => setup({}, { clusterDns: { namespace: 'shop' } })).toThrow(/clusterDns.namespace 'shop' is invalid: must not be this namespace/);
  });

  describe('istiod gateway controller: only when a gateway Istio deploys exists', () => {
    const names = (objects: any[]) => ofKind(objects, 'ClusterRole').map(o => o.metadata.name);
    const env = (objects: any[]) => one(objects, 'Deployment', 'istiod').spec.template.spec.containers[0].env;
    const FLAG = 'PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER';

    test('off by default: no role, the controller switched off', () => {
      const chart = Testing.chart();
      const mesh = new Mesh(chart, 'mesh');
      new IstioControlPlane(chart, 'istio', { mesh });
      new MeshGateway(chart, 'ingress', { mesh, hosts: ['shop.example.com'], routingApi: RoutingApi.GATEWAY_API });
      const objects = synthValid(chart);
      expect(names(objects)).not.toContain('istiod-gateway-controller-istio-system');
      expect(env(objects)).toContainEqual({ name: FLAG, value: 'false' });
    });

    test('an automated gateway declared after the control plane grants it', () => {
      const app = Testing.app();
      const platform = new Chart(app, 'platform');
      const mesh = new Mesh(platform, 'mesh');
      new IstioControlPlane(platform, 'istio', { mesh });
      const edge = new Chart(app, 'edge');
      new MeshGateway(edge, 'ingress', { mesh, hosts: ['shop.example.com'], routingApi: RoutingApi.GATEWAY_API, deployment: GatewayDeployment.ISTIO_AUTOMATED });
      const objects = synthAppValid(app);
      expect(names(objects)).toContain('istiod-gateway-controller-istio-system');
      expect(env(objects)).toContainEqual({ name: FLAG, value: 'true' });
    });

    test('explicitly off with an automated gateway is refused; explicitly on grants it', () => {
      const chart = Testing.chart();
      const mesh = new Mesh(chart, 'mesh');
      new IstioControlPlane(chart, 'istio', { mesh, gatewayDeploymentController: false });
      expect(() => new MeshGateway(chart, 'ingress', { mesh, hosts: ['a.example.com'], routingApi: RoutingApi.GATEWAY_API, deployment: GatewayDeployment.ISTIO_AUTOMATED }))
        .toThrow(/istio: gatewayDeploymentController false is invalid: must not be false: test\/ingress is a gateway Istio deploys/);
      const on = Testing.chart();
      new IstioControlPlane(on, 'istio', { mesh: new Mesh(on, 'mesh'), gatewayDeploymentController: true });
      const objects = synthValid(on);
      expect(names(objects)).toContain('istiod-gateway-controller-istio-system');
      expect(env(objects).map((e: any) => e.name)).not.toContain(FLAG);
    });
  });
});
