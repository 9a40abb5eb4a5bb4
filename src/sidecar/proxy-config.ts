/**
 * The proxy's ProxyConfig at injection: the mesh default (meshConfig.defaultConfig) with the pod's
 * `proxy.istio.io/config` merged over it, and its PROXY_CONFIG serialization.
 *
 * Facts from Istio 1.30.3: pkg/config/mesh/mesh.go (MergeProxyConfig: fields of the annotation replace the default's,
 * proxyMetadata maps are merged key by key), pkg/kube/inject/template.go (protoToJSON, cleanProxyConfig: fields equal
 * to mesh.DefaultProxyConfig() are left out), pkg/util/protomarshal (golang/protobuf jsonpb: fields in proto
 * declaration order, zero values left out, map keys sorted), and the istiod chart's mesh config
 * (templates/configmap.yaml: defaultConfig.discoveryAddress is `istiod[-<revision>].<namespace>.svc:15012`).
 * @internal
 */
import { Duration } from 'cdk8s';
import { invalid } from '../errors';
import type { IMesh } from '../mesh/mesh';
import { checkInteger } from '../validation';
import { INTERCEPTION_REDIRECT, PROXY_CONFIG_DEFAULTS, PROXY_CONFIG_FIELDS } from './constants';
import { IstioPorts } from '../mesh/constants';

type Json = { [key: string]: any };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A protobuf Duration in JSON: seconds with up to nine decimals, then `s`. */
const PROTO_DURATION = /^\d+(\.\d{1,9})?s$/;
const DURATION_FIELDS = ['drainDuration', 'terminationDrainDuration', 'discoveryRefreshDelay', 'fileFlushInterval'];
const MAP_FIELDS = ['proxyMetadata', 'runtimeValues'];
/** google.protobuf wrapper fields: an explicit 0 or false is written. */
const WRAPPER_FIELDS = ['concurrency', 'holdApplicationUntilProxyStarts', 'statsCompression'];

/** snake_case (the proto name, which jsonpb also accepts) to the JSON name. */
function jsonName(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** The top-level keys in their JSON names (a later duplicate wins, as in jsonpb). */
export function normalizeProxyConfig(raw: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(raw)) out[jsonName(k)] = v;
  return out;
}

/** A Duration as protobuf JSON, the way jsonpb writes it (`45s`, `1.500s`). */
export function protoDuration(d: Duration): string {
  const ms = d.toMilliseconds();
  const secs = Math.floor(ms / 1000);
  const millis = ms - secs * 1000;
  return millis === 0 ? `${secs}s` : `${secs}.${String(millis).padStart(3, '0')}s`;
}

/**
 * Validates a ProxyConfig given as JSON (from `proxy.istio.io/config`): only ProxyConfig fields; the fields injection
 * reads have the right types; fields that would change the pod in ways synth-time injection does not model are
 * rejected.
 */
export function checkProxyConfig(scope: string, field: string, pc: Json) {
  for (const [k, v] of Object.entries(pc)) {
    if (!PROXY_CONFIG_FIELDS.includes(k)) {
      invalid(scope, `${field}.${k}`, v, `is not a ProxyConfig field of Istio 1.30; fields: ${PROXY_CONFIG_FIELDS.join(', ')}`);
    }
  }
  if (pc.concurrency !== undefined) checkInteger(scope, `${field}.concurrency`, pc.concurrency, 0, 2147483647);
  if (pc.holdApplicationUntilProxyStarts !== undefined && typeof pc.holdApplicationUntilProxyStarts !== 'boolean') {
    invalid(scope, `${field}.holdApplicationUntilProxyStarts`, pc.holdApplicationUntilProxyStarts, 'must be true or false');
  }
  for (const k of DURATION_FIELDS) {
    if (pc[k] !== undefined && (typeof pc[k] !== 'string' || !PROTO_DURATION.test(pc[k]))) {
      invalid(scope, `${field}.${k}`, pc[k], "must be a protobuf duration in seconds, e.g. '30s' or '1.5s'");
    }
  }
  if (pc.discoveryAddress !== undefined && (typeof pc.discoveryAddress !== 'string' || !/^[^\s:]+:\d{1,5}$/.test(pc.discoveryAddress))) {
    invalid(scope, `${field}.discoveryAddress`, pc.discoveryAddress, "must be 'host:port', e.g. 'istiod.istio-system.svc:15012'");
  }
  for (const k of MAP_FIELDS) {
    const m = pc[k];
    if (m === undefined) continue;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) invalid(scope, `${field}.${k}`, m, 'must map names to strings');
    for (const [name, v] of Object.entries(m)) {
      if ((k === 'proxyMetadata' && !ENV_NAME.test(name)) || typeof v !== 'string') {
        invalid(scope, `${field}.${k} key`, name, k === 'proxyMetadata'
          ? 'must map environment variable names (letters, digits, _) to strings'
          : 'must map names to strings');
      }
    }
  }
  if (pc.interceptionMode !== undefined && pc.interceptionMode !== INTERCEPTION_REDIRECT) {
    invalid(scope, `${field}.interceptionMode`, pc.interceptionMode, "only 'REDIRECT' is supported by synth-time injection (TPROXY and NONE: use InjectionMode.WEBHOOK)");
  }
  if (pc.statusPort !== undefined && pc.statusPort !== IstioPorts.STATUS) {
    invalid(scope, `${field}.statusPort`, pc.statusPort, `only ${IstioPorts.STATUS} is supported by synth-time injection (the probe rewrite and metrics merge use it)`);
  }
  if (pc.image !== undefined) {
    invalid(scope, `${field}.image`, pc.image, 'is not supported by synth-time injection: set the image with sidecar.istio.io/proxyImage, or use InjectionMode.WEBHOOK');
  }
}

/** The mesh's default ProxyConfig, as the istiod chart writes meshConfig.defaultConfig (JSON names, proto JSON values). */
export function meshProxyConfig(mesh: IMesh): Json {
  const d = mesh.defaultProxyConfig;
  const out: Json = { discoveryAddress: mesh.discoveryAddress };
  if (d.drainDuration !== undefined) out.drainDuration = protoDuration(d.drainDuration);
  if (d.terminationDrainDuration !== undefined) out.terminationDrainDuration = protoDuration(d.terminationDrainDuration);
  if (d.concurrency !== undefined) out.concurrency = d.concurrency;
  if (d.proxyMetadata !== undefined && Object.keys(d.proxyMetadata).length) out.proxyMetadata = { ...d.proxyMetadata };
  if (d.holdApplicationUntilProxyStarts !== undefined) out.holdApplicationUntilProxyStarts = d.holdApplicationUntilProxyStarts;
  return out;
}

/** The pod's annotation ProxyConfig merged over the mesh default (MergeProxyConfig). */
export function mergeProxyConfig(base: Json, pod: Json): Json {
  const merged: Json = { ...base, ...pod };
  if (base.proxyMetadata || pod.proxyMetadata) merged.proxyMetadata = { ...base.proxyMetadata, ...pod.proxyMetadata };
  return merged;
}

function isZero(v: any): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

function sortedMap(m: Json): Json {
  const out: Json = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}

/**
 * PROXY_CONFIG's value: the ProxyConfig without the fields equal to Istio's defaults, in proto declaration order,
 * as one line of JSON (the template puts it in a block scalar, hence the final newline).
 */
export function proxyConfigEnvValue(pc: Json): string {
  const out: Json = {};
  for (const k of PROXY_CONFIG_FIELDS) {
    const v = pc[k];
    if (PROXY_CONFIG_DEFAULTS[k] !== undefined && v === PROXY_CONFIG_DEFAULTS[k]) continue;
    if (WRAPPER_FIELDS.includes(k)) {
      if (v !== undefined && v !== null) out[k] = v;
      continue;
    }
    if (isZero(v)) continue;
    out[k] = MAP_FIELDS.includes(k) ? sortedMap(v) : v;
  }
  return JSON.stringify(out) + '\n';
}
