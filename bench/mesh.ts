/**
 * The benchmark's generated mesh: N services over several namespaces, each with 2 versions and ~3 dependencies,
 * a canary on one in ten, zero-trust policies, a gateway route on one in twenty, and the control plane.
 * Deterministic (seeded PRNG), so every run and both the library and the floor see the same mesh.
 */
import { App, Chart } from 'cdk8s';
import {
  CanaryRelease, CanaryTraffic, GatewayTls, IstioControlPlane, Mesh, MeshCertificates, MeshedService, MeshGateway,
  PathMatch, ServicePort, ZeroTrustNamespace,
} from '../src';

/** mulberry32: a small deterministic PRNG. */
/* eslint-disable no-bitwise */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/* eslint-enable no-bitwise */

export interface BenchMeshOptions {
  readonly services: number;
  /** Dependencies per service. @default 3 */
  readonly dependencies?: number;
  /** Services per namespace. @default 50 (so 250 services: 5 namespaces; 2,000: 40) */
  readonly servicesPerNamespace?: number;
}

export interface BenchMeshInfo {
  readonly namespaces: number;
  readonly services: number;
  readonly edges: number;
  readonly canaries: number;
  readonly gatewayRoutes: number;
}

/** Builds the mesh into `app`: a platform chart (mesh, control plane, gateway) and one chart per namespace. */
export function buildBenchMesh(app: App, o: BenchMeshOptions): BenchMeshInfo {
  const rand = prng(1234);
  const deps = o.dependencies ?? 3;
  const perNs = o.servicesPerNamespace ?? 50;
  const platform = new Chart(app, 'mesh-system');
  const mesh = new Mesh(platform, 'mesh', {});
  new IstioControlPlane(platform, 'istio', { mesh, certificates: MeshCertificates.certManager() });
  const gateway = new MeshGateway(platform, 'ingress', {
    mesh, hosts: ['shop.example.com'], tls: GatewayTls.certManager({ issuer: 'letsencrypt' }),
  });

  const nsCount = Math.max(1, Math.ceil(o.services / perNs));
  const charts: Chart[] = [];
  const namespaces: ZeroTrustNamespace[] = [];
  for (let i = 0; i < nsCount; i++) {
    const chart = new Chart(app, `team-${i}`);
    charts.push(chart);
    namespaces.push(new ZeroTrustNamespace(chart, 'ns', { mesh, name: `team-${i}` }));
  }
  const services: MeshedService[] = [];
  let canaries = 0;
  let routes = 0;
  for (let i = 0; i < o.services; i++) {
    const n = i % nsCount;
    const svc = new MeshedService(charts[n], `svc-${i}`, {
      namespace: namespaces[n],
      image: `example/svc-${i}:1.0`,
      version: 'v1',
      ports: [ServicePort.http(8080)],
    });
    if (i % 10 === 0) {
      new CanaryRelease(charts[n], `svc-${i}-canary`, { service: svc, image: `example/svc-${i}:2.0`, version: 'v2', traffic: CanaryTraffic.weighted(10) });
      canaries++;
    } else {
      svc.addVersion('v2', { image: `example/svc-${i}:2.0` });
    }
    if (i % 20 === 0) {
      gateway.route({ path: PathMatch.prefix(`/svc-${i}`), to: svc });
      routes++;
    }
    services.push(svc);
  }
  let edges = 0;
  for (let i = 0; i < services.length; i++) {
    const picked = new Set<number>();
    while (picked.size < Math.min(deps, services.length - 1)) {
      const j = Math.floor(rand() * services.length);
      if (j !== i) picked.add(j);
    }
    for (const j of [...picked].sort((a, b) => a - b)) {
      services[i].connectsTo(services[j]);
      edges++;
    }
  }
  return { namespaces: nsCount, services: services.length, edges, canaries, gatewayRoutes: routes };
}
