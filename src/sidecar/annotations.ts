/**
 * ProxyOptions -> Istio annotations, and the validation/parsing of those annotations.
 * @internal
 */
import * as YAML from 'yaml';
import { invalid } from '../errors';
import { IstioAnnotations } from '../mesh/constants';
import { checkInteger, checkQuantity } from '../validation';
import { InjectAnnotations, INTERCEPTION_REDIRECT, TEMPLATE_GATEWAY, TEMPLATE_SIDECAR } from './constants';
import { checkProxyConfig, normalizeProxyConfig } from './proxy-config';
import { ProxyLogLevel, ProxyOptions, SidecarTemplate } from './proxy-options';

const A = IstioAnnotations;

/** Annotations whose meaning this library reproduces at synth time. @internal */
export const HONOURED_ANNOTATIONS: readonly string[] = [
  A.PROXY_IMAGE, A.PROXY_CPU, A.PROXY_MEMORY, A.PROXY_CPU_LIMIT, A.PROXY_MEMORY_LIMIT, A.LOG_LEVEL,
  A.COMPONENT_LOG_LEVEL, A.AGENT_LOG_LEVEL, A.INTERCEPTION_MODE, A.REWRITE_APP_HTTP_PROBERS, A.NATIVE_SIDECAR,
  A.INCLUDE_INBOUND_PORTS, A.EXCLUDE_INBOUND_PORTS, A.INCLUDE_OUTBOUND_PORTS, A.EXCLUDE_OUTBOUND_PORTS,
  A.INCLUDE_OUTBOUND_IP_RANGES, A.EXCLUDE_OUTBOUND_IP_RANGES, A.PROXY_CONFIG, A.TEMPLATES,
  InjectAnnotations.READINESS_INITIAL_DELAY, InjectAnnotations.READINESS_PERIOD,
  InjectAnnotations.READINESS_FAILURE_THRESHOLD, InjectAnnotations.PROMETHEUS_MERGE,
];

/** Istio annotations that change the injected pod in ways not reproduced here: rejected rather than ignored. */
const UNSUPPORTED_ANNOTATIONS: readonly string[] = [
  InjectAnnotations.STATUS_PORT, InjectAnnotations.USER_VOLUME, InjectAnnotations.USER_VOLUME_MOUNT,
  InjectAnnotations.CAP_NET_BIND_SERVICE, InjectAnnotations.BOOTSTRAP_OVERRIDE,
];

const ISTIO_ANNOTATION_PREFIXES = ['sidecar.istio.io/', 'traffic.sidecar.istio.io/', 'proxy.istio.io/',
  'readiness.status.sidecar.istio.io/', 'prometheus.istio.io/', 'status.sidecar.istio.io/', 'inject.istio.io/'];

const ENVOY_LEVELS = Object.values(ProxyLogLevel) as string[];
const COMPONENT_LOG_LEVEL = new RegExp(`^[A-Za-z0-9_]+:(${ENVOY_LEVELS.join('|')})(,[A-Za-z0-9_]+:(${ENVOY_LEVELS.join('|')}))*$`);
const AGENT_LOG_LEVEL = /^[A-Za-z0-9_.-]+:(debug|info|warn|error|fatal|none)(,[A-Za-z0-9_.-]+:(debug|info|warn|error|fatal|none))*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BOOL = /^(true|false|1|0|t|f|TRUE|FALSE|True|False|T|F)$/;
const NON_NEGATIVE_INT = /^\d+$/;

/** Whether a string is an IPv4 or IPv6 CIDR (address/prefix). @internal */
export function isCidr(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return false;
  const prefix = parseInt(m[2], 10);
  const ip = m[1];
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    return ip.split('.').every(o => parseInt(o, 10) <= 255 && (o === '0' || !o.startsWith('0'))) && prefix <= 32;
  }
  if (!ip.includes(':') || !/^[0-9a-fA-F:]+$/.test(ip) || prefix > 128) return false;
  const dbl = ip.split('::');
  if (dbl.length > 2) return false;
  const groups = dbl.flatMap(p => (p === '' ? [] : p.split(':')));
  if (groups.some(g => g.length === 0 || g.length > 4)) return false;
  return dbl.length === 2 ? groups.length < 8 : groups.length === 8;
}

function isPort(s: string): boolean {
  return /^\d{1,5}$/.test(s) && parseInt(s, 10) >= 1 && parseInt(s, 10) <= 65535;
}

/** Splits a comma-separated annotation value (Istio trims blanks). @internal */
export function splitList(s: string | undefined): string[] {
  return (s ?? '').split(',').map(x => x.trim()).filter(x => x !== '');
}

function checkPortList(scope: string, field: string, value: string, allowStar: boolean) {
  if (allowStar && value.trim() === '*') return;
  for (const p of splitList(value)) {
    if (!isPort(p)) invalid(scope, field, value, `must be a comma-separated list of ports from 1 to 65535${allowStar ? " or '*'" : ''}`);
  }
}

function checkCidrList(scope: string, field: string, value: string, allowStar: boolean) {
  if (allowStar && value.trim() === '*') return;
  for (const c of splitList(value)) {
    if (!isCidr(c)) invalid(scope, field, value, `must be a comma-separated list of CIDRs such as '10.0.0.0/8' or 'fd00::/8'${allowStar ? " or '*'" : ''}`);
  }
}

/** Parses `proxy.istio.io/config` (JSON or YAML) into a plain object, field names as in JSON (camelCase). @internal */
export function parseProxyConfig(scope: string, value: string | undefined): { [key: string]: any } {
  if (value === undefined || value.trim() === '') return {};
  let parsed: any;
  try {
    parsed = YAML.parse(value);
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    invalid(scope, `annotations['${A.PROXY_CONFIG}']`, value, 'must be a ProxyConfig object in JSON or YAML, e.g. {"concurrency": 2}');
  }
  return normalizeProxyConfig(parsed);
}

/**
 * Validates the injection annotations of a pod (already merged with the options). Throws on bad values and on Istio
 * annotations whose effect is not reproduced at synth time.
 * @internal
 */
export function validateAnnotations(scope: string, annotations: { [key: string]: string }) {
  const field = (k: string) => `annotations['${k}']`;
  for (const k of UNSUPPORTED_ANNOTATIONS) {
    if (annotations[k] !== undefined) {
      invalid(scope, field(k), annotations[k], 'is not supported by synth-time injection: remove it, or use InjectionMode.WEBHOOK');
    }
  }
  for (const k of [A.PROXY_CPU, A.PROXY_MEMORY, A.PROXY_CPU_LIMIT, A.PROXY_MEMORY_LIMIT]) checkQuantity(scope, field(k), annotations[k]);
  const lvl = annotations[A.LOG_LEVEL];
  if (lvl !== undefined && !ENVOY_LEVELS.includes(lvl)) invalid(scope, field(A.LOG_LEVEL), lvl, `must be one of ${ENVOY_LEVELS.join(', ')}`);
  const clvl = annotations[A.COMPONENT_LOG_LEVEL];
  if (clvl !== undefined && !COMPONENT_LOG_LEVEL.test(clvl)) {
    invalid(scope, field(A.COMPONENT_LOG_LEVEL), clvl, `must be 'component:level' pairs separated by commas, e.g. 'misc:error,upstream:debug'; levels: ${ENVOY_LEVELS.join(', ')}`);
  }
  const alvl = annotations[A.AGENT_LOG_LEVEL];
  if (alvl !== undefined && !AGENT_LOG_LEVEL.test(alvl)) {
    invalid(scope, field(A.AGENT_LOG_LEVEL), alvl, "must be 'scope:level' pairs separated by commas, e.g. 'default:info'; levels: debug, info, warn, error, fatal, none");
  }
  const mode = annotations[A.INTERCEPTION_MODE];
  if (mode !== undefined && mode !== INTERCEPTION_REDIRECT) {
    invalid(scope, field(A.INTERCEPTION_MODE), mode, "only 'REDIRECT' is supported by synth-time injection (TPROXY and NONE: use InjectionMode.WEBHOOK)");
  }
  for (const k of [A.REWRITE_APP_HTTP_PROBERS, A.NATIVE_SIDECAR, InjectAnnotations.PROMETHEUS_MERGE]) {
    if (annotations[k] !== undefined && !BOOL.test(annotations[k])) invalid(scope, field(k), annotations[k], "must be 'true' or 'false'");
  }
  for (const k of [InjectAnnotations.READINESS_INITIAL_DELAY, InjectAnnotations.READINESS_PERIOD, InjectAnnotations.READINESS_FAILURE_THRESHOLD]) {
    if (annotations[k] !== undefined && !NON_NEGATIVE_INT.test(annotations[k])) invalid(scope, field(k), annotations[k], 'must be a whole number');
  }
  checkPortList(scope, field(A.INCLUDE_INBOUND_PORTS), annotations[A.INCLUDE_INBOUND_PORTS] ?? '', true);
  checkPortList(scope, field(A.EXCLUDE_INBOUND_PORTS), annotations[A.EXCLUDE_INBOUND_PORTS] ?? '', false);
  checkPortList(scope, field(A.INCLUDE_OUTBOUND_PORTS), annotations[A.INCLUDE_OUTBOUND_PORTS] ?? '', false);
  checkPortList(scope, field(A.EXCLUDE_OUTBOUND_PORTS), annotations[A.EXCLUDE_OUTBOUND_PORTS] ?? '', false);
  checkCidrList(scope, field(A.INCLUDE_OUTBOUND_IP_RANGES), annotations[A.INCLUDE_OUTBOUND_IP_RANGES] ?? '', true);
  checkCidrList(scope, field(A.EXCLUDE_OUTBOUND_IP_RANGES), annotations[A.EXCLUDE_OUTBOUND_IP_RANGES] ?? '', false);
  const tmpl = annotations[A.TEMPLATES];
  if (tmpl !== undefined && tmpl !== TEMPLATE_SIDECAR && tmpl !== TEMPLATE_GATEWAY) {
    invalid(scope, field(A.TEMPLATES), tmpl, `must be '${TEMPLATE_SIDECAR}' or '${TEMPLATE_GATEWAY}' for synth-time injection`);
  }
  checkProxyConfig(scope, field(A.PROXY_CONFIG), parseProxyConfig(scope, annotations[A.PROXY_CONFIG]));
  if (tmpl === TEMPLATE_GATEWAY) {
    // Istio 1.30.3's gateway template reads neither: it takes resources from the pod's istio-proxy container and the
    // readiness probe from the mesh-wide values
    for (const k of [A.PROXY_CPU, A.PROXY_MEMORY, A.PROXY_CPU_LIMIT, A.PROXY_MEMORY_LIMIT]) {
      if (annotations[k] !== undefined) {
        invalid(scope, field(k), annotations[k], "has no effect with the gateway template: give the resources in ProxyOptions.resources, or on the pod's istio-proxy container");
      }
    }
    for (const k of [InjectAnnotations.READINESS_INITIAL_DELAY, InjectAnnotations.READINESS_PERIOD, InjectAnnotations.READINESS_FAILURE_THRESHOLD]) {
      if (annotations[k] !== undefined) {
        invalid(scope, field(k), annotations[k], "has no effect with the gateway template, whose readiness probe is the mesh-wide one: remove it, or set readinessProbe on the pod's istio-proxy container");
      }
    }
  }
}

/** Parses a boolean annotation the way Go's strconv.ParseBool does; undefined when absent. @internal */
export function boolAnnotation(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (/^(true|1|t|TRUE|True|T)$/.test(value)) return true;
  if (/^(false|0|f|FALSE|False|F)$/.test(value)) return false;
  return undefined;
}

/**
 * Turns ProxyOptions into the equivalent Istio annotations (validated), to be merged over the template's own.
 * @internal
 */
export function optionAnnotations(scope: string, options: ProxyOptions = {}, existingProxyConfig?: string): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(options.annotations ?? {})) {
    if (!HONOURED_ANNOTATIONS.includes(k)) {
      const istio = ISTIO_ANNOTATION_PREFIXES.some(p => k.startsWith(p));
      invalid(scope, 'annotations key', k, istio
        ? `is not an injection annotation honoured at synth time; honoured: ${HONOURED_ANNOTATIONS.join(', ')}`
        : 'only Istio injection annotations belong here; put other annotations on the pod template');
    }
    if (typeof v !== 'string') invalid(scope, `annotations['${k}']`, v, 'must be a string');
    out[k] = v;
  }
  const r = options.resources;
  if (r) {
    checkQuantity(scope, 'resources.cpuRequest', r.cpuRequest);
    checkQuantity(scope, 'resources.memoryRequest', r.memoryRequest);
    checkQuantity(scope, 'resources.cpuLimit', r.cpuLimit);
    checkQuantity(scope, 'resources.memoryLimit', r.memoryLimit);
    const pairs: Array<[string, string | undefined]> = [
      [A.PROXY_CPU, r.cpuRequest], [A.PROXY_MEMORY, r.memoryRequest], [A.PROXY_CPU_LIMIT, r.cpuLimit], [A.PROXY_MEMORY_LIMIT, r.memoryLimit],
    ];
    if (pairs.every(([, v]) => v === undefined)) invalid(scope, 'resources', r, 'must set at least one of cpuRequest, memoryRequest, cpuLimit, memoryLimit');
    for (const [k, v] of pairs) if (v !== undefined) out[k] = v;
  }
  if (options.logLevel !== undefined) {
    if (!ENVOY_LEVELS.includes(options.logLevel)) invalid(scope, 'logLevel', options.logLevel, `must be one of ${ENVOY_LEVELS.join(', ')}`);
    out[A.LOG_LEVEL] = options.logLevel;
  }
  if (options.componentLogLevel !== undefined) {
    if (!COMPONENT_LOG_LEVEL.test(options.componentLogLevel)) {
      invalid(scope, 'componentLogLevel', options.componentLogLevel, `must be 'component:level' pairs separated by commas, e.g. 'misc:error,upstream:debug'; levels: ${ENVOY_LEVELS.join(', ')}`);
    }
    out[A.COMPONENT_LOG_LEVEL] = options.componentLogLevel;
  }
  const ports = (field: keyof ProxyOptions, key: string) => {
    const list = options[field] as number[] | undefined;
    if (list === undefined) return;
    list.forEach((p, i) => checkInteger(scope, `${field}[${i}]`, p, 1, 65535));
    out[key] = list.join(',');
  };
  ports('includeInboundPorts', A.INCLUDE_INBOUND_PORTS);
  ports('excludeInboundPorts', A.EXCLUDE_INBOUND_PORTS);
  ports('includeOutboundPorts', A.INCLUDE_OUTBOUND_PORTS);
  ports('excludeOutboundPorts', A.EXCLUDE_OUTBOUND_PORTS);
  const cidrs = (field: 'includeOutboundIpRanges' | 'excludeOutboundIpRanges', key: string) => {
    const list = options[field];
    if (list === undefined) return;
    list.forEach((c, i) => {
      if (typeof c !== 'string' || !isCidr(c)) invalid(scope, `${field}[${i}]`, c, "must be a CIDR such as '10.0.0.0/8' or 'fd00::/8'");
    });
    out[key] = list.join(',');
  };
  cidrs('includeOutboundIpRanges', A.INCLUDE_OUTBOUND_IP_RANGES);
  cidrs('excludeOutboundIpRanges', A.EXCLUDE_OUTBOUND_IP_RANGES);
  if (options.rewriteAppProbes !== undefined) out[A.REWRITE_APP_HTTP_PROBERS] = String(options.rewriteAppProbes);
  if (options.template !== undefined) {
    if (!Object.values(SidecarTemplate).includes(options.template)) {
      invalid(scope, 'template', options.template, `must be one of ${Object.values(SidecarTemplate).join(', ')}`);
    }
    out[A.TEMPLATES] = options.template === SidecarTemplate.GATEWAY ? TEMPLATE_GATEWAY : TEMPLATE_SIDECAR;
  }
  // ProxyConfig fields: merged over the proxy.istio.io/config already given (options.annotations, then the template)
  const pcPatch: { [key: string]: any } = {};
  if (options.concurrency !== undefined) {
    checkInteger(scope, 'concurrency', options.concurrency, 0, 2147483647);
    pcPatch.concurrency = options.concurrency;
  }
  if (options.holdApplicationUntilProxyStarts !== undefined) pcPatch.holdApplicationUntilProxyStarts = options.holdApplicationUntilProxyStarts;
  if (options.proxyMetadata !== undefined) {
    for (const [k, v] of Object.entries(options.proxyMetadata)) {
      if (!ENV_NAME.test(k)) invalid(scope, 'proxyMetadata key', k, 'must be an environment variable name: letters, digits and _, not starting with a digit');
      if (typeof v !== 'string') invalid(scope, `proxyMetadata['${k}']`, v, 'must be a string');
    }
    pcPatch.proxyMetadata = options.proxyMetadata;
  }
  if (Object.keys(pcPatch).length > 0) {
    const base = parseProxyConfig(scope, out[A.PROXY_CONFIG] ?? existingProxyConfig);
    const merged = { ...base, ...pcPatch };
    if (pcPatch.proxyMetadata && base.proxyMetadata) merged.proxyMetadata = { ...base.proxyMetadata, ...pcPatch.proxyMetadata };
    out[A.PROXY_CONFIG] = JSON.stringify(merged);
  }
  return out;
}

/** Whether any ProxyOptions field is set. @internal */
export function hasOptions(options: ProxyOptions | undefined): boolean {
  return Object.values(options ?? {}).some(v => v !== undefined);
}
