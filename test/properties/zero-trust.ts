/**
 * Property (5): the zero-trust policies allow exactly the generated graph's edges.
 *
 * From the synthesized AuthorizationPolicies (ALLOW, selecting `app: <service>`) we derive the set of
 * (source principal, target namespace/service, target port) that is allowed, and compare it with the set the
 * generated graph declares. Also: every namespace has its allow-nothing policy, nothing is open to `*`, and each
 * service's Sidecar lets it reach exactly its dependencies (plus the control plane).
 */
import * as fc from 'fast-check';
import { buildValidGraph } from './builders';
import { checkContract } from './harness';
import { define } from './properties';
import { VALID } from '../util/arbitraries';

function allowedEdges(objects: any[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects) {
    if (o.kind !== 'AuthorizationPolicy' || o.spec?.action !== 'ALLOW' || !o.spec.selector) continue;
    const app = o.spec.selector.matchLabels?.app;
    for (const rule of o.spec.rules ?? []) {
      const principals: string[] = (rule.from ?? []).flatMap((f: any) => f.source?.principals ?? []);
      const ports: string[] = (rule.to ?? []).flatMap((t: any) => t.operation?.ports ?? []);
      if (principals.length === 0 || ports.length === 0) throw new Error(`AuthorizationPolicy ${o.metadata.namespace}/${o.metadata.name}: a rule without principals or ports allows too much: ${JSON.stringify(rule)}`);
      for (const p of principals) for (const port of ports) out.add(`${p} -> ${o.metadata.namespace}/${app}:${port}`);
    }
  }
  return out;
}

define({
  name: 'ZeroTrustNamespace: AuthorizationPolicies allow exactly the graph edges; Sidecars reach exactly the dependencies',
  group: 'zero-trust',
  ciRuns: 40,
  longRuns: 1500,
  property: () => fc.property(VALID.validGraphSpec, spec => {
    let expected = new Set<string>();
    const sidecarHosts = new Map<string, Set<string>>();
    let rootNamespace = 'istio-system';
    const o = checkContract('ZeroTrustNamespace (valid graph)', app => {
      const g = buildValidGraph(app, spec, undefined, { zeroTrust: true });
      rootNamespace = g.mesh.rootNamespace;
      expected = new Set();
      for (const s of g.services) {
        const hosts = new Set<string>();
        for (const c of s.outboundDependencies) {
          for (const p of c.ports) expected.add(`${s.principal} -> ${c.target.namespace.name}/${c.target.name}:${p.targetPort}`);
          hosts.add(`${c.target.namespace.name}/${c.target.host}`);
        }
        sidecarHosts.set(`${s.namespace.name}/${s.name}`, hosts);
      }
      return g;
    });
    if (o.kind !== 'synth') throw new Error(`a valid graph was rejected: ${o.error.message}`);
    const actual = allowedEdges(o.objects);
    const missing = [...expected].filter(e => !actual.has(e));
    const extra = [...actual].filter(e => !expected.has(e));
    if (missing.length || extra.length) throw new Error(`policy != graph: missing ${JSON.stringify(missing)}, extra ${JSON.stringify(extra)}`);
    for (const ns of new Set(spec.namespaces)) {
      if (!o.objects.some(x => x.kind === 'AuthorizationPolicy' && x.metadata.namespace === ns && x.metadata.name === 'allow-nothing')) {
        throw new Error(`namespace ${ns} has no allow-nothing AuthorizationPolicy`);
      }
    }
    for (const sc of o.objects.filter(x => x.kind === 'Sidecar' && x.spec.workloadSelector)) {
      const key = `${sc.metadata.namespace}/${sc.spec.workloadSelector.labels.app}`;
      const want = sidecarHosts.get(key);
      if (!want) continue;
      const got = new Set<string>(sc.spec.egress.flatMap((e: any) => e.hosts).filter((h: string) => !h.startsWith(`${rootNamespace}/`)));
      const miss = [...want].filter(h => !got.has(h) && !got.has(`${h.split('/')[0]}/*`));
      const more = [...got].filter(h => !want.has(h));
      if (miss.length || more.length) throw new Error(`Sidecar ${key}: missing ${JSON.stringify(miss)}, extra ${JSON.stringify(more)}`);
    }
  }),
});
