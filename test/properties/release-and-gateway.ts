/**
 * Properties of CanaryRelease and MeshGateway (registered once their own tests passed): the contract (1)-(4) on
 * hostile and valid props, and for canaries, that the weights the VirtualService sends add up to 100.
 */
import { App, Chart, Duration } from 'cdk8s';
import * as fc from 'fast-check';
import { checkContract } from './harness';
import { define } from './properties';
import {
  BlueGreenActive, CanaryRelease, CanaryTraffic, GatewayTls, Mesh, MeshedService, MeshGateway, MeshNamespace,
  PathMatch, ProgressiveDelivery, RequestMatch, RoutingApi, ServicePort, ZeroTrustNamespace,
} from '../../src';
import { HOSTILE, hostileNumber, hostileString } from '../util/arbitraries';

const H = HOSTILE;
const percent = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 100 }), weight: 8 },
  { arbitrary: hostileNumber, weight: 1 },
  { arbitrary: fc.constantFrom(-1, 101), weight: 1 },
);

interface MatchSpec { kind: string; name: string; value: string }
const matchSpec: fc.Arbitrary<MatchSpec> = fc.record({
  kind: fc.constantFrom('headerExact', 'headerPrefix', 'headerRegex', 'userAgent', 'cookie', 'uriPrefix', 'sourceNamespace', 'sourceLabels'),
  name: H.rare(fc.constantFrom('x-canary', 'end-user', 'session'), hostileString),
  value: H.rare(fc.constantFrom('1', 'jason', '.*iPhone.*', '/api', 'shop'), fc.oneof(hostileString, fc.constantFrom('(', '*'))),
});
function requestMatch(m: MatchSpec): RequestMatch {
  switch (m.kind) {
    case 'headerExact': return RequestMatch.headerExact(m.name, m.value);
    case 'headerPrefix': return RequestMatch.headerPrefix(m.name, m.value);
    case 'headerRegex': return RequestMatch.headerRegex(m.name, m.value);
    case 'userAgent': return RequestMatch.userAgent(m.value);
    case 'cookie': return RequestMatch.cookie(m.name, m.value);
    case 'uriPrefix': return RequestMatch.uriPrefix(m.value);
    case 'sourceNamespace': return RequestMatch.sourceNamespace(m.value);
    default: return RequestMatch.sourceLabels({ [m.name]: m.value });
  }
}

interface CanarySpec {
  ports: Array<{ protocol: string; port: number }>;
  existing: string[];
  version: string;
  stableVersion?: string;
  traffic: {
    kind: string; percent: number; matches: MatchSpec[]; andMatch?: { match: MatchSpec; weight?: number }; andMirror?: number; active?: string;
  };
  steps?: number[];
  currentStep?: number;
  promote?: boolean;
  abort?: boolean;
  progressive?: { steps?: number[]; pauseMs?: number; manualPromotion?: boolean; withoutAnalysis?: boolean };
  routeName?: string;
  zeroTrust: boolean;
  twice: boolean;
}
const canarySpec: fc.Arbitrary<CanarySpec> = fc.record({
  ports: fc.oneof({ arbitrary: H.distinctPorts, weight: 4 }, { arbitrary: fc.constant([{ protocol: 'HTTP', port: 9080 }]), weight: 4 }) as fc.Arbitrary<Array<{ protocol: string; port: number }>>,
  existing: fc.array(fc.constantFrom('v1', 'v2', 'stable'), { maxLength: 2 }),
  version: H.versionName,
  stableVersion: fc.constantFrom('v1', 'v2', 'v9', 'stable'),
  traffic: fc.record({
    kind: fc.constantFrom('weighted', 'matching', 'mirror', 'blueGreen', 'default'),
    percent,
    matches: fc.array(matchSpec, { maxLength: 2 }),
    andMatch: fc.record({ match: matchSpec, weight: percent }, { requiredKeys: ['match'] }),
    andMirror: percent,
    active: H.rare(fc.constantFrom('stable', 'canary'), fc.constant('green')),
  }, { requiredKeys: ['kind', 'percent', 'matches'] }),
  steps: fc.array(percent, { maxLength: 4 }),
  currentStep: fc.oneof(fc.integer({ min: -1, max: 5 }), hostileNumber),
  promote: fc.boolean(),
  abort: fc.boolean(),
  progressive: fc.record({
    steps: fc.array(percent, { maxLength: 3 }), pauseMs: H.durationMs, manualPromotion: fc.boolean(), withoutAnalysis: fc.boolean(),
  }, { requiredKeys: [] }),
  routeName: H.rare(fc.constantFrom('canary', 'release-1'), hostileString),
  zeroTrust: fc.boolean(),
  twice: fc.boolean(),
}, { requiredKeys: ['ports', 'existing', 'version', 'traffic', 'zeroTrust', 'twice'] }) as fc.Arbitrary<CanarySpec>;

/** Well-formed canaries: a new version, weighted or header-matched traffic, sometimes steps or Argo Rollouts. */
const validCanarySpec: fc.Arbitrary<CanarySpec> = fc.record({
  ports: fc.constant([{ protocol: 'HTTP', port: 9080 }]),
  existing: fc.constant([]),
  version: fc.constantFrom('v2', 'canary', 'v1-1'),
  traffic: fc.record({
    kind: fc.constantFrom('weighted', 'matching', 'mirror', 'default'),
    percent: fc.integer({ min: 1, max: 99 }),
    matches: fc.constant([{ kind: 'headerExact', name: 'x-canary', value: '1' }]),
  }),
  zeroTrust: fc.boolean(),
  twice: fc.constant(false),
}) as fc.Arbitrary<CanarySpec>;

function buildCanary(app: App, s: CanarySpec): void {
  const chart = new Chart(app, 'apps');
  const mesh = new Mesh(chart, 'mesh');
  const ns = s.zeroTrust ? new ZeroTrustNamespace(chart, 'ns', { mesh, name: 'shop' }) : MeshNamespace.fromName(chart, 'ns', { name: 'shop', mesh });
  const svc = new MeshedService(chart, 'reviews', { namespace: ns, image: 'reviews:1', version: 'v1', ports: s.ports.map(p => ServicePort.of(p.protocol as any, p.port)) });
  for (const v of s.existing) if (!svc.findVersion(v)) svc.addVersion(v, { image: `reviews:${v}` });
  const t = s.traffic;
  let traffic: CanaryTraffic | undefined;
  switch (t.kind) {
    case 'weighted': traffic = CanaryTraffic.weighted(t.percent); break;
    case 'matching': traffic = CanaryTraffic.matching(...t.matches.map(requestMatch)); break;
    case 'mirror': traffic = CanaryTraffic.mirror(t.percent); break;
    case 'blueGreen': traffic = CanaryTraffic.blueGreen({ active: t.active as BlueGreenActive }); break;
    default: traffic = undefined;
  }
  if (traffic && t.andMatch) traffic = traffic.andMatch(requestMatch(t.andMatch.match), { weight: t.andMatch.weight });
  if (traffic && t.andMirror !== undefined) traffic = traffic.andMirror(t.andMirror);
  const p = s.progressive;
  const props = {
    service: svc,
    image: 'reviews:canary',
    version: s.version,
    stableVersion: s.stableVersion,
    traffic,
    steps: s.steps,
    currentStep: s.currentStep,
    promote: s.promote,
    abort: s.abort,
    routeName: s.routeName,
    progressive: p ? ProgressiveDelivery.argoRollouts({
      steps: p.steps,
      pause: p.pauseMs !== undefined ? Duration.millis(p.pauseMs) : undefined,
      manualPromotion: p.manualPromotion,
      withoutAnalysis: p.withoutAnalysis,
    }) : undefined,
  };
  new CanaryRelease(chart, 'canary', props);
  if (s.twice) new CanaryRelease(chart, 'canary-2', { ...props, version: `${s.version}-b` });
}

function checkWeights(objects: any[]): void {
  for (const vs of objects.filter(o => o.kind === 'VirtualService')) {
    for (const r of vs.spec.http ?? []) {
      const routes = r.route ?? [];
      if (routes.length > 1) {
        const sum = routes.reduce((n: number, d: any) => n + (d.weight ?? 0), 0);
        if (sum !== 100) throw new Error(`VirtualService ${vs.metadata.name}: route weights add up to ${sum}: ${JSON.stringify(routes)}`);
      }
    }
  }
}

define({
  name: 'CanaryRelease: contract (1)-(4) on hostile props; route weights add up to 100',
  group: 'canary',
  ciRuns: 80,
  longRuns: 1500,
  property: () => fc.property(fc.oneof(canarySpec, validCanarySpec), spec => {
    const o = checkContract('CanaryRelease', app => buildCanary(app, spec));
    if (o.kind === 'synth') checkWeights(o.objects);
  }),
});

interface GatewaySpec {
  hosts: string[];
  tls: string;
  routingApi: string;
  routes: Array<{
    host?: string; path?: string; pathKind: string; to: number; redirect?: boolean; rewrite?: string; timeoutMs?: number; port?: number;
  }>;
  zeroTrust: boolean;
}
const hostArb = H.rare(fc.constantFrom('shop.example.com', 'api.example.com', '*.example.com'), fc.oneof(hostileString, fc.constantFrom('*', 'Shop.Example.com', 'a..b')));
const gatewaySpec: fc.Arbitrary<GatewaySpec> = fc.record({
  hosts: fc.array(hostArb, { minLength: 1, maxLength: 2 }),
  tls: fc.constantFrom('none', 'certManager', 'secret', 'passthrough'),
  routingApi: H.rare(fc.constantFrom('ISTIO', 'GATEWAY_API'), fc.constant('NGINX')),
  routes: fc.array(fc.record({
    host: hostArb,
    path: H.rare(fc.constantFrom('/', '/api', '/reviews/'), fc.oneof(hostileString, fc.constantFrom('api', '(', ''))),
    pathKind: fc.constantFrom('prefix', 'exact', 'regex'),
    to: fc.nat({ max: 2 }),
    redirect: fc.boolean(),
    rewrite: H.rare(fc.constantFrom('/', '/v2'), hostileString),
    timeoutMs: H.durationMs,
    port: fc.nat({ max: 2 }),
  }, { requiredKeys: ['pathKind', 'to'] }), { maxLength: 4 }),
  zeroTrust: fc.boolean(),
});

function buildGateway(app: App, s: GatewaySpec): void {
  const platform = new Chart(app, 'mesh-system');
  const mesh = new Mesh(platform, 'mesh');
  const tls = s.tls === 'certManager' ? GatewayTls.certManager({ issuer: 'letsencrypt' })
    : s.tls === 'secret' ? GatewayTls.secret('shop-tls')
      : s.tls === 'passthrough' ? GatewayTls.passthrough() : undefined;
  const gw = new MeshGateway(platform, 'ingress', { mesh, hosts: s.hosts, tls, routingApi: s.routingApi as RoutingApi });
  const apps = new Chart(app, 'apps');
  const ns = s.zeroTrust ? new ZeroTrustNamespace(apps, 'ns', { mesh, name: 'shop' }) : MeshNamespace.fromName(apps, 'ns', { name: 'shop', mesh });
  const services = [
    new MeshedService(apps, 'frontend', { namespace: ns, image: 'f:1', ports: [ServicePort.http(9080)] }),
    new MeshedService(apps, 'reviews', { namespace: ns, image: 'r:1', ports: [ServicePort.http(9080), ServicePort.grpc(7070)] }),
    new MeshedService(apps, 'db', { namespace: ns, image: 'd:1', ports: [ServicePort.tcp(5432)] }),
  ];
  for (const r of s.routes) {
    const to = services[r.to];
    const path = r.path === undefined ? undefined
      : r.pathKind === 'prefix' ? PathMatch.prefix(r.path) : r.pathKind === 'exact' ? PathMatch.exact(r.path) : PathMatch.regex(r.path);
    if (r.redirect) {
      gw.route({ host: r.host, path, redirect: { host: 'www.example.com', statusCode: 301 } });
    } else {
      gw.route({
        host: r.host,
        path,
        to,
        rewrite: r.rewrite,
        timeout: r.timeoutMs !== undefined ? Duration.millis(r.timeoutMs) : undefined,
        port: r.port !== undefined ? to.ports[r.port % to.ports.length] : undefined,
      });
    }
  }
}

define({
  name: 'MeshGateway: contract (1)-(4) on hostile hosts, TLS, routing APIs and routes',
  group: 'gateway',
  ciRuns: 80,
  longRuns: 1500,
  property: () => fc.property(gatewaySpec, spec => {
    // a Secret named by GatewayTls.secret() is the user's, created outside the app
    checkContract('MeshGateway', app => buildGateway(app, spec), { existingSecrets: ['shop-tls'] });
  }),
});
