import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { DefaultProviderKind } from '../control-plane/istio-control-plane';
import { invalid } from '../errors';
import { celProblem } from './cel';
import { TELEMETRY_API_VERSION } from './constants';
import { TelemetryProvider } from './telemetry-provider';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { IMesh } from '../mesh/mesh';
import { IMeshNamespace } from '../mesh/namespace';
import { MeshModel } from '../model/mesh-model';
import { IMeshWorkload } from '../service/workload';
import { checkDnsSubdomain, checkLabels, checkPercent, sortKeys } from '../validation';

/** Which traffic a telemetry setting applies to, relative to the workload's proxy (Telemetry `match.mode`). */
export enum TelemetryMode {
  /** Both directions. */
  CLIENT_AND_SERVER = 'CLIENT_AND_SERVER',
  /** Requests the workload sends (outbound). */
  CLIENT = 'CLIENT',
  /** Requests the workload receives (inbound). */
  SERVER = 'SERVER',
}

/** Istio's standard metrics (Telemetry `metrics.overrides.match.metric`). */
export enum IstioMetric {
  /** Every standard metric. */
  ALL_METRICS = 'ALL_METRICS',
  /** `istio_requests_total`. */
  REQUEST_COUNT = 'REQUEST_COUNT',
  /** `istio_request_duration_milliseconds`. */
  REQUEST_DURATION = 'REQUEST_DURATION',
  /** `istio_request_bytes`. */
  REQUEST_SIZE = 'REQUEST_SIZE',
  /** `istio_response_bytes`. */
  RESPONSE_SIZE = 'RESPONSE_SIZE',
  /** `istio_tcp_connections_opened_total`. */
  TCP_OPENED_CONNECTIONS = 'TCP_OPENED_CONNECTIONS',
  /** `istio_tcp_connections_closed_total`. */
  TCP_CLOSED_CONNECTIONS = 'TCP_CLOSED_CONNECTIONS',
  /** `istio_tcp_sent_bytes_total`. */
  TCP_SENT_BYTES = 'TCP_SENT_BYTES',
  /** `istio_tcp_received_bytes_total`. */
  TCP_RECEIVED_BYTES = 'TCP_RECEIVED_BYTES',
  /** `istio_request_messages_total` (gRPC). */
  GRPC_REQUEST_MESSAGES = 'GRPC_REQUEST_MESSAGES',
  /** `istio_response_messages_total` (gRPC). */
  GRPC_RESPONSE_MESSAGES = 'GRPC_RESPONSE_MESSAGES',
}

/**
 * Where a Telemetry resource applies: the whole mesh (root namespace, no selector), one namespace (no selector), or
 * one workload (its pods' selector).
 */
export class TelemetryTarget {
  /** Every workload of the mesh: a Telemetry in the root namespace without a selector. */
  public static mesh(mesh: IMesh): TelemetryTarget {
    if (!mesh || typeof mesh.rootNamespace !== 'string') invalid('TelemetryTarget', 'mesh', mesh, 'must be a Mesh');
    return new TelemetryTarget(mesh, mesh.rootNamespace, undefined, 'mesh-default');
  }

  /** Every workload of a namespace: a Telemetry in that namespace without a selector. */
  public static namespace(namespace: IMeshNamespace): TelemetryTarget {
    if (!namespace || typeof namespace.name !== 'string' || !namespace.mesh) invalid('TelemetryTarget', 'namespace', namespace, 'must be a meshed namespace');
    return new TelemetryTarget(namespace.mesh, namespace.name, undefined, 'namespace-default');
  }

  /** One workload (a MeshedService, a MeshGateway...): a Telemetry selecting its pods (`podSelector`). */
  public static workload(workload: IMeshWorkload): TelemetryTarget {
    if (!workload || !workload.namespace || !workload.podSelector) invalid('TelemetryTarget', 'workload', workload, 'must be a meshed workload (IMeshWorkload)');
    return new TelemetryTarget(workload.mesh, workload.namespace.name, { ...workload.podSelector }, workload.name);
  }

  /** The mesh. */
  public readonly targetMesh: IMesh;
  /** The namespace the Telemetry resource is created in. */
  public readonly targetNamespace: string;
  /** The pod selector (undefined: every workload of the namespace). */
  public readonly selector?: { [key: string]: string };
  /** The default resource name. */
  public readonly defaultName: string;

  private constructor(mesh: IMesh, namespace: string, selector: { [key: string]: string } | undefined, defaultName: string) {
    this.targetMesh = mesh;
    this.targetNamespace = namespace;
    this.selector = selector;
    this.defaultName = defaultName;
  }
}

/** Access logging settings (one Telemetry `accessLogging` entry). */
export interface AccessLoggingSettings {
  /**
   * Where the logs go.
   * @default - the mesh's default access logging providers
   */
  readonly providers?: TelemetryProvider[];
  /**
   * Turn access logging off (for these providers and this traffic).
   * @default false
   */
  readonly disabled?: boolean;
  /**
   * A CEL expression; only matching requests are logged, e.g. `response.code >= 400`.
   * @default - every request
   */
  readonly filter?: string;
  /**
   * Which traffic direction.
   * @default TelemetryMode.CLIENT_AND_SERVER
   */
  readonly mode?: TelemetryMode;
}

/** A custom tag added to every span. */
export class TracingTag {
  /** A fixed value. */
  public static literal(value: string): TracingTag {
    if (typeof value !== 'string' || value === '') invalid('TracingTag', 'literal', value, 'must be a non-empty string');
    return new TracingTag({ literal: { value } });
  }

  /** The value of a request header (`defaultValue` when absent). */
  public static header(name: string, defaultValue?: string): TracingTag {
    if (typeof name !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) invalid('TracingTag', 'header', name, 'must be an HTTP header name');
    return new TracingTag({ header: defaultValue === undefined ? { name } : { name, defaultValue } });
  }

  /** The value of an environment variable of the proxy (`defaultValue` when unset). */
  public static environment(name: string, defaultValue?: string): TracingTag {
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) invalid('TracingTag', 'environment', name, 'must be an environment variable name');
    return new TracingTag({ environment: defaultValue === undefined ? { name } : { name, defaultValue } });
  }

  private constructor(private readonly rendered: { [key: string]: any }) {}

  /** @internal */
  public _render(): { [key: string]: any } {
    return this.rendered;
  }
}

/** Tracing settings (one Telemetry `tracing` entry). */
export interface TracingSettings {
  /**
   * Where spans go (tracing providers).
   * @default - the mesh's default tracing provider
   */
  readonly providers?: TelemetryProvider[];
  /**
   * The share of requests traced when the caller made no sampling decision, 0-100 (e.g. 1.5).
   * @default - the mesh's setting (Istio: 1%)
   */
  readonly randomSamplingPercentage?: number;
  /**
   * Tags added to every span, by tag name.
   * @default - none
   */
  readonly customTags?: { [name: string]: TracingTag };
  /**
   * Stop reporting spans (context is still propagated).
   * @default false
   */
  readonly disableSpanReporting?: boolean;
  /**
   * Which traffic direction.
   * @default TelemetryMode.CLIENT_AND_SERVER
   */
  readonly mode?: TelemetryMode;
}

/** A change to Istio's standard metrics (one Telemetry `metrics.overrides` entry). */
export interface MetricOverride {
  /**
   * The metric.
   * @default IstioMetric.ALL_METRICS
   */
  readonly metric?: IstioMetric;
  /**
   * Which traffic direction (CLIENT: reported by the caller's proxy; SERVER: by the callee's).
   * @default TelemetryMode.CLIENT_AND_SERVER
   */
  readonly mode?: TelemetryMode;
  /**
   * Stop generating the metric.
   * @default false
   */
  readonly disabled?: boolean;
  /**
   * Tags (labels) to add or replace, by name: the value is a CEL expression over request attributes, e.g.
   * `request.host`, or a quoted literal `'eu-west'`.
   * @default - none
   */
  readonly addTags?: { [tag: string]: string };
  /**
   * Tags (labels) to remove, e.g. `request_protocol` (fewer series).
   * @default - none
   */
  readonly removeTags?: string[];
}

/** Metrics settings (one Telemetry `metrics` entry). */
export interface MetricsSettings {
  /**
   * The metrics providers the overrides apply to.
   * @default - the mesh's default metrics provider (prometheus)
   */
  readonly providers?: TelemetryProvider[];
  /** The changes. */
  readonly overrides: MetricOverride[];
  /**
   * How often metrics are reported (for push-based providers).
   * @default - the provider's default
   */
  readonly reportingInterval?: Duration;
}

/** Properties of `MeshTelemetry`. */
export interface MeshTelemetryProps {
  /** Where the settings apply: `TelemetryTarget.mesh(mesh)`, `.namespace(ns)` or `.workload(service)`. */
  readonly target: TelemetryTarget;
  /**
   * The Telemetry resource name.
   * @default - `mesh-default`, `namespace-default`, or the workload's name
   */
  readonly name?: string;
  /**
   * Access logging.
   * @default - inherited
   */
  readonly accessLogging?: AccessLoggingSettings[];
  /**
   * Tracing.
   * @default - inherited
   */
  readonly tracing?: TracingSettings[];
  /**
   * Metrics changes.
   * @default - inherited
   */
  readonly metrics?: MetricsSettings[];
}

const TAG_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Istio's Telemetry API (`telemetry.istio.io/v1` Telemetry): access logging, tracing and metrics settings for the
 * whole mesh, a namespace, or one workload.
 *
 * Providers are `TelemetryProvider` objects declared on the control plane, so a Telemetry never names a provider
 * the mesh config lacks. Two Telemetry resources for the same target are rejected (Istio would pick one
 * arbitrarily: IST0159/IST0160): put every setting of a target in one `MeshTelemetry`.
 */
export class MeshTelemetry extends Construct {
  /** The Telemetry resource. */
  public readonly resource: ApiObject;
  /** The mesh. */
  public readonly mesh: IMesh;

  constructor(scope: Construct, id: string, props: MeshTelemetryProps) {
    super(scope, id);
    const target = props.target;
    if (!(target instanceof TelemetryTarget)) invalid(this, 'target', target, 'must be TelemetryTarget.mesh(), .namespace() or .workload()');
    this.mesh = target.targetMesh;
    const name = props.name ?? target.defaultName;
    checkDnsSubdomain(this, 'name', name);
    if (target.selector) checkLabels(this, 'target selector', target.selector);

    const spec: { [key: string]: any } = {};
    if (target.selector) spec.selector = { matchLabels: sortKeys(target.selector) };
    const access = (props.accessLogging ?? []).map((a, i) => this.renderAccessLogging(a, `accessLogging[${i}]`));
    const tracing = (props.tracing ?? []).map((t, i) => this.renderTracing(t, `tracing[${i}]`));
    const metrics = (props.metrics ?? []).map((m, i) => this.renderMetrics(m, `metrics[${i}]`));
    if (!access.length && !tracing.length && !metrics.length) {
      invalid(this, 'props', '{}', 'must set at least one of accessLogging, tracing or metrics');
    }
    if (access.length) spec.accessLogging = access;
    if (metrics.length) spec.metrics = metrics;
    if (tracing.length) spec.tracing = tracing;

    // one Telemetry per target (namespace + selector), app-wide
    const key = `${target.targetNamespace}|${JSON.stringify(sortKeys(target.selector ?? {}))}`;
    MeshModel.of(this).claim(this, 'telemetry', key, 'target',
      target.selector ? `${target.targetNamespace}/${JSON.stringify(sortKeys(target.selector))}` : target.targetNamespace,
      other => `already has a Telemetry (${other}): Istio applies only one per ${target.selector ? 'workload' : 'namespace'} (IST0159/IST0160); merge the settings`);

    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: TELEMETRY_API_VERSION,
      kind: 'Telemetry',
      metadata: { name, namespace: target.targetNamespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
      spec,
    } as any);
  }

  private providers(field: string, list: TelemetryProvider[] | undefined, kind: DefaultProviderKind): any[] | undefined {
    if (list === undefined) return undefined;
    if (!Array.isArray(list) || list.length === 0) invalid(this, `${field}.providers`, list, 'must list at least one provider, or be omitted to use the mesh default');
    const seen = new Set<string>();
    return list.map((p, i) => {
      if (!(p instanceof TelemetryProvider)) {
        invalid(this, `${field}.providers[${i}]`, p && (p as any).name !== undefined ? (p as any).name : p,
          'is not a declared provider: declare it on the control plane with TelemetryProvider.openTelemetry(controlPlane, ...) (or zipkin, envoyFileAccessLog...), or use TelemetryProvider.prometheus()/envoy()');
      }
      if (p.mesh && !sameMesh(p.mesh, this.mesh)) {
        invalid(this, `${field}.providers[${i}]`, p.name,
          `is not declared in this mesh's config: it belongs to the mesh of root namespace '${p.mesh.rootNamespace}'${p.mesh.revision ? ` (revision ${p.mesh.revision})` : ''}, not '${this.mesh.rootNamespace}'${this.mesh.revision ? ` (revision ${this.mesh.revision})` : ''}`);
      }
      if (p.kind !== kind) invalid(this, `${field}.providers[${i}]`, p.name, `is a ${p.kind} provider, not a ${kind} provider`);
      if (seen.has(p.name)) invalid(this, `${field}.providers[${i}]`, p.name, 'must not be listed twice');
      seen.add(p.name);
      return { name: p.name };
    });
  }

  private mode(field: string, mode: TelemetryMode | undefined): any {
    if (mode === undefined) return undefined;
    if (!Object.values(TelemetryMode).includes(mode)) invalid(this, `${field}.mode`, mode, `must be one of ${Object.values(TelemetryMode).join(', ')}`);
    return { mode };
  }

  private renderAccessLogging(a: AccessLoggingSettings, field: string): any {
    const out: { [key: string]: any } = {};
    const providers = this.providers(field, a.providers, DefaultProviderKind.ACCESS_LOGGING);
    if (providers) out.providers = providers;
    if (a.disabled !== undefined) out.disabled = a.disabled;
    if (a.filter !== undefined) {
      const problem = celProblem(a.filter);
      if (problem) invalid(this, `${field}.filter`, a.filter, problem);
      out.filter = { expression: a.filter };
    }
    const match = this.mode(field, a.mode);
    if (match) out.match = match;
    return out;
  }

  private renderTracing(t: TracingSettings, field: string): any {
    const out: { [key: string]: any } = {};
    const providers = this.providers(field, t.providers, DefaultProviderKind.TRACING);
    if (providers) out.providers = providers;
    if (t.randomSamplingPercentage !== undefined) {
      checkPercent(this, `${field}.randomSamplingPercentage`, t.randomSamplingPercentage);
      out.randomSamplingPercentage = t.randomSamplingPercentage;
    }
    const tags = t.customTags ?? {};
    const names = Object.keys(tags).sort();
    if (names.length) {
      out.customTags = {};
      for (const n of names) {
        if (!/^[a-zA-Z_][-a-zA-Z0-9_.]*$/.test(n)) invalid(this, `${field}.customTags`, n, "must be a tag name: letters, digits, '_', '-' and '.'");
        if (!(tags[n] instanceof TracingTag)) invalid(this, `${field}.customTags['${n}']`, tags[n], 'must be TracingTag.literal(), .header() or .environment()');
        out.customTags[n] = tags[n]._render();
      }
    }
    if (t.disableSpanReporting !== undefined) out.disableSpanReporting = t.disableSpanReporting;
    const match = this.mode(field, t.mode);
    if (match) out.match = match;
    return out;
  }

  private renderMetrics(m: MetricsSettings, field: string): any {
    const out: { [key: string]: any } = {};
    const providers = this.providers(field, m.providers, DefaultProviderKind.METRICS);
    if (providers) out.providers = providers;
    if (!Array.isArray(m.overrides) || m.overrides.length === 0) invalid(this, `${field}.overrides`, m.overrides, 'must list at least one override');
    out.overrides = m.overrides.map((o, i) => this.renderOverride(o, `${field}.overrides[${i}]`));
    if (m.reportingInterval !== undefined) {
      const ms = m.reportingInterval instanceof Duration ? m.reportingInterval.toMilliseconds() : NaN;
      if (!(ms >= 1)) invalid(this, `${field}.reportingInterval`, m.reportingInterval, 'must be a Duration of at least 1ms');
      out.reportingInterval = ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
    }
    return out;
  }

  private renderOverride(o: MetricOverride, field: string): any {
    const metric = o.metric ?? IstioMetric.ALL_METRICS;
    if (!Object.values(IstioMetric).includes(metric)) invalid(this, `${field}.metric`, metric, `must be one of ${Object.values(IstioMetric).join(', ')}`);
    const match: { [key: string]: any } = { metric, ...(this.mode(field, o.mode) ?? {}) };
    const out: { [key: string]: any } = { match };
    if (o.disabled !== undefined) out.disabled = o.disabled;
    const add = o.addTags ?? {};
    const remove = o.removeTags ?? [];
    const tagOverrides: { [key: string]: any } = {};
    for (const tag of Object.keys(add).sort()) {
      if (!TAG_NAME.test(tag)) invalid(this, `${field}.addTags`, tag, "must be a metric label name: letters, digits and '_', not starting with a digit");
      const problem = celProblem(add[tag]);
      if (problem) invalid(this, `${field}.addTags['${tag}']`, add[tag], problem);
      tagOverrides[tag] = { operation: 'UPSERT', value: add[tag] };
    }
    for (const tag of [...remove].sort()) {
      if (!TAG_NAME.test(tag)) invalid(this, `${field}.removeTags`, tag, "must be a metric label name: letters, digits and '_', not starting with a digit");
      if (tag in tagOverrides) invalid(this, `${field}.removeTags`, tag, 'must not also be in addTags (or be listed twice)');
      tagOverrides[tag] = { operation: 'REMOVE' };
    }
    if (Object.keys(tagOverrides).length) out.tagOverrides = tagOverrides;
    if (o.disabled === undefined && !Object.keys(tagOverrides).length) {
      invalid(this, field, o, 'must disable the metric or change tags (addTags/removeTags)');
    }
    return out;
  }
}

/** Whether two meshes are the same mesh (the same object, or the same root namespace, revision and trust domain). @internal */
export function sameMesh(a: IMesh, b: IMesh): boolean {
  return a === b || (a.rootNamespace === b.rootNamespace && (a.revision ?? '') === (b.revision ?? '') && a.trustDomain === b.trustDomain);
}
