/**
 * Checks of the installation as the input describes it: IST0158 (Istio 1.30.3 injection.ImageAnalyzer) and IST0175
 * (authn.BlockedCIDRsAnalyzer). @internal
 */
import * as YAML from 'yaml';
import { IstioLabels } from '../../mesh/constants';
import { arr, Model, stringMap } from '../model';

/** Service registries meshNetworks may name besides remote clusters (Istio 1.30.3 provider IDs). */
const BUILTIN_REGISTRIES = ['Mock', 'Kubernetes', 'External'];
const MULTICLUSTER_SECRET_LABEL = 'istio/multiCluster';

/**
 * IST0126: a meshNetworks endpoint `fromRegistry` that names neither a built-in registry nor a remote cluster (a key
 * of a Secret labelled `istio/multiCluster: "true"`). meshNetworks is read from the `istio` ConfigMap(s) of the root
 * namespace (`data.meshNetworks`).
 */
function checkMeshNetworks(m: Model): void {
  const registries = new Set(BUILTIN_REGISTRIES);
  for (const s of m.ofKind('Secret')) {
    if (stringMap(s.obj.metadata?.labels)[MULTICLUSTER_SECRET_LABEL] !== 'true') continue;
    for (const k of [...Object.keys(s.obj.data ?? {}), ...Object.keys(s.obj.stringData ?? {})]) registries.add(k);
  }
  for (const cm of m.ofKind('ConfigMap')) {
    if (cm.ns !== m.rootNamespace || !(cm.name === 'istio' || cm.name.startsWith('istio-')) || typeof cm.obj.data?.meshNetworks !== 'string') continue;
    let networks: any;
    try {
      networks = YAML.parse(cm.obj.data.meshNetworks)?.networks;
    } catch {
      continue;
    }
    if (!networks || typeof networks !== 'object') continue;
    for (const name of Object.keys(networks).sort()) {
      for (const e of arr(networks[name]?.endpoints)) {
        if (typeof e?.fromRegistry === 'string' && !registries.has(e.fromRegistry)) {
          m.report('IST0126', cm, `Unknown service registry ${e.fromRegistry} in network ${name}. Name a cluster whose remote secret (label ${MULTICLUSTER_SECRET_LABEL}=true) is installed, or one of ${BUILTIN_REGISTRIES.join(', ')}.`);
        }
      }
    }
  }
}

const INJECTOR_CONFIGMAP = 'istio-sidecar-injector';
const PROXY_IMAGE_ANNOTATION = 'sidecar.istio.io/proxyImage';
/** The istiod environment variable that limits the addresses JWKS URIs may resolve to (Istio 1.30.3). */
const BLOCKED_CIDRS = 'BLOCKED_CIDRS_IN_JWKS_URIS';

/** The proxy image an injector ConfigMap's `values` JSON configures: global.proxy.image, with hub and tag. */
function injectorProxyImage(values: unknown): string | undefined {
  if (typeof values !== 'string') return undefined;
  let g: any;
  try {
    g = JSON.parse(values)?.global;
  } catch {
    return undefined;
  }
  const image = typeof g?.proxy?.image === 'string' ? g.proxy.image : '';
  if (image.includes('/')) return image;
  return `${g?.hub ?? ''}/${image}:${g?.tag ?? ''}`;
}

export function analyzeControlPlane(m: Model): void {
  checkMeshNetworks(m);
  // IST0158: Pods of an injected namespace whose istio-proxy image is not the one its injector would give.
  const images = new Map<string, string>();
  for (const cm of m.ofKind('ConfigMap')) {
    if (!cm.name.startsWith(INJECTOR_CONFIGMAP)) continue;
    const image = injectorProxyImage(cm.obj.data?.values);
    if (image) images.set(cm.name, image);
  }
  if (images.size) {
    const mismatched = new Map<string, string[]>();
    for (const ns of m.ofKind('Namespace')) {
      const labels = stringMap(ns.obj.metadata?.labels);
      const rev = labels[IstioLabels.REV];
      if (labels[IstioLabels.INJECTION] !== 'enabled' && rev === undefined) continue;
      const expected = images.get(!rev || rev === 'default' ? INJECTOR_CONFIGMAP : `${INJECTOR_CONFIGMAP}-${rev}`);
      if (!expected) continue;
      for (const w of m.workloads) {
        if (!w.isPod || w.ns !== ns.name || stringMap(w.podMetadata.annotations)[PROXY_IMAGE_ANNOTATION]) continue;
        const proxy = [...arr(w.podSpec.containers), ...arr(w.podSpec.initContainers)].find((c: any) => c?.name === 'istio-proxy');
        // the image may carry a variant suffix (-distroless, -debug)
        if (proxy && proxy.image !== expected && !(typeof proxy.image === 'string' && proxy.image.startsWith(`${expected}-`))) {
          const l = mismatched.get(ns.name) ?? [];
          l.push(w.entry.name);
          mismatched.set(ns.name, l);
        }
      }
      const pods = mismatched.get(ns.name);
      if (pods) {
        m.report('IST0158', ns, `The Istio proxy image of these pods does not match the injector's (${expected}): ${pods.sort().join(', ')}. Restart them to inject the current proxy.`);
      }
    }
  }
  // IST0175: RequestAuthentications while istiod does not restrict the addresses it fetches JWKS from.
  const ras = m.ofKind('RequestAuthentication').map(r => `${r.ns}/${r.name}`);
  if (ras.length === 0) return;
  for (const d of m.ofKind('Deployment')) {
    if (stringMap(d.obj.metadata?.labels).app !== 'istiod') continue;
    const env = arr(d.obj.spec?.template?.spec?.containers).flatMap((c: any) => arr(c?.env));
    if (env.some((e: any) => e?.name === BLOCKED_CIDRS && typeof e?.value === 'string' && e.value !== '')) continue;
    const names = ras.length <= 5 ? ras.join(', ') : `${ras.slice(0, 5).join(', ')}, and ${ras.length - 5} more`;
    m.report('IST0175', d, `${ras.length} RequestAuthentication(s) (${names}) make istiod fetch JWKS URIs, and ${BLOCKED_CIDRS} is not set on istiod: a jwksUri may reach internal addresses. Set ${BLOCKED_CIDRS} (e.g. 169.254.0.0/16,127.0.0.0/8) on istiod.`);
  }
}
