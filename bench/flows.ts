/**
 * The flow analysis benchmark.
 *
 *   npx ts-node --transpile-only --project tsconfig.dev.json bench/flows.ts [--sizes 1000,2000] [--repeat 5]
 *
 * Generates a mesh of N Deployments + Services in namespaces of 100, each service calling 3 others (across
 * namespaces), each with its own AuthorizationPolicy (ALLOW its callers' principals), NetworkPolicy (ingress from
 * its callers, egress to its callees and istiod) and Sidecar (its callees and istio-system/*); per namespace a
 * default-deny NetworkPolicy, allow-scrape and allow-telemetry ones and STRICT mTLS; istiod, an OpenTelemetry
 * collector named in the mesh config, and a PodMonitor. Prints, per size, the median wall time of `analyzeFlows` (after a warm-up run), the
 * flows by verdict and the findings by code.
 */
import { analyzeFlows } from '../src/analysis/flows';

const PER_NAMESPACE = 100;
const CALLS = [1, 7, 31];

/** The generated objects (plain JSON) for `n` services. */
export function flowBenchObjects(n: number): any[] {
  const out: any[] = [];
  const nsOf = (i: number) => `team-${Math.floor(i / PER_NAMESPACE)}`;
  const name = (i: number) => `svc-${i}`;
  const callees = (i: number) => CALLS.map(d => (i + d) % n);
  const callers = new Map<number, number[]>();
  for (let i = 0; i < n; i++) for (const j of callees(i)) callers.set(j, [...(callers.get(j) ?? []), i]);
  const peer = (j: number) => ({
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': nsOf(j) } },
    podSelector: { matchLabels: { app: name(j) } },
  });

  out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
  out.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'istiod', namespace: 'istio-system' },
    spec: { selector: { matchLabels: { app: 'istiod' } }, template: { metadata: { labels: { app: 'istiod' } }, spec: { containers: [{ name: 'discovery', ports: [{ name: 'tls-xds', containerPort: 15012 }] }] } } },
  });
  out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'istiod', namespace: 'istio-system' }, spec: { selector: { app: 'istiod' }, ports: [{ name: 'https-dns', port: 15012 }] } });
  out.push({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio', namespace: 'istio-system' },
    data: { mesh: 'trustDomain: cluster.local\nextensionProviders:\n  - name: otel\n    opentelemetry:\n      service: otel-collector.istio-system.svc.cluster.local\n      port: 4317\n' },
  });
  out.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'otel-collector', namespace: 'istio-system' },
    spec: { selector: { matchLabels: { app: 'otel-collector' } }, template: { metadata: { labels: { app: 'otel-collector' } }, spec: { containers: [{ name: 'otel', ports: [{ name: 'grpc', containerPort: 4317 }] }] } } },
  });
  out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'otel-collector', namespace: 'istio-system' }, spec: { selector: { app: 'otel-collector' }, ports: [{ name: 'grpc', port: 4317 }] } });
  out.push({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', metadata: { name: 'envoy', namespace: 'istio-system' }, spec: { namespaceSelector: { any: true }, selector: {}, podMetricsEndpoints: [{ path: '/stats/prometheus' }] } });

  for (let t = 0; t * PER_NAMESPACE < n; t++) {
    const ns = `team-${t}`;
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    out.push({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: ns }, spec: { mtls: { mode: 'STRICT' } } });
    out.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace: ns }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } });
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-telemetry', namespace: ns },
      spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { app: 'otel-collector' } } }], ports: [{ port: 4317 }] }] },
    });
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-scrape', namespace: ns },
      spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ port: 15020 }, { port: 15090 }] }] },
    });
  }
  for (let i = 0; i < n; i++) {
    const ns = nsOf(i);
    const app = name(i);
    const labels = { app, version: 'v1' };
    out.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: app, namespace: ns },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: app,
            containers: [
              { name: 'app', image: `${app}:1`, ports: [{ name: 'http', containerPort: 8080 }] },
              { name: 'istio-proxy', image: 'proxyv2', env: [{ name: 'CA_ADDR', value: 'istiod.istio-system.svc:15012' }] },
            ],
          },
        },
      },
    });
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace: ns }, spec: { selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
    out.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: app, namespace: ns },
      spec: { selector: { matchLabels: { app } }, rules: [{ from: [{ source: { principals: (callers.get(i) ?? []).map(j => `cluster.local/ns/${nsOf(j)}/sa/${name(j)}`) } }], to: [{ operation: { ports: ['8080'] } }] }] },
    });
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: app, namespace: ns },
      spec: {
        podSelector: { matchLabels: { app } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: (callers.get(i) ?? []).map(peer), ports: [{ port: 'http' }] }],
        egress: [
          { to: callees(i).map(peer), ports: [{ port: 8080 }] },
          { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { app: 'istiod' } } }], ports: [{ port: 15012 }] },
        ],
      },
    });
    out.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Sidecar',
      metadata: { name: app, namespace: ns },
      spec: {
        workloadSelector: { labels: { app } },
        egress: [{ hosts: [...callees(i).map(j => `${nsOf(j)}/${name(j)}.${nsOf(j)}.svc.cluster.local`), 'istio-system/*'] }],
        outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
      },
    });
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main(): void {
  const args = process.argv.slice(2);
  const arg = (flag: string, def: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : def;
  };
  const sizes = arg('--sizes', '1000,2000').split(',').map(Number);
  const repeat = Number(arg('--repeat', '5'));
  for (const n of sizes) {
    const objects = flowBenchObjects(n);
    analyzeFlows(objects); // warm-up (JIT)
    const times: number[] = [];
    let result = analyzeFlows(objects);
    for (let r = 0; r < repeat; r++) {
      const t0 = process.hrtime.bigint();
      result = analyzeFlows(objects);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const count = (xs: string[]) => Object.entries(xs.reduce((acc: Record<string, number>, x) => ({ ...acc, [x]: (acc[x] ?? 0) + 1 }), {}))
      .sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${v}`).join(', ');
    process.stdout.write(`${n} services, ${objects.length} objects: analyzeFlows median ${median(times).toFixed(0)} ms `
      + `(min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}, ${repeat} runs); `
      + `${result.flows.length} flows (${count(result.flows.map(f => `${f.kind}:${f.verdict}`))}); `
      + `findings: ${count(result.findings.map(f => f.code)) || 'none'}\n`);
  }
}

if (require.main === module) main();
