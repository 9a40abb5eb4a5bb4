/**
 * Builders: turn the plain-data specs of test/util/arbitraries.ts into constructs in a given App.
 * A builder never mutates its spec, so the same spec can be built twice.
 */
import { ApiObject, App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  CaIssuerType, CaKeyAlgorithm, DefaultProviderKind, IMeshNamespace, IMeshService, InjectionMode, IssuerKind, IstioControlPlane,
  LoadBalancer, Mesh, MeshCertificates, MeshedService, MeshNamespace, OutboundTrafficPolicy, PortProtocol, Probe,
  ProxyLogLevel, ProxyOptions, RetryOn, ServicePort, StringMatch, TrafficPolicy, UpstreamTls, MeshProps,
  HttpRouteRule, RouteResilience, CertManagerCaOptions, IntermediateCaOptions, ZeroTrustNamespace,
} from '../../src';
import {
  CertificatesSpec, ControlPlaneSpec, GraphSpec, InjectSpec, KeySpec, MeshSpec, ProxySpec, ResilienceSpec,
  RouteSpec, ServiceSpec, TrafficPolicySpec, ValidGraphSpec,
} from '../util/arbitraries';

const ms = (n: number | undefined) => (n === undefined ? undefined : Duration.millis(n));
const at = <T>(list: readonly T[], i: number): T => list[i % list.length];

export function meshProps(spec: MeshSpec): MeshProps {
  return {
    ...spec,
    injectionMode: spec.injectionMode as InjectionMode | undefined,
    outboundTrafficPolicy: spec.outboundTrafficPolicy as OutboundTrafficPolicy | undefined,
    proxyResources: spec.proxyResources ? { ...spec.proxyResources } : undefined,
  };
}

export function buildMesh(app: App, spec: MeshSpec): Mesh {
  const chart = new Chart(app, 'mesh-system');
  return new Mesh(chart, 'mesh', meshProps(spec));
}

function key(k: KeySpec | undefined): CaKeyAlgorithm | undefined {
  if (!k) return undefined;
  if (k.kind === 'rsa') return CaKeyAlgorithm.rsa(k.bits!);
  return k.kind === 'ecdsaP256' ? CaKeyAlgorithm.ecdsaP256() : CaKeyAlgorithm.ecdsaP384();
}

export function certificates(spec: CertificatesSpec): MeshCertificates | undefined {
  const intermediate: IntermediateCaOptions = {
    keyAlgorithm: key(spec.keyAlgorithm),
    duration: ms(spec.durationMs),
    renewBefore: ms(spec.renewBeforeMs),
    organizations: spec.organizations ? [...spec.organizations] : undefined,
    commonName: spec.commonName,
  };
  switch (spec.kind) {
    case 'none': return undefined;
    case 'certManager': {
      const o: CertManagerCaOptions = {
        ...intermediate,
        rootKeyAlgorithm: key(spec.rootKeyAlgorithm),
        rootDuration: ms(spec.rootDurationMs),
        rootRenewBefore: ms(spec.rootRenewBeforeMs),
        rootCommonName: spec.rootCommonName,
      };
      return MeshCertificates.certManager(o);
    }
    case 'fromIssuer':
      return MeshCertificates.fromIssuer({
        ...intermediate,
        issuerName: spec.issuerName!,
        kind: spec.issuerKind as IssuerKind | undefined,
        group: spec.group,
        // cert-manager's own group: its CA issuer; any other group: an external CA issuer
        issuerType: (spec.group ?? 'cert-manager.io') === 'cert-manager.io' ? CaIssuerType.CA : CaIssuerType.EXTERNAL_CA,
      });
    case 'istioCsr':
      return MeshCertificates.istioCsr({ caAddress: spec.caAddress });
  }
}

export function buildControlPlane(app: App, spec: ControlPlaneSpec): IstioControlPlane {
  const chart = new Chart(app, 'mesh-system');
  const mesh = new Mesh(chart, 'mesh', meshProps(spec.mesh));
  const cp = new IstioControlPlane(chart, 'istio', {
    mesh,
    certificates: certificates(spec.certificates),
    replicas: spec.replicas,
    autoscaling: spec.autoscaling ? { ...spec.autoscaling } : undefined,
    resources: spec.resources ? { ...spec.resources } : undefined,
    accessLogging: spec.accessLogging,
    accessLogFile: spec.accessLogFile,
    accessLogEncoding: spec.accessLogEncoding as any,
    defaultProviders: spec.defaultProviders ? {
      metrics: spec.defaultProviders.metrics && [...spec.defaultProviders.metrics],
      tracing: spec.defaultProviders.tracing && [...spec.defaultProviders.tracing],
      accessLogging: spec.defaultProviders.accessLogging && [...spec.defaultProviders.accessLogging],
    } : undefined,
    env: spec.env ? { ...spec.env } : undefined,
    nodeSelector: spec.nodeSelector ? { ...spec.nodeSelector } : undefined,
    installCrds: spec.installCrds,
    createNamespace: spec.createNamespace,
    gatewayDeploymentController: spec.gatewayDeploymentController,
    multicluster: spec.multicluster,
    injectionTemplates: spec.injectionTemplates ? { ...spec.injectionTemplates } : undefined,
    meshConfigOverrides: spec.meshConfigOverrides ? structuredClone(spec.meshConfigOverrides) : undefined,
  });
  for (const p of spec.extensionProviders) cp.addExtensionProvider(p.name, structuredClone(p.config));
  for (const p of spec.extraDefaultProviders) cp.addDefaultProvider(p.kind as DefaultProviderKind, p.name);
  return cp;
}

function proxyOptions(p: ProxySpec | undefined): ProxyOptions | undefined {
  if (!p) return undefined;
  return {
    concurrency: p.concurrency,
    logLevel: p.logLevel as ProxyLogLevel | undefined,
    holdApplicationUntilProxyStarts: p.holdApplicationUntilProxyStarts,
    includeInboundPorts: p.includeInboundPorts && [...p.includeInboundPorts],
    excludeOutboundPorts: p.excludeOutboundPorts && [...p.excludeOutboundPorts],
    excludeOutboundIpRanges: p.excludeOutboundIpRanges && [...p.excludeOutboundIpRanges],
    proxyMetadata: p.proxyMetadata && { ...p.proxyMetadata },
    annotations: p.annotations && { ...p.annotations },
    resources: p.resources && { ...p.resources },
  };
}

function loadBalancer(lb: TrafficPolicySpec['loadBalancer']): LoadBalancer | undefined {
  if (!lb) return undefined;
  switch (lb.kind) {
    case 'roundRobin': return LoadBalancer.roundRobin();
    case 'leastRequest': return LoadBalancer.leastRequest();
    case 'random': return LoadBalancer.random();
    case 'consistentHashHeader': return LoadBalancer.consistentHashHeader(lb.header ?? 'x-user');
    case 'consistentHashCookie': return LoadBalancer.consistentHashCookie(lb.cookie ?? 'session', Duration.millis(lb.ttlMs ?? 0), lb.path);
    default: return LoadBalancer.consistentHashSourceIp();
  }
}

function trafficPolicy(t: TrafficPolicySpec | undefined, ports: ServicePort[]): TrafficPolicy | undefined {
  if (!t) return undefined;
  const cp = t.connectionPool;
  const od = t.outlierDetection;
  // a port index past the service's ports names a port of another service (ServicePort.http(1234))
  const portOf = (i: number) => ports[i] ?? ServicePort.http(1234 + i);
  return {
    loadBalancer: loadBalancer(t.loadBalancer),
    connectionPool: cp ? {
      tcp: cp.tcp ? { maxConnections: cp.tcp.maxConnections, connectTimeout: ms(cp.tcp.connectTimeoutMs) } : undefined,
      http: cp.http ? { ...cp.http, idleTimeout: ms(cp.http.idleTimeoutMs) } : undefined,
    } : undefined,
    outlierDetection: od ? {
      consecutive5xxErrors: od.consecutive5xxErrors,
      consecutiveGatewayErrors: od.consecutiveGatewayErrors,
      interval: ms(od.intervalMs),
      baseEjectionTime: ms(od.baseEjectionTimeMs),
      maxEjectionPercent: od.maxEjectionPercent,
      minHealthPercent: od.minHealthPercent,
    } : undefined,
    tls: t.plaintext ? UpstreamTls.disabledAllowPlaintext() : undefined,
    portSettings: t.portSettings?.map(s => ({
      port: portOf(s.port),
      tls: s.plaintext ? UpstreamTls.disabledAllowPlaintext() : UpstreamTls.istioMutual(),
      loadBalancer: loadBalancer(s.loadBalancer),
    })),
  };
}

function resilience(r: ResilienceSpec | undefined, services: MeshedService[], self: () => MeshedService | undefined): RouteResilience {
  if (!r) return {};
  const mirrorTarget = r.mirror ? (services.length > 0 ? at(services, r.mirror.service) : self()) : undefined;
  return {
    timeout: ms(r.timeoutMs),
    retries: r.retries ? {
      attempts: r.retries.attempts,
      perTryTimeout: ms(r.retries.perTryTimeoutMs),
      retryOn: r.retries.retryOn?.map(x => x as RetryOn),
      retriableStatusCodes: r.retries.retriableStatusCodes && [...r.retries.retriableStatusCodes],
    } : undefined,
    fault: r.fault ? {
      delay: r.fault.delay ? { fixedDelay: Duration.millis(r.fault.delay.fixedDelayMs), percentage: r.fault.delay.percentage } : undefined,
      abort: r.fault.abort ? { ...r.fault.abort } : undefined,
    } : undefined,
    mirror: r.mirror && mirrorTarget ? {
      service: mirrorTarget,
      percentage: r.mirror.percentage,
      port: r.mirror.port !== undefined ? at(mirrorTarget.ports, r.mirror.port) : undefined,
    } : undefined,
  };
}

function routes(specs: RouteSpec[], svc: MeshedService): HttpRouteRule[] {
  const versions = svc.versions;
  return specs.map(r => ({
    name: r.name,
    matches: r.matches?.map(m => ({
      uri: m.regex !== undefined ? StringMatch.regex(m.regex) : m.uriPrefix !== undefined ? StringMatch.prefix(m.uriPrefix) : undefined,
      headers: m.header ? { [m.header[0]]: StringMatch.exact(m.header[1]) } : undefined,
      method: m.method !== undefined ? StringMatch.exact(m.method) : undefined,
    })),
    destinations: r.destinations?.map(d => ({
      // an index past the versions names a version of another service (same name, not this service's object)
      version: versions[d.version] ?? { ...versions[0], name: `other-${d.version}` },
      weight: d.weight,
    })),
  }));
}

function port(p: { protocol: string; port: number; targetPort?: number; nameSuffix?: string }): ServicePort {
  return ServicePort.of(p.protocol as PortProtocol, p.port, { targetPort: p.targetPort, nameSuffix: p.nameSuffix });
}

function probe(p: ServiceSpec['readinessProbe']): Probe | undefined {
  if (!p) return undefined;
  const o = { port: p.port, period: ms(p.periodMs), failureThreshold: p.failureThreshold };
  if (p.kind === 'httpGet') return Probe.httpGet(p.path ?? '/healthz', o);
  return p.kind === 'tcp' ? Probe.tcp(o) : Probe.grpc(o);
}

export interface BuiltGraph {
  mesh: Mesh;
  namespaces: IMeshNamespace[];
  services: MeshedService[];
}

function rawWorkload(chart: Chart, id: string, s: InjectSpec, namespace: string): any {
  const metadata = { name: `${s.name}-raw`, namespace };
  const labels = { app: `${s.name}-raw` };
  const template = { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'app:1' }] } };
  switch (s.kind) {
    case 'plus-Deployment':
      return new kplus.Deployment(chart, id, { metadata, containers: [{ image: 'app:1', portNumber: 8080 }] });
    case 'Deployment':
    case 'DaemonSet':
      return new ApiObject(chart, id, { apiVersion: 'apps/v1', kind: s.kind, metadata, spec: { selector: { matchLabels: labels }, template } });
    case 'StatefulSet':
      return new ApiObject(chart, id, { apiVersion: 'apps/v1', kind: s.kind, metadata, spec: { serviceName: metadata.name, selector: { matchLabels: labels }, template } });
    case 'Job':
      return new ApiObject(chart, id, { apiVersion: 'batch/v1', kind: 'Job', metadata, spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } });
    case 'CronJob':
      return new ApiObject(chart, id, { apiVersion: 'batch/v1', kind: 'CronJob', metadata, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } } } });
    case 'Pod':
      return new ApiObject(chart, id, { apiVersion: 'v1', kind: 'Pod', metadata: { ...metadata, labels }, spec: template.spec });
    default:
      return new ApiObject(chart, id, { apiVersion: 'v1', kind: s.kind, metadata });
  }
}

/** Builds a whole mesh from a GraphSpec: platform chart (mesh, maybe control plane) and an apps chart. */
export function buildGraph(app: App, spec: GraphSpec): BuiltGraph {
  const platform = new Chart(app, 'mesh-system');
  const mesh = new Mesh(platform, 'mesh', meshProps(spec.mesh));
  if (spec.controlPlane) {
    new IstioControlPlane(platform, 'istio', {
      mesh,
      installCrds: false, // the CRDs are covered by the control plane properties; here they only cost time
      injectionTemplates: mesh.injectionMode === InjectionMode.WEBHOOK ? { sidecar: 'spec: {}' } : undefined,
    });
  }
  const apps = new Chart(app, 'apps');
  const namespaces = spec.namespaces.map((name, i) => MeshNamespace.fromName(apps, `ns${i}`, { name, mesh }));
  const services: MeshedService[] = [];
  spec.services.forEach((s, i) => {
    const ports = s.ports.map(port);
    let self: MeshedService | undefined;
    const svc = new MeshedService(apps, `s${i}`, {
      namespace: at(namespaces, s.ns),
      name: s.name,
      image: s.image,
      version: s.version,
      replicas: s.replicas,
      ports,
      serviceAccountName: s.serviceAccountName,
      env: s.env && { ...s.env },
      podLabels: s.podLabels && { ...s.podLabels },
      resources: s.resources && { ...s.resources },
      trafficPolicy: trafficPolicy(s.trafficPolicy, ports),
      ...resilience(s.resilience, services, () => self),
      readinessProbe: probe(s.readinessProbe),
      securityContext: s.security && { ...s.security, addCapabilities: s.security.addCapabilities && [...s.security.addCapabilities] },
      proxy: proxyOptions(s.proxy),
    });
    self = svc;
    for (const v of s.extraVersions) {
      svc.addVersion(v.name, {
        image: v.image,
        replicas: v.replicas,
        env: v.env && { ...v.env },
        podLabels: v.podLabels && { ...v.podLabels },
        resources: v.resources && { ...v.resources },
      });
    }
    if (s.routes) svc.replaceHttpRoutes(routes(s.routes, svc));
    services.push(svc);
  });
  for (const e of spec.edges) {
    const from = at(services, e.from);
    const to: IMeshService = at(services, e.to);
    const ports = e.ports?.length ? e.ports.map(i => to.ports[i] ?? ServicePort.http(1234 + i)) : undefined;
    from.connectsTo(to, { ports, methods: e.methods && [...e.methods], paths: e.paths && [...e.paths] });
  }
  spec.injects.forEach((s, i) => {
    const w = rawWorkload(apps, `raw${i}`, s, at(namespaces, s.ns).name);
    mesh.inject(w, proxyOptions(s.options));
    if (s.twice === 'same') mesh.inject(w, proxyOptions(s.options));
    if (s.twice === 'other') mesh.inject(w, { concurrency: 3 });
  });
  return { mesh, namespaces, services };
}

/** Builds a valid access graph (distinct services) with only valid settings. */
export function buildValidGraph(
  app: App, spec: ValidGraphSpec, extra?: (g: BuiltGraph, apps: Chart) => void, options: { zeroTrust?: boolean } = {},
): BuiltGraph {
  const platform = new Chart(app, 'mesh-system');
  const mesh = new Mesh(platform, 'mesh', {});
  const apps = new Chart(app, 'apps');
  const namespaces: IMeshNamespace[] = spec.namespaces.map((name, i) => (options.zeroTrust
    ? new ZeroTrustNamespace(apps, `ns${i}`, { name, mesh })
    : MeshNamespace.fromName(apps, `ns${i}`, { name, mesh })));
  const seen = new Set<string>();
  const services: MeshedService[] = [];
  spec.services.forEach((s, i) => {
    const ns = at(namespaces, s.ns);
    if (seen.has(`${ns.name}/${s.name}`)) return;
    seen.add(`${ns.name}/${s.name}`);
    services.push(new MeshedService(apps, `s${i}`, { namespace: ns, name: s.name, image: 'app:1', ports: s.ports.map(port) }));
  });
  for (const e of spec.edges) {
    const to = at(services, e.to);
    const ports = e.ports?.length ? [...new Set(e.ports.map(i => at(to.ports, i)))] : undefined;
    at(services, e.from).connectsTo(to, { ports });
  }
  const g = { mesh, namespaces, services };
  extra?.(g, apps);
  return g;
}
