/**
 * The pieces injection adds to a pod: one small pure function per concern.
 * @internal
 */
import { splitList } from './annotations';
import {
  ALWAYS_EXCLUDED_INBOUND_PORTS, CERT_PROVIDER, CLUSTER_ID, DEFAULT_AGENT_LOG_LEVEL, DEFAULT_COMPONENT_LOG_LEVEL,
  DEFAULT_INCLUDE_INBOUND_PORTS, DEFAULT_INCLUDE_OUTBOUND_IP_RANGES, DEFAULT_PROXY_LOG_LEVEL, ENV_APP_PROBERS,
  ENV_PROMETHEUS_ANNOTATIONS, ENVOY_PROM_PORT_NAME, HEALTH_READY_PATH, INIT_CONTAINER, InjectAnnotations,
  INTERCEPTION_REDIRECT, MERGED_METRICS_PATH, PROXY_CONTAINER, PROXY_GID, PROXY_MOUNT_ORDER, PROXY_VOLUMES, READINESS,
  STARTUP, VALIDATION_CONTAINER,
} from './constants';
import { InjectionTarget } from './proxy-options';
import { IstioAnnotations, IstioLabels, IstioPorts, PROXY_UID } from '../mesh/constants';
import { IMesh, ResourceSettings } from '../mesh/mesh';

type Json = { [key: string]: any };
type Annotations = { [key: string]: string };
const A = IstioAnnotations;

/** Proxy resources: the four proxy resource annotations replace the mesh defaults completely. */
export function proxyResources(annotations: Annotations, defaults: ResourceSettings): Json {
  const keys = [A.PROXY_CPU, A.PROXY_MEMORY, A.PROXY_CPU_LIMIT, A.PROXY_MEMORY_LIMIT];
  const r: ResourceSettings = keys.some(k => annotations[k] !== undefined)
    ? {
      cpuRequest: annotations[A.PROXY_CPU],
      memoryRequest: annotations[A.PROXY_MEMORY],
      cpuLimit: annotations[A.PROXY_CPU_LIMIT],
      memoryLimit: annotations[A.PROXY_MEMORY_LIMIT],
    }
    : defaults;
  const out: Json = {};
  const requests = clean({ cpu: r.cpuRequest, memory: r.memoryRequest });
  const limits = clean({ cpu: r.cpuLimit, memory: r.memoryLimit });
  if (Object.keys(limits).length) out.limits = limits;
  if (Object.keys(requests).length) out.requests = requests;
  return out;
}

/** The traffic capture settings read from the annotations (iptables flags, CNI annotations, probe rewrite). */
export interface Interception {
  readonly includeOutboundIpRanges: string;
  readonly excludeOutboundIpRanges: string;
  readonly includeInboundPorts: string;
  /** The user's excluded inbound ports, plus the status port. */
  readonly excludeInboundPorts: string;
  readonly includeOutboundPorts?: string;
  readonly excludeOutboundPorts?: string;
  /** Whether the proxy captures an inbound port. */
  readonly captures: (port: number) => boolean;
}

export function interception(annotations: Annotations): Interception {
  const status = String(IstioPorts.STATUS);
  const userExcluded = splitList(annotations[A.EXCLUDE_INBOUND_PORTS]);
  const excluded = [status, ...userExcluded.filter(p => p !== status)];
  const include = (annotations[A.INCLUDE_INBOUND_PORTS] ?? DEFAULT_INCLUDE_INBOUND_PORTS).trim();
  const all = new Set([...ALWAYS_EXCLUDED_INBOUND_PORTS.map(String), ...excluded]);
  const included = new Set(splitList(include));
  return {
    includeOutboundIpRanges: annotations[A.INCLUDE_OUTBOUND_IP_RANGES] ?? DEFAULT_INCLUDE_OUTBOUND_IP_RANGES,
    excludeOutboundIpRanges: annotations[A.EXCLUDE_OUTBOUND_IP_RANGES] ?? '',
    includeInboundPorts: include,
    excludeInboundPorts: excluded.join(','),
    includeOutboundPorts: annotations[A.INCLUDE_OUTBOUND_PORTS],
    excludeOutboundPorts: annotations[A.EXCLUDE_OUTBOUND_PORTS],
    captures: (port: number) => !all.has(String(port)) && (include === '*' || included.has(String(port))),
  };
}

/** istio-iptables arguments (istio-init, or istio-validation with CNI). */
export function iptablesArgs(i: Interception, cni: boolean): string[] {
  const args = [
    'istio-iptables',
    '-p', String(IstioPorts.OUTBOUND_CAPTURE),
    '-z', String(IstioPorts.INBOUND_CAPTURE),
    '-u', String(PROXY_UID),
    '-m', INTERCEPTION_REDIRECT,
    '-i', i.includeOutboundIpRanges,
    '-x', i.excludeOutboundIpRanges,
    '-b', i.includeInboundPorts,
    '-d', [...ALWAYS_EXCLUDED_INBOUND_PORTS.map(String), i.excludeInboundPorts].join(','),
  ];
  if (i.includeOutboundPorts) args.push('-q', i.includeOutboundPorts);
  if (i.excludeOutboundPorts) args.push('-o', i.excludeOutboundPorts);
  args.push(`--log_output_level=${DEFAULT_AGENT_LOG_LEVEL}`);
  if (cni) args.push('--run-validation', '--skip-rule-apply');
  return args;
}

/** The proxy user's container security context (istio-proxy, and istio-validation with CNI): UID/GID 1337, no privileges. */
function proxyUserSecurityContext(): Json {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsGroup: PROXY_GID,
    runAsNonRoot: true,
    runAsUser: PROXY_UID,
  };
}

/** The init container: istio-init (NET_ADMIN/NET_RAW, root) or, with CNI, the unprivileged istio-validation. */
export function initContainer(image: string, i: Interception, cni: boolean, resources: Json): Json {
  return {
    name: cni ? VALIDATION_CONTAINER : INIT_CONTAINER,
    image,
    args: iptablesArgs(i, cni),
    resources,
    securityContext: cni
      ? proxyUserSecurityContext()
      : {
        allowPrivilegeEscalation: false,
        capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
        privileged: false,
        readOnlyRootFilesystem: false,
        runAsGroup: 0,
        runAsNonRoot: false,
        runAsUser: 0,
      },
  };
}

/** The pod volumes injection adds, in Istio's order. */
export function proxyVolumes(): Json[] {
  return PROXY_VOLUMES.map(v => ({ name: v.name, ...JSON.parse(JSON.stringify(v.source)) }));
}

/** The proxy's volume mounts, in Istio's order. */
export function proxyVolumeMounts(): Json[] {
  return PROXY_MOUNT_ORDER.map(name => ({ name, mountPath: PROXY_VOLUMES.find(v => v.name === name)!.mountPath }));
}

/** What the proxy's env needs to know. */
export interface EnvInputs {
  readonly mesh: IMesh;
  readonly target: InjectionTarget;
  readonly proxyConfig: Json;
  readonly appContainers: Json[];
  readonly gateway: boolean;
  readonly prometheusAnnotations?: string;
  readonly appProbers?: string;
}

const field = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });

/** ISTIO_META_POD_PORTS: every app container port, with the API server's default protocol. */
export function podPorts(containers: Json[]): string {
  const ports = containers.flatMap(c => (c.ports ?? []).map((p: Json) => clean({
    name: p.name, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol ?? 'TCP', hostIP: p.hostIP,
  })));
  return JSON.stringify(ports);
}

/** The proxy's environment, in Istio's order. */
export function proxyEnv(e: EnvInputs): Json[] {
  const { mesh, target } = e;
  const caAddress = mesh.caAddress;
  const ns = target.namespace ?? '$(POD_NAMESPACE)';
  const env: Json[] = [
    { name: 'PILOT_CERT_PROVIDER', value: CERT_PROVIDER },
    { name: 'CA_ADDR', value: caAddress },
    field('POD_NAME', 'metadata.name'),
    field('POD_NAMESPACE', 'metadata.namespace'),
    field('INSTANCE_IP', 'status.podIP'),
    field('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    field('HOST_IP', 'status.hostIP'),
    { name: 'ISTIO_CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } },
    { name: 'PROXY_CONFIG', value: JSON.stringify(e.proxyConfig) + '\n' },
  ];
  if (!e.gateway) {
    env.push({ name: 'ISTIO_META_POD_PORTS', value: podPorts(e.appContainers) });
    env.push({ name: 'ISTIO_META_APP_CONTAINERS', value: e.appContainers.map(c => c.name).join(',') });
  }
  env.push(
    { name: 'GOMEMLIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
    { name: 'ISTIO_META_CLUSTER_ID', value: CLUSTER_ID },
    field('ISTIO_META_NODE_NAME', 'spec.nodeName'),
    { name: 'ISTIO_META_INTERCEPTION_MODE', value: INTERCEPTION_REDIRECT },
    { name: 'ISTIO_META_WORKLOAD_NAME', value: target.name },
    { name: 'ISTIO_META_OWNER', value: `kubernetes://apis/${target.apiVersion}/namespaces/${ns}/${target.kind.toLowerCase()}s/${target.name}` },
    { name: 'ISTIO_META_MESH_ID', value: mesh.trustDomain },
    { name: 'TRUST_DOMAIN', value: mesh.trustDomain },
  );
  const metadata: Json = e.proxyConfig.proxyMetadata ?? {};
  for (const k of Object.keys(metadata).sort()) env.push({ name: k, value: metadata[k] });
  if (e.prometheusAnnotations) env.push({ name: ENV_PROMETHEUS_ANNOTATIONS, value: e.prometheusAnnotations });
  if (e.appProbers) env.push({ name: ENV_APP_PROBERS, value: e.appProbers });
  return env;
}

/** What the proxy container needs to know besides its env. */
export interface ProxyInputs {
  readonly image: string;
  readonly env: Json[];
  readonly annotations: Annotations;
  readonly proxyConfig: Json;
  readonly resources: Json;
  readonly gateway: boolean;
  readonly native: boolean;
  readonly hold: boolean;
  readonly clusterDomain: string;
}

/** The istio-proxy container. */
export function proxyContainer(p: ProxyInputs): Json {
  const a = p.annotations;
  const args = [
    'proxy', p.gateway ? 'router' : 'sidecar',
    '--domain', `$(POD_NAMESPACE).svc.${p.clusterDomain}`,
    `--proxyLogLevel=${a[A.LOG_LEVEL] ?? DEFAULT_PROXY_LOG_LEVEL}`,
    `--proxyComponentLogLevel=${a[A.COMPONENT_LOG_LEVEL] ?? DEFAULT_COMPONENT_LOG_LEVEL}`,
    `--log_output_level=${a[A.AGENT_LOG_LEVEL] ?? DEFAULT_AGENT_LOG_LEVEL}`,
  ];
  if (p.proxyConfig.concurrency > 0) args.push('--concurrency', String(p.proxyConfig.concurrency));
  const ready = { httpGet: { path: HEALTH_READY_PATH, port: IstioPorts.HEALTH } };
  const num = (k: string) => (a[k] !== undefined ? parseInt(a[k], 10) : undefined);
  const c: Json = {
    name: PROXY_CONTAINER,
    image: p.image,
    args,
    ports: [{ containerPort: IstioPorts.ENVOY_PROMETHEUS, name: ENVOY_PROM_PORT_NAME, protocol: 'TCP' }],
    env: p.env,
  };
  if (p.native) c.restartPolicy = 'Always';
  if (p.native && !p.gateway) {
    c.lifecycle = { preStop: { exec: { command: ['pilot-agent', 'request', `--debug-port=${IstioPorts.STATUS}`, 'POST', 'drain'] } } };
  } else if (p.hold && !p.gateway) {
    c.lifecycle = { postStart: { exec: { command: ['pilot-agent', 'wait'] } } };
  }
  if (!p.gateway) c.startupProbe = { ...ready, ...STARTUP };
  c.readinessProbe = clean({
    ...ready,
    initialDelaySeconds: num(InjectAnnotations.READINESS_INITIAL_DELAY),
    periodSeconds: num(InjectAnnotations.READINESS_PERIOD) ?? READINESS.periodSeconds,
    timeoutSeconds: READINESS.timeoutSeconds,
    failureThreshold: num(InjectAnnotations.READINESS_FAILURE_THRESHOLD) ?? READINESS.failureThreshold,
  });
  c.resources = p.resources;
  c.securityContext = proxyUserSecurityContext();
  c.volumeMounts = proxyVolumeMounts();
  return c;
}

/**
 * Prometheus merge: the pod is scraped on pilot-agent's merged endpoint; the app's own prometheus.io annotations move
 * into ISTIO_PROMETHEUS_ANNOTATIONS. Returns the new annotations and the env value (if any).
 */
export function prometheusMerge(annotations: Annotations): { annotations: Annotations; env?: string } {
  const merge = annotations[InjectAnnotations.PROMETHEUS_MERGE];
  const scrape = annotations[A.PROMETHEUS_SCRAPE];
  if ((merge !== undefined && /^(false|0|f)$/i.test(merge)) || (scrape !== undefined && scrape.toLowerCase() === 'false')) {
    return { annotations };
  }
  const target = String(IstioPorts.STATUS);
  if (annotations[A.PROMETHEUS_PORT] === target) return { annotations };
  const app = { scrape: scrape ?? '', path: annotations[A.PROMETHEUS_PATH] ?? '', port: annotations[A.PROMETHEUS_PORT] ?? '' };
  const env = app.scrape || app.path || app.port ? JSON.stringify(app) : undefined;
  return {
    annotations: { ...annotations, [A.PROMETHEUS_PATH]: MERGED_METRICS_PATH, [A.PROMETHEUS_PORT]: target, [A.PROMETHEUS_SCRAPE]: 'true' },
    env,
  };
}

/** service.istio.io/canonical-name and canonical-revision, as the injector derives them. */
export function canonicalLabels(labels: Annotations, workloadName: string): Annotations {
  const rawName = labels[IstioLabels.CANONICAL_NAME] ?? labels['app.kubernetes.io/name'] ?? labels[IstioLabels.APP] ?? workloadName;
  const name = rawName.slice(0, 63).replace(/^[-_.]+|[-_.]+$/g, '');
  const revision = labels[IstioLabels.CANONICAL_REVISION] ?? labels['app.kubernetes.io/version'] ?? labels[IstioLabels.VERSION] ?? 'latest';
  return { [IstioLabels.CANONICAL_NAME]: name, [IstioLabels.CANONICAL_REVISION]: revision };
}

/** Merges a user-supplied `istio-proxy` container (the customization overlay) over the generated one. */
export function overlayContainer(base: Json, overlay: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(overlay)) {
    if (k === 'name' || k === 'image') continue;
    if (k === 'env') out.env = mergeBy(base.env ?? [], v, 'name');
    else if (k === 'ports') out.ports = mergeBy(base.ports ?? [], v, 'containerPort');
    else if (k === 'volumeMounts') out.volumeMounts = mergeBy(base.volumeMounts ?? [], v, 'mountPath');
    else out[k] = deepMerge(base[k], v);
  }
  return out;
}

function mergeBy(base: Json[], overlay: Json[], key: string): Json[] {
  const out = base.map(b => ({ ...b }));
  for (const o of overlay) {
    const i = out.findIndex(b => b[key] === o[key]);
    if (i >= 0) out[i] = deepMerge(out[i], o);
    else out.push(o);
  }
  return out;
}

function deepMerge(a: any, b: any): any {
  if (isObject(a) && isObject(b)) {
    const out: Json = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = deepMerge(a[k], v);
    return out;
  }
  return b;
}

function isObject(x: any): x is Json {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** Drops undefined values (one level). */
export function clean(o: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}
