/**
 * Issue 13's property (run by flows.properties.test.ts, and by the long run with more cases): over random access
 * graphs with random add-ons (metrics scraping, alerts, tracing, istio-csr, an egress gateway, mirroring, gateway
 * routes, canaries, external hosts, brought-in workloads), the flow analysis of the synthesized YAML allows exactly the declared edges plus the infrastructure flows they need, nothing else.
 */
import { ApiObject, Chart, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { define } from './properties';
import {
  analyzeFlows, CanaryRelease, CanaryTraffic, checkFlows, EgressGateway, ExternalService, FlowQuery, FlowVerdict, GoldenSignalAlerts,
  IstioControlPlane, Mesh, MeshCertificates, MeshedService, MeshFlowKind, MeshGateway, MeshMetricsScraping, MeshWorkload, ServicePort,
  TelemetryProvider, ZeroTrustNamespace,
} from '../../src';
import { IMeshService, IMeshWorkload } from '../../src/service/workload';

interface Spec {
  readonly services: number;
  readonly namespaces: number;
  readonly edges: Array<[number, number]>;
  readonly scraping: boolean;
  readonly alerts: boolean;
  readonly tracing: boolean;
  readonly istioCsr: boolean;
  readonly egress: boolean;
  readonly mirror?: [number, number];
  readonly gatewayTo?: number;
  readonly canaryOn?: number;
  readonly external?: number;
  readonly broughtIn: boolean;
  readonly broughtInCalls?: number;
}

const spec: fc.Arbitrary<Spec> = fc.integer({ min: 2, max: 5 }).chain(n => fc.record({
  services: fc.constant(n),
  namespaces: fc.integer({ min: 1, max: 2 }),
  edges: fc.uniqueArray(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)).filter(([a, b]) => a !== b), { maxLength: n * 2, selector: e => `${e[0]}-${e[1]}` }),
  scraping: fc.boolean(),
  alerts: fc.boolean(),
  tracing: fc.boolean(),
  istioCsr: fc.boolean(),
  egress: fc.boolean(),
  mirror: fc.option(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)).filter(([a, b]) => a !== b), { nil: undefined }),
  gatewayTo: fc.option(fc.nat(n - 1), { nil: undefined }),
  canaryOn: fc.option(fc.nat(n - 1), { nil: undefined }),
  external: fc.option(fc.nat(n - 1), { nil: undefined }),
  broughtIn: fc.boolean(),
  broughtInCalls: fc.option(fc.nat(n - 1), { nil: undefined }),
}));

interface Built {
  readonly objects: any[];
  /** Every workload that calls, with its id in the flow analysis (`ns/deployment`) per version. */
  readonly callers: Array<{ w: IMeshWorkload; ids: string[] }>;
  readonly services: IMeshService[];
  /** Declared edges, mirrors included: caller -> service. */
  readonly allowed: Set<string>;
}

function build(s: Spec): Built {
  const app = Testing.app();
  const platform = new Chart(app, 'platform');
  const mesh = new Mesh(platform, 'mesh', s.istioCsr ? { caAddress: 'cert-manager-istio-csr.cert-manager.svc:443' } : {});
  const cp = new IstioControlPlane(platform, 'istio', { mesh, installCrds: false, certificates: s.istioCsr ? MeshCertificates.istioCsr() : MeshCertificates.certManager() });
  if (s.tracing) TelemetryProvider.openTelemetry(cp, { name: 'otel', service: 'otel-collector.observability.svc.cluster.local', port: 4317, meshDefault: true });
  if (s.scraping) new MeshMetricsScraping(platform, 'scraping', { mesh });
  const team = new Chart(app, 'team');
  const namespaces = Array.from({ length: s.namespaces }, (_, i) => new ZeroTrustNamespace(team, `ns${i}`, { mesh, name: `team${i}` }));
  const services = Array.from({ length: s.services }, (_, i) => new MeshedService(team, `s${i}`, {
    namespace: namespaces[i % namespaces.length],
    image: `example/s${i}:1`,
    ports: [ServicePort.http(8080 + i)],
    ...(s.mirror && s.mirror[0] === i ? {} : {}),
  }));
  const allowed = new Set<string>();
  const key = (a: IMeshWorkload, b: IMeshService) => `${a.namespace.name}/${a.name}>${b.host}`;
  for (const [a, b] of s.edges) {
    services[a].connectsTo(services[b]);
    allowed.add(key(services[a], services[b]));
  }
  if (s.mirror) {
    // a mirror is a service setting: re-declare the mirroring service with it (a fresh one keeps the spec simple)
    const [from, to] = s.mirror;
    const mirrored = new MeshedService(team, 'mirrored', {
      namespace: namespaces[0], image: 'example/mirrored:1', ports: [ServicePort.http(9999)], mirror: { service: services[to], percentage: 5 },
    });
    services[from].connectsTo(mirrored);
    allowed.add(key(services[from], mirrored));
    allowed.add(key(services[from], services[to]));
    services.push(mirrored);
  }
  if (s.gatewayTo !== undefined) {
    const gw = new MeshGateway(platform, 'ingress', { mesh, hosts: ['shop.example.com'] });
    gw.route({ to: services[s.gatewayTo] });
  }
  if (s.canaryOn !== undefined) {
    new CanaryRelease(team, 'canary', { service: services[s.canaryOn] as MeshedService, image: 'example/canary:2', version: 'v2', traffic: CanaryTraffic.weighted(20) });
  }
  if (s.alerts) new GoldenSignalAlerts(team, 'alerts', { service: services[0] });
  if (s.external !== undefined) {
    services[s.external].connectsToExternal(ExternalService.https('api.example.com'));
    if (s.egress) new EgressGateway(platform, 'egress', { mesh }).addExternalService(ExternalService.https('api.example.com'));
  }
  const callers: Array<{ w: IMeshWorkload; ids: string[] }> = services.map(svc => ({
    w: svc, ids: (svc as MeshedService).versions.map(v => `${svc.namespace.name}/${svc.name}-${v.subsetName}`),
  }));
  if (s.broughtIn) {
    const raw = new ApiObject(team, 'batch', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'batch', namespace: 'team0' },
      spec: {
        selector: { matchLabels: { app: 'batch' } },
        template: { metadata: { labels: { app: 'batch' } }, spec: { serviceAccountName: 'batch', containers: [{ name: 'batch', image: 'example/batch:1' }] } },
      },
    });
    const batch = MeshWorkload.fromWorkload(team, 'batch-in-mesh', raw, { namespace: namespaces[0] });
    if (s.broughtInCalls !== undefined) {
      batch.connectsTo(services[s.broughtInCalls]);
      allowed.add(key(batch, services[s.broughtInCalls]));
    }
    callers.push({ w: batch, ids: ['team0/batch'] });
  }
  const objects = app.charts.flatMap(c => Testing.synth(c));
  return { objects, callers, services, allowed };
}

define({
  name: 'flow analysis of the synthesized YAML allows exactly the declared edges plus the infrastructure flows',
  group: 'flows',
  ciRuns: 40,
  longRuns: 600,
  property: () => fc.property(spec, s => {
    const b = build(s);
    const queries: FlowQuery[] = [];
    const expected: boolean[] = [];
    for (const c of b.callers) {
      for (const svc of b.services) {
        if (svc === c.w) continue;
        const want = b.allowed.has(`${c.w.namespace.name}/${c.w.name}>${svc.host}`);
        for (const id of c.ids) {
          for (const ignoreSidecar of [false, true]) {
            queries.push({ source: id, host: svc.host, port: svc.ports[0].port, ignoreSidecar });
            expected.push(want);
          }
        }
      }
    }
    const answers = checkFlows(b.objects, queries);
    answers.forEach((a, i) => {
      const ok = a.verdict === FlowVerdict.ALLOWED || a.verdict === FlowVerdict.PARTIAL;
      if (ok !== expected[i]) {
        throw new Error(`${a.query.source} -> ${a.query.host}:${a.query.port}${a.query.ignoreSidecar ? ' (policies alone)' : ''}: `
          + `expected ${expected[i] ? 'allowed' : 'denied'}, got ${a.verdict}: ${a.reason}\nspec: ${JSON.stringify(s)}`);
      }
    });
    // the flows the mesh needs: none denied (unknown only where the destination's pods are outside the input)
    const r = analyzeFlows(b.objects);
    for (const f of r.flows) {
      if (f.verdict === FlowVerdict.DENIED) throw new Error(`${f.kind} ${f.source} -> ${f.destination}:${f.port} denied: ${f.reason}\nspec: ${JSON.stringify(s)}`);
      const infra = [MeshFlowKind.CONTROL_PLANE, MeshFlowKind.CERTIFICATE_AUTHORITY, MeshFlowKind.TELEMETRY, MeshFlowKind.SCRAPE].includes(f.kind);
      if (!infra && f.verdict === FlowVerdict.UNKNOWN) throw new Error(`${f.kind} ${f.source} -> ${f.destination}:${f.port} unknown: ${f.reason}`);
    }
    const errors = r.findings.filter(f => f.level === 'Error');
    if (errors.length) throw new Error(`flow findings: ${errors.map(f => `${f.code} ${f.message}`).join('; ')}\nspec: ${JSON.stringify(s)}`);
  }),
});
