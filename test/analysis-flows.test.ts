import * as path from 'path';
import { analyze, analyzeFlows, Finding, FlowVerdict, formatFlowMatrix, MeshFlow, MeshFlowKind } from '../src';
import { runCli } from '../src/analysis/cli';

// ---------------------------------------------------------------------------------------------------------------
// Builders of plain objects

const SHOP = 'shop';
const ROOT = 'istio-system';

function namespace(name: string, labels: Record<string, string> = {}): any {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

interface PodOptions {
  readonly sa?: string;
  readonly ports?: Array<{ name: string; containerPort: number }>;
  /** Add an istio-proxy container (injected at synth time), with this CA_ADDR. */
  readonly proxy?: { caAddr?: string; router?: boolean };
  readonly extraLabels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly kind?: string;
}

function workload(name: string, ns: string, labels: Record<string, string>, o: PodOptions = {}): any {
  const containers: any[] = [{ name: 'app', image: `${name}:1`, ...(o.ports ? { ports: o.ports } : {}) }];
  if (o.proxy) {
    containers.push({
      name: 'istio-proxy',
      image: 'proxyv2',
      ...(o.proxy.router ? { args: ['proxy', 'router'] } : {}),
      env: [{ name: 'CA_ADDR', value: o.proxy.caAddr ?? 'istiod.istio-system.svc:15012' }],
    });
  }
  const podLabels = { ...labels, ...(o.extraLabels ?? {}) };
  return {
    apiVersion: 'apps/v1',
    kind: o.kind ?? 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels: podLabels, ...(o.annotations ? { annotations: o.annotations } : {}) },
        spec: { serviceAccountName: o.sa ?? name, containers },
      },
    },
  };
}

function service(name: string, ns: string, ports: any[], selector: Record<string, string> = { app: name }): any {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector, ports } };
}

function obj(apiVersion: string, kind: string, name: string, ns: string, spec: any, annotations?: Record<string, string>): any {
  return { apiVersion, kind, metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) }, spec };
}
const np = (name: string, spec: any, ns = SHOP) => obj('networking.k8s.io/v1', 'NetworkPolicy', name, ns, spec);
const ap = (name: string, spec: any, ns = SHOP, annotations?: Record<string, string>) => obj('security.istio.io/v1', 'AuthorizationPolicy', name, ns, spec, annotations);
const pa = (name: string, spec: any, ns = SHOP) => obj('security.istio.io/v1', 'PeerAuthentication', name, ns, spec);
const sidecar = (name: string, spec: any, ns = SHOP) => obj('networking.istio.io/v1', 'Sidecar', name, ns, spec);
const vs = (name: string, spec: any, ns = SHOP) => obj('networking.istio.io/v1', 'VirtualService', name, ns, spec);

/** istiod in the root namespace. */
function istiod(): any[] {
  return [
    namespace(ROOT),
    workload('istiod', ROOT, { app: 'istiod' }, { ports: [{ name: 'tls-xds', containerPort: 15012 }] }),
    service('istiod', ROOT, [{ name: 'https-dns', port: 15012 }, { name: 'grpc-xds', port: 15010 }], { app: 'istiod' }),
  ];
}

const BACKEND = 'backend.shop.svc.cluster.local';

/**
 * The shop: frontend calls backend (port 80 -> named container port http = 8080). Both meshed by the namespace's
 * injection label; frontend's Sidecar imports backend.
 */
function shop(): any[] {
  return [
    ...istiod(),
    namespace(SHOP, { 'istio-injection': 'enabled' }),
    workload('frontend', SHOP, { app: 'frontend' }, { ports: [{ name: 'http', containerPort: 8080 }] }),
    workload('backend', SHOP, { app: 'backend' }, { ports: [{ name: 'http', containerPort: 8080 }] }),
    service('frontend', SHOP, [{ name: 'http', port: 80, targetPort: 'http' }]),
    service('backend', SHOP, [{ name: 'http', port: 80, targetPort: 'http' }]),
    sidecar('frontend', { workloadSelector: { labels: { app: 'frontend' } }, egress: [{ hosts: [`./${BACKEND}`, 'istio-system/*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }),
  ];
}

function find(flows: readonly MeshFlow[], source: string, destination: string, port: number, kind?: MeshFlowKind): MeshFlow {
  const f = flows.find(x => x.source === source && x.destination === destination && x.port === port && (!kind || x.kind === kind));
  if (!f) throw new Error(`no flow ${source} -> ${destination}:${port}\n${flows.map(x => `${x.source} -> ${x.destination}:${x.port} ${x.kind}`).join('\n')}`);
  return f;
}

const call = (objects: any[]) => find(analyzeFlows(objects).flows, 'shop/frontend', BACKEND, 80);
const codes = (findings: Finding[]) => findings.map(f => f.code);

// ---------------------------------------------------------------------------------------------------------------
// The codes: each with a misconfigured input and its clean twin (docs/analysis.md refers to these names)

interface Case {
  /** `<code> <what>`. */
  readonly name: string;
  readonly bad: any[];
  readonly clean: any[];
  readonly message: string;
  readonly object: string;
}

const DEFAULT_DENY_EGRESS = np('default-deny-egress', { podSelector: {}, policyTypes: ['Egress'] });
const ALLOW_ISTIOD = np('allow-istiod', {
  podSelector: {},
  policyTypes: ['Egress'],
  egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ROOT } }, podSelector: { matchLabels: { app: 'istiod' } } }], ports: [{ port: 15012 }] }],
});

function istioCsr(targetPort: number | string): any[] {
  return [
    namespace('cert-manager'),
    workload('istio-csr', 'cert-manager', { app: 'istio-csr' }, { ports: [{ name: 'grpc', containerPort: 6443 }] }),
    service('cert-manager-istio-csr', 'cert-manager', [{ name: 'grpc', port: 443, targetPort }], { app: 'istio-csr' }),
  ];
}

/** A meshed pod (injected at synth time) whose CA is istio-csr, in a namespace that denies egress but to istiod. */
function csrClient(allowPort: number): any[] {
  return [
    ...istiod(),
    namespace('apps'),
    workload('client', 'apps', { app: 'client' }, { proxy: { caAddr: 'cert-manager-istio-csr.cert-manager.svc:443' } }),
    np('deny', { podSelector: {}, policyTypes: ['Egress'] }, 'apps'),
    np('allow-istiod', { ...ALLOW_ISTIOD.spec }, 'apps'),
    np('allow-csr', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'cert-manager' } } }], ports: [{ port: allowPort, protocol: 'TCP' }] }],
    }, 'apps'),
  ];
}

function meshConfig(mesh: string): any {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: ROOT }, data: { mesh } };
}
const OTEL = meshConfig('extensionProviders:\n  - name: otel\n    opentelemetry:\n      service: otel.observability.svc.cluster.local\n      port: 4317\n');

const POD_MONITOR = obj('monitoring.coreos.com/v1', 'PodMonitor', 'envoy', ROOT, { namespaceSelector: { any: true }, selector: {}, podMetricsEndpoints: [{ path: '/stats/prometheus' }] });
const DENY_INGRESS = np('default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] });
const ALLOW_SCRAPE = np('allow-scrape', {
  podSelector: {},
  policyTypes: ['Ingress'],
  ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ port: 15020 }, { port: 15090 }] }],
});
const ALLOW_FRONTEND_TO_BACKEND = np('backend', {
  podSelector: { matchLabels: { app: 'backend' } },
  ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ port: 'http' }] }],
});

/** api.example.com through the egress gateway in istio-egress, as EgressGateway renders it. */
function egress(frontendEgress: any[]): any[] {
  return [
    ...shop().filter(o => o.kind !== 'Sidecar'),
    namespace('istio-egress'),
    workload('egressgateway', 'istio-egress', { istio: 'egressgateway' }, { proxy: { router: true }, ports: [{ name: 'tls', containerPort: 8443 }] }),
    service('egressgateway', 'istio-egress', [{ name: 'tls', port: 443, targetPort: 8443 }], { istio: 'egressgateway' }),
    obj('networking.istio.io/v1', 'Gateway', 'egressgateway', 'istio-egress', { selector: { istio: 'egressgateway' }, servers: [{ port: { number: 443, name: 'tls', protocol: 'TLS' }, hosts: ['api.example.com'], tls: { mode: 'PASSTHROUGH' } }] }),
    obj('networking.istio.io/v1', 'ServiceEntry', 'api', 'istio-egress', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'DNS', location: 'MESH_EXTERNAL' }),
    vs('api', {
      hosts: ['api.example.com'],
      gateways: ['mesh', 'egressgateway'],
      tls: [
        { match: [{ gateways: ['mesh'], port: 443, sniHosts: ['api.example.com'] }], route: [{ destination: { host: 'egressgateway.istio-egress.svc.cluster.local', port: { number: 443 } } }] },
        { match: [{ gateways: ['egressgateway'], port: 443, sniHosts: ['api.example.com'] }], route: [{ destination: { host: 'api.example.com', port: { number: 443 } } }] },
      ],
    }, 'istio-egress'),
    sidecar('frontend', { workloadSelector: { labels: { app: 'frontend' } }, egress: [{ hosts: [`./${BACKEND}`, 'istio-system/*', 'istio-egress/api.example.com', 'istio-egress/egressgateway.istio-egress.svc.cluster.local'] }] }),
    np('frontend-egress', { podSelector: { matchLabels: { app: 'frontend' } }, policyTypes: ['Egress'], egress: frontendEgress }),
  ];
}
const TO_EGRESS_GW = { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-egress' } }, podSelector: { matchLabels: { istio: 'egressgateway' } } }], ports: [{ port: 8443 }] };
const TO_BACKEND_AND_ISTIOD = [
  { to: [{ podSelector: { matchLabels: { app: 'backend' } } }], ports: [{ port: 8080 }] },
  ...ALLOW_ISTIOD.spec.egress,
];

const CASES: Case[] = [
  {
    name: 'MESH101 a declared call denied by the destination\'s NetworkPolicy',
    bad: [...shop(), np('backend', { podSelector: { matchLabels: { app: 'backend' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'other' } } }] }] })],
    clean: [...shop(), ALLOW_FRONTEND_TO_BACKEND],
    message: `shop/frontend (cluster.local/ns/shop/sa/frontend) -> ${BACKEND}:80, declared here (call), is denied at NetworkPolicy ingress (NetworkPolicy shop/backend)`,
    object: 'Sidecar shop/frontend',
  },
  {
    name: 'MESH102 a proxy that cannot reach istiod',
    bad: [...shop(), DEFAULT_DENY_EGRESS, np('frontend', { podSelector: { matchLabels: { app: 'frontend' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'backend' } } }] }] })],
    clean: [...shop(), DEFAULT_DENY_EGRESS, ALLOW_ISTIOD, np('frontend', { podSelector: { matchLabels: { app: 'frontend' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'backend' } } }] }] })],
    message: 'The proxy of shop/backend cannot reach istiod (configuration and certificates) at istiod.istio-system.svc.cluster.local:15012: NetworkPolicy egress: NetworkPolicy shop/default-deny-egress isolates the pod for egress and no rule allows port 15012',
    object: 'Deployment shop/backend',
  },
  {
    name: 'MESH102 istio-csr reached on the Service port (443) instead of its pods\' port (6443)',
    bad: [...csrClient(443), ...istioCsr(6443)],
    clean: [...csrClient(6443), ...istioCsr(6443)],
    message: 'The proxy of apps/client cannot reach its CA (CA_ADDR) at cert-manager-istio-csr.cert-manager.svc.cluster.local:443: NetworkPolicy egress: NetworkPolicy apps/deny, NetworkPolicy apps/allow-istiod, NetworkPolicy apps/allow-csr isolate the pod for egress and no rule allows port 6443',
    object: 'Deployment apps/client',
  },
  {
    name: 'MESH103 a telemetry collector the Sidecar does not import',
    bad: [...shop(), OTEL],
    clean: [...shop().filter(o => o.kind !== 'Sidecar'), OTEL, sidecar('frontend', { workloadSelector: { labels: { app: 'frontend' } }, egress: [{ hosts: [`./${BACKEND}`, 'istio-system/*', 'observability/*'] }] })],
    message: 'The proxy of shop/frontend cannot reach the telemetry provider otel.observability.svc.cluster.local:4317 (ConfigMap istio-system/istio): Sidecar: Sidecar shop/frontend does not import otel.observability.svc.cluster.local, so Envoy has no cluster for it',
    object: 'Deployment shop/frontend',
  },
  {
    name: 'MESH104 scraping blocked by a default-deny ingress policy',
    bad: [...shop(), POD_MONITOR, DENY_INGRESS, ALLOW_FRONTEND_TO_BACKEND],
    clean: [...shop(), POD_MONITOR, DENY_INGRESS, ALLOW_FRONTEND_TO_BACKEND, ALLOW_SCRAPE],
    message: 'The metrics scraper (monitoring/*) cannot reach shop/backend on port 15090: NetworkPolicy ingress: NetworkPolicy shop/default-deny-ingress, NetworkPolicy shop/backend isolate the pod for ingress and no rule allows port 15090',
    object: 'Deployment shop/backend',
  },
  {
    name: 'MESH105 egress that bypasses the egress gateway',
    bad: egress([...TO_BACKEND_AND_ISTIOD, TO_EGRESS_GW, { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443 }] }]),
    clean: egress([...TO_BACKEND_AND_ISTIOD, TO_EGRESS_GW]),
    message: 'shop/frontend may reach api.example.com:443 directly (NetworkPolicy shop/frontend-egress egress rule #3 allows every address), bypassing the egress gateway that VirtualService istio-egress/api routes it through',
    object: 'NetworkPolicy shop/frontend-egress',
  },
  {
    name: 'MESH106 a Service port no policy lets anyone reach',
    bad: [...shop(), service('backend-admin', SHOP, [{ name: 'tcp-admin', port: 9000 }], { app: 'backend' }), ALLOW_FRONTEND_TO_BACKEND],
    clean: [...shop(), service('backend-admin', SHOP, [{ name: 'http', port: 80, targetPort: 8080 }], { app: 'backend' }), ALLOW_FRONTEND_TO_BACKEND],
    message: 'No source can reach port 9000 (tcp-admin): NetworkPolicy ingress: NetworkPolicy shop/backend isolate Deployment backend and no rule allows port 9000',
    object: 'Service shop/backend-admin',
  },
];

describe('flow analysis findings', () => {
  test.each(CASES)('$name', c => {
    const code = c.name.split(' ')[0];
    const bad = analyzeFlows(c.bad).findings.filter(f => f.code === code);
    expect(bad.map(f => f.message)).toContainEqual(expect.stringContaining(c.message));
    const hit = bad.find(f => f.message.includes(c.message))!;
    expect(`${hit.object.kind} ${hit.object.namespace}/${hit.object.name}`).toBe(c.object);
    expect(codes(analyzeFlows(c.clean).findings)).not.toContain(code);
  });

  test('the clean shop has no flow findings at all', () => {
    expect(analyzeFlows([...shop(), ALLOW_FRONTEND_TO_BACKEND]).findings).toEqual([]);
  });

  test('analyze() runs the flow family only with the flows option', () => {
    const objects = CASES[0].bad;
    expect(codes(analyze(objects))).not.toContain('MESH101');
    expect(codes(analyze(objects, { flows: {} }))).toContain('MESH101');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Layer semantics

describe('NetworkPolicy', () => {
  test('no policy: allowed, and the reason says so', () => {
    const f = call(shop());
    expect(f.verdict).toBe(FlowVerdict.ALLOWED);
    expect(f.reason).toBe(`Sidecar shop/frontend imports ${BACKEND}`);
  });

  test('ingress: a rule for the named target port allows; the reason names the rule', () => {
    const f = call([...shop(), ALLOW_FRONTEND_TO_BACKEND]);
    expect(f.verdict).toBe(FlowVerdict.ALLOWED);
    expect(f.reason).toContain('NetworkPolicy shop/backend ingress rule #0');
  });

  test('ingress: a rule for the Service port (80) does not cover the pod port (8080)', () => {
    const f = call([...shop(), np('backend', { podSelector: { matchLabels: { app: 'backend' } }, ingress: [{ ports: [{ port: 80 }] }] })]);
    expect(f).toMatchObject({ verdict: FlowVerdict.DENIED, deniedAt: 'NetworkPolicy ingress', deniedBy: { kind: 'NetworkPolicy', namespace: SHOP, name: 'backend' } });
  });

  test('ingress: endPort ranges and protocols', () => {
    const rule = (ports: any[]) => call([...shop(), np('backend', { podSelector: { matchLabels: { app: 'backend' } }, ingress: [{ ports }] })]).verdict;
    expect(rule([{ port: 8000, endPort: 8100 }])).toBe(FlowVerdict.ALLOWED);
    expect(rule([{ port: 8081, endPort: 8100 }])).toBe(FlowVerdict.DENIED);
    expect(rule([{ port: 8080, protocol: 'UDP' }])).toBe(FlowVerdict.DENIED);
  });

  test('egress: an isolated source needs a rule to the destination pods', () => {
    const denied = call([...shop(), np('frontend', { podSelector: { matchLabels: { app: 'frontend' } }, policyTypes: ['Egress'] })]);
    expect(denied).toMatchObject({ verdict: FlowVerdict.DENIED, deniedAt: 'NetworkPolicy egress' });
    const allowed = call([...shop(), np('frontend', { podSelector: { matchLabels: { app: 'frontend' } }, egress: [{ to: [{ podSelector: { matchLabels: { app: 'backend' } } }], ports: [{ port: 8080 }] }] })]);
    expect(allowed.verdict).toBe(FlowVerdict.ALLOWED);
    expect(allowed.reason).toContain('NetworkPolicy shop/frontend egress rule #0');
  });

  test('policyTypes default: Ingress only, plus Egress when egress rules exist', () => {
    // no policyTypes and no egress key: not an egress policy, so the source is not isolated for egress
    const f = call([...shop(), np('frontend', { podSelector: { matchLabels: { app: 'frontend' } }, ingress: [] })]);
    expect(f.verdict).toBe(FlowVerdict.ALLOWED);
  });

  test('policyTypes default: `egress: []` is no egress rule, so the policy is ingress-only (Kubernetes defaults Egress on len(egress) > 0)', () => {
    const frontend = (spec: any) => call([...shop(), np('frontend', { podSelector: { matchLabels: { app: 'frontend' } }, ...spec })]);
    expect(frontend({ ingress: [], egress: [] }).verdict).toBe(FlowVerdict.ALLOWED);
    expect(frontend({ egress: [] }).verdict).toBe(FlowVerdict.ALLOWED);
    // said explicitly, or with a rule that does not reach the backend, it isolates egress
    expect(frontend({ policyTypes: ['Ingress', 'Egress'], egress: [] })).toMatchObject({ verdict: FlowVerdict.DENIED, deniedAt: 'NetworkPolicy egress' });
    expect(frontend({ egress: [{ ports: [{ port: 53 }] }] })).toMatchObject({ verdict: FlowVerdict.DENIED, deniedAt: 'NetworkPolicy egress' });
  });

  test('namespaceSelector AND podSelector; matchExpressions In, NotIn, Exists, DoesNotExist', () => {
    const withFrom = (from: any[]) => call([...shop(), np('backend', { podSelector: { matchLabels: { app: 'backend' } }, ingress: [{ from }] })]).verdict;
    const nsSel = (sel: any) => ({ namespaceSelector: sel });
    expect(withFrom([{ ...nsSel({ matchLabels: { 'kubernetes.io/metadata.name': SHOP } }), podSelector: { matchLabels: { app: 'frontend' } } }])).toBe(FlowVerdict.ALLOWED);
    expect(withFrom([{ ...nsSel({ matchLabels: { 'kubernetes.io/metadata.name': 'other' } }), podSelector: { matchLabels: { app: 'frontend' } } }])).toBe(FlowVerdict.DENIED);
    expect(withFrom([nsSel({ matchLabels: { 'istio-injection': 'enabled' } })])).toBe(FlowVerdict.ALLOWED);
    expect(withFrom([{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['frontend', 'x'] }] } }])).toBe(FlowVerdict.ALLOWED);
    expect(withFrom([{ podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['frontend'] }] } }])).toBe(FlowVerdict.DENIED);
    expect(withFrom([{ podSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] } }])).toBe(FlowVerdict.ALLOWED);
    expect(withFrom([{ podSelector: { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] } }])).toBe(FlowVerdict.DENIED);
  });

  test('ipBlock: a cluster pod is inside 0.0.0.0/0 only', () => {
    const withFrom = (cidr: string) => call([...shop(), np('backend', { podSelector: { matchLabels: { app: 'backend' } }, ingress: [{ from: [{ ipBlock: { cidr } }] }] })]).verdict;
    expect(withFrom('0.0.0.0/0')).toBe(FlowVerdict.ALLOWED);
    expect(withFrom('10.0.0.0/8')).toBe(FlowVerdict.DENIED);
    // 0.0.0.0/0 except the private ranges: the pod may be cut out, the input cannot tell
    const f = call([...shop(), np('backend', { podSelector: { matchLabels: { app: 'backend' } }, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }] })]);
    expect(f.verdict).toBe(FlowVerdict.UNKNOWN);
  });

  test('odd YAML never throws', () => {
    const odd = [
      { kind: 'NetworkPolicy', metadata: { name: 'x', namespace: SHOP }, spec: { podSelector: 'all', ingress: 'none', egress: [{ to: 'x', ports: [1, 'a', { port: { n: 1 } }] }] } },
      { kind: 'AuthorizationPolicy', metadata: { name: 'y', namespace: SHOP }, spec: { selector: [], rules: [{ from: 'x', to: [{ operation: 'y' }], when: [{ key: 5 }] }] } },
      { kind: 'Sidecar', metadata: { name: 'z', namespace: SHOP }, spec: { egress: [{ hosts: [1, null, 'a/b/c'] }], workloadSelector: 'x' } },
      { kind: 'ConfigMap', metadata: { name: 'istio', namespace: ROOT }, data: { mesh: '{ not: yaml: [' } },
      { kind: 'VirtualService', metadata: { name: 'v', namespace: SHOP }, spec: { hosts: 'backend', http: [{ route: 'x', mirror: 3 }] } },
      { kind: 'PeerAuthentication', metadata: { name: 'p', namespace: SHOP }, spec: { mtls: 'STRICT', portLevelMtls: [] } },
    ];
    expect(() => analyzeFlows([...shop(), ...odd])).not.toThrow();
  });
});

describe('PeerAuthentication', () => {
  const unmeshedFrontend = () => shop().map(o => (o.kind === 'Deployment' && o.metadata.name === 'frontend'
    ? workload('frontend', SHOP, { app: 'frontend' }, { extraLabels: { 'sidecar.istio.io/inject': 'false' } }) : o));
  // the unmeshed frontend declares nothing (it has no Sidecar scope): a gateway-less VirtualService caller is
  // emulated by a Gateway API route from it... simpler: the check is on the flow the mesh ingress would declare.
  function flowFromUnmeshed(extra: any[]): MeshFlow {
    const objects = [...unmeshedFrontend(), ...extra,
      obj('gateway.networking.k8s.io/v1', 'Gateway', 'frontend', SHOP, { gatewayClassName: 'x', listeners: [] }),
      obj('gateway.networking.k8s.io/v1', 'HTTPRoute', 'to-backend', SHOP, { parentRefs: [{ name: 'frontend' }], rules: [{ backendRefs: [{ name: 'backend', port: 80 }] }] })];
    // label the frontend pods as the Gateway's pods (gateway.networking.k8s.io/gateway-name)
    const fe = objects.find(o => o.kind === 'Deployment' && o.metadata.name === 'frontend');
    fe.spec.template.metadata.labels['gateway.networking.k8s.io/gateway-name'] = 'frontend';
    return find(analyzeFlows(objects).flows, 'shop/frontend', BACKEND, 80, MeshFlowKind.GATEWAY_ROUTE);
  }

  test('a plaintext source cannot reach a STRICT port; PERMISSIVE lets it through', () => {
    expect(flowFromUnmeshed([pa('default', { mtls: { mode: 'STRICT' } }, ROOT)])).toMatchObject({
      verdict: FlowVerdict.DENIED,
      deniedAt: 'PeerAuthentication',
      deniedBy: { kind: 'PeerAuthentication', namespace: ROOT, name: 'default' },
      sourceMeshed: false,
    });
    expect(flowFromUnmeshed([pa('default', { mtls: { mode: 'PERMISSIVE' } }, ROOT)]).verdict).toBe(FlowVerdict.ALLOWED);
  });

  test('workload PeerAuthentication and portLevelMtls (keyed by the pod port) override the namespace and mesh', () => {
    const strict = pa('default', { mtls: { mode: 'STRICT' } });
    const portPermissive = pa('backend', { selector: { matchLabels: { app: 'backend' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { 8080: { mode: 'PERMISSIVE' } } });
    expect(flowFromUnmeshed([strict]).verdict).toBe(FlowVerdict.DENIED);
    expect(flowFromUnmeshed([strict, portPermissive]).verdict).toBe(FlowVerdict.ALLOWED);
  });
});

describe('AuthorizationPolicy', () => {
  const principal = (sa: string) => `cluster.local/ns/${SHOP}/sa/${sa}`;
  const allowFrom = (sa: string, extra: any = {}) => ap('backend', { selector: { matchLabels: { app: 'backend' } }, rules: [{ from: [{ source: { principals: [principal(sa)] } }], ...extra }] });

  test('an ALLOW policy whose rules do not match denies; the reason names it', () => {
    expect(call([...shop(), allowFrom('other')])).toMatchObject({
      verdict: FlowVerdict.DENIED, deniedAt: 'AuthorizationPolicy', deniedBy: { kind: 'AuthorizationPolicy', namespace: SHOP, name: 'backend' },
    });
    const ok = call([...shop(), allowFrom('frontend')]);
    expect(ok.verdict).toBe(FlowVerdict.ALLOWED);
    expect(ok.reason).toContain('AuthorizationPolicy shop/backend rule #0');
  });

  test('principal patterns: *, prefix*, *suffix', () => {
    const withPrincipals = (principals: string[]) => call([...shop(), ap('backend', { selector: { matchLabels: { app: 'backend' } }, rules: [{ from: [{ source: { principals } }] }] })]).verdict;
    expect(withPrincipals(['*'])).toBe(FlowVerdict.ALLOWED);
    expect(withPrincipals(['cluster.local/ns/shop/*'])).toBe(FlowVerdict.ALLOWED);
    expect(withPrincipals(['*/sa/frontend'])).toBe(FlowVerdict.ALLOWED);
    expect(withPrincipals(['*/sa/admin'])).toBe(FlowVerdict.DENIED);
  });

  test('the trust domain comes from the mesh config', () => {
    const objects = [...shop(), allowFrom('frontend'), meshConfig('trustDomain: corp.example\n')];
    expect(call(objects).verdict).toBe(FlowVerdict.DENIED);
    expect(find(analyzeFlows(objects, { trustDomain: 'cluster.local' }).flows, 'shop/frontend', BACKEND, 80).verdict).toBe(FlowVerdict.ALLOWED);
  });

  test('DENY is evaluated before ALLOW', () => {
    const deny = ap('deny-shop', { action: 'DENY', rules: [{ from: [{ source: { namespaces: [SHOP] } }] }] });
    expect(call([...shop(), allowFrom('frontend'), deny])).toMatchObject({ verdict: FlowVerdict.DENIED, deniedBy: { name: 'deny-shop' } });
  });

  test('a dry-run policy is not enforced', () => {
    const deny = ap('deny-all', { action: 'DENY', rules: [{}] }, SHOP, { 'istio.io/dry-run': 'true' });
    expect(call([...shop(), deny]).verdict).toBe(FlowVerdict.ALLOWED);
    expect(call([...shop(), { ...deny, metadata: { name: 'deny-all', namespace: SHOP } }]).verdict).toBe(FlowVerdict.DENIED);
  });

  test('root namespace policies apply mesh-wide; AUDIT is ignored; CUSTOM depends on the external authorizer', () => {
    expect(call([...shop(), ap('allow-nothing', {}, ROOT)]).verdict).toBe(FlowVerdict.DENIED);
    expect(call([...shop(), ap('audit', { action: 'AUDIT', rules: [{}] })]).verdict).toBe(FlowVerdict.ALLOWED);
    const custom = call([...shop(), ap('ext', { action: 'CUSTOM', provider: { name: 'opa' }, rules: [{}] })]);
    expect(custom.verdict).toBe(FlowVerdict.ALLOWED);
    expect(custom.reason).toContain('depends on the external authorizer of AuthorizationPolicy shop/ext');
  });

  test('HTTP-only fields: on an HTTP port some requests pass (partial)', () => {
    const f = call([...shop(), allowFrom('frontend', { to: [{ operation: { paths: ['/api/*'] } }] })]);
    expect(f.verdict).toBe(FlowVerdict.PARTIAL);
    expect(f.reason).toContain('rule #0 (some requests)');
  });

  function tcpShop(): any[] {
    return shop().map(o => (o.kind === 'Service' && o.metadata.name === 'backend' ? service('backend', SHOP, [{ name: 'tcp', port: 80, targetPort: 'http' }]) : o));
  }

  test('HTTP-only fields on a TCP port: an ALLOW rule with them matches nothing', () => {
    const f = call([...tcpShop(), allowFrom('frontend', { to: [{ operation: { methods: ['GET'] } }] })]);
    expect(f).toMatchObject({ verdict: FlowVerdict.DENIED, deniedAt: 'AuthorizationPolicy' });
    expect(call([...tcpShop(), allowFrom('frontend', { to: [{ operation: { ports: ['8080'] } }] })]).verdict).toBe(FlowVerdict.ALLOWED);
  });

  test('HTTP-only fields on a TCP port: a DENY rule with them denies as if they were absent', () => {
    const deny = ap('deny-admin', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin'] } }] }] });
    expect(call([...tcpShop(), deny])).toMatchObject({ verdict: FlowVerdict.DENIED, deniedBy: { name: 'deny-admin' } });
    expect(call([...shop(), deny]).verdict).toBe(FlowVerdict.PARTIAL); // on HTTP only /admin is denied
  });

  test('requestPrincipals: an ALLOW rule needing a JWT allows some requests; DENY without a token denies some', () => {
    expect(call([...shop(), ap('jwt', { rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] })]).verdict).toBe(FlowVerdict.PARTIAL);
    const denyNoToken = ap('require-jwt', { action: 'DENY', rules: [{ from: [{ source: { notRequestPrincipals: ['*'] } }] }] });
    const f = call([...shop(), denyNoToken]);
    expect(f.verdict).toBe(FlowVerdict.PARTIAL);
    expect(f.reason).toContain('AuthorizationPolicy shop/require-jwt (DENY) rule #0 denies some requests');
  });

  test('ipBlocks, remoteIpBlocks, source.ip: a pod\'s address is not in the input, so a DENY naming a narrower block may match it (unknown, never allowed)', () => {
    const deny = (source: any, when?: any[]) => call([...shop(), allowFrom('frontend'),
      ap('deny-net', { action: 'DENY', rules: [{ ...(source ? { from: [{ source }] } : {}), ...(when ? { when } : {}) }] })]);
    for (const f of [deny({ ipBlocks: ['10.0.0.0/8'] }), deny({ remoteIpBlocks: ['10.244.1.7'] }), deny({ notIpBlocks: ['192.168.0.0/16'] }),
      deny(undefined, [{ key: 'source.ip', values: ['10.0.0.0/8'] }]), deny(undefined, [{ key: 'remote.ip', notValues: ['10.0.0.0/8'] }])]) {
      expect(f.verdict).toBe(FlowVerdict.UNKNOWN);
      expect(f.reason).toBe('AuthorizationPolicy: AuthorizationPolicy shop/deny-net (DENY) rule #0 may match (it names addresses; the source\'s is not in the input); AuthorizationPolicy shop/backend rule #0');
    }
    // every address: denied; a rule that cannot match for another reason (a principal) stays out of the way
    expect(deny({ ipBlocks: ['0.0.0.0/0'] })).toMatchObject({ verdict: FlowVerdict.DENIED, deniedBy: { name: 'deny-net' } });
    expect(deny({ ipBlocks: ['10.0.0.0/8'], principals: [principal('other')] }).verdict).toBe(FlowVerdict.ALLOWED);
    // with its principal, the address decides
    expect(deny({ ipBlocks: ['10.0.0.0/8'], principals: [principal('frontend')] }).verdict).toBe(FlowVerdict.UNKNOWN);
  });

  test('ipBlocks in an ALLOW rule: whether it lets the source in depends on the source\'s address (unknown), so neither allowed nor denied', () => {
    const allow = (source: any) => call([...shop(), ap('backend', { selector: { matchLabels: { app: 'backend' } }, rules: [{ from: [{ source: { principals: [principal('frontend')], ...source } }] }] })]);
    const f = allow({ notIpBlocks: ['10.0.0.0/8'] });
    expect(f.verdict).toBe(FlowVerdict.UNKNOWN);
    expect(f.reason).toBe('AuthorizationPolicy: AuthorizationPolicy shop/backend rule #0 (if the source\'s address matches: not in the input)');
    expect(allow({ ipBlocks: ['10.0.0.0/8'] }).verdict).toBe(FlowVerdict.UNKNOWN);
    expect(allow({ ipBlocks: ['0.0.0.0/0', '10.0.0.0/8'] }).verdict).toBe(FlowVerdict.ALLOWED);
    expect(allow({ notIpBlocks: ['::/0'] }).verdict).toBe(FlowVerdict.DENIED);
  });

  test('principals need mTLS: a plaintext (passthrough) connection matches no principal', () => {
    // frontend calls the frontend host, which a VirtualService routes to backend; its Sidecar does not import
    // backend, and the mesh's default ALLOW_ANY sends the connection through the passthrough cluster in plaintext
    const objects = [...shop().filter(o => o.kind !== 'Sidecar'), allowFrom('frontend'),
      sidecar('frontend', { workloadSelector: { labels: { app: 'frontend' } }, egress: [{ hosts: ['./frontend.shop.svc.cluster.local'] }] }),
      vs('frontend', { hosts: ['frontend'], http: [{ route: [{ destination: { host: 'backend' } }] }] })];
    const f = find(analyzeFlows(objects).flows, 'shop/frontend', BACKEND, 80, MeshFlowKind.ROUTE);
    expect(f).toMatchObject({ verdict: FlowVerdict.DENIED, deniedAt: 'AuthorizationPolicy' });
    expect(f.reason).toBe('AuthorizationPolicy: no rule of the ALLOW policy AuthorizationPolicy shop/backend matches');
  });
});

describe('ports that bypass the proxy', () => {
  const withAnnotations = (name: string, annotations: Record<string, string>) => shop().map(o => (o.kind === 'Deployment' && o.metadata.name === name
    ? workload(name, SHOP, { app: name }, { ports: [{ name: 'http', containerPort: 8080 }], annotations }) : o));

  test('excludeInboundPorts: no PeerAuthentication or AuthorizationPolicy on that port', () => {
    const objects = [...withAnnotations('backend', { 'traffic.sidecar.istio.io/excludeInboundPorts': '8080' }), ap('allow-nothing', {})];
    expect(call(objects).verdict).toBe(FlowVerdict.ALLOWED);
    expect(call(objects).reason).toContain("port 8080 bypasses backend's proxy");
    expect(call([...shop(), ap('allow-nothing', {})]).verdict).toBe(FlowVerdict.DENIED);
  });

  test('excludeOutboundPorts: the source sends plaintext, which STRICT refuses', () => {
    const objects = [...withAnnotations('frontend', { 'traffic.sidecar.istio.io/excludeOutboundPorts': '80' }), pa('default', { mtls: { mode: 'STRICT' } })];
    expect(call(objects)).toMatchObject({ verdict: FlowVerdict.DENIED, deniedAt: 'PeerAuthentication' });
  });

  test('15020, 15021 and 15090 are never captured: an allow-nothing policy does not make them unreachable', () => {
    const objects = [...shop(), service('backend-status', SHOP, [{ name: 'http-status', port: 15021 }], { app: 'backend' }), ap('allow-nothing', {})];
    const unreachable = analyzeFlows(objects).findings.filter(f => f.code === 'MESH106').map(f => f.object.name);
    expect(unreachable).toEqual(['backend', 'frontend']);
  });
});

describe('Sidecar scoping', () => {
  /** frontend calls frontend-host, which a VirtualService routes to backend-v2 (another Service). */
  function routed(mode: string, extra: any[] = []): MeshFlow {
    const objects = [...shop().filter(o => o.kind !== 'Sidecar'), ...extra,
      workload('backend-v2', SHOP, { app: 'backend-v2' }, { ports: [{ name: 'http', containerPort: 8080 }] }),
      service('backend-v2', SHOP, [{ name: 'http', port: 80, targetPort: 8080 }]),
      vs('backend', { hosts: ['backend'], http: [{ route: [{ destination: { host: 'backend-v2' } }] }] }),
      sidecar('frontend', { workloadSelector: { labels: { app: 'frontend' } }, egress: [{ hosts: [`./${BACKEND}`] }], outboundTrafficPolicy: { mode } })];
    return find(analyzeFlows(objects).flows, 'shop/frontend', 'backend-v2.shop.svc.cluster.local', 80, MeshFlowKind.ROUTE);
  }

  test('a route destination the Sidecar does not import: denied under REGISTRY_ONLY', () => {
    expect(routed('REGISTRY_ONLY')).toMatchObject({ verdict: FlowVerdict.DENIED, deniedAt: 'Sidecar', deniedBy: { kind: 'Sidecar', name: 'frontend' } });
  });

  test('under ALLOW_ANY it passes through in plaintext, which a STRICT destination refuses', () => {
    expect(routed('ALLOW_ANY').verdict).toBe(FlowVerdict.ALLOWED);
    expect(routed('ALLOW_ANY').reason).toContain('ALLOW_ANY passes it through in plaintext');
    expect(routed('ALLOW_ANY', [pa('default', { mtls: { mode: 'STRICT' } })]).deniedAt).toBe('PeerAuthentication');
  });

  test('host forms: ns/name short names, */host, ~/*, and the root namespace default Sidecar', () => {
    const withHosts = (hosts: string[], ns = SHOP) => {
      const objects = [...shop().filter(o => o.kind !== 'Sidecar'),
        workload('backend-v2', SHOP, { app: 'backend-v2' }),
        service('backend-v2', SHOP, [{ name: 'http', port: 80 }]),
        vs('backend', { hosts: ['backend'], http: [{ route: [{ destination: { host: 'backend-v2' } }] }] }),
        sidecar('frontend', { workloadSelector: { labels: { app: 'frontend' } }, egress: [{ hosts: [`./${BACKEND}`] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }),
        sidecar('default', { egress: [{ hosts }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }, ns)];
      // the backend pod's scope is the namespace (or root) default Sidecar: its call to backend-v2 is declared there
      const flows = analyzeFlows(objects).flows;
      return flows.find(f => f.source === 'shop/backend' && f.destination === 'backend-v2.shop.svc.cluster.local')?.verdict;
    };
    expect(withHosts(['shop/backend-v2'])).toBe(FlowVerdict.ALLOWED);
    expect(withHosts(['*/backend-v2.shop.svc.cluster.local'])).toBe(FlowVerdict.ALLOWED);
    expect(withHosts(['./backend-v2.shop'])).toBe(FlowVerdict.ALLOWED);
    expect(withHosts(['shop/backend-v2'], ROOT)).toBe(FlowVerdict.ALLOWED);
  });
});

describe('declared flows', () => {
  test('REGISTRY_ONLY: an external host needs a ServiceEntry, even when the Sidecar names it', () => {
    const objects = (extra: any[]) => [...shop().filter(o => o.kind !== 'Sidecar'), ...extra,
      vs('backend', { hosts: ['backend'], tls: [{ match: [{ port: 80, sniHosts: ['backend'] }], route: [{ destination: { host: 'api.other.com', port: { number: 443 } } }] }] }),
      sidecar('frontend', { workloadSelector: { labels: { app: 'frontend' } }, egress: [{ hosts: [`./${BACKEND}`, '*/api.other.com'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } })];
    const route = (extra: any[]) => find(analyzeFlows(objects(extra)).flows, 'shop/frontend', 'api.other.com', 443, MeshFlowKind.ROUTE);
    expect(route([])).toMatchObject({ verdict: FlowVerdict.DENIED, deniedAt: 'Sidecar' });
    expect(route([])).toMatchObject({ reason: 'Sidecar: no ServiceEntry declares api.other.com and the outbound policy of Sidecar shop/frontend is REGISTRY_ONLY' });
    const se = obj('networking.istio.io/v1', 'ServiceEntry', 'api', SHOP, { hosts: ['api.other.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'DNS' });
    expect(route([se]).verdict).toBe(FlowVerdict.ALLOWED);
  });

  test('Gateway API routes with a Service parent (GAMMA) send the Service\'s callers to the backends', () => {
    const objects = [...shop(),
      workload('backend-v2', SHOP, { app: 'backend-v2' }, { ports: [{ name: 'http', containerPort: 8080 }] }),
      service('backend-v2', SHOP, [{ name: 'http', port: 80, targetPort: 8080 }]),
      obj('gateway.networking.k8s.io/v1', 'HTTPRoute', 'backend', SHOP, { parentRefs: [{ group: '', kind: 'Service', name: 'backend', port: 80 }], rules: [{ backendRefs: [{ name: 'backend-v2', port: 80 }] }] })];
    const f = find(analyzeFlows(objects).flows, 'shop/frontend', 'backend-v2.shop.svc.cluster.local', 80, MeshFlowKind.ROUTE);
    expect(f.declaredBy).toEqual({ kind: 'HTTPRoute', namespace: SHOP, name: 'backend' });
    // REGISTRY_ONLY and backend-v2 not imported by frontend's Sidecar
    expect(f.deniedAt).toBe('Sidecar');
  });

  test('scrape flows exist only when the input scrapes: a monitor, or a prometheus.io/scrape pod when told to count it', () => {
    const scrapes = (objects: any[], scrapeAnnotatedPods = true) => analyzeFlows(objects, { scrapeAnnotatedPods }).flows.filter(f => f.kind === MeshFlowKind.SCRAPE).map(f => `${f.destination}:${f.port}`);
    expect(scrapes(shop())).toEqual([]);
    const annotated = workload('metrics', SHOP, { app: 'metrics' }, { annotations: { 'prometheus.io/scrape': 'true' } });
    // injection annotates every pod: by default the annotation alone does not mean a scraper exists
    expect(scrapes([...shop(), annotated], false)).toEqual([]);
    expect(scrapes([...shop(), annotated])).toEqual([
      'shop/backend:15020', 'shop/backend:15090', 'shop/frontend:15020', 'shop/frontend:15090', 'shop/metrics:15020', 'shop/metrics:15090',
    ]);
  });

  test('meshed: an istio-proxy container or native sidecar, or the namespace label without inject: "false"', () => {
    const native = workload('native', 'plain', { app: 'native' });
    native.spec.template.spec.initContainers = [{ name: 'istio-proxy', image: 'proxyv2', restartPolicy: 'Always' }];
    const optedOut = workload('opted-out', SHOP, { app: 'opted-out' }, { extraLabels: { 'sidecar.istio.io/inject': 'false' } });
    const plain = workload('plain', 'plain', { app: 'plain' });
    const flows = analyzeFlows([...shop(), namespace('plain'), native, optedOut, plain]).flows;
    const meshed = [...new Set(flows.filter(f => f.kind === MeshFlowKind.CONTROL_PLANE).map(f => f.source))].sort();
    expect(meshed).toEqual(['plain/native', 'shop/backend', 'shop/frontend']);
  });

  test('the acknowledge annotation drops a flow finding on its object', () => {
    const bad = CASES[0].bad.map(o => (o.kind === 'Sidecar' ? { ...o, metadata: { ...o.metadata, annotations: { 'analysis.cdk8s-mesh.dev/acknowledge': 'MESH101' } } } : o));
    expect(codes(analyzeFlows(bad).findings)).not.toContain('MESH101');
    expect(codes(analyze(bad, { flows: {} }))).not.toContain('MESH101');
  });

  test('an Istio Gateway\'s pods call the destinations of the VirtualServices bound to it', () => {
    const objects = [...shop(), ALLOW_FRONTEND_TO_BACKEND,
      namespace('istio-ingress'),
      workload('ingressgateway', 'istio-ingress', { istio: 'ingressgateway' }, { proxy: { router: true } }),
      obj('networking.istio.io/v1', 'Gateway', 'public', 'istio-ingress', { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['shop.example.com'] }] }),
      vs('public', { hosts: ['shop.example.com'], gateways: ['istio-ingress/public'], http: [{ route: [{ destination: { host: BACKEND, port: { number: 80 } } }] }] })];
    const f = find(analyzeFlows(objects).flows, 'istio-ingress/ingressgateway', BACKEND, 80, MeshFlowKind.GATEWAY_ROUTE);
    expect(f).toMatchObject({ verdict: FlowVerdict.DENIED, deniedAt: 'NetworkPolicy ingress', declaredBy: { kind: 'VirtualService', name: 'public' } });
    const { findings } = analyzeFlows(objects);
    expect(findings.map(x => `${x.code} ${x.object.kind}/${x.object.name}`)).toContain('MESH101 VirtualService/public');
  });

  test('Gateway API: a Gateway found by its addresses hostname, HTTPRoute backendRefs and mirror filters', () => {
    const objects = [...shop(),
      workload('gw', SHOP, { app: 'gw' }, { proxy: { router: true } }),
      service('gw', SHOP, [{ name: 'http', port: 80 }], { app: 'gw' }),
      workload('shadow', SHOP, { app: 'shadow' }),
      service('shadow', SHOP, [{ name: 'http', port: 80 }]),
      obj('gateway.networking.k8s.io/v1', 'Gateway', 'web', SHOP, { gatewayClassName: 'istio', addresses: [{ type: 'Hostname', value: 'gw.shop.svc.cluster.local' }], listeners: [] }),
      obj('gateway.networking.k8s.io/v1', 'HTTPRoute', 'web', SHOP, { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [{ name: 'backend', port: 80 }], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 80 } } }] }] })];
    const flows = analyzeFlows(objects).flows;
    expect(find(flows, 'shop/gw', BACKEND, 80, MeshFlowKind.GATEWAY_ROUTE).declaredBy).toEqual({ kind: 'HTTPRoute', namespace: SHOP, name: 'web' });
    expect(find(flows, 'shop/gw', 'shadow.shop.svc.cluster.local', 80, MeshFlowKind.MIRROR).verdict).toBe(FlowVerdict.ALLOWED);
  });

  test('callers of a VirtualService host call its route destinations (with subsets) and mirrors', () => {
    const objects = [...shop(),
      workload('backend-v2', SHOP, { app: 'backend', version: 'v2' }, { ports: [{ name: 'http', containerPort: 8080 }] }),
      workload('shadow', SHOP, { app: 'shadow' }),
      service('shadow', SHOP, [{ name: 'http', port: 80 }]),
      obj('networking.istio.io/v1', 'DestinationRule', 'backend', SHOP, { host: 'backend', subsets: [{ name: 'v2', labels: { version: 'v2' } }] }),
      np('backend-v2-only', { podSelector: { matchLabels: { version: 'v2' } }, ingress: [] }),
      vs('backend', { hosts: ['backend'], http: [{ route: [{ destination: { host: 'backend', subset: 'v2' } }], mirror: { host: 'shadow' } }] })];
    const flows = analyzeFlows(objects).flows;
    const routed = flows.filter(f => f.source === 'shop/frontend' && f.destination === BACKEND);
    expect(routed.map(f => [f.kind, f.subset, f.verdict])).toEqual([[MeshFlowKind.ROUTE, 'v2', FlowVerdict.DENIED]]);
    expect(find(flows, 'shop/frontend', 'shadow.shop.svc.cluster.local', 80, MeshFlowKind.MIRROR).declaredBy.kind).toBe('VirtualService');
  });

  test('egress through an egress gateway: callers reach the gateway, the gateway the external host', () => {
    const flows = analyzeFlows(egress([...TO_BACKEND_AND_ISTIOD, TO_EGRESS_GW])).flows;
    expect(find(flows, 'shop/frontend', 'egressgateway.istio-egress.svc.cluster.local', 443, MeshFlowKind.ROUTE).verdict).toBe(FlowVerdict.ALLOWED);
    expect(find(flows, 'istio-egress/egressgateway', 'api.example.com', 443, MeshFlowKind.GATEWAY_ROUTE).verdict).toBe(FlowVerdict.ALLOWED);
  });

  test('one backend denied among several: partial, naming it', () => {
    const objects = [...shop(), workload('backend-v2', SHOP, { app: 'backend', version: 'v2' }, { ports: [{ name: 'http', containerPort: 8080 }] }),
      np('v2', { podSelector: { matchLabels: { version: 'v2' } }, ingress: [] })];
    const f = call(objects);
    expect(f.verdict).toBe(FlowVerdict.PARTIAL);
    expect(f.reason).toContain('but denied to Deployment backend-v2: NetworkPolicy ingress');
  });

  test('Argo Rollouts with workloadRef, CronJobs and bare Pods are workloads', () => {
    const rollout = obj('argoproj.io/v1alpha1', 'Rollout', 'worker', SHOP, { workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'worker-template' } });
    const template = { ...workload('worker-template', SHOP, { app: 'worker' }), spec: { replicas: 0, ...workload('worker-template', SHOP, { app: 'worker' }).spec } };
    const cron = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: SHOP }, spec: { schedule: '@daily', jobTemplate: { spec: { template: { metadata: { labels: { app: 'nightly' } }, spec: { containers: [{ name: 'c' }] } } } } } };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: SHOP, labels: { app: 'debug' } }, spec: { containers: [{ name: 'c' }] } };
    const flows = analyzeFlows([...shop(), rollout, template, cron, pod]).flows;
    const sources = new Set(flows.filter(f => f.kind === MeshFlowKind.CONTROL_PLANE).map(f => f.source));
    expect([...sources].sort()).toEqual(['shop/backend', 'shop/debug', 'shop/frontend', 'shop/nightly', 'shop/worker', 'shop/worker-template']);
  });

  test('the istiod of the pod\'s revision (istio.io/rev)', () => {
    const objects = [...shop().map(o => (o.kind === 'Namespace' && o.metadata.name === SHOP ? namespace(SHOP, { 'istio.io/rev': 'canary' }) : o)),
      service('istiod-canary', ROOT, [{ name: 'https-dns', port: 15012 }], { app: 'istiod', rev: 'canary' })];
    const flows = analyzeFlows(objects).flows.filter(f => f.kind === MeshFlowKind.CONTROL_PLANE);
    expect(flows.map(f => f.destination)).toEqual(['istiod-canary.istio-system.svc.cluster.local', 'istiod-canary.istio-system.svc.cluster.local']);
  });

  test('a CA not in the input is unknown, not a finding', () => {
    const result = analyzeFlows(csrClient(443));
    expect(find(result.flows, 'apps/client', 'cert-manager-istio-csr.cert-manager.svc.cluster.local', 443).verdict).toBe(FlowVerdict.UNKNOWN);
    expect(codes(result.findings)).not.toContain('MESH102');
  });

  test('scraper options: namespace and labels', () => {
    const objects = [...shop(), POD_MONITOR, DENY_INGRESS, ALLOW_FRONTEND_TO_BACKEND,
      np('allow-prom', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'prometheus' } } }], ports: [{ port: 15020 }, { port: 15090 }] }] })];
    expect(codes(analyzeFlows(objects, { scraperNamespace: 'obs', scraperLabels: { app: 'prometheus' } }).findings)).not.toContain('MESH104');
    expect(codes(analyzeFlows(objects, { scraperNamespace: 'obs', scraperLabels: { app: 'grafana' } }).findings)).toContain('MESH104');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Output

describe('the flow matrix', () => {
  test('one sorted line per flow; the same bytes for any input order', () => {
    const objects = [...shop(), ALLOW_FRONTEND_TO_BACKEND, OTEL];
    const text = formatFlowMatrix(analyzeFlows(objects));
    expect(text.split('\n')).toEqual([
      'shop/backend -> istiod.istio-system.svc.cluster.local:15012 ALLOWED [control-plane] no policy restricts it',
      'shop/backend -> otel.observability.svc.cluster.local:4317 ALLOWED [telemetry] no policy restricts it',
      `shop/frontend -> ${BACKEND}:80 ALLOWED [call] Sidecar shop/frontend imports ${BACKEND}; NetworkPolicy shop/backend ingress rule #0`,
      'shop/frontend -> istiod.istio-system.svc.cluster.local:15012 ALLOWED [control-plane] no policy restricts it',
      'shop/frontend -> otel.observability.svc.cluster.local:4317 DENIED [telemetry] Sidecar: Sidecar shop/frontend does not import otel.observability.svc.cluster.local, so Envoy has no cluster for it',
      '',
    ]);
    expect(formatFlowMatrix(analyzeFlows([...objects].reverse()))).toBe(text);
  });

  test('cdk8s-mesh analyze --flows prints the matrix, then the findings', () => {
    let out = '';
    let err = '';
    const dir = path.join(__dirname, 'fixtures', 'flows');
    const code = runCli(['analyze', '--flows', '--no-default-resources', dir], { stdout: t => out += t, stderr: t => err += t });
    expect(err).toBe('');
    expect(code).toBe(1);
    const file = path.join(dir, 'shop.yaml');
    expect(out.split('\n')).toEqual([
      'shop/backend -> istiod.istio-system.svc.cluster.local:15012 ALLOWED [control-plane] no policy restricts it',
      `shop/frontend -> ${BACKEND}:80 DENIED [call] NetworkPolicy ingress: NetworkPolicy shop/backend isolates the pod for ingress and no rule allows port 8080`,
      'shop/frontend -> istiod.istio-system.svc.cluster.local:15012 ALLOWED [control-plane] no policy restricts it',
      '',
      expect.stringMatching(new RegExp(`^Error \\[MESH101\\] \\(Sidecar shop/frontend\\) shop/frontend \\(cluster.local/ns/shop/sa/frontend\\) -> ${BACKEND.replace(/\./g, '\\.')}:80, declared here \\(call\\), is denied at NetworkPolicy ingress .* \\(${file.replace(/[/.]/g, '\\$&')}, document \\d+\\)$`)),
      expect.stringMatching(/^Warning \[MESH106\] \(Service shop\/backend\) No source can reach port 80 \(http\)/),
      '',
    ]);
    out = '';
    expect(runCli(['analyze', '--flows', '-o', 'json', '--no-default-resources', dir], { stdout: t => out += t, stderr: t => err += t })).toBe(1);
    const json = JSON.parse(out);
    expect(json.flows).toHaveLength(3);
    expect(json.findings.map((f: Finding) => f.code)).toEqual(['MESH101', 'MESH106']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The flagship example, as synthesized

describe('Bookinfo', () => {
  test('every declared flow gets through, and every proxy reaches istiod', () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const fs = require('fs');
    const os = require('os');
    const YAML = require('yaml');
    const { buildBookinfo } = require('../examples/bookinfo/app');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bookinfo-flows-'));
    buildBookinfo({ outdir: dir }).synth();
    const objects = fs.readdirSync(dir).filter((f: string) => f.endsWith('.yaml')).sort()
      .flatMap((f: string) => YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d: any) => d.toJSON()).filter(Boolean));
    fs.rmSync(dir, { recursive: true, force: true });
    const { flows, findings } = analyzeFlows(objects);
    const declared = flows.filter(f => [MeshFlowKind.CALL, MeshFlowKind.ROUTE, MeshFlowKind.GATEWAY_ROUTE, MeshFlowKind.MIRROR].includes(f.kind));
    expect(declared.map(f => `${f.source} -> ${f.destination}:${f.port}${f.subset ? `/${f.subset}` : ''} ${f.verdict}`)).toEqual([
      'bookinfo/productpage-v1 -> details.bookinfo.svc.cluster.local:9080 partial',
      'bookinfo/productpage-v1 -> reviews.bookinfo.svc.cluster.local:9080/v1 partial',
      'bookinfo/productpage-v1 -> reviews.bookinfo.svc.cluster.local:9080/v3 partial',
      'bookinfo/reviews-v1 -> ratings.bookinfo.svc.cluster.local:9080 partial',
      'bookinfo/reviews-v2 -> ratings.bookinfo.svc.cluster.local:9080 partial',
      'bookinfo/reviews-v3 -> ratings.bookinfo.svc.cluster.local:9080 partial',
      'istio-ingress/istio-ingressgateway -> productpage.bookinfo.svc.cluster.local:9080 allowed',
    ]);
    // partial: the AuthorizationPolicies allow GET only
    expect(declared[0].reason).toContain('AuthorizationPolicy bookinfo/details rule #0 (some requests)');
    const controlPlane = flows.filter(f => f.kind === MeshFlowKind.CONTROL_PLANE);
    expect(controlPlane).toHaveLength(7);
    expect(controlPlane.every(f => f.verdict === FlowVerdict.ALLOWED)).toBe(true);
    expect(findings.filter(f => f.level === 'Error')).toEqual([]);
  });
});
