import { ApiObject, Lazy } from 'cdk8s';
import { DefaultProviderKind, IstioControlPlane } from '../control-plane/istio-control-plane';
import { invalid } from '../errors';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { IMesh } from '../mesh/mesh';
import { CollectorEndpoint, EgressRoute, MeshModel } from '../model/mesh-model';
import { collectorClashMessage, collectorDestinationClash, externalAddressProblem, externalHostProblem } from '../security/external-host';
import { externalObjectName, renderCollectorServiceEntry } from '../security/policy-renderers';
import { checkDnsLabel, checkDnsSubdomain, checkInteger, checkPort, sortKeys } from '../validation';
import { BUILTIN_PROVIDER_ENVOY, BUILTIN_PROVIDER_PROMETHEUS } from './constants';

/** The line format of an Envoy access log provider. */
export class AccessLogFormat {
  /**
   * A text line with Envoy command operators, e.g. `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%" %RESPONSE_CODE%\n`.
   */
  public static text(format: string): AccessLogFormat {
    if (typeof format !== 'string' || format.trim() === '') invalid('AccessLogFormat', 'text', format, 'must be a non-empty Envoy format string');
    return new AccessLogFormat({ text: format });
  }

  /**
   * One JSON object per line: field name to Envoy command operator, e.g.
   * `{ start_time: '%START_TIME%', status: '%RESPONSE_CODE%', path: '%REQ(:PATH)%' }`.
   */
  public static json(fields: { [name: string]: string }): AccessLogFormat {
    const names = Object.keys(fields ?? {});
    if (names.length === 0) invalid('AccessLogFormat', 'json', fields, 'must name at least one field');
    for (const n of names) {
      if (n === '' || typeof fields[n] !== 'string' || fields[n] === '') {
        invalid('AccessLogFormat', `json['${n}']`, fields[n], 'must be a non-empty field name with a non-empty Envoy command operator');
      }
    }
    return new AccessLogFormat({ labels: sortKeys({ ...fields }) });
  }

  private constructor(private readonly rendered: { [key: string]: any }) {}

  /** @internal */
  public _render(): { [key: string]: any } {
    return this.rendered;
  }
}

/** Common options of every extension provider. */
export interface TelemetryProviderOptions {
  /** The provider's name in the mesh config, referenced by Telemetry resources (letters, digits, '-', '_', '.'). */
  readonly name: string;
  /**
   * Also make it a mesh-wide default provider of its kind (meshConfig.defaultProviders), so that Telemetry resources
   * that name no provider use it.
   * @default false
   */
  readonly meshDefault?: boolean;
}

/** A tracing backend reached at a host and port. */
export interface TracingProviderOptions extends TelemetryProviderOptions {
  /**
   * The collector's host. In the cluster: its Service, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.<cluster domain>` (e.g.
   * `otel-collector.observability.svc.cluster.local`) or `<namespace>/<svc>`, written into the mesh config as
   * `<ns>/<svc>.<ns>.svc.<cluster domain>` (istiod looks the service up by that exact registry host, in that
   * namespace; a `<namespace>/` prefix must name the host's own namespace). Outside the cluster: its DNS name
   * (`otel.example.com`, `api.honeycomb.io`; a two-label name such as `honeycomb.io` needs `external: true`), for
   * which the control plane declares a ServiceEntry in the mesh root namespace. A two-label `<svc>.<ns>` is refused
   * as ambiguous.
   */
  readonly service: string;
  /** The collector's port (e.g. 4317 for OTLP/gRPC, 9411 for Zipkin). */
  readonly port: number;
  /**
   * Whether the collector is outside the cluster: `true` for a host such as `honeycomb.io`, which could otherwise be
   * read as `<svc>.<ns>`; `false` insists on an in-cluster Service host.
   * @default - decided by the host: `.svc` and `.svc.<cluster domain>` hosts and `<namespace>/<svc>` are in the
   * cluster, other DNS names of three labels or more outside it, two labels are refused as ambiguous
   */
  readonly external?: boolean;
  /**
   * Whether the proxies speak TLS to a collector outside the cluster (TLS origination, as `ExternalService.http`'s
   * `originateTls`).
   *
   * Envoy's tracer and OpenTelemetry access log clients send plain text (gRPC over HTTP/2, or HTTP), so a collector
   * that only accepts TLS, such as a SaaS OTLP endpoint on 443, needs the proxy to wrap it. The
   * control plane then declares a DestinationRule for the host in the mesh root namespace, exported to every
   * namespace, with tls mode SIMPLE on the port, SNI and the verified name `<host>` and the proxy's system CA
   * certificates. `false` sends plain text even on 443. Only for a collector outside the cluster: the proxies reach
   * an in-cluster collector with Istio mTLS, which a DestinationRule's TLS would replace.
   * @default - true for a collector outside the cluster on port 443, else false
   */
  readonly originateTls?: boolean;
  /**
   * The addresses of a collector outside the cluster (IPs or CIDR blocks, e.g. `['203.0.113.0/24', '2001:db8::/48']`),
   * as `ExternalService.tcp`'s: each ZeroTrustNamespace's `allow-telemetry` NetworkPolicy lets its pods out on the
   * collector's port to these addresses only. That rule selects every pod of the namespace (the proxy runs in the
   * pod), so whatever it allows, an application that bypasses its proxy may use too.
   *
   * Checked as external addresses: not every address, nothing broader than a /8 (IPv6 /32), not loopback,
   * link-local (cloud metadata), unspecified or multicast, CIDR blocks written canonically. The collectors of one host
   * give the same addresses. Not for an in-cluster collector (its namespace is admitted).
   * @default - required for a collector outside the cluster, unless `allowAnyAddress`
   */
  readonly addresses?: string[];
  /**
   * The named opt-out of `addresses` for a collector outside the cluster whose addresses are not known (a SaaS
   * endpoint behind a CDN): `allow-telemetry` then allows its port to every address (`0.0.0.0/0`, `::/0`), for
   * every pod of every ZeroTrustNamespace, not only for the proxies; only the proxy's REGISTRY_ONLY policy holds
   * traffic to the collector's host. Refused in a mesh whose external traffic leaves through an `EgressGateway`
   * (that rule would bypass the gateway): give `addresses` there.
   * @default false
   */
  readonly allowAnyAddress?: boolean;
  /**
   * The maximum length of a span tag value.
   * @default 256 (Istio's default)
   */
  readonly maxTagLength?: number;
}

/** An OpenTelemetry (OTLP) tracing collector. */
export interface OpenTelemetryProviderOptions extends TracingProviderOptions {}

/** A Zipkin-compatible tracing collector (Zipkin, Jaeger's Zipkin endpoint). */
export interface ZipkinProviderOptions extends TracingProviderOptions {}

/** Envoy's file access log. */
export interface FileAccessLogProviderOptions extends TelemetryProviderOptions {
  /**
   * Where the proxy writes the log.
   * @default '/dev/stdout'
   */
  readonly path?: string;
  /**
   * The line format.
   * @default - Istio's default text format
   */
  readonly format?: AccessLogFormat;
}

/** Access logs sent to an OpenTelemetry collector (Envoy's OpenTelemetry access log service). */
export interface OpenTelemetryAccessLogProviderOptions extends TelemetryProviderOptions {
  /** The collector's host, in the cluster or outside it, as for tracing providers (`TracingProviderOptions.service`). */
  readonly service: string;
  /** The collector's OTLP/gRPC port (usually 4317). */
  readonly port: number;
  /**
   * Whether the collector is outside the cluster (`TracingProviderOptions.external`).
   * @default - decided by the host
   */
  readonly external?: boolean;
  /**
   * Whether the proxies speak TLS to a collector outside the cluster (`TracingProviderOptions.originateTls`).
   * @default - true for a collector outside the cluster on port 443, else false
   */
  readonly originateTls?: boolean;
  /**
   * The addresses of a collector outside the cluster (`TracingProviderOptions.addresses`).
   * @default - required for a collector outside the cluster, unless `allowAnyAddress`
   */
  readonly addresses?: string[];
  /**
   * Allow the collector's port to every address (`TracingProviderOptions.allowAnyAddress`).
   * @default false
   */
  readonly allowAnyAddress?: boolean;
  /**
   * The log name Envoy reports.
   * @default - Istio's default (`otel_envoy_accesslog`)
   */
  readonly logName?: string;
  /**
   * The log body format.
   * @default - Istio's default text format
   */
  readonly format?: AccessLogFormat;
}

/**
 * A telemetry backend (an entry of the mesh config's `extensionProviders`), as Telemetry resources refer to it.
 *
 * Providers are declared once, on the control plane that renders the mesh config: each factory takes the
 * `IstioControlPlane` and registers the provider there (`addExtensionProvider`). A `MeshTelemetry` accepts only these
 * objects, so a Telemetry cannot name a provider the mesh does not know (IST0157). Istio's built-in providers are
 * `TelemetryProvider.prometheus()` and `TelemetryProvider.envoy()`; a provider declared by another repository's
 * control plane is referred to, explicitly and unchecked, with `TelemetryProvider.declaredElsewhere`.
 */
export class TelemetryProvider {
  /** Declares an OpenTelemetry (OTLP/gRPC) tracing provider on the control plane. */
  public static openTelemetry(controlPlane: IstioControlPlane, options: OpenTelemetryProviderOptions): TelemetryProvider {
    const { config, collector } = checkTracing(controlPlane, 'openTelemetry', options, 'GRPC');
    return declare(controlPlane, options, DefaultProviderKind.TRACING, { opentelemetry: config }, collector);
  }

  /** Declares a Zipkin tracing provider on the control plane. */
  public static zipkin(controlPlane: IstioControlPlane, options: ZipkinProviderOptions): TelemetryProvider {
    const { config, collector } = checkTracing(controlPlane, 'zipkin', options, 'HTTP');
    return declare(controlPlane, options, DefaultProviderKind.TRACING, { zipkin: config }, collector);
  }

  /** Declares an Envoy file access log provider (text or JSON lines) on the control plane. */
  public static envoyFileAccessLog(controlPlane: IstioControlPlane, options: FileAccessLogProviderOptions): TelemetryProvider {
    const path = options.path ?? '/dev/stdout';
    if (typeof path !== 'string' || !path.startsWith('/')) {
      invalid(controlPlane, `envoyFileAccessLog('${options.name}').path`, path, 'must be an absolute file path, e.g. /dev/stdout');
    }
    const config: { [key: string]: any } = { path };
    if (options.format) config.logFormat = options.format._render();
    return declare(controlPlane, options, DefaultProviderKind.ACCESS_LOGGING, { envoyFileAccessLog: config });
  }

  /** Declares an access log provider that sends to an OpenTelemetry collector on the control plane. */
  public static openTelemetryAccessLog(controlPlane: IstioControlPlane, options: OpenTelemetryAccessLogProviderOptions): TelemetryProvider {
    const collector = checkService(controlPlane, `openTelemetryAccessLog('${options.name}')`, options, 'GRPC');
    const config: { [key: string]: any } = { service: collector.service, port: options.port };
    if (options.logName !== undefined) {
      if (typeof options.logName !== 'string' || options.logName === '') invalid(controlPlane, `openTelemetryAccessLog('${options.name}').logName`, options.logName, 'must be a non-empty string');
      config.logName = options.logName;
    }
    if (options.format) config.logFormat = options.format._render();
    return declare(controlPlane, options, DefaultProviderKind.ACCESS_LOGGING, { envoyOtelAls: config }, collector);
  }

  /** Istio's built-in Prometheus metrics provider (`prometheus`, the default metrics provider). */
  public static prometheus(): TelemetryProvider {
    return new TelemetryProvider(BUILTIN_PROVIDER_PROMETHEUS, DefaultProviderKind.METRICS, undefined, false);
  }

  /** Istio's built-in access log provider (`envoy`: Envoy's file access log on /dev/stdout, Istio's text format). */
  public static envoy(): TelemetryProvider {
    return new TelemetryProvider(BUILTIN_PROVIDER_ENVOY, DefaultProviderKind.ACCESS_LOGGING, undefined, false);
  }

  /**
   * Refers to a provider that a control plane outside this app declares (another repository's mesh config). This
   * is the explicit opt-out of the declared-provider check: the name is not verified here.
   */
  public static declaredElsewhere(mesh: IMesh, name: string, kind: DefaultProviderKind): TelemetryProvider {
    checkName('TelemetryProvider.declaredElsewhere', name);
    if (!Object.values(DefaultProviderKind).includes(kind)) {
      invalid('TelemetryProvider.declaredElsewhere', 'kind', kind, `must be one of ${Object.values(DefaultProviderKind).join(', ')}`);
    }
    return new TelemetryProvider(name, kind, mesh, false);
  }

  /** @internal */
  public static _create(name: string, kind: DefaultProviderKind, mesh: IMesh): TelemetryProvider {
    return new TelemetryProvider(name, kind, mesh, true);
  }

  /** The provider's name, as Telemetry resources reference it. */
  public readonly name: string;
  /** What the provider receives: metrics, traces or access logs. */
  public readonly kind: DefaultProviderKind;
  /** The mesh whose config declares it (undefined for Istio's built-in providers, which every mesh has). */
  public readonly mesh?: IMesh;
  /** Whether the provider is declared on a control plane of this app (false for built-ins and `declaredElsewhere`). */
  public readonly declaredHere: boolean;

  private constructor(name: string, kind: DefaultProviderKind, mesh: IMesh | undefined, declaredHere: boolean) {
    this.name = name;
    this.kind = kind;
    this.mesh = mesh;
    this.declaredHere = declaredHere;
  }

}

function checkName(scope: any, name: string) {
  if (typeof name !== 'string' || !/^[a-zA-Z0-9][-a-zA-Z0-9_.]*$/.test(name) || name.length > 253) {
    invalid(scope, 'provider name', name, "must be a provider name: letters, digits, '-', '_' and '.'");
  }
}

/** A provider's collector: where the proxies send (the model's fact) and the mesh config's `service`. */
interface Collector {
  /** The `service` of the mesh config, from the host (`meshConfigService`). */
  readonly service: string;
  /** The fully qualified host: `<svc>.<ns>.svc.<cluster domain>` in the cluster, the DNS name outside it. */
  readonly host: string;
  /** The namespace of its registry entry: the Service's in the cluster, the root namespace (its ServiceEntry) outside. */
  readonly namespace: string;
  readonly port: number;
  readonly external: boolean;
  /** The ServiceEntry port protocol of the provider (OTLP/gRPC: GRPC, Zipkin: HTTP). */
  readonly protocol: string;
  /** Whether the proxies originate TLS to it (a collector outside the cluster only). */
  readonly originateTls: boolean;
  /** The addresses of a collector outside the cluster (sorted, unique); empty with allowAnyAddress or in the cluster. */
  readonly addresses: string[];
  /** Whether a collector outside the cluster may be reached at every address (the named opt-out of addresses). */
  readonly allowAnyAddress: boolean;
  /** The factory and provider, for messages: `openTelemetry('otel')`. */
  readonly field: string;
}

function checkService(scope: IstioControlPlane, field: string,
  o: { service: string; port: number; external?: boolean; originateTls?: boolean; addresses?: string[]; allowAnyAddress?: boolean },
  protocol: string): Collector {
  checkControlPlane(scope);
  const service = o.service;
  if (typeof service !== 'string') invalid(scope, `${field}.service`, service, 'must be a host name');
  const slash = service.indexOf('/');
  if (slash >= 0) checkDnsLabel(scope, `${field}.service namespace`, service.slice(0, slash));
  checkDnsSubdomain(scope, `${field}.service`, slash >= 0 ? service.slice(slash + 1) : service);
  checkPort(scope, `${field}.port`, o.port);
  if (o.external !== undefined && typeof o.external !== 'boolean') invalid(scope, `${field}.external`, o.external, 'must be true or false');
  if (o.originateTls !== undefined && typeof o.originateTls !== 'boolean') invalid(scope, `${field}.originateTls`, o.originateTls, 'must be true or false');
  const where = collectorHost(scope, `${field}.service`, service, o.external);
  if (o.originateTls && !where.external) {
    invalid(scope, `${field}.originateTls`, o.originateTls,
      `is only for a collector outside the cluster: the proxies reach the in-cluster collector '${where.host}' with Istio mTLS, which a DestinationRule's TLS would replace (its sidecar, under STRICT mTLS, would refuse the connection); omit originateTls, or give the collector's host outside the cluster`);
  }
  // a collector outside the cluster on 443 speaks TLS unless told otherwise (SaaS OTLP endpoints accept nothing else)
  const originateTls = where.external && (o.originateTls ?? o.port === 443);
  const { addresses, allowAnyAddress } = checkAddresses(scope, field, o, where);
  const configService = meshConfigService(where);
  return { ...where, service: configService, port: o.port, protocol, originateTls, addresses, allowAnyAddress, field };
}

/**
 * Where a collector outside the cluster may be reached, for the NetworkPolicy (which cannot name a host): its
 * `addresses`, checked as `ExternalService`'s, or every address when `allowAnyAddress` says so; one of the two is
 * required. An in-cluster collector takes neither (the NetworkPolicy admits its namespace).
 */
function checkAddresses(scope: IstioControlPlane, field: string, o: { port: number; addresses?: string[]; allowAnyAddress?: boolean },
  where: { host: string; namespace?: string; external: boolean }): { addresses: string[]; allowAnyAddress: boolean } {
  if (o.allowAnyAddress !== undefined && typeof o.allowAnyAddress !== 'boolean') {
    invalid(scope, `${field}.allowAnyAddress`, o.allowAnyAddress, 'must be true or false');
  }
  if (o.addresses !== undefined && !Array.isArray(o.addresses)) {
    invalid(scope, `${field}.addresses`, o.addresses, 'must be a list of IP addresses or CIDR blocks');
  }
  if (!where.external) {
    const inCluster = `is only for a collector outside the cluster: each ZeroTrustNamespace admits the in-cluster collector's namespace '${where.namespace}' on its port`;
    if (o.addresses !== undefined) invalid(scope, `${field}.addresses`, o.addresses, inCluster);
    if (o.allowAnyAddress) invalid(scope, `${field}.allowAnyAddress`, o.allowAnyAddress, inCluster);
    return { addresses: [], allowAnyAddress: false };
  }
  const any = o.allowAnyAddress === true;
  const list = o.addresses ?? [];
  if (any && o.addresses !== undefined) {
    invalid(scope, `${field}.allowAnyAddress`, true, `must not be set with addresses (${list.join(', ')}): the addresses already say where ${where.host} is`);
  }
  if (!any && list.length === 0) {
    invalid(scope, `${field}.addresses`, o.addresses,
      `must list the addresses of ${where.host} (IPs or CIDR blocks, e.g. '203.0.113.0/24'): a NetworkPolicy cannot name a host, and each ZeroTrustNamespace's allow-telemetry lets every pod, not only its proxy, out on port ${o.port} to them; or set allowAnyAddress: true to allow port ${o.port} to every address (0.0.0.0/0, ::/0)`);
  }
  for (const a of list) {
    const problem = externalAddressProblem(a, 'set allowAnyAddress: true instead');
    if (problem) invalid(scope, `${field}.addresses`, a, problem);
  }
  return { addresses: [...new Set(list)].sort(), allowAnyAddress: any };
}

function checkTracing(scope: IstioControlPlane, kind: string, o: TracingProviderOptions,
  protocol: string): { config: { [key: string]: any }; collector: Collector } {
  const field = `${kind}('${o?.name}')`;
  const collector = checkService(scope, field, o, protocol);
  checkInteger(scope, `${field}.maxTagLength`, o.maxTagLength, 1, 65535);
  const config: { [key: string]: any } = { service: collector.service, port: o.port };
  if (o.maxTagLength !== undefined) config.maxTagLength = o.maxTagLength;
  return { config, collector };
}

function checkControlPlane(cp: IstioControlPlane) {
  if (!(cp instanceof IstioControlPlane)) invalid('TelemetryProvider', 'controlPlane', cp, 'must be the IstioControlPlane whose mesh config declares the provider');
}

function declare(cp: IstioControlPlane, o: TelemetryProviderOptions, kind: DefaultProviderKind, config: { [key: string]: any },
  collector?: Collector): TelemetryProvider {
  checkControlPlane(cp);
  checkName(cp, o.name);
  if (o.name === BUILTIN_PROVIDER_PROMETHEUS || o.name === BUILTIN_PROVIDER_ENVOY) {
    invalid(cp, 'provider name', o.name, "must not be a built-in provider's name (use TelemetryProvider.prometheus() / envoy())");
  }
  const model = MeshModel.of(cp);
  const root = cp.mesh.rootNamespace;
  if (collector?.external) {
    // one ServiceEntry per host: one protocol per port
    const sameHostPort = model.collectorsOf(root).filter(c => c.external && c.host === collector.host && c.port === collector.port);
    const clash = sameHostPort.find(c => c.protocol !== collector.protocol);
    if (clash) {
      invalid(cp, `${collector.field}.port`, collector.port,
        `is used by provider '${clash.provider}' of ${collector.host} with protocol ${clash.protocol}, not ${collector.protocol}: one protocol per host and port (IST0177)`);
    }
    // one DestinationRule per host: one TLS setting per port
    const tlsClash = sameHostPort.find(c => !!c.originateTls !== collector.originateTls);
    if (tlsClash) {
      invalid(cp, `${collector.field}.originateTls`, collector.originateTls,
        `provider '${tlsClash.provider}' sends ${collector.host}:${collector.port} ${tlsClash.originateTls ? 'TLS' : 'plain text'}: one TLS setting per host and port; set originateTls: ${!!tlsClash.originateTls}`);
    }
    // one set of addresses per host: the NetworkPolicy would open one collector's port to the other's addresses
    const sameHost = model.collectorsOf(root).filter(c => c.external && c.host === collector.host);
    const where = (c: { addresses?: readonly string[]; allowAnyAddress?: boolean }) =>
      (c.allowAnyAddress ? 'every address (allowAnyAddress)' : `the addresses ${(c.addresses ?? []).join(', ')}`);
    const addressClash = sameHost.find(c => where(collectorAddresses(c)) !== where(collector));
    if (addressClash) {
      invalid(cp, `${collector.field}.${collector.allowAnyAddress ? 'allowAnyAddress' : 'addresses'}`, collector.allowAnyAddress ? true : collector.addresses,
        `provider '${addressClash.provider}' reaches ${collector.host} at ${where(collectorAddresses(addressClash))}: the collectors of one host give the same addresses`);
    }
    // the mesh's egress gateways: telemetry does not go through them, and must not open a way around them
    const watch = watchEgressGateways(cp, model);
    for (const route of watch.routes) {
      const problem = collectorEgressClash({ ...collector, provider: o.name }, route);
      if (problem) invalid(cp, `${collector.field}.${problem.field}`, problem.field === 'service' ? collector.host : true, problem.message);
    }
    // and the workloads' external destinations on that host (connectsToExternal) must agree with it
    for (const { source, external } of model.externalDestinations()) {
      if (source.mesh.rootNamespace !== root) continue;
      const c = { ...collector, provider: o.name };
      const problem = collectorDestinationClash(c, external);
      if (problem) {
        invalid(cp, `${collector.field}.${problem === 'protocol' ? 'port' : 'originateTls'}`, problem === 'protocol' ? collector.port : collector.originateTls,
          collectorClashMessage(problem, c, { ...external, caller: source.node.path }));
      }
    }
  }
  cp.addExtensionProvider(o.name, config);
  if (o.meshDefault) cp.addDefaultProvider(kind, o.name);
  if (collector) {
    // the fact: every proxy of the mesh sends to this collector (Sidecar scope and NetworkPolicy egress must allow it)
    model.declareCollector({
      provider: o.name,
      host: collector.host,
      namespace: collector.namespace,
      port: collector.port,
      rootNamespace: root,
      external: collector.external || undefined,
      protocol: collector.protocol,
      originateTls: collector.originateTls || undefined,
      addresses: collector.external && collector.addresses.length ? collector.addresses : undefined,
      allowAnyAddress: collector.allowAnyAddress || undefined,
    });
    if (collector.external) ensureCollectorObject(cp, model, collector.host, 'ServiceEntry');
    if (collector.originateTls) ensureCollectorObject(cp, model, collector.host, 'DestinationRule');
  }
  return TelemetryProvider._create(o.name, kind, cp.mesh);
}

/** The egress routes of a control plane's mesh, as its collectors see them (one subscription per control plane). */
interface EgressWatch {
  readonly routes: EgressRoute[];
}

const EGRESS_WATCH = Symbol('cdk8s-mesh.collectorEgressWatch');

/**
 * Subscribes once per control plane to the egress routes of its mesh (an `EgressGateway` carrying external hosts):
 * a route declared after a collector it clashes with is refused there, naming the gateway; the routes declared so
 * far are kept for the collectors declared later.
 */
function watchEgressGateways(cp: IstioControlPlane, model: MeshModel): EgressWatch {
  const holder = cp as unknown as { [EGRESS_WATCH]?: EgressWatch };
  const existing = holder[EGRESS_WATCH];
  if (existing) return existing;
  const watch: EgressWatch = { routes: [] };
  holder[EGRESS_WATCH] = watch;
  const root = cp.mesh.rootNamespace;
  model.subscribe(fact => {
    if (fact.type !== 'egress-route' || fact.route.gateway.mesh.rootNamespace !== root) return;
    const route = fact.route;
    for (const c of model.collectorsOf(root)) {
      if (!c.external) continue;
      const problem = collectorEgressClash({ ...c, ...collectorAddresses(c) }, route);
      if (problem) {
        const gw = route.gateway;
        invalid(gw, 'addExternalService', `${route.external.host}:${route.external.port}`, problem.gatewayMessage);
      }
    }
    watch.routes.push(route);
  });
  return watch;
}

/**
 * Why a collector outside the cluster and an egress gateway's route cannot both be declared, if they cannot:
 *
 * - the gateway carries the collector's host: the proxies send spans and logs straight to the collector's
 *   ServiceEntry (Istio 1.30.3 telemetry_logging.go LookupCluster), never through the gateway, and the gateway's
 *   VirtualService for the host would meet the collector's traffic;
 * - `allowAnyAddress`: every pod of every ZeroTrustNamespace could reach any address on the collector's port,
 *   past the gateway that is the mesh's exit.
 *
 * A collector with `addresses` is reached at those addresses only, beside the gateway.
 */
function collectorEgressClash(c: { provider: string; host: string; port: number; allowAnyAddress?: boolean }, route: EgressRoute):
  { field: 'service' | 'allowAnyAddress'; message: string; gatewayMessage: string } | undefined {
  const gw = route.gateway.node.path;
  const exit = `${route.external.host}:${route.external.port}`;
  const how = 'send telemetry to an in-cluster collector (an OpenTelemetry Collector) that exports through the egress gateway';
  if (route.external.host === c.host) {
    return {
      field: 'service',
      message: `is carried by egress gateway '${gw}' (${exit}), and telemetry does not go through an egress gateway: the proxies send spans and logs straight to the collector; ${how}, or give the collector a host the gateway does not carry`,
      gatewayMessage: `is the host of telemetry provider '${c.provider}', whose spans and logs the proxies send straight to ${c.host}:${c.port}, not through an egress gateway; ${how}, or keep ${c.host} off the gateway`,
    };
  }
  if (c.allowAnyAddress) {
    return {
      field: 'allowAnyAddress',
      message: `would let every pod of every ZeroTrustNamespace reach any address on port ${c.port}, bypassing egress gateway '${gw}', the mesh's exit (${exit}); list the collector's addresses, or ${how}`,
      gatewayMessage: `makes egress gateway '${gw}' the mesh's exit, but telemetry provider '${c.provider}' allows port ${c.port} to every address (allowAnyAddress), which bypasses it; give the provider its collector's addresses, or ${how}`,
    };
  }
  return undefined;
}

/** A collector fact's addresses. */
function collectorAddresses(c: CollectorEndpoint): { addresses?: readonly string[]; allowAnyAddress?: boolean } {
  return { addresses: c.addresses, allowAnyAddress: c.allowAnyAddress };
}

/**
 * One object of the collectors of a host outside the cluster, once per root namespace and host (two revisions of the
 * control plane in one root namespace share it), in the mesh root namespace, its spec rendered at synth from the
 * model: the ServiceEntry (MESH_EXTERNAL, exported to every namespace, as every proxy sends to it; its ports are the
 * collectors' of that host, like every external destination's) and, for TLS, the DestinationRule
 * (`renderCollectorDestinationRule`).
 */
function ensureCollectorObject(cp: IstioControlPlane, model: MeshModel, host: string, kind: 'ServiceEntry' | 'DestinationRule') {
  const id = kind === 'ServiceEntry' ? `collector-${host}` : `collector-tls-${host}`;
  const root = cp.mesh.rootNamespace;
  if (cp.node.tryFindChild(id) || !model.claimFirst(cp, `collector ${kind}`, `${root}/${host}`)) return;
  const render = kind === 'ServiceEntry' ? renderCollectorServiceEntry : renderCollectorDestinationRule;
  new ApiObject(cp, id, {
    apiVersion: 'networking.istio.io/v1',
    kind,
    metadata: { name: externalObjectName(host), namespace: root, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    spec: Lazy.any({ produce: () => render(model, root, host) }),
  });
}

/**
 * The spec of a TLS collector's DestinationRule: tls mode SIMPLE on each TLS port of the host's collectors, with
 * SNI and the verified subject alt name `<host>` (with an explicit SNI and no subjectAltNames Envoy would check the
 * chain but not the name: cluster_tls.go setAutoSniAndAutoSanValidation), and `caCertificates: system`, the proxy's
 * system CA bundle: what Istio 1.30.3 uses when the field is empty (cluster_tls.go constructUpstreamTLS,
 * `file-root:system`, served by the agent from the OS certificates), written out so that the verification is
 * explicit and `istioctl analyze` has nothing to report (IST0129).
 *
 * Istio 1.30.3 sends a provider's spans and logs through the outbound cluster of the provider's service and port
 * (pilot/pkg/model/telemetry_logging.go LookupCluster: `outbound|<port>||<host>`; the tracer's and the access log's
 * Envoy gRPC/HTTP service name that cluster), and that cluster carries the DestinationRule's TLS
 * (pilot/pkg/networking/core/cluster_tls.go). A proxy finds the rule in the root namespace when neither its own
 * namespace nor the ServiceEntry's has one for the host (pilot/pkg/model/push_context.go destinationRule); the
 * ServiceEntry is the root namespace's, and a workload's own DestinationRule for the host is refused
 * (`collectorDestinationClash`).
 */
function renderCollectorDestinationRule(model: MeshModel, root: string, host: string): any {
  const ports = [...new Set(model.collectorsOf(root).filter(c => c.external && c.host === host && c.originateTls).map(c => c.port))]
    .sort((a, b) => a - b);
  return {
    host,
    exportTo: ['*'],
    trafficPolicy: {
      portLevelSettings: ports.map(number => ({
        port: { number },
        tls: { mode: 'SIMPLE', sni: host, subjectAltNames: [host], caCertificates: 'system' },
      })),
    },
  };
}

/**
 * The mesh config's `service` of a collector, `<Namespace>/<Hostname>` with its fully qualified host: istiod looks it
 * up by exact registry host (Istio 1.30.3 pilot/pkg/model/telemetry_logging.go LookupCluster, called by
 * pilot/pkg/networking/core/tracing.go for tracing providers and by telemetry_logging.go for envoyOtelAls), so a
 * short form (`<ns>/<svc>`, `<svc>.<ns>.svc`) finds no cluster and the proxies silently export nothing.
 *
 * The `<Namespace>/` prefix selects the registry entry of that namespace (`HostnameAndNamespace[host][ns]`); without
 * it, LookupCluster fails as soon as a second namespace declares the same host ("found ... in multiple namespaces"),
 * e.g. a ServiceEntry some other tool or team writes for the collector's host. An in-cluster collector's entry is the
 * Kubernetes Service's, in the namespace its host names; an external collector's is the library's ServiceEntry in the
 * root namespace (a namespace's own ServiceEntry of the host, `connectsToExternal`, does not take over).
 */
function meshConfigService(c: { readonly host: string; readonly namespace: string }): string {
  return `${c.namespace}/${c.host}`;
}

/**
 * Where a provider's `[<namespace>/]<hostname>` is. In the cluster (`<svc>.<ns>.svc`, `<svc>.<ns>.svc.<domain>`,
 * `<ns>/<svc>`, a namespace prefix only naming the host's own): the fully qualified Service host and its namespace.
 * Outside it (a DNS name of three labels or more that is not a cluster name, or any external name with
 * `external: true`): the host, whose ServiceEntry is in the root namespace. A two-label `a.b` (a Service
 * `<svc>.<ns>`, or `honeycomb.io`?) and a lone `<svc>` are refused.
 */
function collectorHost(cp: IstioControlPlane, field: string, service: string,
  external: boolean | undefined): Omit<Collector, 'service' | 'port' | 'protocol' | 'originateTls' | 'addresses' | 'allowAnyAddress' | 'field'> {
  const domain = cp.mesh.clusterDomain;
  const root = cp.mesh.rootNamespace;
  const slash = service.indexOf('/');
  const prefix = slash >= 0 ? service.slice(0, slash) : undefined;
  const name = slash >= 0 ? service.slice(slash + 1) : service;
  const labels = name.split('.');
  const inCluster = (labels.length >= 3 && labels[2] === 'svc') || (labels.length === 1 && prefix !== undefined);
  const forms = `'<svc>.<ns>.svc' or '<svc>.<ns>.svc.${domain}'`;
  if (inCluster && external !== true) {
    if (labels.length > 3 && labels.slice(3).join('.') !== domain) {
      invalid(cp, field, service, `must end in '.svc.${domain}' (the mesh's cluster domain) for an in-cluster collector: Istio knows the Service by that name`);
    }
    const host = labels.length === 1 ? `${name}.${prefix}.svc.${domain}` : labels.length === 3 ? `${name}.${domain}` : name;
    if (labels.length > 1 && prefix !== undefined && prefix !== labels[1]) {
      invalid(cp, field, service, `names namespace '${prefix}' but the Service host '${host}' is in namespace '${labels[1]}'; write '${host}' or '${labels[1]}/${labels[0]}'`);
    }
    return { host, namespace: prefix ?? labels[1], external: false };
  }
  if (external === false) {
    invalid(cp, field, service, `is not an in-cluster Service host: write it as ${forms} or '<ns>/<svc>', or drop external: false for a host outside the cluster`);
  }
  if (labels.length <= 2 && external !== true) {
    invalid(cp, field, service, labels.length === 2
      ? `is ambiguous: a Service '<svc>.<ns>' or a host outside the cluster; write an in-cluster collector as ${forms}, or set external: true for a host outside the cluster`
      : `must name the collector's namespace: write an in-cluster collector as ${forms} or '<ns>/<svc>'`);
  }
  if (prefix !== undefined) {
    invalid(cp, field, service, `must not name a namespace for a collector outside the cluster: its ServiceEntry is declared in the mesh root namespace '${root}'; give the host alone`);
  }
  const problem = externalHostProblem(name, { tcp: false, originateTls: false });
  if (problem) invalid(cp, field, service, problem);
  return { host: name, namespace: root, external: true };
}
