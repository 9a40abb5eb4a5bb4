/**
 * The pieces injection adds to a pod: one small pure function per concern.
 * @internal
 */
import { splitList } from './annotations';
import {
  ALWAYS_EXCLUDED_INBOUND_PORTS, AUTO_IMAGE, CERT_PROVIDER, CLUSTER_ID, DEFAULT_AGENT_LOG_LEVEL, DEFAULT_COMPONENT_LOG_LEVEL,
  DEFAULT_INCLUDE_INBOUND_PORTS, DEFAULT_INCLUDE_OUTBOUND_IP_RANGES, DEFAULT_PROXY_LOG_LEVEL, ENV_APP_PROBERS,
  ENV_NETWORK, ENV_PROMETHEUS_ANNOTATIONS, ENVOY_PROM_PORT_NAME, GATEWAY_VOLUME_NAMES, HEALTH_READY_PATH,
  INIT_CONTAINER, InjectAnnotations, INTERCEPTION_REDIRECT, LIMIT_ENV, MERGED_METRICS_PATH, PROXY_CONTAINER,
  PROXY_GID, PROXY_MOUNT_ORDER, PROXY_VOLUMES, READINESS, STARTUP, VALIDATION_CONTAINER,
} from './constants';
import { InjectionTarget } from './proxy-options';
import { IstioAnnotations, IstioLabels, IstioPorts, PROXY_UID } from '../mesh/constants';
import type { IMesh, ResourceSettings } from '../mesh/mesh';

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
}

/**
 * The excluded inbound ports with the status port (Istio 1.30.3 pkg/kube/inject/template.go excludeInboundPort): the
 * value as given when it already lists the status port, else its ports followed by the status port.
 */
export function excludeInboundPorts(value: string | undefined): string {
  const status = String(IstioPorts.STATUS);
  const ports = splitList(value);
  return ports.includes(status) ? value! : [...ports, status].join(',');
}

export function interception(annotations: Annotations): Interception {
  const excludeInbound = excludeInboundPorts(annotations[A.EXCLUDE_INBOUND_PORTS]);
  const include = (annotations[A.INCLUDE_INBOUND_PORTS] ?? DEFAULT_INCLUDE_INBOUND_PORTS).trim();
  return {
    includeOutboundIpRanges: annotations[A.INCLUDE_OUTBOUND_IP_RANGES] ?? DEFAULT_INCLUDE_OUTBOUND_IP_RANGES,
    excludeOutboundIpRanges: annotations[A.EXCLUDE_OUTBOUND_IP_RANGES] ?? '',
    includeInboundPorts: include,
    excludeInboundPorts: excludeInbound,
    includeOutboundPorts: annotations[A.INCLUDE_OUTBOUND_PORTS],
    excludeOutboundPorts: annotations[A.EXCLUDE_OUTBOUND_PORTS],
  };
}

/**
 * istio-iptables arguments (istio-init, or istio-validation with CNI). `proxyUid` is the UID whose traffic is not
 * captured: the proxy's (a user's istio-proxy container may set another, Istio 1.30.3 webhook.go adjustInitContainerUser).
 */
export function iptablesArgs(i: Interception, cni: boolean, proxyUid: number = PROXY_UID): string[] {
  const args = [
    'istio-iptables',
    '-p', String(IstioPorts.OUTBOUND_CAPTURE),
    '-z', String(IstioPorts.INBOUND_CAPTURE),
    '-u', String(proxyUid),
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

/** What the init container needs to know. */
export interface InitInputs {
  readonly image: string;
  readonly interception: Interception;
  readonly cni: boolean;
  readonly resources: Json;
  /** The ProxyConfig's proxyMetadata: env of istio-init too (istio-iptables reads e.g. ISTIO_META_DNS_CAPTURE). */
  readonly proxyMetadata?: { [key: string]: string };
  /** The proxy's UID and GID, when a user's istio-proxy container sets them. */
  readonly proxyUid?: number;
  readonly proxyGid?: number;
}

/**
 * The init container: istio-init (NET_ADMIN/NET_RAW, root) or, with CNI, the unprivileged istio-validation, which
 * runs as the proxy's user (Istio 1.30.3 injection-template.yaml, webhook.go adjustInitContainerUser).
 */
export function initContainer(p: InitInputs): Json {
  const uid = p.proxyUid !== undefined && p.proxyUid !== 0 ? p.proxyUid : PROXY_UID;
  const c: Json = {
    name: p.cni ? VALIDATION_CONTAINER : INIT_CONTAINER,
    image: p.image,
    args: iptablesArgs(p.interception, p.cni, uid),
  };
  const env = metadataEnv(p.proxyMetadata);
  if (env.length) c.env = env;
  c.resources = p.resources;
  const validation = { ...proxyUserSecurityContext() };
  if (p.proxyUid !== undefined) validation.runAsUser = p.proxyUid;
  if (p.proxyGid !== undefined) validation.runAsGroup = p.proxyGid;
  c.securityContext = p.cni
    ? validation
    : {
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: false,
      runAsGroup: 0,
      runAsNonRoot: false,
      runAsUser: 0,
    };
  return c;
}

/** proxyMetadata as env, keys sorted (Go templates range over maps in key order). */
function metadataEnv(metadata: { [key: string]: string } | undefined): Json[] {
  const m = metadata ?? {};
  return Object.keys(m).sort().map(k => ({ name: k, value: m[k] }));
}

/** The names of the volumes a template adds, in Istio's order (the gateway template has no istio-ca-crl). */
export function volumeNames(gateway: boolean): string[] {
  return gateway ? [...GATEWAY_VOLUME_NAMES] : PROXY_VOLUMES.map(v => v.name);
}

/** The pod volumes injection adds, in Istio's order. */
export function proxyVolumes(gateway: boolean = false): Json[] {
  const names = volumeNames(gateway);
  return PROXY_VOLUMES.filter(v => names.includes(v.name)).map(v => ({ name: v.name, ...JSON.parse(JSON.stringify(v.source)) }));
}

/** The proxy's volume mounts, in Istio's order. */
export function proxyVolumeMounts(gateway: boolean = false): Json[] {
  const names = volumeNames(gateway);
  return PROXY_MOUNT_ORDER.filter(n => names.includes(n)).map(name => ({ name, mountPath: PROXY_VOLUMES.find(v => v.name === name)!.mountPath }));
}

/** What the proxy's env needs to know. */
export interface EnvInputs {
  readonly mesh: IMesh;
  readonly target: InjectionTarget;
  /** The proxy's ProxyConfig (mesh default with the pod's merged over it). */
  readonly proxyConfig: Json;
  /** PROXY_CONFIG's value. */
  readonly proxyConfigValue: string;
  /** The pod's containers as written (ISTIO_META_POD_PORTS lists all their ports). */
  readonly podContainers: Json[];
  /** The names of the pod's containers other than istio-proxy (ISTIO_META_APP_CONTAINERS). */
  readonly appNames: string[];
  readonly gateway: boolean;
  /** ISTIO_META_WORKLOAD_NAME. */
  readonly workloadName: string;
}

/** The env the webhook adds once the template and the pod's own istio-proxy are merged (webhook.go postProcessPod). */
export interface EnvAdditions {
  /** ISTIO_META_NETWORK, if any. */
  readonly network?: string;
  readonly prometheusAnnotations?: string;
  readonly appProbers?: string;
}

const field = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
const limit = (name: string, resource: string) => ({ name, valueFrom: { resourceFieldRef: { resource, divisor: '1' } } });

/**
 * ISTIO_META_POD_PORTS: every port of the pod's containers, one JSON object a line, as Istio 1.30.3's template
 * writes it ("[", then each port indented by four spaces and, after the first, preceded by a comma, then "]"). The
 * protocol is the API server's default (TCP) when not given, as the webhook sees the pod.
 */
export function podPorts(containers: Json[]): string {
  const ports = containers.flatMap(c => (c.ports ?? []).map((p: Json) => JSON.stringify(clean({
    name: p.name, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol ?? 'TCP', hostIP: p.hostIP,
  }))));
  return ['[', ...ports.map((p, i) => `    ${i === 0 ? '' : ','}${p}`), ']'].join('\n');
}

/** The proxy's environment, in the order of Istio 1.30.3's `sidecar` or `gateway` template. */
export function proxyEnv(e: EnvInputs): Json[] {
  const { mesh, target } = e;
  const ns = target.namespace ?? '$(POD_NAMESPACE)';
  // Go omits an empty value (EnvVar.value is omitempty): a gateway pod with no app container has a bare name
  const apps = e.appNames.join(',');
  const appContainers = apps ? { name: 'ISTIO_META_APP_CONTAINERS', value: apps } : { name: 'ISTIO_META_APP_CONTAINERS' };
  const env: Json[] = [
    { name: 'PILOT_CERT_PROVIDER', value: CERT_PROVIDER },
    { name: 'CA_ADDR', value: mesh.caAddress },
    field('POD_NAME', 'metadata.name'),
    field('POD_NAMESPACE', 'metadata.namespace'),
    field('INSTANCE_IP', 'status.podIP'),
    field('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    field('HOST_IP', 'status.hostIP'),
    limit('ISTIO_CPU_LIMIT', 'limits.cpu'),
    { name: 'PROXY_CONFIG', value: e.proxyConfigValue },
    { name: 'ISTIO_META_POD_PORTS', value: podPorts(e.podContainers) },
  ];
  if (!e.gateway) env.push(appContainers);
  env.push(...LIMIT_ENV.map(l => limit(l.name, l.resource)));
  if (e.gateway) env.push(appContainers);
  env.push(
    { name: 'ISTIO_META_CLUSTER_ID', value: CLUSTER_ID },
    field('ISTIO_META_NODE_NAME', 'spec.nodeName'),
    { name: 'ISTIO_META_INTERCEPTION_MODE', value: INTERCEPTION_REDIRECT },
    { name: 'ISTIO_META_WORKLOAD_NAME', value: e.workloadName },
    { name: 'ISTIO_META_OWNER', value: `kubernetes://apis/${target.apiVersion}/namespaces/${ns}/${target.kind.toLowerCase()}s/${target.name}` },
    { name: 'ISTIO_META_MESH_ID', value: mesh.trustDomain },
    { name: 'TRUST_DOMAIN', value: mesh.trustDomain },
    ...metadataEnv(e.proxyConfig.proxyMetadata),
  );
  return env;
}

/**
 * The webhook's additions, after the pod's own istio-proxy env (Istio 1.30.3 webhook.go postProcessPod, in its order):
 * ISTIO_META_NETWORK (overwriteClusterInfo: any earlier one removed, the value appended), ISTIO_PROMETHEUS_ANNOTATIONS,
 * ISTIO_KUBE_APP_PROBERS.
 */
export function addWebhookEnv(env: Json[], a: EnvAdditions): Json[] {
  const out = a.network ? [...env.filter(x => x.name !== ENV_NETWORK), { name: ENV_NETWORK, value: a.network }] : [...env];
  if (a.prometheusAnnotations) out.push({ name: ENV_PROMETHEUS_ANNOTATIONS, value: a.prometheusAnnotations });
  if (a.appProbers) out.push({ name: ENV_APP_PROBERS, value: a.appProbers });
  return out;
}

/** What the proxy container needs to know besides its env. */
export interface ProxyInputs {
  readonly image: string;
  readonly env: Json[];
  readonly annotations: Annotations;
  readonly resources: Json;
  readonly gateway: boolean;
  readonly native: boolean;
  readonly hold: boolean;
  readonly clusterDomain: string;
}

/**
 * The istio-proxy container. As in Istio 1.30.3, concurrency reaches the proxy only through PROXY_CONFIG (no
 * `--concurrency` flag), and the `gateway` template reads no readiness annotations, has no startup probe or
 * lifecycle. The gateway's security context is the `sidecar` template's proxy context, which is what Istio's gateway
 * chart (manifests/charts/gateway, 1.30.3) puts on its istio-proxy container together with the gateway template's
 * runAsUser/runAsGroup 1337.
 */
export function proxyContainer(p: ProxyInputs): Json {
  const a = p.annotations;
  const args = [
    'proxy', p.gateway ? 'router' : 'sidecar',
    '--domain', `$(POD_NAMESPACE).svc.${p.clusterDomain}`,
    `--proxyLogLevel=${a[A.LOG_LEVEL] ?? DEFAULT_PROXY_LOG_LEVEL}`,
    `--proxyComponentLogLevel=${a[A.COMPONENT_LOG_LEVEL] ?? DEFAULT_COMPONENT_LOG_LEVEL}`,
    `--log_output_level=${a[A.AGENT_LOG_LEVEL] ?? DEFAULT_AGENT_LOG_LEVEL}`,
  ];
  const ready = { httpGet: { path: HEALTH_READY_PATH, port: IstioPorts.HEALTH } };
  const num = (k: string) => (a[k] !== undefined && !p.gateway ? parseInt(a[k], 10) : undefined);
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
  if (!p.gateway || Object.keys(p.resources).length) c.resources = p.resources;
  c.securityContext = proxyUserSecurityContext();
  c.volumeMounts = proxyVolumeMounts(p.gateway);
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

/**
 * service.istio.io/canonical-name and canonical-revision, as the injector derives them (an empty label counts as
 * unset, as with the template's `default`). The name is cut to 63 characters and trimmed so it stays a valid label
 * value (Istio's template trims one trailing '-').
 */
export function canonicalLabels(labels: Annotations, workloadName: string): Annotations {
  const rawName = labels[IstioLabels.CANONICAL_NAME] || labels['app.kubernetes.io/name'] || labels[IstioLabels.APP] || workloadName;
  const name = rawName.slice(0, 63).replace(/^[-_.]+|[-_.]+$/g, '');
  const revision = labels[IstioLabels.CANONICAL_REVISION] || labels['app.kubernetes.io/version'] || labels[IstioLabels.VERSION] || 'latest';
  return { [IstioLabels.CANONICAL_NAME]: name, [IstioLabels.CANONICAL_REVISION]: revision };
}

/**
 * Merges a user-supplied container of an injected name (the customization overlay) over the generated one, as a
 * strategic merge patch does (env by name, ports by containerPort, volumeMounts by mountPath). Its image replaces the
 * generated one unless it is `auto` (Istio 1.30.3 webhook.go reapplyOverwrittenContainers).
 */
export function overlayContainer(base: Json, overlay: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(overlay)) {
    if (k === 'name') continue;
    if (k === 'image') {
      if (v && v !== AUTO_IMAGE) out.image = v;
      continue;
    }
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
