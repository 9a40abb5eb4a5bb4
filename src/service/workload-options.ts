import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { PROXY_UID, RESERVED_PORTS } from '../mesh/constants';
import type { ResourceSettings } from '../mesh/mesh';
import { checkInteger, checkQuantity, compact } from '../validation';

/** Timing and thresholds of a probe. */
export interface ProbeOptions {
  /**
   * The container port probed (httpGet, tcp, grpc).
   * @default - the target port of the service's first port
   */
  readonly port?: number;
  /**
   * Delay before the first probe.
   * @default - none
   */
  readonly initialDelay?: Duration;
  /**
   * Time between probes.
   * @default 10s
   */
  readonly period?: Duration;
  /**
   * Probe timeout.
   * @default 1s
   */
  readonly timeout?: Duration;
  /**
   * Failures before the probe fails.
   * @default 3
   */
  readonly failureThreshold?: number;
  /**
   * Successes before the probe succeeds again (must be 1 for liveness probes).
   * @default 1
   */
  readonly successThreshold?: number;
}

/** Options of an HTTP probe. */
export interface HttpProbeOptions extends ProbeOptions {
  /**
   * Probe with HTTPS (the app serves TLS itself).
   * @default false
   */
  readonly https?: boolean;
}

/** Options of a gRPC probe. */
export interface GrpcProbeOptions extends ProbeOptions {
  /**
   * The gRPC health service name.
   * @default - the server's overall health
   */
  readonly service?: string;
}

/**
 * A readiness or liveness probe. With synth-time injection, Istio rewrites httpGet, tcp and grpc probes to go
 * through the proxy's status port, so they keep working under strict mTLS; exec probes are left alone.
 */
export class Probe {
  /** An HTTP GET on `path`; 200-399 is healthy. */
  public static httpGet(path: string, options: HttpProbeOptions = {}): Probe {
    if (typeof path !== 'string' || !path.startsWith('/')) invalid('Probe', 'httpGet path', path, "must start with '/'");
    return new Probe('httpGet', options, { path, scheme: options.https ? 'HTTPS' : undefined });
  }
  /** A TCP connect. */
  public static tcp(options: ProbeOptions = {}): Probe {
    return new Probe('tcpSocket', options, {});
  }
  /** A gRPC health check (grpc.health.v1). */
  public static grpc(options: GrpcProbeOptions = {}): Probe {
    return new Probe('grpc', options, { service: options.service });
  }
  /** A command run in the container; exit status 0 is healthy. */
  public static exec(command: string[], options: ProbeOptions = {}): Probe {
    if (!Array.isArray(command) || command.length === 0) invalid('Probe', 'exec command', command, 'must be a non-empty list');
    return new Probe('exec', options, { command: [...command] });
  }

  /**
   * A probe a cdk8s-plus user already has: `kplus.Probe.fromHttpGet`, `fromTcpSocket`, `fromCommand` or `fromGrpc`,
   * from any cdk8s-plus-NN (27 through 34). As in cdk8s-plus, a probe without a port probes the container's port: here
   * the target port of the service's first port. Its timing, thresholds, host and HTTP headers are kept; it is checked
   * and rewritten by the injection like the library's own probes (Istio's reserved ports are refused).
   *
   * ```ts
   * readinessProbe: Probe.fromPlus(kplus.Probe.fromHttpGet('/ready', { periodSeconds: Duration.seconds(5) })),
   * ```
   *
   * @param probe a cdk8s-plus `Probe` (typed loosely so that every cdk8s-plus version's class is accepted)
   */
  public static fromPlus(probe: any): Probe {
    const read = (port: number) => plusProbeJson(probe, port);
    const sample = read(1);
    const kind = PROBE_HANDLERS.find(k => sample[k] !== undefined);
    if (!kind) invalid('Probe.fromPlus', 'probe', sample, 'must set one of httpGet, tcpSocket, grpc or exec');
    const seconds = (n: unknown) => typeof n === 'number' ? Duration.seconds(n) : undefined;
    const options: ProbeOptions = {
      initialDelay: seconds(sample.initialDelaySeconds),
      period: seconds(sample.periodSeconds),
      timeout: seconds(sample.timeoutSeconds),
      failureThreshold: sample.failureThreshold,
      successThreshold: sample.successThreshold,
    };
    return new Probe(kind, options, undefined, (defaultPort: number) => {
      const { port, ...handler } = read(defaultPort)[kind];
      return { handler, port: kind === 'exec' ? undefined : port };
    });
  }

  /** `httpGet`, `tcpSocket`, `grpc` or `exec`. */
  public readonly kind: string;
  private readonly options: ProbeOptions;
  private readonly handler: any;

  /** A probe from elsewhere (cdk8s-plus): its handler and port, once the default port is known. */
  private readonly external?: (defaultPort: number) => { handler: any; port?: number };

  private constructor(kind: string, options: ProbeOptions, handler: any, external?: (defaultPort: number) => { handler: any; port?: number }) {
    this.kind = kind;
    this.options = options;
    this.handler = handler;
    this.external = external;
  }

  /** The container probe JSON. @internal */
  public _render(scope: Construct, field: string, defaultPort: number, liveness: boolean): any {
    const o = this.options;
    const seconds = (f: string, d: Duration | undefined, min: number) => {
      if (d === undefined) return undefined;
      const s = d.toSeconds({ integral: false });
      if (!Number.isInteger(s) || s < min) invalid(scope, `${field}.${f}`, d.toHumanString(), `must be a whole number of seconds, at least ${min}`);
      return s;
    };
    checkInteger(scope, `${field}.failureThreshold`, o.failureThreshold, 1, 2147483647);
    checkInteger(scope, `${field}.successThreshold`, o.successThreshold, 1, liveness ? 1 : 2147483647);
    let handler: any;
    const external = this.external?.(defaultPort);
    if (this.kind === 'exec') {
      if (o.port !== undefined) invalid(scope, `${field}.port`, o.port, 'must not be set for an exec probe');
      handler = external?.handler ?? this.handler;
    } else if (external) {
      const port = external.port;
      checkInteger(scope, `${field}.port`, port, 1, 65535);
      if (RESERVED_PORTS.includes(port!)) invalid(scope, `${field}.port`, port, `is reserved for Istio's proxy (${RESERVED_PORTS.join(', ')})`);
      handler = compact({ ...external.handler, port });
    } else {
      const port = o.port ?? defaultPort;
      checkInteger(scope, `${field}.port`, port, 1, 65535);
      if (RESERVED_PORTS.includes(port)) invalid(scope, `${field}.port`, port, `is reserved for Istio's proxy (${RESERVED_PORTS.join(', ')})`);
      handler = compact({ ...this.handler, port });
    }
    return compact({
      [this.kind]: handler,
      initialDelaySeconds: seconds('initialDelay', o.initialDelay, 0),
      periodSeconds: seconds('period', o.period, 1),
      timeoutSeconds: seconds('timeout', o.timeout, 1),
      failureThreshold: o.failureThreshold,
      successThreshold: o.successThreshold,
    });
  }
}

/** The handlers a Kubernetes probe may have, one at a time. */
const PROBE_HANDLERS = ['httpGet', 'tcpSocket', 'grpc', 'exec'] as const;

/**
 * A cdk8s-plus probe as Kubernetes JSON, its port defaulted to `port`. cdk8s-plus renders a probe for a container
 * (the container gives the default port), so the probe is rendered for a stand-in holding only that port; the
 * IntOrString ports of cdk8s-plus come back as numbers.
 */
function plusProbeJson(probe: any, port: number): any {
  if (!probe || typeof probe !== 'object' || typeof probe._toKube !== 'function') {
    invalid('Probe.fromPlus', 'probe', probe, 'must be a cdk8s-plus Probe (kplus.Probe.fromHttpGet, fromTcpSocket, fromCommand or fromGrpc)');
  }
  let json: any;
  try {
    json = probe._toKube({ portNumber: port });
  } catch (e) {
    invalid('Probe.fromPlus', 'probe', String(e), 'must be a cdk8s-plus Probe this library can render (cdk8s-plus-27 or later)');
  }
  const out: any = { ...json };
  for (const k of PROBE_HANDLERS) {
    const h = json?.[k];
    if (h === undefined) continue;
    const p = h.port;
    out[k] = { ...h, port: typeof p === 'object' && p !== null && 'value' in p ? p.value : p };
  }
  return out;
}

/** Security settings of the application container and pod. Secure by default; each opt-out is named. */
export interface WorkloadSecurityOptions {
  /**
   * The user ID the app runs as. Must not be 1337 (the proxy's UID) nor 0.
   * @default - the image's user (which must not be root)
   */
  readonly runAsUser?: number;
  /**
   * The group ID the app runs as. Must not be 1337 (the proxy's GID).
   * @default - the image's group
   */
  readonly runAsGroup?: number;
  /**
   * The group that owns mounted volumes.
   * @default - none
   */
  readonly fsGroup?: number;
  /**
   * Mount the container's root filesystem read-only. Set false for apps that write to their image's filesystem.
   * @default true
   */
  readonly readOnlyRootFilesystem?: boolean;
  /**
   * Opt-out: let the container run as root (runAsNonRoot false).
   * @default false
   */
  readonly allowRunAsRoot?: boolean;
  /**
   * Opt-out: allow privilege escalation (setuid binaries).
   * @default false
   */
  readonly allowPrivilegeEscalation?: boolean;
  /**
   * Linux capabilities to add back after dropping ALL. Only `NET_BIND_SERVICE` (binding ports below 1024) is allowed
   * without `allowPrivilegedApp`, and never together with root.
   * @default - none
   */
  readonly addCapabilities?: string[];
  /**
   * Opt-out: let the app container add capabilities beyond `NET_BIND_SERVICE` (e.g. `NET_ADMIN`, `SYS_PTRACE`) and
   * run as root with added capabilities. An app with `NET_ADMIN` or `NET_RAW` can rewrite or bypass the proxy's
   * traffic capture, so the mesh's mTLS and authorization no longer bind it: use only for workloads you trust as
   * much as the node.
   * @default false
   */
  readonly allowPrivilegedApp?: boolean;
}

/** The one capability an app may add without `allowPrivilegedApp`: binding ports below 1024. */
const SAFE_APP_CAPABILITIES = ['NET_BIND_SERVICE'];

/** Renders the app container's and pod's security contexts. @internal */
export function renderSecurity(scope: Construct, s: WorkloadSecurityOptions): { container: any; pod: any } {
  for (const f of ['runAsUser', 'runAsGroup', 'fsGroup'] as const) {
    checkInteger(scope, `securityContext.${f}`, s[f], 0, 2147483647);
    if (s[f] === PROXY_UID) {
      // the proxy's traffic capture exempts UID/GID 1337: an app with that ID would bypass the mesh
      invalid(scope, `securityContext.${f}`, s[f], `${PROXY_UID} is reserved for the Istio proxy (IST0144): traffic from that ID bypasses the proxy; use another ID`);
    }
  }
  const nonRoot = !s.allowRunAsRoot;
  if (nonRoot && s.runAsUser === 0) invalid(scope, 'securityContext.runAsUser', 0, 'must not be 0 (root) unless allowRunAsRoot is set');
  if (s.addCapabilities !== undefined && !Array.isArray(s.addCapabilities)) {
    invalid(scope, 'securityContext.addCapabilities', s.addCapabilities, 'must be a list of capability names');
  }
  const privileged = s.allowPrivilegedApp === true;
  for (const c of s.addCapabilities ?? []) {
    if (typeof c !== 'string' || !/^[A-Z_]+$/.test(c) || c === 'ALL') invalid(scope, 'securityContext.addCapabilities', c, "must be a capability name without 'CAP_', e.g. NET_BIND_SERVICE");
    if (!privileged && !SAFE_APP_CAPABILITIES.includes(c)) {
      invalid(scope, 'securityContext.addCapabilities', c, `must be ${SAFE_APP_CAPABILITIES.join(' or ')} (capabilities such as NET_ADMIN or NET_RAW let an app bypass the proxy); opt-out: allowPrivilegedApp`);
    }
  }
  if (!privileged && s.addCapabilities?.length && (s.allowRunAsRoot || s.runAsUser === 0)) {
    invalid(scope, 'securityContext.addCapabilities', s.addCapabilities, 'must not be added to a container that may run as root (allowRunAsRoot or runAsUser 0): root with capabilities holds them all in effect; opt-out: allowPrivilegedApp');
  }
  return {
    container: compact({
      runAsNonRoot: nonRoot,
      runAsUser: s.runAsUser,
      runAsGroup: s.runAsGroup,
      allowPrivilegeEscalation: s.allowPrivilegeEscalation ?? false,
      readOnlyRootFilesystem: s.readOnlyRootFilesystem ?? true,
      capabilities: compact({ drop: ['ALL'], add: s.addCapabilities?.length ? [...new Set(s.addCapabilities)].sort() : undefined }),
    }),
    pod: compact({
      fsGroup: s.fsGroup,
      seccompProfile: { type: 'RuntimeDefault' },
    }),
  };
}

// Quantity parsing, for request <= limit checks.
const SUFFIX: Record<string, number> = {
  '': 1,
  'n': 1e-9,
  'u': 1e-6,
  'm': 1e-3,
  'k': 1e3,
  'M': 1e6,
  'G': 1e9,
  'T': 1e12,
  'P': 1e15,
  'E': 1e18,
  'Ki': 2 ** 10,
  'Mi': 2 ** 20,
  'Gi': 2 ** 30,
  'Ti': 2 ** 40,
  'Pi': 2 ** 50,
  'Ei': 2 ** 60,
};
function quantity(q: string): number {
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([eE][+-]?\d+|[A-Za-z]*)$/.exec(q)!;
  if (/^[eE]/.test(m[2])) return parseFloat(m[1] + m[2]);
  return parseFloat(m[1]) * SUFFIX[m[2]];
}

/** Validates and renders container resources. @internal */
export function renderResources(scope: Construct, r: ResourceSettings | undefined): any {
  if (!r) return undefined;
  checkQuantity(scope, 'resources.cpuRequest', r.cpuRequest);
  checkQuantity(scope, 'resources.cpuLimit', r.cpuLimit);
  checkQuantity(scope, 'resources.memoryRequest', r.memoryRequest);
  checkQuantity(scope, 'resources.memoryLimit', r.memoryLimit);
  for (const [req, lim, what] of [[r.cpuRequest, r.cpuLimit, 'cpu'], [r.memoryRequest, r.memoryLimit, 'memory']] as const) {
    if (req !== undefined && quantity(req) < 0) invalid(scope, `resources.${what}Request`, req, 'must not be negative');
    if (lim !== undefined && quantity(lim) < 0) invalid(scope, `resources.${what}Limit`, lim, 'must not be negative');
    if (req !== undefined && lim !== undefined && quantity(req) > quantity(lim)) {
      invalid(scope, `resources.${what}Request`, req, `must not exceed the ${what} limit (${lim})`);
    }
  }
  return compact({
    requests: compact({ cpu: r.cpuRequest, memory: r.memoryRequest }),
    limits: compact({ cpu: r.cpuLimit, memory: r.memoryLimit }),
  });
}

/**
 * Checks an app container given as raw JSON (a pod template brought to the injector, a cdk8s-plus workload): not
 * privileged, no capabilities beyond NET_BIND_SERVICE, no capabilities while it may run as root, not the proxy's
 * UID/GID 1337 (container or pod level). `allowPrivilegedApp` lifts the first three, as on MeshedService.
 * @internal
 */
export function checkAppContainerSecurity(scope: Construct | string, field: string, container: any, podSecurityContext: any,
  allowPrivilegedApp = false): void {
  const sc = container?.securityContext ?? {};
  const pod = podSecurityContext ?? {};
  const uid = sc.runAsUser ?? pod.runAsUser;
  const gid = sc.runAsGroup ?? pod.runAsGroup;
  for (const [f, v] of [['runAsUser', uid], ['runAsGroup', gid], ['fsGroup', pod.fsGroup]] as const) {
    if (v === PROXY_UID) invalid(scope, `${field}.securityContext.${f}`, v, `${PROXY_UID} is reserved for the Istio proxy (IST0144): traffic from that ID bypasses the proxy; use another ID`);
  }
  if (allowPrivilegedApp) return;
  if (sc.privileged === true) {
    invalid(scope, `${field}.securityContext.privileged`, true, 'must not be true: a privileged container can rewrite the pod\'s traffic capture and bypass the mesh; opt-out: allowPrivilegedApp');
  }
  const added: unknown[] = Array.isArray(sc.capabilities?.add) ? sc.capabilities.add : [];
  for (const c of added) {
    const name = typeof c === 'string' ? c.replace(/^CAP_/, '') : c;
    if (typeof name !== 'string' || !SAFE_APP_CAPABILITIES.includes(name)) {
      invalid(scope, `${field}.securityContext.capabilities.add`, c, `must be ${SAFE_APP_CAPABILITIES.join(' or ')} (capabilities such as NET_ADMIN or NET_RAW let an app bypass the proxy); opt-out: allowPrivilegedApp`);
    }
  }
  const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
  if (added.length && (uid === 0 || (uid === undefined && nonRoot !== true))) {
    invalid(scope, `${field}.securityContext.capabilities.add`, added, 'must not be added to a container that may run as root (set runAsNonRoot or a non-zero runAsUser): root with capabilities holds them all in effect; opt-out: allowPrivilegedApp');
  }
}
