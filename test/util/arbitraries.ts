/**
 * Shared fast-check generators for the property tests (test/properties) and the long run
 * (scripts/properties-long.ts).
 *
 * Generators produce plain data ("specs"), never constructs: a builder (test/properties/builders.ts) turns a spec
 * into constructs in a fresh App, so the same spec can be built twice (determinism) and printed when a property
 * fails. Every generator mixes mostly valid values with hostile ones: empty and huge strings, unicode, DNS-invalid
 * names, out-of-range numbers, NaN/Infinity, negative numbers, duplicates, conflicting options.
 */
import * as fc from 'fast-check';

// ---------------------------------------------------------------------------------------------------------------
// Spec types (plain data)

export const PROTOCOLS = ['HTTP', 'HTTP2', 'HTTPS', 'GRPC', 'GRPC_WEB', 'TCP', 'TLS', 'MONGO', 'REDIS', 'MYSQL'] as const;

export interface ResourceSpec {
  readonly cpuRequest?: string;
  readonly memoryRequest?: string;
  readonly cpuLimit?: string;
  readonly memoryLimit?: string;
}

export interface MeshSpec {
  readonly version?: string;
  readonly hub?: string;
  readonly revision?: string;
  readonly trustDomain?: string;
  readonly rootNamespace?: string;
  readonly kubernetesVersion?: string;
  readonly injectionMode?: string;
  readonly cni?: boolean;
  readonly nativeSidecars?: boolean;
  readonly outboundTrafficPolicy?: string;
  readonly proxyResources?: ResourceSpec;
  readonly caAddress?: string;
}

export interface KeySpec { readonly kind: 'ecdsaP256' | 'ecdsaP384' | 'rsa'; readonly bits?: number }

export interface CertificatesSpec {
  readonly kind: 'none' | 'certManager' | 'fromIssuer' | 'istioCsr';
  readonly keyAlgorithm?: KeySpec;
  readonly durationMs?: number;
  readonly renewBeforeMs?: number;
  readonly organizations?: string[];
  readonly commonName?: string;
  readonly rootKeyAlgorithm?: KeySpec;
  readonly rootDurationMs?: number;
  readonly rootRenewBeforeMs?: number;
  readonly rootCommonName?: string;
  readonly issuerName?: string;
  readonly issuerKind?: string;
  readonly group?: string;
  readonly caAddress?: string;
}

export interface ControlPlaneSpec {
  readonly mesh: MeshSpec;
  readonly certificates: CertificatesSpec;
  readonly replicas?: number;
  readonly autoscaling?: { minReplicas?: number; maxReplicas?: number; cpuTargetPercent?: number };
  readonly resources?: ResourceSpec;
  readonly accessLogging?: boolean;
  readonly accessLogFile?: string;
  readonly accessLogEncoding?: string;
  readonly defaultProviders?: { metrics?: string[]; tracing?: string[]; accessLogging?: string[] };
  readonly env?: { [k: string]: string };
  readonly nodeSelector?: { [k: string]: string };
  readonly installCrds?: boolean;
  readonly createNamespace?: boolean;
  readonly gatewayDeploymentController?: boolean;
  readonly multicluster?: boolean;
  readonly injectionTemplates?: { [k: string]: string };
  readonly meshConfigOverrides?: { [k: string]: any };
  readonly extensionProviders: Array<{ name: string; config: { [k: string]: any } }>;
  readonly extraDefaultProviders: Array<{ kind: string; name: string }>;
}

export interface PortSpec {
  readonly protocol: string;
  readonly port: number;
  readonly targetPort?: number;
  readonly nameSuffix?: string;
}

export interface TrafficPolicySpec {
  readonly loadBalancer?: { kind: string; header?: string; cookie?: string; ttlMs?: number; path?: string };
  readonly connectionPool?: {
    tcp?: { maxConnections?: number; connectTimeoutMs?: number };
    http?: {
      http1MaxPendingRequests?: number; http2MaxRequests?: number; maxRequestsPerConnection?: number; maxRetries?: number; idleTimeoutMs?: number;
    };
  };
  readonly outlierDetection?: {
    consecutive5xxErrors?: number;
    consecutiveGatewayErrors?: number;
    intervalMs?: number;
    baseEjectionTimeMs?: number;
    maxEjectionPercent?: number;
    minHealthPercent?: number;
  };
  readonly plaintext?: boolean;
  /** Port settings: indices into the service's ports (a large index names a port the service does not have). */
  readonly portSettings?: Array<{ port: number; plaintext?: boolean; loadBalancer?: { kind: string } }>;
}

export interface ResilienceSpec {
  readonly timeoutMs?: number;
  readonly retries?: { attempts: number; perTryTimeoutMs?: number; retryOn?: string[]; retriableStatusCodes?: number[] };
  readonly fault?: { delay?: { fixedDelayMs: number; percentage: number }; abort?: { httpStatus: number; percentage: number } };
  /** Mirror to another service (index into the graph's services) or to itself. */
  readonly mirror?: { service: number; percentage?: number; port?: number };
}

export interface RouteSpec {
  readonly name?: string;
  readonly matches?: Array<{ uriPrefix?: string; header?: [string, string]; method?: string; regex?: string }>;
  /** Destinations: version indices (a large one names a version the service does not have) and weights. */
  readonly destinations?: Array<{ version: number; weight?: number }>;
}

export interface VersionSpec {
  readonly name: string;
  readonly image: string;
  readonly replicas?: number;
  readonly env?: { [k: string]: string };
  readonly podLabels?: { [k: string]: string };
  readonly resources?: ResourceSpec;
}

export interface ProbeSpec { readonly kind: 'httpGet' | 'tcp' | 'grpc'; readonly path?: string; readonly port?: number; readonly periodMs?: number; readonly failureThreshold?: number }

export interface ServiceSpec {
  /** Index of the namespace (mod the number of namespaces). */
  readonly ns: number;
  readonly name: string;
  readonly image: string;
  readonly version?: string;
  readonly replicas?: number;
  readonly ports: PortSpec[];
  readonly serviceAccountName?: string;
  readonly env?: { [k: string]: string };
  readonly podLabels?: { [k: string]: string };
  readonly resources?: ResourceSpec;
  readonly extraVersions: VersionSpec[];
  readonly trafficPolicy?: TrafficPolicySpec;
  readonly resilience?: ResilienceSpec;
  readonly routes?: RouteSpec[];
  readonly readinessProbe?: ProbeSpec;
  readonly security?: { runAsUser?: number; readOnlyRootFilesystem?: boolean; allowRunAsRoot?: boolean; addCapabilities?: string[] };
  readonly proxy?: ProxySpec;
}

export interface ProxySpec {
  readonly concurrency?: number;
  readonly logLevel?: string;
  readonly holdApplicationUntilProxyStarts?: boolean;
  readonly includeInboundPorts?: number[];
  readonly excludeOutboundPorts?: number[];
  readonly excludeOutboundIpRanges?: string[];
  readonly proxyMetadata?: { [k: string]: string };
  readonly annotations?: { [k: string]: string };
  readonly resources?: ResourceSpec;
}

export interface EdgeSpec {
  readonly from: number;
  readonly to: number;
  /** Port indices of the target (a large index names a port it does not have). */
  readonly ports?: number[];
  readonly methods?: string[];
  readonly paths?: string[];
}

export interface InjectSpec {
  readonly kind: string;
  readonly ns: number;
  readonly name: string;
  readonly options: ProxySpec;
  /** Inject twice (with the same or other options). */
  readonly twice?: 'same' | 'other';
}

export interface GraphSpec {
  readonly mesh: MeshSpec;
  readonly controlPlane: boolean;
  readonly namespaces: string[];
  readonly services: ServiceSpec[];
  readonly edges: EdgeSpec[];
  readonly injects: InjectSpec[];
}

export interface ValidGraphSpec {
  readonly namespaces: string[];
  readonly services: Array<{ ns: number; name: string; ports: Array<{ protocol: string; port: number }> }>;
  readonly edges: Array<{ from: number; to: number; ports?: number[] }>;
}

/**
 * The generators, at a level of hostility: `H` is the weight of each hostile alternative against valid ones
 * (weights 4 to 12). `arbitraries(0)` generates only well-formed values (conflicting options can still occur);
 * `arbitraries(1)` mixes in hostile values everywhere.
 */
export function arbitraries(H: number) {
  // ---------------------------------------------------------------------------------------------------------------
  // Scalars

  /**
   * Any Unicode code point, lone surrogates included: what fast-check's `unit: 'binary'` draws, without the reverse
   * index of every code point it builds when created (1.4 s in each test file that loads this module).
   */
  const anyCodePoint: fc.Arbitrary<string> = fc.integer({ min: 0, max: 0x10ffff }).map(cp => String.fromCodePoint(cp));

  /** Strings nobody should accept as a name: empty, huge, unicode, control characters, DNS-invalid. */
  const hostileString: fc.Arbitrary<string> = fc.oneof(
    fc.constantFrom('', ' ', '-', 'A', 'a_b', '-a', 'a-', 'a.b', '1a', 'a b', 'é', '名前', '🙂', '\u0000', 'a\nb',
      'x'.repeat(64), 'x'.repeat(254), 'default', 'kube-system', '..', '*', '/', '${x}', '{{ .Values }}'),
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.string({ unit: anyCodePoint, maxLength: 12 }),
    fc.integer({ min: 64, max: 300 }).map(n => 'a'.repeat(n)),
  );

  /** A DNS label (RFC 1035: starts with a letter), short. */
  const dnsLabel: fc.Arbitrary<string> = fc.stringMatching(/^[a-z]([-a-z0-9]{0,8}[a-z0-9])?$/);

  /** A small pool of names, so that duplicates are frequent. */
  const commonName: fc.Arbitrary<string> = fc.constantFrom('a', 'b', 'c', 'reviews', 'ratings', 'shop', 'web');

  /** Mostly valid DNS labels (often colliding), sometimes hostile. */
  const nameArb: fc.Arbitrary<string> = fc.oneof(
    { arbitrary: dnsLabel, weight: 6 },
    { arbitrary: commonName, weight: 4 },
    { arbitrary: hostileString, weight: H },
  );

  /** Numbers outside every sane range. */
  const hostileNumber: fc.Arbitrary<number> = fc.constantFrom(
    0, -1, -0, 0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE, 65536, 1e21,
  );

  /** A whole number in [min, max] most of the time, a hostile number sometimes. */
  function intArb(min: number, max: number): fc.Arbitrary<number> {
    return fc.oneof({ arbitrary: fc.integer({ min, max }), weight: 8 }, { arbitrary: hostileNumber, weight: H });
  }

  /** Application port numbers: common ones, any valid one, Istio's reserved ones and hostile ones. */
  const portNumber: fc.Arbitrary<number> = fc.oneof(
    { arbitrary: fc.constantFrom(80, 443, 8080, 9080, 9090, 3306, 6379, 5000, 8443), weight: 6 },
    { arbitrary: fc.integer({ min: 1, max: 65535 }), weight: 3 },
    { arbitrary: fc.constantFrom(15000, 15001, 15004, 15006, 15008, 15020, 15021, 15053, 15090), weight: H },
    { arbitrary: hostileNumber, weight: H },
  );

  /** A duration in milliseconds (cdk8s Durations cannot be negative; NaN and Infinity get through cdk8s). */
  const durationMs: fc.Arbitrary<number> = fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 120_000 }), weight: 8 },
    { arbitrary: fc.constantFrom(0, 0.5, 1.5, NaN, Infinity, 1e15, 3_600_000 * 24 * 365 * 20), weight: H },
  );

  /** Kubernetes quantities, valid and not. */
  const quantity: fc.Arbitrary<string> = fc.oneof(
    { arbitrary: fc.constantFrom('100m', '1', '2', '0.5', '128Mi', '1Gi', '500M', '1e3', '10Ki'), weight: 6 },
    { arbitrary: fc.constantFrom('', '-1', 'lots', '1.2.3', '1 Gi', 'Mi', '∞', '1GiB'), weight: H },
  );

  /** Maps such as env, labels, annotations: usually valid keys, sometimes hostile keys and values. */
  function stringMap(key: fc.Arbitrary<string>, value: fc.Arbitrary<string> = fc.string({ maxLength: 10 })) {
    return fc.dictionary(key, value, { maxKeys: 3, noNullPrototype: true });
  }
  const labelKey = fc.oneof(
    { arbitrary: fc.constantFrom('team', 'tier', 'example.com/owner', 'app.kubernetes.io/part-of'), weight: 6 },
    { arbitrary: fc.constantFrom('app', 'version', 'security.istio.io/tlsMode'), weight: H },
    { arbitrary: hostileString, weight: H },
  );
  const labelValue = fc.oneof(
    { arbitrary: fc.constantFrom('a', 'front-end', 'x.y_z', ''), weight: 6 },
    { arbitrary: hostileString, weight: H },
  );
  const envKey = fc.oneof(
    { arbitrary: fc.constantFrom('LOG_LEVEL', 'MODE', 'a.b', 'X-Y'), weight: 6 },
    { arbitrary: hostileString, weight: H },
  );

  // ---------------------------------------------------------------------------------------------------------------
  // Mesh

  const resourceSpec: fc.Arbitrary<ResourceSpec> = H
    ? fc.record({ cpuRequest: quantity, memoryRequest: quantity, cpuLimit: quantity, memoryLimit: quantity }, { requiredKeys: [] })
    : fc.record({
      cpuRequest: fc.constantFrom('100m', '250m'),
      memoryRequest: fc.constantFrom('64Mi', '128Mi'),
      cpuLimit: fc.constantFrom('1', '2'),
      memoryLimit: fc.constantFrom('512Mi', '1Gi'),
    }, { requiredKeys: [] });

  /** MeshProps as plain data (enums as their string values). */

  const rare = <T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: hostile, weight: H });

  /** Mesh settings; `hostility` 0 gives only valid settings. */
  function meshSpec(): fc.Arbitrary<MeshSpec> {
    const h = rare;
    return fc.record({
      version: h(fc.constantFrom('1.30.3', '1.30.0', '1.29.2', '1.31.0-beta.1'), fc.oneof(hostileString, fc.constantFrom('1.30', 'v1.30.3', '1.30.3.4'))),
      hub: h(fc.constantFrom('docker.io/istio', 'gcr.io/istio-release', 'registry.example.com:5000/mirror/istio'), fc.oneof(hostileString, fc.constant('https://docker.io/istio'))),
      revision: h(fc.constantFrom('1-30', 'canary', 'stable'), fc.oneof(hostileString, fc.constant('default'))),
      trustDomain: h(fc.constantFrom('cluster.local', 'example.org', 'td_1.prod'), fc.oneof(hostileString, fc.constant('spiffe://cluster.local'))),
      rootNamespace: h(fc.constantFrom('istio-system', 'mesh-system'), hostileString),
      kubernetesVersion: h(fc.constantFrom('1.32', '1.33', '1.34', '1.40'), fc.oneof(hostileString, fc.constantFrom('1.31', '1.20', '2.0', '1.33.1', 'v1.33'))),
      injectionMode: h(fc.constantFrom('SYNTH_TIME', 'SYNTH_TIME', 'WEBHOOK'), fc.constantFrom('', 'synth_time', 'AMBIENT')),
      cni: fc.boolean(),
      nativeSidecars: fc.boolean(),
      outboundTrafficPolicy: h(fc.constantFrom('ALLOW_ANY', 'REGISTRY_ONLY'), fc.constantFrom('', 'DENY')),
      proxyResources: resourceSpec,
      caAddress: h(fc.constantFrom('cert-manager-istio-csr.cert-manager.svc:443', 'ca.example.com:8443'), fc.oneof(hostileString, fc.constantFrom('ca:', ':443', 'https://ca:443'))),
    }, { requiredKeys: [] });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Control plane and certificates

  const keySpec: fc.Arbitrary<KeySpec> = fc.oneof(
    fc.constant<KeySpec>({ kind: 'ecdsaP256' }),
    fc.constant<KeySpec>({ kind: 'ecdsaP384' }),
    fc.record({ kind: fc.constant<'rsa'>('rsa'), bits: rare(fc.constantFrom(2048, 3072, 4096), fc.constantFrom(1024, 0, -1, 2047, NaN, 8192)) }),
  );

  const hoursMs = fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 24 * 365 * 12 }).map(h => h * 3_600_000), weight: 6 },
    { arbitrary: durationMs, weight: H },
  );

  const caName = fc.oneof({ arbitrary: fc.constantFrom('Istio CA', 'corp root', 'x'), weight: 6 }, { arbitrary: hostileString, weight: H });
  // valid lifetimes: renewal 1-24 h, intermediate 2 days to 2 years, root 3 to 12 years
  const hours = (min: number, max: number) => fc.integer({ min, max }).map(h => h * 3_600_000);
  const intermediate = {
    keyAlgorithm: keySpec,
    durationMs: H ? hoursMs : hours(48, 24 * 365 * 2),
    renewBeforeMs: H ? hoursMs : hours(1, 24),
    organizations: fc.array(caName, { maxLength: 2 }),
    commonName: caName,
  };
  const certificatesSpec: fc.Arbitrary<CertificatesSpec> = fc.oneof(
    fc.constant<CertificatesSpec>({ kind: 'none' }),
    fc.record({
      kind: fc.constant<'certManager'>('certManager'),
      ...intermediate,
      rootKeyAlgorithm: keySpec,
      rootDurationMs: H ? hoursMs : hours(24 * 365 * 3, 24 * 365 * 12),
      rootRenewBeforeMs: H ? hoursMs : hours(1, 24),
      rootCommonName: caName,
    }, { requiredKeys: ['kind'] }),
    fc.record({
      kind: fc.constant<'fromIssuer'>('fromIssuer'),
      ...intermediate,
      issuerName: nameArb,
      issuerKind: rare(fc.constantFrom('ISSUER', 'CLUSTER_ISSUER'), fc.constant('Issuer')),
      group: rare(fc.constantFrom('cert-manager.io', 'awspca.cert-manager.io'), hostileString),
    }, { requiredKeys: ['kind', 'issuerName'] }),
    fc.record({
      kind: fc.constant<'istioCsr'>('istioCsr'),
      caAddress: rare(fc.constantFrom('cert-manager-istio-csr.cert-manager.svc:443'), hostileString),
    }, { requiredKeys: ['kind'] }),
  );


  const providerName = fc.oneof({ arbitrary: fc.constantFrom('prometheus', 'envoy', 'otel', 'zipkin', 'stackdriver'), weight: 6 }, { arbitrary: hostileString, weight: H });

  function controlPlaneSpec(): fc.Arbitrary<ControlPlaneSpec> {
    return (fc.record({
      mesh: meshSpec(),
      certificates: certificatesSpec,
      replicas: H ? intArb(0, 7) : fc.integer({ min: 1, max: 7 }),
      autoscaling: H
        ? fc.record({ minReplicas: intArb(0, 6), maxReplicas: intArb(0, 10), cpuTargetPercent: intArb(0, 120) }, { requiredKeys: [] })
        : fc.record({
          minReplicas: fc.integer({ min: 1, max: 3 }),
          maxReplicas: fc.integer({ min: 3, max: 10 }),
          cpuTargetPercent: fc.integer({ min: 1, max: 100 }),
        }, { requiredKeys: [] }),
      resources: resourceSpec,
      accessLogging: fc.boolean(),
      accessLogFile: rare(fc.constantFrom('/dev/stdout', '/var/log/envoy.log'), fc.oneof(hostileString, fc.constant('relative.log'))),
      accessLogEncoding: rare(fc.constantFrom('TEXT', 'JSON'), fc.constantFrom('', 'XML')),
      defaultProviders: fc.record({
        metrics: fc.array(providerName, { maxLength: 2 }),
        tracing: fc.array(providerName, { maxLength: 2 }),
        accessLogging: fc.array(providerName, { maxLength: 2 }),
      }, { requiredKeys: [] }),
      env: stringMap(rare(envKey, fc.constantFrom('REVISION', 'CLUSTER_ID', 'PILOT_TRACE_SAMPLING'))),
      nodeSelector: stringMap(labelKey, labelValue),
      installCrds: fc.boolean(),
      createNamespace: fc.boolean(),
      gatewayDeploymentController: fc.boolean(),
      multicluster: fc.boolean(),
      injectionTemplates: stringMap(rare(fc.constantFrom('sidecar', 'gateway'), fc.constant('')), rare(fc.constantFrom('spec: {}', '{{ .Values.x }}'), fc.constant(''))),
      meshConfigOverrides: fc.oneof(
        fc.constant({ enablePrometheusMerge: false }),
        fc.constant({ defaultConfig: { holdApplicationUntilProxyStarts: true } }),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2, noNullPrototype: true }),
      ),
      extensionProviders: (H ? fc.array : (a: any, c: any) => fc.uniqueArray(a, { ...c, selector: (p: any) => p.name }))(fc.record({
        name: providerName,
        config: fc.oneof(
          fc.constant({ opentelemetry: { service: 'otel.observability.svc.cluster.local', port: 4317 } }),
          fc.constant({ zipkin: { service: 'zipkin.istio-system.svc.cluster.local', port: 9411 } }),
          ...(H ? [fc.constant({}), fc.constant({ a: {}, b: {} })] : []) as fc.Arbitrary<any>[],
        ),
      }), { maxLength: 2 }),
      extraDefaultProviders: fc.array(fc.record({
        kind: rare(fc.constantFrom('metrics', 'tracing', 'accessLogging'), fc.constantFrom('', 'logs')),
        name: providerName,
      }), { maxLength: 2 }),
    }, { requiredKeys: ['mesh', 'certificates', 'extensionProviders', 'extraDefaultProviders'] }) as fc.Arbitrary<ControlPlaneSpec>)
      // conflicting options (replicas and autoscaling) only in hostile mode
      .map(s => (H === 0 && s.replicas !== undefined ? { ...s, autoscaling: undefined } : s))
      // valid mode: what the other settings require (webhook templates, istio-csr's CA address on the mesh)
      .map(s => (H ? s : {
        ...s,
        injectionTemplates: s.mesh.injectionMode === 'WEBHOOK' ? { sidecar: 'spec: {}' } : s.injectionTemplates,
        mesh: s.certificates.kind === 'istioCsr' ? { ...s.mesh, caAddress: s.certificates.caAddress ?? 'cert-manager-istio-csr.cert-manager.svc:443' } : s.mesh,
      }));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Services and the access graph


  /** One or two valid ports with distinct names and numbers. */
  const distinctPorts: fc.Arbitrary<Array<{ protocol: string; port: number }>> = fc.uniqueArray(
    fc.record({ protocol: fc.constantFrom('HTTP', 'GRPC', 'TCP'), port: fc.integer({ min: 1000, max: 14000 }) }),
    { minLength: 1, maxLength: 2, selector: p => p.protocol },
  ).map(ps => ps.filter((p, i) => ps.findIndex(q => q.port === p.port) === i));

  const portSpec: fc.Arbitrary<PortSpec> = fc.record({
    protocol: fc.oneof({ arbitrary: fc.constantFrom('HTTP', 'HTTP', 'GRPC', 'TCP'), weight: 4 }, { arbitrary: fc.constantFrom(...PROTOCOLS), weight: 4 }, { arbitrary: fc.constantFrom('http', 'UDP', ''), weight: H }),
    port: portNumber,
    targetPort: portNumber,
    nameSuffix: fc.oneof({ arbitrary: fc.constantFrom('admin', 'api', 'metrics', 'x1'), weight: 6 }, { arbitrary: hostileString, weight: H }),
  }, { requiredKeys: ['protocol', 'port'] });

  const loadBalancerSpec = fc.record({
    kind: fc.constantFrom('roundRobin', 'leastRequest', 'random', 'consistentHashHeader', 'consistentHashCookie', 'consistentHashSourceIp'),
    header: rare(fc.constantFrom('x-user', 'X-User-Id', 'cookie'), hostileString),
    cookie: rare(fc.constantFrom('session', 'user_id'), hostileString),
    ttlMs: fc.oneof(fc.constant(0), durationMs),
    path: rare(fc.constantFrom('/', '/app'), fc.constant('relative')),
  }, { requiredKeys: ['kind'] });
  const trafficPolicySpec: fc.Arbitrary<TrafficPolicySpec> = fc.record({
    loadBalancer: loadBalancerSpec,
    connectionPool: fc.record({
      tcp: fc.record({ maxConnections: intArb(1, 10_000), connectTimeoutMs: durationMs }, { requiredKeys: [] }),
      http: fc.record({
        http1MaxPendingRequests: intArb(1, 1000),
        http2MaxRequests: intArb(1, 1000),
        maxRequestsPerConnection: intArb(0, 100),
        maxRetries: intArb(0, 10),
        idleTimeoutMs: durationMs,
      }, { requiredKeys: [] }),
    }, { requiredKeys: [] }),
    outlierDetection: fc.record({
      consecutive5xxErrors: intArb(0, 100),
      consecutiveGatewayErrors: intArb(0, 100),
      intervalMs: durationMs,
      baseEjectionTimeMs: durationMs,
      maxEjectionPercent: intArb(0, 100),
      minHealthPercent: intArb(0, 100),
    }, { requiredKeys: [] }),
    plaintext: fc.boolean(),
    portSettings: fc.array(fc.record({ port: fc.nat({ max: H ? 4 : 0 }), plaintext: fc.boolean(), loadBalancer: H ? loadBalancerSpec : fc.record({ kind: fc.constantFrom('roundRobin', 'random') }) }, { requiredKeys: ['port'] }), { maxLength: H ? 2 : 1 }),
  }, { requiredKeys: [] });

  const percentage = fc.oneof(
    { arbitrary: fc.double({ min: 0, max: 100, noNaN: true }), weight: 6 },
    { arbitrary: hostileNumber, weight: H },
    { arbitrary: fc.constantFrom(-5, 101, 1000), weight: H },
  );
  const resilienceSpec: fc.Arbitrary<ResilienceSpec> = fc.record({
    timeoutMs: durationMs,
    retries: fc.record({
      attempts: intArb(0, 10),
      perTryTimeoutMs: H ? durationMs : fc.constant(undefined),
      retryOn: fc.array(fc.oneof({ arbitrary: fc.constantFrom('5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-status-codes', 'unavailable'), weight: 6 }, { arbitrary: hostileString, weight: H }), { maxLength: 3 }),
      retriableStatusCodes: fc.array(intArb(100, 599), { maxLength: 2 }),
    }, { requiredKeys: ['attempts'] }),
    fault: fc.record({
      delay: fc.record({ fixedDelayMs: durationMs, percentage }),
      abort: fc.record({ httpStatus: intArb(200, 599), percentage }),
    }, { requiredKeys: H ? [] : ['delay'] }),
    mirror: H ? fc.record({ service: fc.nat({ max: 8 }), percentage, port: fc.nat({ max: 3 }) }, { requiredKeys: ['service'] }) : fc.constant(undefined),
  }, { requiredKeys: [] });

  const routeSpec: fc.Arbitrary<RouteSpec> = fc.record({
    name: rare(fc.constantFrom('canary', 'stable', 'r.1'), hostileString),
    matches: fc.array(fc.record({
      uriPrefix: rare(fc.constantFrom('/', '/api'), fc.constant('')),
      header: fc.tuple(rare(fc.constantFrom('x-canary', 'End-User'), fc.constant('bad header')), fc.constantFrom('1', 'jason', '')),
      method: rare(fc.constantFrom('GET', 'POST'), fc.constant('get')),
      regex: rare(fc.constantFrom('.*iPhone.*', '^/v[0-9]+/'), fc.constantFrom('(', '')),
    }, { requiredKeys: [] }), { maxLength: 2 }),
    destinations: fc.array(fc.record({ version: fc.nat({ max: 3 }), weight: fc.oneof(fc.constantFrom(0, 10, 50, 90, 100), intArb(0, 100)) }, { requiredKeys: ['version'] }), { maxLength: 3 }),
  }, { requiredKeys: [] });

  const versionName: fc.Arbitrary<string> = fc.oneof(
    { arbitrary: fc.constantFrom('v1', 'v2', 'v3', 'V1', 'v1.0', 'v1_0', 'v1-0', 'canary', '2024.01'), weight: 8 },
    { arbitrary: hostileString, weight: H },
  );
  const imageArb = rare(fc.constantFrom('reviews:v1', 'docker.io/istio/examples-bookinfo-reviews-v2:1.20.2', 'app@sha256:' + 'a'.repeat(64)), fc.oneof(hostileString, fc.constant('has space:1')));
  const versionSpec: fc.Arbitrary<VersionSpec> = fc.record({
    name: versionName,
    image: imageArb,
    replicas: intArb(0, 5),
    env: stringMap(envKey),
    podLabels: stringMap(labelKey, labelValue),
    resources: resourceSpec,
  }, { requiredKeys: ['name', 'image'] });

  const probeSpec: fc.Arbitrary<ProbeSpec> = fc.record({
    kind: fc.constantFrom<'httpGet' | 'tcp' | 'grpc'>('httpGet', 'tcp', 'grpc'),
    path: rare(fc.constantFrom('/healthz', '/ready'), fc.constantFrom('', 'healthz', ' ')),
    port: portNumber,
    periodMs: H ? durationMs : fc.integer({ min: 1, max: 60 }).map(x => x * 1000),
    failureThreshold: intArb(1, 10),
  }, { requiredKeys: ['kind'] });


  const proxySpec: fc.Arbitrary<ProxySpec> = fc.record({
    concurrency: intArb(0, 8),
    logLevel: rare(fc.constantFrom('trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'), fc.constantFrom('', 'loud', 'CRITICAL')),
    holdApplicationUntilProxyStarts: fc.boolean(),
    includeInboundPorts: fc.array(portNumber, { maxLength: 2 }),
    excludeOutboundPorts: fc.array(portNumber, { maxLength: 2 }),
    excludeOutboundIpRanges: fc.array(rare(fc.constantFrom('10.0.0.0/8', '169.254.169.254/32', 'fd00::/8'), fc.constantFrom('10.0.0.0', '300.1.1.1/8', '', '*')), { maxLength: 2 }),
    proxyMetadata: stringMap(rare(fc.constantFrom('ISTIO_META_DNS_CAPTURE', 'MY_FLAG'), envKey)),
    annotations: H ? stringMap(fc.oneof(fc.constantFrom('proxy.istio.io/config', 'sidecar.istio.io/inject', 'example.com/x'), hostileString)) : fc.constant(undefined),
    resources: resourceSpec,
  }, { requiredKeys: [] });

  /** Valid mode: makes a service spec coherent (distinct versions, routes that the service accepts). */
  function coherent(s: ServiceSpec): ServiceSpec {
    const names = new Set([s.version ?? 'v1']);
    const subset = (v: string) => v.toLowerCase().replace(/[._]/g, '-');
    const subsets = new Set([subset(s.version ?? 'v1')]);
    const extraVersions = s.extraVersions.filter(v => {
      if (names.has(v.name) || subsets.has(subset(v.name))) return false;
      names.add(v.name);
      subsets.add(subset(v.name));
      return true;
    });
    const versionCount = 1 + extraVersions.length;
    const routeNames = new Set<string>();
    const routes = s.routes?.map((r, i, all) => {
      const last = i === all.length - 1;
      const name = r.name !== undefined && !routeNames.has(r.name) ? r.name : undefined;
      if (name) routeNames.add(name);
      const set = r.matches?.filter(m => Object.values(m).some(v => v !== undefined));
      const matches = last || set?.length ? set : [{ uriPrefix: '/api' }];
      const versions = [...new Set((r.destinations ?? []).map(d => d.version % versionCount))];
      const share = versions.length > 1 ? Math.floor(100 / versions.length) : undefined;
      const destinations = versions.map((version, k) => ({
        version,
        weight: share === undefined ? undefined : (k === 0 ? 100 - share * (versions.length - 1) : share),
      }));
      return { name, matches, destinations };
    });
    return { ...s, extraVersions, routes };
  }

  function serviceSpec(): fc.Arbitrary<ServiceSpec> {
    const h = rare;
    const hostile = H > 0;
    return fc.record({
      ns: fc.nat({ max: 3 }),
      name: hostile ? nameArb : fc.oneof(dnsLabel, commonName),
      image: hostile ? imageArb : fc.constant('app:1'),
      version: hostile ? versionName : fc.constantFrom('v1', 'v2'),
      replicas: hostile ? intArb(0, 5) : fc.integer({ min: 0, max: 3 }),
      ports: hostile
        ? fc.array(portSpec, { minLength: 0, maxLength: 3 })
        : distinctPorts.map(ps => (ps.some(p => p.protocol !== 'TCP') ? ps : [{ ...ps[0], protocol: 'HTTP' }, ...ps.slice(1)])),
      serviceAccountName: h(fc.oneof(dnsLabel, commonName), hostileString),
      env: stringMap(envKey),
      podLabels: stringMap(labelKey, labelValue),
      resources: resourceSpec,
      extraVersions: fc.array(versionSpec, { maxLength: 2 }),
      trafficPolicy: trafficPolicySpec,
      resilience: resilienceSpec,
      routes: fc.array(routeSpec, { minLength: 1, maxLength: 3 }),
      readinessProbe: probeSpec,
      security: fc.record({
        runAsUser: intArb(0, 70000),
        readOnlyRootFilesystem: fc.boolean(),
        allowRunAsRoot: fc.boolean(),
        addCapabilities: fc.array(rare(fc.constantFrom('NET_BIND_SERVICE'), fc.constantFrom('NET_ADMIN', 'SYS_ADMIN', 'bogus', '')), { maxLength: 2 }),
      }, { requiredKeys: [] }),
      proxy: proxySpec,
    }, { requiredKeys: ['ns', 'name', 'image', 'ports', 'extraVersions'] }).map(s => (H ? s : coherent(s)));
  }

  const edgeSpec: fc.Arbitrary<EdgeSpec> = fc.record({
    from: fc.nat({ max: 8 }),
    to: fc.nat({ max: 8 }),
    ports: fc.array(fc.nat({ max: H ? 3 : 0 }), { maxLength: H ? 2 : 1 }),
    methods: fc.array(fc.oneof({ arbitrary: fc.constantFrom('GET', 'POST', 'DELETE'), weight: 6 }, { arbitrary: fc.constantFrom('get', '', 'G E T'), weight: H }), { maxLength: 2 }),
    paths: fc.array(fc.oneof({ arbitrary: fc.constantFrom('/api', '/api/*', '*.png', '*', '/'), weight: 6 }, { arbitrary: fc.constantFrom('', 'api', '/a*b', '/a b'), weight: H }), { maxLength: 2 }),
  }, { requiredKeys: ['from', 'to'] })
    // valid mode: methods and paths only when the target has HTTP ports is a cross-object rule; leave them out
    .map(e => (H ? e : { from: e.from, to: e.to, ports: e.ports }));

  /** Raw workloads handed to `mesh.inject`. */
  const injectSpec: fc.Arbitrary<InjectSpec> = fc.record({
    kind: fc.oneof({ arbitrary: fc.constantFrom('Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod', 'plus-Deployment'), weight: 8 }, { arbitrary: fc.constantFrom('ConfigMap', 'Service'), weight: H }),
    ns: fc.nat({ max: 3 }),
    name: fc.oneof(dnsLabel, commonName),
    options: proxySpec,
    twice: rare(fc.constant<'same' | 'other'>('same'), fc.constant<'same' | 'other'>('other')),
  }, { requiredKeys: ['kind', 'ns', 'name', 'options'] });

  /** A whole mesh: settings, namespaces, services, the access graph, injected raw workloads. */

  /**
   * Renames services that share a namespace and name (`-2`, `-3`...): the library does not reject such duplicates
   * yet (see test/properties/known-issues.test.ts), so the other properties keep them out.
   */
  function distinctServices(g: GraphSpec): GraphSpec {
    const seen = new Set<string>();
    const services = g.services.map((svc, i) => {
      const ns = g.namespaces[svc.ns % g.namespaces.length];
      let name = svc.name;
      if (seen.has(`${ns}/${name}`)) name = `${name}-${i + 1}`;
      seen.add(`${ns}/${name}`);
      return name === svc.name ? svc : { ...svc, name };
    });
    return { ...g, services };
  }

  /** A mesh with hostile inputs everywhere. */
  function graphSpec(options: { maxServices?: number } = {}): fc.Arbitrary<GraphSpec> {
    const hostile = H > 0;
    return fc.record({
      mesh: meshSpec(),
      controlPlane: fc.boolean(),
      namespaces: fc.array(hostile ? nameArb : fc.oneof(dnsLabel, commonName), { minLength: 1, maxLength: 3 }),
      services: fc.array(serviceSpec(), { minLength: 1, maxLength: options.maxServices ?? 6 }),
      edges: fc.array(edgeSpec, { maxLength: 10 }),
      injects: fc.array(injectSpec, { maxLength: 2 }),
    }).map(distinctServices);
  }

  /**
   * A valid access graph (distinct services, edges among them, cycles and self-loops allowed): the input of the
   * zero-trust properties.
   */
  const validGraphSpec: fc.Arbitrary<ValidGraphSpec> = fc.record({
    namespaces: fc.uniqueArray(dnsLabel, { minLength: 1, maxLength: 3 }),
    services: fc.uniqueArray(fc.record({
      ns: fc.nat({ max: 2 }),
      name: fc.oneof(dnsLabel, commonName),
      ports: distinctPorts,
    }), { minLength: 1, maxLength: 8, selector: s => `${s.ns}/${s.name}` }),
    edges: fc.array(fc.record({ from: fc.nat({ max: 7 }), to: fc.nat({ max: 7 }), ports: fc.array(fc.nat({ max: 1 }), { maxLength: 1 }) }, { requiredKeys: ['from', 'to'] }), { maxLength: 16 }),
  });

  return {
    hostileString,
    dnsLabel,
    commonName,
    nameArb,
    hostileNumber,
    intArb,
    portNumber,
    durationMs,
    quantity,
    stringMap,
    labelKey,
    labelValue,
    envKey,
    resourceSpec,
    meshSpec,
    keySpec,
    certificatesSpec,
    controlPlaneSpec,
    distinctPorts,
    portSpec,
    trafficPolicySpec,
    resilienceSpec,
    routeSpec,
    versionName,
    imageArb,
    versionSpec,
    probeSpec,
    proxySpec,
    serviceSpec,
    edgeSpec,
    injectSpec,
    graphSpec,
    validGraphSpec,
    rare,
  };
}

/** Hostile generators (H = 1). */
export const HOSTILE = arbitraries(1);
/** Well-formed generators (H = 0). */
export const VALID = arbitraries(0);
export const { hostileString, hostileNumber, dnsLabel, commonName } = HOSTILE;
