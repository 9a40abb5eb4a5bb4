import { DefaultProviderKind, IstioControlPlane } from '../control-plane/istio-control-plane';
import { invalid } from '../errors';
import { IMesh } from '../mesh/mesh';
import { MeshModel } from '../model/mesh-model';
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
   * The collector's host, `[<namespace>/]<hostname>`, e.g. `otel-collector.observability.svc.cluster.local`.
   */
  readonly service: string;
  /** The collector's port (e.g. 4317 for OTLP/gRPC, 9411 for Zipkin). */
  readonly port: number;
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
  /** The collector's host, `[<namespace>/]<hostname>`. */
  readonly service: string;
  /** The collector's OTLP/gRPC port (usually 4317). */
  readonly port: number;
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
    const o = checkTracing(controlPlane, 'openTelemetry', options);
    return declare(controlPlane, options, DefaultProviderKind.TRACING, { opentelemetry: o });
  }

  /** Declares a Zipkin tracing provider on the control plane. */
  public static zipkin(controlPlane: IstioControlPlane, options: ZipkinProviderOptions): TelemetryProvider {
    const o = checkTracing(controlPlane, 'zipkin', options);
    return declare(controlPlane, options, DefaultProviderKind.TRACING, { zipkin: o });
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
    checkService(controlPlane, `openTelemetryAccessLog('${options.name}')`, options.service, options.port);
    const config: { [key: string]: any } = { service: options.service, port: options.port };
    if (options.logName !== undefined) {
      if (typeof options.logName !== 'string' || options.logName === '') invalid(controlPlane, `openTelemetryAccessLog('${options.name}').logName`, options.logName, 'must be a non-empty string');
      config.logName = options.logName;
    }
    if (options.format) config.logFormat = options.format._render();
    return declare(controlPlane, options, DefaultProviderKind.ACCESS_LOGGING, { envoyOtelAls: config });
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

function checkService(scope: IstioControlPlane, field: string, service: string, port: number) {
  if (typeof service !== 'string') invalid(scope, `${field}.service`, service, 'must be a host name');
  const slash = service.indexOf('/');
  if (slash >= 0) checkDnsLabel(scope, `${field}.service namespace`, service.slice(0, slash));
  checkDnsSubdomain(scope, `${field}.service`, slash >= 0 ? service.slice(slash + 1) : service);
  checkPort(scope, `${field}.port`, port);
}

function checkTracing(scope: IstioControlPlane, kind: string, o: TracingProviderOptions): { [key: string]: any } {
  const field = `${kind}('${o?.name}')`;
  checkService(scope, field, o.service, o.port);
  checkInteger(scope, `${field}.maxTagLength`, o.maxTagLength, 1, 65535);
  const out: { [key: string]: any } = { service: o.service, port: o.port };
  if (o.maxTagLength !== undefined) out.maxTagLength = o.maxTagLength;
  return out;
}

function declare(cp: IstioControlPlane, o: TelemetryProviderOptions, kind: DefaultProviderKind, config: { [key: string]: any }): TelemetryProvider {
  if (!(cp instanceof IstioControlPlane)) invalid('TelemetryProvider', 'controlPlane', cp, 'must be the IstioControlPlane whose mesh config declares the provider');
  checkName(cp, o.name);
  if (o.name === BUILTIN_PROVIDER_PROMETHEUS || o.name === BUILTIN_PROVIDER_ENVOY) {
    invalid(cp, 'provider name', o.name, "must not be a built-in provider's name (use TelemetryProvider.prometheus() / envoy())");
  }
  cp.addExtensionProvider(o.name, config);
  if (o.meshDefault) cp.addDefaultProvider(kind, o.name);
  const endpoint = Object.values(config)[0];
  if (endpoint && typeof endpoint.service === 'string') {
    // the fact: every proxy of the mesh sends to this collector (Sidecar scope and NetworkPolicy egress must allow it)
    MeshModel.of(cp).declareCollector({
      provider: o.name, ...collectorHost(endpoint.service, cp.mesh.clusterDomain), port: endpoint.port, rootNamespace: cp.mesh.rootNamespace,
    });
  }
  return TelemetryProvider._create(o.name, kind, cp.mesh);
}

/**
 * A provider's `[<namespace>/]<hostname>` as the registry knows it: the fully qualified Service host
 * (`<svc>.<ns>.svc.<domain>`) and its namespace when the name says it.
 */
function collectorHost(service: string, clusterDomain: string): { host: string; namespace?: string } {
  const slash = service.indexOf('/');
  const prefix = slash >= 0 ? service.slice(0, slash) : undefined;
  const name = slash >= 0 ? service.slice(slash + 1) : service;
  const labels = name.split('.');
  if (labels.length >= 3 && labels[2] === 'svc') return { host: labels.length === 3 ? `${name}.${clusterDomain}` : name, namespace: prefix ?? labels[1] };
  if (labels.length === 2) return { host: `${name}.svc.${clusterDomain}`, namespace: prefix ?? labels[1] };
  if (labels.length === 1 && prefix) return { host: `${name}.${prefix}.svc.${clusterDomain}`, namespace: prefix };
  return { host: name, namespace: prefix };
}
