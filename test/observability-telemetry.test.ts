import { App, Chart, Duration, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import {
  AccessLogFormat, DefaultProviderKind, IstioControlPlane, IstioMetric, Mesh, MeshedService, MeshNamespace, MeshTelemetry,
  ServicePort, TelemetryMode, TelemetryProvider, TelemetryTarget, TracingTag, ZeroTrustNamespace, analyze, analyzeFlows, FlowVerdict, MeshFlowKind,
  ExternalService, EgressGateway,
} from '../src';
import { one, ofKind, synthAppValid, synthValid, yamlOf } from './util';

function setup() {
  const app = Testing.app();
  const platform = new Chart(app, 'platform');
  const mesh = new Mesh(platform, 'mesh');
  const cp = new IstioControlPlane(platform, 'istio', { mesh, installCrds: false });
  const chart = new Chart(app, 'shop');
  const ns = MeshNamespace.fromName(chart, 'ns', { name: 'shop', mesh });
  const reviews = new MeshedService(chart, 'reviews', { namespace: ns, image: 'example/reviews:1.0', ports: [ServicePort.http(9080)] });
  return { app, platform, mesh, cp, chart, ns, reviews };
}

function providers(cp: IstioControlPlane) {
  const otel = TelemetryProvider.openTelemetry(cp, { name: 'otel', service: 'otel-collector.observability.svc.cluster.local', port: 4317, meshDefault: true });
  const zipkin = TelemetryProvider.zipkin(cp, { name: 'zipkin', service: 'zipkin.istio-system.svc.cluster.local', port: 9411, maxTagLength: 99 });
  const jsonLog = TelemetryProvider.envoyFileAccessLog(cp, {
    name: 'json-log',
    format: AccessLogFormat.json({ status: '%RESPONSE_CODE%', path: '%REQ(:PATH)%', start: '%START_TIME%' }),
  });
  const textLog = TelemetryProvider.envoyFileAccessLog(cp, { name: 'text-log', path: '/var/log/access.log', format: AccessLogFormat.text('%RESPONSE_CODE% %REQ(:PATH)%\n') });
  const otelLog = TelemetryProvider.openTelemetryAccessLog(cp, { name: 'otel-als', service: 'observability/otel-collector', port: 4317, logName: 'mesh' });
  return { otel, zipkin, jsonLog, textLog, otelLog };
}

/** A zero-trust namespace whose frontend calls reviews, and the control plane that declares the providers. */
function zeroTrustShop() {
  const app = Testing.app();
  const platform = new Chart(app, 'platform');
  const mesh = new Mesh(platform, 'mesh');
  const cp = new IstioControlPlane(platform, 'istio', { mesh, installCrds: false });
  const chart = new Chart(app, 'shop');
  const ns = new ZeroTrustNamespace(chart, 'ns', { mesh, name: 'shop' });
  const svc = (id: string) => new MeshedService(chart, id, { namespace: ns, image: `example/${id}:1.0`, ports: [ServicePort.http(9080)] });
  const frontend = svc('frontend');
  frontend.connectsTo(svc('reviews'));
  return { app, cp, frontend };
}

describe('TelemetryProvider', () => {
  test('providers are declared on the control plane mesh config', () => {
    const { cp, platform } = setup();
    providers(cp);
    const config = cp.meshConfig;
    expect(config.extensionProviders).toEqual([
      { name: 'json-log', envoyFileAccessLog: { path: '/dev/stdout', logFormat: { labels: { path: '%REQ(:PATH)%', start: '%START_TIME%', status: '%RESPONSE_CODE%' } } } },
      { name: 'otel', opentelemetry: { port: 4317, service: 'observability/otel-collector.observability.svc.cluster.local' } },
      // '<ns>/<svc>' as the Service's FQDN, the registry host istiod looks up
      { name: 'otel-als', envoyOtelAls: { logName: 'mesh', port: 4317, service: 'observability/otel-collector.observability.svc.cluster.local' } },
      { name: 'text-log', envoyFileAccessLog: { logFormat: { text: '%RESPONSE_CODE% %REQ(:PATH)%\n' }, path: '/var/log/access.log' } },
      { name: 'zipkin', zipkin: { maxTagLength: 99, port: 9411, service: 'istio-system/zipkin.istio-system.svc.cluster.local' } },
    ]);
    expect(config.defaultProviders).toEqual({ metrics: ['prometheus'], tracing: ['otel'] });
    synthValid(platform);
  });

  test('a provider name must be unique and not a built-in', () => {
    const { cp } = setup();
    TelemetryProvider.zipkin(cp, { name: 'tracing', service: 'zipkin.tracing.svc', port: 9411 });
    expect(() => TelemetryProvider.openTelemetry(cp, { name: 'tracing', service: 'otel.tracing.svc', port: 4317 }))
      .toThrow("platform/istio: extensionProviders name 'tracing' is invalid: must be unique");
    expect(() => TelemetryProvider.envoyFileAccessLog(cp, { name: 'envoy' }))
      .toThrow("platform/istio: provider name 'envoy' is invalid: must not be a built-in provider's name");
  });

  test('bad service, port, path and format', () => {
    const { cp } = setup();
    expect(() => TelemetryProvider.openTelemetry(cp, { name: 'otel', service: 'Otel_Collector', port: 4317 }))
      .toThrow("platform/istio: openTelemetry('otel').service 'Otel_Collector' is invalid: must be a DNS subdomain");
    expect(() => TelemetryProvider.zipkin(cp, { name: 'z', service: 'zipkin', port: 0 }))
      .toThrow("platform/istio: zipkin('z').port 0 is invalid: must be a whole number from 1 to 65535");
    expect(() => TelemetryProvider.envoyFileAccessLog(cp, { name: 'f', path: 'relative.log' }))
      .toThrow("platform/istio: envoyFileAccessLog('f').path 'relative.log' is invalid: must be an absolute file path");
    expect(() => AccessLogFormat.json({})).toThrow('AccessLogFormat: json {} is invalid: must name at least one field');
    expect(() => AccessLogFormat.text(' ')).toThrow("AccessLogFormat: text ' ' is invalid: must be a non-empty Envoy format string");
  });
});

describe('collectors in the cluster', () => {
  const NS = 'kubernetes.io/metadata.name';
  const FQDN = 'otel-collector.observability.svc.cluster.local';

  // Istio 1.30.3 looks a provider's service up by exact registry host (pilot/pkg/model/telemetry_logging.go
  // LookupCluster): a short form finds no cluster, and the proxies export nothing
  test.each([
    'observability/otel-collector',
    'otel-collector.observability.svc',
    FQDN,
    `observability/${FQDN}`,
  ])('%p: the mesh config (its namespace and FQDN), every Sidecar, the NetworkPolicy and the flows name the Service', (service) => {
    const { app, cp } = zeroTrustShop();
    TelemetryProvider.openTelemetry(cp, { name: 'otel', service, port: 4317, meshDefault: true });
    TelemetryProvider.zipkin(cp, { name: 'zipkin', service, port: 9411 });
    TelemetryProvider.openTelemetryAccessLog(cp, { name: 'als', service, port: 4317 });
    const objects = synthAppValid(app);

    // the mesh config istiod reads: the Service's namespace and registry host, for every kind of provider (a
    // ServiceEntry of the same host in another namespace cannot make istiod's lookup ambiguous)
    const mesh = YAML.parse(one(objects, 'ConfigMap', 'istio').data.mesh);
    expect(mesh.extensionProviders).toEqual([
      { name: 'als', envoyOtelAls: { service: `observability/${FQDN}`, port: 4317 } },
      { name: 'otel', opentelemetry: { service: `observability/${FQDN}`, port: 4317 } },
      { name: 'zipkin', zipkin: { service: `observability/${FQDN}`, port: 9411 } },
    ]);

    // the same host, from the same fact: imported by every Sidecar, the collector's namespace in NetworkPolicy
    const sidecars = ofKind(objects, 'Sidecar');
    expect(sidecars.length).toBeGreaterThan(0);
    for (const sc of sidecars) {
      expect(sc.spec.egress[0].hosts.filter((h: string) => h.includes('otel-collector'))).toEqual([`observability/${FQDN}`]);
    }
    expect(one(objects, 'NetworkPolicy', 'allow-telemetry').spec.egress).toEqual([
      { to: [{ namespaceSelector: { matchLabels: { [NS]: 'observability' } } }], ports: [{ protocol: 'TCP', port: 4317 }, { protocol: 'TCP', port: 9411 }] },
    ]);
    expect(ofKind(objects, 'ServiceEntry')).toEqual([]);

    // the flow analysis reads the mesh config as istiod does: every proxy sends to the FQDN, on both ports
    const telemetry = analyzeFlows(objects).flows.filter(f => f.kind === MeshFlowKind.TELEMETRY);
    expect(telemetry.length).toBeGreaterThan(0);
    expect(new Set(telemetry.map(f => `${f.destination}:${f.port}`))).toEqual(new Set([`${FQDN}:4317`, `${FQDN}:9411`]));
    expect(telemetry.filter(f => f.verdict === FlowVerdict.DENIED)).toEqual([]);
    expect(analyze(objects)).toEqual([]);
  });

  test('a namespace that is not the Service host\'s is refused: a Kubernetes Service is in the namespace its host names', () => {
    const { cp } = zeroTrustShop();
    expect(() => TelemetryProvider.zipkin(cp, { name: 'z', service: `tracing/${FQDN}`, port: 9411 }))
      .toThrow(`platform/istio: zipkin('z').service 'tracing/${FQDN}' is invalid: names namespace 'tracing' but the Service host '${FQDN}' is in namespace 'observability'; write '${FQDN}' or 'observability/otel-collector'`);
    expect(() => TelemetryProvider.openTelemetry(cp, { name: 'o', service: 'tracing/otel-collector.observability.svc', port: 4317 }))
      .toThrow(/platform\/istio: openTelemetry\('o'\).service 'tracing\/otel-collector.observability.svc' is invalid: names namespace 'tracing'/);
    expect(cp.meshConfig.extensionProviders ?? []).toEqual([]);
  });
});

// the collectors' addresses (documentation blocks): allow-telemetry opens their ports to these only
const COLLECTOR_ADDRESSES = ['192.0.2.0/24'];
const HONEYCOMB_ADDRESSES = ['203.0.113.0/24', '2001:db8:1::/48'];
const ZIPKIN_ADDRESSES = ['198.51.100.10'];

describe('collectors outside the cluster', () => {
  const NS = 'kubernetes.io/metadata.name';
  const ANYWHERE = [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }];

  test('each form of external host gets a ServiceEntry, Sidecar import and NetworkPolicy egress out of the cluster, and the flows agree', () => {
    const { app, cp } = zeroTrustShop();
    // a host that is not a cluster Service name; a SaaS endpoint on 443; a two-label host, said to be external
    // (every address on their ports: the explicit allowAnyAddress; a collector's addresses narrow it, tested below)
    TelemetryProvider.openTelemetry(cp, { name: 'otel', service: 'otel.example.com', port: 4317, meshDefault: true, allowAnyAddress: true });
    TelemetryProvider.openTelemetry(cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, allowAnyAddress: true });
    TelemetryProvider.zipkin(cp, { name: 'zipkin', service: 'honeycomb.io', port: 9411, external: true, allowAnyAddress: true });
    TelemetryProvider.openTelemetryAccessLog(cp, { name: 'als', service: 'otel.example.com', port: 4317, allowAnyAddress: true });
    // an in-cluster collector alongside, its Service's FQDN (no ServiceEntry)
    TelemetryProvider.openTelemetry(cp, { name: 'local', service: 'otel-collector.observability.svc', port: 4317 });
    const objects = synthAppValid(app);

    // one ServiceEntry per host in the mesh root namespace, visible to every proxy; the provider's port and protocol
    const se = (name: string) => one(objects, 'ServiceEntry', name);
    expect(se('external-otel-example-com').metadata.namespace).toBe('istio-system');
    expect(se('external-otel-example-com').spec).toEqual({
      hosts: ['otel.example.com'],
      ports: [{ number: 4317, name: 'grpc-4317', protocol: 'GRPC' }],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      exportTo: ['*'],
    });
    expect(se('external-api-honeycomb-io').spec).toMatchObject({ hosts: ['api.honeycomb.io'], ports: [{ number: 443, name: 'grpc-443', protocol: 'GRPC' }] });
    expect(se('external-honeycomb-io').spec).toMatchObject({ hosts: ['honeycomb.io'], ports: [{ number: 9411, name: 'http-9411', protocol: 'HTTP' }] });
    expect(ofKind(objects, 'ServiceEntry')).toHaveLength(3);

    // the mesh config names the ServiceEntry's namespace (Istio looks a provider's service up by registry host)
    const providersByName = Object.fromEntries(cp.meshConfig.extensionProviders.map((p: any) => [p.name, Object.entries(p).find(([k]) => k !== 'name')![1]]));
    expect(providersByName.otel).toEqual({ service: 'istio-system/otel.example.com', port: 4317 });
    expect(providersByName.honeycomb).toEqual({ service: 'istio-system/api.honeycomb.io', port: 443 });
    expect(providersByName.zipkin).toEqual({ service: 'istio-system/honeycomb.io', port: 9411 });
    expect(providersByName.als).toEqual({ service: 'istio-system/otel.example.com', port: 4317 });
    expect(providersByName.local).toEqual({ service: 'observability/otel-collector.observability.svc.cluster.local', port: 4317 });

    // every Sidecar imports the hosts, never rewritten into cluster names
    for (const sc of ofKind(objects, 'Sidecar')) {
      expect(sc.spec.egress[0].hosts).toEqual(expect.arrayContaining([
        'istio-system/otel.example.com', 'istio-system/api.honeycomb.io', 'istio-system/honeycomb.io',
        'observability/otel-collector.observability.svc.cluster.local',
      ]));
      expect(sc.spec.egress[0].hosts.join()).not.toMatch(/honeycomb\.io\.svc|example\.com\.svc/);
    }

    // NetworkPolicy: out of the cluster on the collectors' ports (any address, as asked with allowAnyAddress), the
    // in-cluster collector's namespace as before
    expect(one(objects, 'NetworkPolicy', 'allow-telemetry').spec).toEqual({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        { to: [{ namespaceSelector: { matchLabels: { [NS]: 'observability' } } }], ports: [{ protocol: 'TCP', port: 4317 }] },
        { to: ANYWHERE, ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 4317 }, { protocol: 'TCP', port: 9411 }] },
      ],
    });

    // the flow analysis agrees: every proxy reaches every collector, no finding on a flow (MESH101-105; MESH106 only
    // says that nothing calls the frontend)
    const result = analyzeFlows(objects);
    expect(result.findings.filter(f => /^MESH10[1-5]$/.test(f.code))).toEqual([]);
    const telemetry = result.flows.filter(f => f.kind === MeshFlowKind.TELEMETRY && f.source.startsWith('shop/'));
    expect(new Set(telemetry.map(f => `${f.destination}:${f.port}`))).toEqual(new Set([
      'otel.example.com:4317', 'api.honeycomb.io:443', 'honeycomb.io:9411', 'otel-collector.observability.svc.cluster.local:4317',
    ]));
    const local = (f: { destination: string }) => f.destination.endsWith('.svc.cluster.local');
    expect(telemetry.filter(f => !local(f) && f.verdict !== FlowVerdict.ALLOWED)).toEqual([]);
    // the in-cluster collector's pods are not in the input: not denied, unknown
    expect(new Set(telemetry.filter(local).map(f => f.verdict))).toEqual(new Set([FlowVerdict.UNKNOWN]));
    // and istioctl analyze's checks find nothing (IST0134, IST0177...)
    expect(analyze(objects)).toEqual([]);
  });

  test('a two-label host is ambiguous: refused at construction, naming the field and what is allowed', () => {
    const { cp } = zeroTrustShop();
    expect(() => TelemetryProvider.openTelemetry(cp, { name: 'hc', service: 'honeycomb.io', port: 4317 }))
      .toThrow("platform/istio: openTelemetry('hc').service 'honeycomb.io' is invalid: is ambiguous: a Service '<svc>.<ns>' or a host outside the cluster; "
        + "write an in-cluster collector as '<svc>.<ns>.svc' or '<svc>.<ns>.svc.cluster.local', or set external: true for a host outside the cluster");
    expect(() => TelemetryProvider.openTelemetryAccessLog(cp, { name: 'als', service: 'otel.observability', port: 4317 }))
      .toThrow(/platform\/istio: openTelemetryAccessLog\('als'\).service 'otel.observability' is invalid: is ambiguous/);
    // external: true names a host outside the cluster; external: false one inside
    expect(() => TelemetryProvider.zipkin(cp, { name: 'z', service: 'zipkin.tracing.svc.cluster.local', port: 9411, external: true }))
      .toThrow(/platform\/istio: zipkin\('z'\).service 'zipkin.tracing.svc.cluster.local' is invalid: is a cluster-internal name/);
    expect(() => TelemetryProvider.zipkin(cp, { name: 'z', service: 'tracing/zipkin.example.com', port: 9411, external: true }))
      .toThrow(/platform\/istio: zipkin\('z'\).service 'tracing\/zipkin.example.com' is invalid: must not name a namespace/);
    expect(() => TelemetryProvider.zipkin(cp, { name: 'z', service: 'zipkin.example.com', port: 9411, external: false }))
      .toThrow(/platform\/istio: zipkin\('z'\).service 'zipkin.example.com' is invalid: is not an in-cluster Service host/);
    // a lone name says no namespace; an in-cluster name of another cluster domain is not the Service Istio knows
    expect(() => TelemetryProvider.zipkin(cp, { name: 'z', service: 'zipkin', port: 9411 }))
      .toThrow("platform/istio: zipkin('z').service 'zipkin' is invalid: must name the collector's namespace: write an in-cluster collector as '<svc>.<ns>.svc' or '<svc>.<ns>.svc.cluster.local' or '<ns>/<svc>'");
    expect(() => TelemetryProvider.zipkin(cp, { name: 'z', service: 'zipkin.tracing.svc.corp.local', port: 9411 }))
      .toThrow(/platform\/istio: zipkin\('z'\).service 'zipkin.tracing.svc.corp.local' is invalid: must end in '.svc.cluster.local'/);
    // nothing was declared by the refused providers
    expect(cp.meshConfig.extensionProviders ?? []).toEqual([]);
  });

  test('one protocol per external collector host and port (IST0177): OTLP/gRPC and Zipkin cannot share one', () => {
    const { cp } = zeroTrustShop();
    TelemetryProvider.openTelemetry(cp, { name: 'otel', service: 'collector.example.com', port: 4317, addresses: COLLECTOR_ADDRESSES });
    expect(() => TelemetryProvider.zipkin(cp, { name: 'zipkin', service: 'collector.example.com', port: 4317, addresses: COLLECTOR_ADDRESSES }))
      .toThrow("platform/istio: zipkin('zipkin').port 4317 is invalid: is used by provider 'otel' of collector.example.com with protocol GRPC, not HTTP: one protocol per host and port (IST0177)");
    TelemetryProvider.zipkin(cp, { name: 'zipkin', service: 'collector.example.com', port: 9411, addresses: COLLECTOR_ADDRESSES });
    expect(cp.meshConfig.extensionProviders.map((p: any) => p.name)).toEqual(['otel', 'zipkin']);
  });
});

describe('collectors outside the cluster: allow-telemetry egress to their addresses, every address only when asked', () => {
  const NS = 'kubernetes.io/metadata.name';
  const MISSING = (field: string, host: string, port: number) => `platform/istio: ${field}.addresses (not set) is invalid: must list the addresses of ${host} `
    + "(IPs or CIDR blocks, e.g. '203.0.113.0/24'): a NetworkPolicy cannot name a host, and each ZeroTrustNamespace's allow-telemetry lets every pod, "
    + `not only its proxy, out on port ${port} to them; or set allowAnyAddress: true to allow port ${port} to every address (0.0.0.0/0, ::/0)`;

  test('addresses: allow-telemetry opens the collectors\' ports to their blocks only; schema-valid, analyzer clean, no flow denied', () => {
    const { app, cp } = zeroTrustShop();
    TelemetryProvider.openTelemetry(cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, addresses: ['2001:db8:1::/48', '203.0.113.0/24'], meshDefault: true });
    TelemetryProvider.openTelemetryAccessLog(cp, { name: 'honeycomb-logs', service: 'api.honeycomb.io', port: 443, addresses: HONEYCOMB_ADDRESSES });
    TelemetryProvider.zipkin(cp, { name: 'zipkin', service: 'zipkin.example.com', port: 9411, addresses: ZIPKIN_ADDRESSES });
    TelemetryProvider.openTelemetry(cp, { name: 'local', service: 'otel-collector.observability.svc', port: 4317 });
    const objects = synthAppValid(app); // schema-valid against the Kubernetes and Istio 1.30.3 schemas

    expect(one(objects, 'NetworkPolicy', 'allow-telemetry').spec).toEqual({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        { to: [{ namespaceSelector: { matchLabels: { [NS]: 'observability' } } }], ports: [{ protocol: 'TCP', port: 4317 }] },
        { to: [{ ipBlock: { cidr: '198.51.100.10/32' } }], ports: [{ protocol: 'TCP', port: 9411 }] },
        { to: [{ ipBlock: { cidr: '2001:db8:1::/48' } }, { ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ protocol: 'TCP', port: 443 }] },
      ],
    });
    // no NetworkPolicy of the namespace opens anything to every address
    expect(JSON.stringify(ofKind(objects, 'NetworkPolicy'))).not.toMatch(/0\.0\.0\.0\/0|::\/0/);
    // the ServiceEntries are as before: the addresses narrow the NetworkPolicy only
    expect(one(objects, 'ServiceEntry', 'external-api-honeycomb-io').spec).toEqual({
      hosts: ['api.honeycomb.io'], ports: [{ number: 443, name: 'grpc-443', protocol: 'GRPC' }], location: 'MESH_EXTERNAL', resolution: 'DNS', exportTo: ['*'],
    });

    expect(analyze(objects)).toEqual([]);
    const result = analyzeFlows(objects);
    expect(result.findings.filter(f => /^MESH10[1-5]$/.test(f.code))).toEqual([]);
    const telemetry = result.flows.filter(f => f.kind === MeshFlowKind.TELEMETRY && f.source.startsWith('shop/'));
    expect(new Set(telemetry.map(f => `${f.destination}:${f.port}`))).toEqual(new Set([
      'api.honeycomb.io:443', 'zipkin.example.com:9411', 'otel-collector.observability.svc.cluster.local:4317',
    ]));
    // the analysis knows no address of a DNS host: a rule for its blocks is not denied, it cannot tell
    expect(telemetry.filter(f => f.verdict === FlowVerdict.DENIED)).toEqual([]);
  });

  test('without addresses a collector outside the cluster is refused, naming the field and what is allowed; allowAnyAddress is the named opt-out', () => {
    const { app, cp } = zeroTrustShop();
    expect(() => TelemetryProvider.openTelemetry(cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443 }))
      .toThrow(MISSING("openTelemetry('honeycomb')", 'api.honeycomb.io', 443));
    expect(() => TelemetryProvider.zipkin(cp, { name: 'zipkin', service: 'honeycomb.io', port: 9411, external: true }))
      .toThrow(MISSING("zipkin('zipkin')", 'honeycomb.io', 9411));
    expect(() => TelemetryProvider.openTelemetryAccessLog(cp, { name: 'als', service: 'otel.example.com', port: 4317, addresses: [] }))
      .toThrow(/^platform\/istio: openTelemetryAccessLog\('als'\).addresses \[\] is invalid: must list the addresses of otel.example.com/);
    expect(() => TelemetryProvider.openTelemetry(cp, { name: 'x', service: 'otel.example.com', port: 4317, allowAnyAddress: false }))
      .toThrow(MISSING("openTelemetry('x')", 'otel.example.com', 4317));
    expect(cp.meshConfig.extensionProviders ?? []).toEqual([]);

    TelemetryProvider.openTelemetry(cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, allowAnyAddress: true });
    expect(one(synthAppValid(app), 'NetworkPolicy', 'allow-telemetry').spec.egress).toEqual([
      { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }], ports: [{ protocol: 'TCP', port: 443 }] },
    ]);
  });

  test('addresses are checked as ExternalService\'s; neither prop for an in-cluster collector; both together refused; one set per host', () => {
    const { cp } = zeroTrustShop();
    const otel = (addresses: any, more: any = {}) => () => TelemetryProvider.openTelemetry(cp, { name: 'o', service: 'otel.example.com', port: 4317, addresses, ...more });
    const FIELD = "platform/istio: openTelemetry('o')";
    expect(otel(['0.0.0.0/0'])).toThrow(`${FIELD}.addresses '0.0.0.0/0' is invalid: must not be every address (0.0.0.0/0, ::/0): that is no restriction; set allowAnyAddress: true instead`);
    expect(otel(['::/0'])).toThrow(/addresses '::\/0' is invalid: must not be every address/);
    expect(otel(['10.0.0.0/4'])).toThrow(`${FIELD}.addresses '10.0.0.0/4' is invalid: must not be broader than a /8 for IPv4: list the destination's own blocks`);
    expect(otel(['169.254.169.254'])).toThrow(`${FIELD}.addresses '169.254.169.254' is invalid: is not an external address: it overlaps 169.254.0.0/16 (link-local, where cloud metadata services answer (169.254.169.254))`);
    expect(otel(['127.0.0.1'])).toThrow(/addresses '127.0.0.1' is invalid: is not an external address: it overlaps 127.0.0.0\/8 \(loopback\)/);
    expect(otel(['203.0.113.7/24'])).toThrow(`${FIELD}.addresses '203.0.113.7/24' is invalid: must be written canonically, with the host bits zero: '203.0.113.0/24'`);
    expect(otel(['otel.example.com'])).toThrow(`${FIELD}.addresses 'otel.example.com' is invalid: must be an IPv4 or IPv6 address or CIDR block, e.g. '203.0.113.10', '203.0.113.0/24' or '2001:db8::/48'`);
    expect(otel('203.0.113.0/24')).toThrow(`${FIELD}.addresses '203.0.113.0/24' is invalid: must be a list of IP addresses or CIDR blocks`);
    expect(otel(['203.0.113.0/24'], { allowAnyAddress: true }))
      .toThrow(`${FIELD}.allowAnyAddress true is invalid: must not be set with addresses (203.0.113.0/24): the addresses already say where otel.example.com is`);
    expect(() => TelemetryProvider.zipkin(cp, { name: 'z', service: 'zipkin.tracing.svc', port: 9411, addresses: ['203.0.113.0/24'] }))
      .toThrow("platform/istio: zipkin('z').addresses [\"203.0.113.0/24\"] is invalid: is only for a collector outside the cluster: each ZeroTrustNamespace admits the in-cluster collector's namespace 'tracing' on its port");
    expect(() => TelemetryProvider.zipkin(cp, { name: 'z', service: 'tracing/zipkin', port: 9411, allowAnyAddress: true }))
      .toThrow(/^platform\/istio: zipkin\('z'\).allowAnyAddress true is invalid: is only for a collector outside the cluster/);
    expect(cp.meshConfig.extensionProviders ?? []).toEqual([]);

    TelemetryProvider.openTelemetry(cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, addresses: HONEYCOMB_ADDRESSES });
    expect(() => TelemetryProvider.openTelemetryAccessLog(cp, { name: 'als', service: 'api.honeycomb.io', port: 443, addresses: ['203.0.113.0/24'] }))
      .toThrow("platform/istio: openTelemetryAccessLog('als').addresses [\"203.0.113.0/24\"] is invalid: provider 'honeycomb' reaches api.honeycomb.io at the addresses 2001:db8:1::/48, 203.0.113.0/24: the collectors of one host give the same addresses");
    expect(() => TelemetryProvider.zipkin(cp, { name: 'zipkin', service: 'api.honeycomb.io', port: 9411, allowAnyAddress: true }))
      .toThrow(/^platform\/istio: zipkin\('zipkin'\).allowAnyAddress true is invalid: provider 'honeycomb' reaches api.honeycomb.io at the addresses 2001:db8:1::\/48, 203.0.113.0\/24/);
    // the same addresses, in any order
    TelemetryProvider.zipkin(cp, { name: 'zipkin', service: 'api.honeycomb.io', port: 9411, addresses: [...HONEYCOMB_ADDRESSES].reverse() });
    expect(cp.meshConfig.extensionProviders.map((p: any) => p.name)).toEqual(['honeycomb', 'zipkin']);
  });

  describe('a mesh whose external traffic leaves through an egress gateway: telemetry does not go through it, nor around it', () => {
    function withGateway() {
      const s = zeroTrustShop();
      const egressChart = new Chart(s.app, 'egress');
      const egress = new EgressGateway(egressChart, 'gw', { mesh: s.cp.mesh });
      return { ...s, egress };
    }
    const HOW = 'send telemetry to an in-cluster collector (an OpenTelemetry Collector) that exports through the egress gateway';

    test('allowAnyAddress is refused, whichever is declared first', () => {
      const a = withGateway();
      a.egress.addExternalService(ExternalService.https('api.stripe.com'));
      expect(() => TelemetryProvider.openTelemetry(a.cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, allowAnyAddress: true }))
        .toThrow("platform/istio: openTelemetry('honeycomb').allowAnyAddress true is invalid: would let every pod of every ZeroTrustNamespace reach any address on port 443, "
          + `bypassing egress gateway 'egress/gw', the mesh's exit (api.stripe.com:443); list the collector's addresses, or ${HOW}`);
      expect(a.cp.meshConfig.extensionProviders ?? []).toEqual([]);

      const b = withGateway();
      TelemetryProvider.openTelemetry(b.cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, allowAnyAddress: true });
      expect(() => b.egress.addExternalService(ExternalService.https('api.stripe.com')))
        .toThrow("egress/gw: addExternalService 'api.stripe.com:443' is invalid: makes egress gateway 'egress/gw' the mesh's exit, but telemetry provider 'honeycomb' "
          + `allows port 443 to every address (allowAnyAddress), which bypasses it; give the provider its collector's addresses, or ${HOW}`);
    });

    test('a collector\'s host that the gateway carries is refused, whichever is declared first', () => {
      const a = withGateway();
      a.egress.addExternalService(ExternalService.https('api.honeycomb.io'));
      expect(() => TelemetryProvider.openTelemetry(a.cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, addresses: HONEYCOMB_ADDRESSES }))
        .toThrow("platform/istio: openTelemetry('honeycomb').service 'api.honeycomb.io' is invalid: is carried by egress gateway 'egress/gw' (api.honeycomb.io:443), "
          + `and telemetry does not go through an egress gateway: the proxies send spans and logs straight to the collector; ${HOW}, or give the collector a host the gateway does not carry`);

      const b = withGateway();
      TelemetryProvider.openTelemetry(b.cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, addresses: HONEYCOMB_ADDRESSES });
      expect(() => b.egress.addExternalService(ExternalService.https('api.honeycomb.io', 8443)))
        .toThrow("egress/gw: addExternalService 'api.honeycomb.io:8443' is invalid: is the host of telemetry provider 'honeycomb', whose spans and logs the proxies send "
          + `straight to api.honeycomb.io:443, not through an egress gateway; ${HOW}, or keep api.honeycomb.io off the gateway`);
    });

    test('a collector with addresses sits beside the gateway: its blocks only, schema-valid, no flow finding', () => {
      const { app, cp, egress, frontend } = withGateway();
      const stripe = ExternalService.https('api.stripe.com');
      egress.addExternalService(stripe);
      frontend.connectsToExternal(stripe);
      TelemetryProvider.openTelemetry(cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, addresses: HONEYCOMB_ADDRESSES });
      const objects = synthAppValid(app);
      expect(one(objects, 'NetworkPolicy', 'allow-telemetry').spec.egress).toEqual([
        { to: [{ ipBlock: { cidr: '2001:db8:1::/48' } }, { ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ protocol: 'TCP', port: 443 }] },
      ]);
      const result = analyzeFlows(objects);
      expect(result.findings.filter(f => /^MESH10[1-5]$/.test(f.code))).toEqual([]);
    });
  });
});

describe('collectors outside the cluster that only accept TLS', () => {
  const TLS_443 = { mode: 'SIMPLE', sni: 'api.honeycomb.io', subjectAltNames: ['api.honeycomb.io'], caCertificates: 'system' };

  test('port 443 speaks TLS by default: one DestinationRule per host in the root namespace, exported to all, SIMPLE with SNI on the TLS ports', () => {
    const { app, cp } = zeroTrustShop();
    TelemetryProvider.openTelemetry(cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, meshDefault: true, allowAnyAddress: true });
    TelemetryProvider.openTelemetryAccessLog(cp, { name: 'honeycomb-logs', service: 'api.honeycomb.io', port: 443, allowAnyAddress: true });
    // another TLS port and a plain-text port of the same host: one DestinationRule, the TLS ports merged
    TelemetryProvider.zipkin(cp, { name: 'zipkin', service: 'api.honeycomb.io', port: 9411, originateTls: true, allowAnyAddress: true });
    TelemetryProvider.openTelemetry(cp, { name: 'plain', service: 'api.honeycomb.io', port: 4317, allowAnyAddress: true });
    // a plain-text collector on another host: no DestinationRule
    TelemetryProvider.openTelemetry(cp, { name: 'otel', service: 'otel.example.com', port: 4317, allowAnyAddress: true });
    const objects = synthAppValid(app); // schema-valid against Istio 1.30.3's CRDs

    const dr = one(objects, 'DestinationRule', 'external-api-honeycomb-io');
    expect(dr.apiVersion).toBe('networking.istio.io/v1');
    expect(dr.metadata.namespace).toBe('istio-system');
    expect(dr.spec).toEqual({
      host: 'api.honeycomb.io',
      exportTo: ['*'],
      trafficPolicy: {
        portLevelSettings: [
          { port: { number: 443 }, tls: TLS_443 },
          { port: { number: 9411 }, tls: { ...TLS_443 } },
        ],
      },
    });
    expect(ofKind(objects, 'DestinationRule').filter(d => d.metadata.namespace === 'istio-system')).toHaveLength(1);
    // the ServiceEntry keeps the protocol the proxy's client speaks (the DestinationRule adds the TLS)
    expect(one(objects, 'ServiceEntry', 'external-api-honeycomb-io').spec.ports).toEqual([
      { number: 443, name: 'grpc-443', protocol: 'GRPC' },
      { number: 4317, name: 'grpc-4317', protocol: 'GRPC' },
      { number: 9411, name: 'http-9411', protocol: 'HTTP' },
    ]);

    // istioctl analyze's checks (IST0129: the CA is explicit; IST0174: the host is the root namespace's
    // ServiceEntry, visible everywhere) and the flow analysis find nothing
    expect(analyze(objects)).toEqual([]);
    const result = analyzeFlows(objects);
    expect(result.findings.filter(f => /^MESH10[1-5]$/.test(f.code))).toEqual([]);
    const telemetry = result.flows.filter(f => f.kind === MeshFlowKind.TELEMETRY && f.destination === 'api.honeycomb.io');
    expect(new Set(telemetry.map(f => f.port))).toEqual(new Set([443, 4317, 9411]));
    expect(telemetry.filter(f => f.verdict !== FlowVerdict.ALLOWED)).toEqual([]);
  });

  test('plain text on 443 only when asked: originateTls false gives no DestinationRule', () => {
    const { app, cp } = zeroTrustShop();
    TelemetryProvider.openTelemetry(cp, { name: 'otel', service: 'collector.example.com', port: 443, originateTls: false, addresses: COLLECTOR_ADDRESSES });
    const objects = synthAppValid(app);
    expect(ofKind(objects, 'DestinationRule', 'external-collector-example-com')).toEqual([]);
    expect(one(objects, 'ServiceEntry', 'external-collector-example-com').spec.ports).toEqual([{ number: 443, name: 'grpc-443', protocol: 'GRPC' }]);
    expect(analyze(objects)).toEqual([]);
  });

  test('an in-cluster collector is refused TLS origination: the proxies reach it with Istio mTLS', () => {
    const { cp } = zeroTrustShop();
    expect(() => TelemetryProvider.openTelemetry(cp, { name: 'otel', service: 'otel-collector.observability.svc', port: 4317, originateTls: true }))
      .toThrow("platform/istio: openTelemetry('otel').originateTls true is invalid: is only for a collector outside the cluster: the proxies reach the in-cluster "
        + "collector 'otel-collector.observability.svc.cluster.local' with Istio mTLS, which a DestinationRule's TLS would replace (its sidecar, under STRICT mTLS, "
        + 'would refuse the connection); omit originateTls, or give the collector\'s host outside the cluster');
    expect(() => TelemetryProvider.openTelemetryAccessLog(cp, { name: 'als', service: 'observability/otel-collector', port: 443, originateTls: true }))
      .toThrow(/platform\/istio: openTelemetryAccessLog\('als'\).originateTls true is invalid: is only for a collector outside the cluster/);
    // an in-cluster collector on 443 is not made TLS by default
    const { app, cp: cp2 } = zeroTrustShop();
    TelemetryProvider.openTelemetry(cp2, { name: 'otel', service: 'otel-collector.observability.svc', port: 443 });
    expect(ofKind(synthAppValid(app), 'DestinationRule').filter(d => d.metadata.namespace === 'istio-system')).toEqual([]);
    expect(cp.meshConfig.extensionProviders ?? []).toEqual([]);
  });

  test('one TLS setting per collector host and port', () => {
    const { cp } = zeroTrustShop();
    TelemetryProvider.openTelemetry(cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, addresses: HONEYCOMB_ADDRESSES });
    expect(() => TelemetryProvider.openTelemetryAccessLog(cp, { name: 'als', service: 'api.honeycomb.io', port: 443, originateTls: false, addresses: HONEYCOMB_ADDRESSES }))
      .toThrow("platform/istio: openTelemetryAccessLog('als').originateTls false is invalid: provider 'honeycomb' sends api.honeycomb.io:443 TLS: one TLS setting per host and port; set originateTls: true");
  });

  describe('a workload calling the collector\'s host (connectsToExternal) is refused when they cannot share it, whichever comes first', () => {
    const PROTOCOL = "telemetry provider 'honeycomb' speaks GRPC to api.honeycomb.io:443, shop/frontend's connectsToExternal HTTPS: one protocol per host and port (IST0177)";

    test('another protocol on the port: the workload declared second', () => {
      const { cp, frontend } = zeroTrustShop();
      TelemetryProvider.openTelemetry(cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, addresses: HONEYCOMB_ADDRESSES });
      expect(() => frontend.connectsToExternal(ExternalService.https('api.honeycomb.io')))
        .toThrow(`shop/frontend: connectsToExternal 'api.honeycomb.io:443' is invalid: ${PROTOCOL}`);
      expect(frontend.externalDependencies ?? []).toEqual([]);
    });

    test('another protocol on the port: the collector declared second', () => {
      const { cp, frontend } = zeroTrustShop();
      frontend.connectsToExternal(ExternalService.https('api.honeycomb.io'));
      expect(() => TelemetryProvider.openTelemetry(cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, addresses: HONEYCOMB_ADDRESSES }))
        .toThrow(`platform/istio: openTelemetry('honeycomb').port 443 is invalid: ${PROTOCOL}`);
      expect(cp.meshConfig.extensionProviders ?? []).toEqual([]);
    });

    test('another port of the collector\'s host: the workload\'s namespace would keep its own ServiceEntry, without the collector\'s port', () => {
      const { cp, frontend } = zeroTrustShop();
      TelemetryProvider.openTelemetry(cp, { name: 'honeycomb', service: 'api.honeycomb.io', port: 443, addresses: HONEYCOMB_ADDRESSES });
      expect(() => frontend.connectsToExternal(ExternalService.https('api.honeycomb.io', 8443)))
        .toThrow("shop/frontend: connectsToExternal 'api.honeycomb.io:8443' is invalid: telemetry provider 'honeycomb' sends to api.honeycomb.io:443, "
          + "shop/frontend's connectsToExternal calls port 8443: a proxy keeps the ServiceEntry of its own namespace for a host, so that namespace's proxies "
          + "would lose the collector's port and export nothing; share a collector's host only on its port, with its protocol");
    });

    test('two DestinationRules for the host: both originate TLS', () => {
      const { cp, frontend } = zeroTrustShop();
      TelemetryProvider.zipkin(cp, { name: 'zipkin', service: 'zipkin.example.com', port: 443, addresses: ZIPKIN_ADDRESSES });
      expect(() => frontend.connectsToExternal(ExternalService.http('zipkin.example.com', 443, { originateTls: true })))
        .toThrow("shop/frontend: connectsToExternal 'zipkin.example.com:443' is invalid: telemetry provider 'zipkin' and shop/frontend's connectsToExternal both originate TLS to "
          + "zipkin.example.com: the DestinationRule of the workload's namespace would take precedence over the collector's mesh-wide one for that namespace's proxies; "
          + 'one DestinationRule per external host');
    });

    test('TLS on one side only, same port and protocol', () => {
      const { cp, frontend } = zeroTrustShop();
      frontend.connectsToExternal(ExternalService.http('zipkin.example.com', 443));
      expect(() => TelemetryProvider.zipkin(cp, { name: 'zipkin', service: 'zipkin.example.com', port: 443, addresses: ZIPKIN_ADDRESSES }))
        .toThrow("platform/istio: zipkin('zipkin').originateTls true is invalid: telemetry provider 'zipkin' speaks TLS (originated by the proxy) to zipkin.example.com:443, "
          + "shop/frontend's connectsToExternal plain text: one's DestinationRule would apply to the other's traffic; one TLS setting per host and port");
    });

    test('what can share a host: its one port, protocol and TLS setting (analyzer clean)', () => {
      const { app, cp, frontend } = zeroTrustShop();
      TelemetryProvider.zipkin(cp, { name: 'zipkin', service: 'zipkin.example.com', port: 9411, addresses: ZIPKIN_ADDRESSES });
      frontend.connectsToExternal(ExternalService.http('zipkin.example.com', 9411));
      expect(analyze(synthAppValid(app))).toEqual([]);
    });
  });
});

describe('MeshTelemetry', () => {
  test('mesh-wide, namespace and workload telemetry (snapshot)', () => {
    const { cp, chart, mesh, ns, reviews } = setup();
    const p = providers(cp);
    new MeshTelemetry(chart, 'mesh-telemetry', {
      target: TelemetryTarget.mesh(mesh),
      accessLogging: [{ providers: [TelemetryProvider.envoy(), p.jsonLog], filter: 'response.code >= 400 || connection.mtls == false' }],
      tracing: [{
        providers: [p.otel],
        randomSamplingPercentage: 1.5,
        customTags: {
          cluster: TracingTag.literal('prod-eu'),
          user_agent: TracingTag.header('user-agent', 'unknown'),
          node: TracingTag.environment('NODE_NAME'),
        },
      }],
    });
    new MeshTelemetry(chart, 'ns-telemetry', {
      target: TelemetryTarget.namespace(ns),
      accessLogging: [{ disabled: true }],
      metrics: [{
        providers: [TelemetryProvider.prometheus()],
        overrides: [
          { metric: IstioMetric.REQUEST_SIZE, disabled: true },
          { metric: IstioMetric.REQUEST_COUNT, mode: TelemetryMode.CLIENT, addTags: { request_host: 'request.host', region: "'eu-west'" }, removeTags: ['request_protocol'] },
        ],
      }],
    });
    new MeshTelemetry(chart, 'reviews-telemetry', {
      target: TelemetryTarget.workload(reviews),
      tracing: [{ providers: [p.zipkin], randomSamplingPercentage: 100, mode: TelemetryMode.SERVER, disableSpanReporting: false }],
      metrics: [{ overrides: [{ mode: TelemetryMode.SERVER, removeTags: ['destination_canonical_revision'] }], reportingInterval: Duration.seconds(30) }],
    });
    const objects = synthValid(chart);
    const telemetries = ofKind(objects, 'Telemetry');
    expect(yamlOf(telemetries)).toMatchSnapshot();
    const meshT = one(objects, 'Telemetry', 'mesh-default');
    expect(meshT.apiVersion).toBe('telemetry.istio.io/v1');
    expect(meshT.metadata.namespace).toBe('istio-system');
    expect(meshT.spec.selector).toBeUndefined();
    expect(meshT.spec.accessLogging[0].providers).toEqual([{ name: 'envoy' }, { name: 'json-log' }]);
    expect(meshT.spec.tracing[0].customTags.user_agent).toEqual({ header: { name: 'user-agent', defaultValue: 'unknown' } });
    const nsT = one(objects, 'Telemetry', 'namespace-default');
    expect(nsT.metadata.namespace).toBe('shop');
    expect(nsT.spec.selector).toBeUndefined();
    expect(nsT.spec.metrics[0].overrides[1].tagOverrides).toEqual({
      region: { operation: 'UPSERT', value: "'eu-west'" },
      request_host: { operation: 'UPSERT', value: 'request.host' },
      request_protocol: { operation: 'REMOVE' },
    });
    const wT = one(objects, 'Telemetry', 'reviews');
    expect(wT.spec.selector).toEqual({ matchLabels: { app: 'reviews' } });
    expect(wT.spec.metrics[0].reportingInterval).toBe('30s');
    expect(wT.spec.metrics[0].overrides[0].match).toEqual({ metric: 'ALL_METRICS', mode: 'SERVER' });
  });

  test('a provider declared elsewhere is accepted explicitly', () => {
    const { chart, mesh } = setup();
    new MeshTelemetry(chart, 't', {
      target: TelemetryTarget.mesh(mesh),
      tracing: [{ providers: [TelemetryProvider.declaredElsewhere(mesh, 'central-otel', DefaultProviderKind.TRACING)] }],
    });
    expect(one(synthValid(chart), 'Telemetry').spec.tracing[0].providers).toEqual([{ name: 'central-otel' }]);
  });

  describe('bad input', () => {
    test('sampling outside 0-100', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshTelemetry(chart, 't', { target: TelemetryTarget.mesh(mesh), tracing: [{ randomSamplingPercentage: 101 }] }))
        .toThrow('shop/t: tracing[0].randomSamplingPercentage 101 is invalid: must be a percentage from 0 to 100');
      expect(() => new MeshTelemetry(chart, 't2', { target: TelemetryTarget.mesh(mesh), tracing: [{ randomSamplingPercentage: -1 }] }))
        .toThrow('shop/t2: tracing[0].randomSamplingPercentage -1 is invalid: must be a percentage from 0 to 100');
    });

    test('a provider referenced but not declared', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshTelemetry(chart, 't', { target: TelemetryTarget.mesh(mesh), tracing: [{ providers: [{ name: 'otel', kind: DefaultProviderKind.TRACING } as any] }] }))
        .toThrow("shop/t: tracing[0].providers[0] 'otel' is invalid: is not a declared provider: declare it on the control plane");
    });

    test('a provider declared on another mesh', () => {
      const { chart, ns } = setup();
      const app2 = new App();
      const other = new Chart(app2, 'other');
      const otherMesh = new Mesh(other, 'mesh', { rootNamespace: 'istio-other' });
      const otherCp = new IstioControlPlane(other, 'istio', { mesh: otherMesh, installCrds: false });
      const otel = TelemetryProvider.openTelemetry(otherCp, { name: 'otel', service: 'otel.observability.svc', port: 4317 });
      expect(() => new MeshTelemetry(chart, 't', { target: TelemetryTarget.namespace(ns), tracing: [{ providers: [otel] }] }))
        .toThrow("shop/t: tracing[0].providers[0] 'otel' is invalid: is not declared in this mesh's config: it belongs to the mesh of root namespace 'istio-other', not 'istio-system'");
    });

    test('a provider of the wrong kind', () => {
      const { chart, mesh, cp } = setup();
      const { zipkin } = providers(cp);
      expect(() => new MeshTelemetry(chart, 't', { target: TelemetryTarget.mesh(mesh), accessLogging: [{ providers: [zipkin] }] }))
        .toThrow("shop/t: accessLogging[0].providers[0] 'zipkin' is invalid: is a tracing provider, not a accessLogging provider");
    });

    test.each([
      ['', 'must be a non-empty CEL expression'],
      ['response.code >= 400 && (request.method == "GET"', "has 1 unclosed '('"],
      ["request.headers['x-user'] == 'admin", "has an unterminated ' string"],
      ['response.code >= 400)', "has an unmatched ')' at position 21"],
      ['response.code >=', 'ends with an operator'],
    ])('an access log filter that is not a valid expression: %p', (filter, message) => {
      const { chart, mesh } = setup();
      expect(() => new MeshTelemetry(chart, 't', { target: TelemetryTarget.mesh(mesh), accessLogging: [{ filter }] }))
        .toThrow(`shop/t: accessLogging[0].filter '${filter}' is invalid: ${message}`);
    });

    test('metric tag overrides', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshTelemetry(chart, 't1', { target: TelemetryTarget.mesh(mesh), metrics: [{ overrides: [{ addTags: { 'bad-tag': 'request.host' } }] }] }))
        .toThrow("shop/t1: metrics[0].overrides[0].addTags 'bad-tag' is invalid: must be a metric label name");
      expect(() => new MeshTelemetry(chart, 't2', { target: TelemetryTarget.mesh(mesh), metrics: [{ overrides: [{ addTags: { a: 'x' }, removeTags: ['a'] }] }] }))
        .toThrow("shop/t2: metrics[0].overrides[0].removeTags 'a' is invalid: must not also be in addTags");
      expect(() => new MeshTelemetry(chart, 't3', { target: TelemetryTarget.mesh(mesh), metrics: [{ overrides: [{ addTags: { a: '(x' } }] }] }))
        .toThrow("shop/t3: metrics[0].overrides[0].addTags['a'] '(x' is invalid: has 1 unclosed '('");
      expect(() => new MeshTelemetry(chart, 't4', { target: TelemetryTarget.mesh(mesh), metrics: [{ overrides: [{ metric: IstioMetric.REQUEST_COUNT }] }] }))
        .toThrow('shop/t4: metrics[0].overrides[0] {"metric":"REQUEST_COUNT"} is invalid: must disable the metric or change tags');
    });

    test('empty telemetry and two for one target', () => {
      const { chart, mesh, reviews } = setup();
      expect(() => new MeshTelemetry(chart, 'empty', { target: TelemetryTarget.mesh(mesh) }))
        .toThrow("shop/empty: props '{}' is invalid: must set at least one of accessLogging, tracing or metrics");
      new MeshTelemetry(chart, 'a', { target: TelemetryTarget.workload(reviews), accessLogging: [{}] });
      expect(() => new MeshTelemetry(chart, 'b', { target: TelemetryTarget.workload(reviews), name: 'other', tracing: [{}] }))
        .toThrow('shop/b: target \'shop/{"app":"reviews"}\' is invalid: already has a Telemetry (shop/a)');
    });
  });
});

describe('two revisions of the control plane in one root namespace (a canary upgrade)', () => {
  function twoRevisions() {
    const app = Testing.app();
    const platform = new Chart(app, 'platform');
    const mesh = new Mesh(platform, 'mesh', { revision: '1-29' });
    const cp = new IstioControlPlane(platform, 'istio', { mesh, installCrds: false });
    const mesh2 = new Mesh(platform, 'mesh2', { revision: '1-30' });
    const cp2 = new IstioControlPlane(platform, 'istio2', { mesh: mesh2, installCrds: false, installCni: false });
    return { app, cp, cp2 };
  }

  test('each revision\'s provider of one name keeps its own collector: both get their ports', () => {
    const { app, cp, cp2 } = twoRevisions();
    TelemetryProvider.openTelemetry(cp, { name: 'hc', service: 'api.honeycomb.io', port: 443, addresses: ['203.0.113.0/24'] });
    TelemetryProvider.openTelemetry(cp2, { name: 'hc', service: 'otel.example.com', port: 4317, addresses: ['198.51.100.0/24'] });
    const objects = synthAppValid(app);
    expect(one(objects, 'ServiceEntry', 'external-otel-example-com').spec.ports).toEqual([{ number: 4317, name: 'grpc-4317', protocol: 'GRPC' }]);
    expect(one(objects, 'ServiceEntry', 'external-api-honeycomb-io').spec.ports).toEqual([{ number: 443, name: 'grpc-443', protocol: 'GRPC' }]);
    // each revision's mesh config names its own collector
    const service = (rev: string) => YAML.parse(one(objects, 'ConfigMap', `istio-${rev}`).data.mesh).extensionProviders.find((p: any) => p.name === 'hc').opentelemetry.service;
    expect([service('1-29'), service('1-30')]).toEqual(['istio-system/api.honeycomb.io', 'istio-system/otel.example.com']);
  });

  test('one ServiceEntry and one DestinationRule per host, whichever revisions declare it', () => {
    const { app, cp, cp2 } = twoRevisions();
    TelemetryProvider.openTelemetry(cp, { name: 'hc', service: 'api.honeycomb.io', port: 443, addresses: ['203.0.113.0/24'] });
    TelemetryProvider.openTelemetry(cp2, { name: 'hc', service: 'api.honeycomb.io', port: 443, addresses: ['203.0.113.0/24'] });
    const objects = synthAppValid(app);
    expect(ofKind(objects, 'ServiceEntry').map(o => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['istio-system/external-api-honeycomb-io']);
    expect(ofKind(objects, 'DestinationRule').map(o => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['istio-system/external-api-honeycomb-io']);
  });
});

describe('a collector that runs in the mesh, in a ZeroTrustNamespace: every proxy of every namespace reaches it', () => {
  const NS = 'kubernetes.io/metadata.name';
  const FQDN = 'otel-collector.observability.svc.cluster.local';

  /** Two app namespaces and an observability namespace holding the collector (4317 in front of pod port 14317). */
  function meshedCollector(providerFirst: boolean) {
    const app = Testing.app();
    const platform = new Chart(app, 'platform');
    const mesh = new Mesh(platform, 'mesh');
    const cp = new IstioControlPlane(platform, 'istio', { mesh, installCrds: false });
    const declareProviders = () => {
      TelemetryProvider.openTelemetry(cp, { name: 'otel', service: FQDN, port: 4317, meshDefault: true });
      TelemetryProvider.openTelemetryAccessLog(cp, { name: 'als', service: 'observability/otel-collector', port: 4317 });
    };
    if (providerFirst) declareProviders();
    const obsChart = new Chart(app, 'observability');
    const observability = new ZeroTrustNamespace(obsChart, 'ns', { mesh, name: 'observability' });
    // the collector also serves a port nobody is granted (its own health/metrics endpoint): it must stay closed
    const collector = new MeshedService(obsChart, 'otel-collector', {
      namespace: observability,
      image: 'otel/opentelemetry-collector:0.100.0',
      ports: [ServicePort.grpc(4317, { targetPort: 14317 }), ServicePort.http(13133)],
    });
    const backend = new MeshedService(obsChart, 'tempo', { namespace: observability, image: 'grafana/tempo:2.4.0', ports: [ServicePort.grpc(4317)] });
    collector.connectsTo(backend);
    for (const name of ['shop', 'billing']) {
      const chart = new Chart(app, name);
      const ns = new ZeroTrustNamespace(chart, 'ns', { mesh, name });
      const svc = (id: string) => new MeshedService(chart, id, { namespace: ns, image: `example/${id}:1.0`, ports: [ServicePort.http(9080)] });
      svc('frontend').connectsTo(svc('api'));
    }
    if (!providerFirst) declareProviders();
    return { app, collector };
  }

  test('the providers declared before the collector\'s service: NetworkPolicy and AuthorizationPolicy admit every namespace\'s proxies on the collector port only; flows ALLOWED, analyzer clean', () => {
    expectCollectorAdmitted(true);
  });

  test('the providers declared after it: NetworkPolicy and AuthorizationPolicy admit every namespace\'s proxies on the collector port only; flows ALLOWED, analyzer clean', () => {
    expectCollectorAdmitted(false);
  });

  function expectCollectorAdmitted(providerFirst: boolean) {
    const { app } = meshedCollector(providerFirst);
    const objects = synthAppValid(app); // schema-valid against the Kubernetes and Istio 1.30.3 schemas
    const inObs = (kind: string) => ofKind(objects, kind).filter(o => o.metadata.namespace === 'observability');

    // the collector's pods, on the pod port behind 4317, from the pods of every namespace; its own call to tempo kept
    expect(inObs('NetworkPolicy').find(o => o.metadata.name === 'otel-collector').spec).toEqual({
      podSelector: { matchLabels: { app: 'otel-collector' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ protocol: 'TCP', port: 14317 }] }],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { [NS]: 'observability' } }, podSelector: { matchLabels: { app: 'tempo' } } }], ports: [{ protocol: 'TCP', port: 4317 }] }],
    });
    // any mesh identity (mTLS: the sending proxy's workload identity), on that port only
    expect(inObs('AuthorizationPolicy').find(o => o.metadata.name === 'otel-collector').spec).toEqual({
      selector: { matchLabels: { app: 'otel-collector' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['*'] } }], to: [{ operation: { ports: ['14317'] } }] }],
    });
    // nothing else in the namespace is opened: tempo keeps its one caller, no other object appears
    expect(inObs('AuthorizationPolicy').map(o => o.metadata.name).sort()).toEqual(['allow-nothing', 'otel-collector', 'tempo']);
    expect(inObs('NetworkPolicy').map(o => o.metadata.name).sort())
      .toEqual(['allow-dns', 'allow-istiod', 'allow-telemetry', 'default-deny', 'otel-collector', 'tempo']);
    expect(inObs('AuthorizationPolicy').find(o => o.metadata.name === 'tempo').spec.rules)
      .toEqual([{ from: [{ source: { principals: ['cluster.local/ns/observability/sa/otel-collector'] } }], to: [{ operation: { ports: ['4317'] } }] }]);
    expect(inObs('NetworkPolicy').find(o => o.metadata.name === 'tempo').spec.ingress)
      .toEqual([{ from: [{ namespaceSelector: { matchLabels: { [NS]: 'observability' } }, podSelector: { matchLabels: { app: 'otel-collector' } } }], ports: [{ protocol: 'TCP', port: 4317 }] }]);
    // the collector's Sidecar is unchanged: its own call and the collectors, like every other
    expect(inObs('Sidecar').find(o => o.metadata.name === 'otel-collector').spec.egress)
      .toEqual([{ hosts: ['istio-system/*', `observability/${FQDN}`, 'observability/tempo.observability.svc.cluster.local'] }]);
    // every namespace's proxies go out to the collector's pods on the pod port (what NetworkPolicy matches)
    for (const ns of ['shop', 'billing', 'observability']) {
      expect(ofKind(objects, 'NetworkPolicy', 'allow-telemetry').find(o => o.metadata.namespace === ns).spec.egress)
        .toEqual([{ to: [{ namespaceSelector: { matchLabels: { [NS]: 'observability' } } }], ports: [{ protocol: 'TCP', port: 14317 }] }]);
    }
    // the app namespaces are not touched: no rule of theirs admits every namespace
    for (const o of ofKind(objects, 'NetworkPolicy').filter(x => x.metadata.namespace !== 'observability')) {
      expect(JSON.stringify(o.spec.ingress ?? [])).not.toContain('"namespaceSelector":{}');
    }

    // every proxy of the mesh sends to the collector, and gets through
    const result = analyzeFlows(objects);
    const telemetry = result.flows.filter(f => f.kind === MeshFlowKind.TELEMETRY);
    expect(new Set(telemetry.map(f => f.source.split('/')[0]))).toEqual(new Set(['billing', 'observability', 'shop']));
    expect(new Set(telemetry.map(f => `${f.destination}:${f.port}`))).toEqual(new Set([`${FQDN}:4317`]));
    expect(telemetry.filter(f => f.verdict !== FlowVerdict.ALLOWED)).toEqual([]);
    expect(result.flows.filter(f => f.verdict !== FlowVerdict.ALLOWED)).toEqual([]);
    expect(analyze(objects)).toEqual([]);
  }
});
