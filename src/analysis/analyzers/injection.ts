/**
 * Injection and workload checks: IST0102, IST0103, IST0123, IST0144, IST0146, IST0147, IST0148. @internal
 */
import { IstioAnnotations, IstioLabels, PROXY_UID } from '../../mesh/constants';
import { arr, Model, stringMap } from '../model';

const PROXY_CONTAINER = 'istio-proxy';
const AUTO_IMAGE = 'auto';
/** The ambient data plane label and value (Istio 1.30.3). */
const DATAPLANE_MODE = 'istio.io/dataplane-mode';
const AMBIENT = 'ambient';
/** The injector ConfigMap (`istio-sidecar-injector[-<rev>]`) and the values key Istio 1.30.3 reads. */
const INJECTOR_CONFIGMAP = 'istio-sidecar-injector';

/**
 * Whether the injector of a revision injects every namespace by default: the injector ConfigMap's `values` JSON
 * sets `sidecarInjectorWebhook.enableNamespacesByDefault` (Istio 1.30.3 injection.Analyzer).
 */
function injectsByDefault(m: Model, rev: string | undefined): boolean {
  const name = !rev || rev === 'default' ? INJECTOR_CONFIGMAP : `${INJECTOR_CONFIGMAP}-${rev}`;
  const cm = m.ofKind('ConfigMap').find(c => c.name === name);
  const values = cm?.obj.data?.values;
  if (typeof values !== 'string') return false;
  try {
    return JSON.parse(values)?.sidecarInjectorWebhook?.enableNamespacesByDefault === true;
  } catch {
    return false;
  }
}

export function analyzeInjection(m: Model): void {
  const injected = new Set<string>();
  for (const ns of m.ofKind('Namespace')) {
    if (ns.name === m.rootNamespace) continue;
    const labels = stringMap(ns.obj.metadata?.labels);
    const injection = labels[IstioLabels.INJECTION];
    // IST0123, the rule of Istio 1.30.3: the revision and data plane mode labels count when istio-injection is
    // absent or enabled.
    const set = injection !== undefined ? [`${IstioLabels.INJECTION}=${injection}`] : [];
    for (const l of [IstioLabels.REV, DATAPLANE_MODE]) {
      if (labels[l] !== undefined && (injection === undefined || injection === 'enabled')) set.push(`${l}=${labels[l]}`);
    }
    if (set.length > 1) {
      m.report('IST0123', ns, `The namespace has more than one injection label (${set.join(', ')}); only one of them takes effect. Keep only one.`);
    }
    if (labels[DATAPLANE_MODE] === AMBIENT) continue;
    if (injection === undefined && labels[IstioLabels.REV] === undefined) {
      if (injectsByDefault(m, labels[IstioLabels.REV])) {
        m.report('IST0148', ns, `The namespace is not labelled for injection, but the injector injects every namespace by default (enableNamespacesByDefault): its pods get sidecars. Label it ${IstioLabels.INJECTION}=disabled to opt out, or enabled to say so.`);
      } else {
        m.report('IST0102', ns, `The namespace is not enabled for Istio injection. Run 'kubectl label namespace ${ns.name} ${IstioLabels.INJECTION}=enabled' (or set ${IstioLabels.REV}) to enable it, or 'kubectl label namespace ${ns.name} ${IstioLabels.INJECTION}=disabled' to say it should not be.`);
      }
      continue;
    }
    if (injection === 'enabled') injected.add(ns.name);
  }
  // IST0103: a Pod in a namespace labelled istio-injection=enabled without a proxy (Istio 1.30.3 reads Pods only; a
  // workload template is injected when its pods are created).
  for (const w of m.workloads) {
    if (!w.isPod || !injected.has(w.ns)) continue;
    const opt = w.labels[IstioLabels.INJECT] ?? stringMap(w.podMetadata.annotations)[IstioAnnotations.INJECT] ?? '';
    if (opt.toLowerCase() === 'false' || w.podSpec.hostNetwork === true) continue;
    const proxy = [...arr(w.podSpec.containers), ...arr(w.podSpec.initContainers)].find((c: any) => c?.name === PROXY_CONTAINER);
    if (!proxy?.image) {
      m.report('IST0103', w.entry, `The pod ${w.ns}/${w.entry.name} is missing the Istio proxy, though its namespace is labelled for injection. Restart (recreate) the pod so that it is injected.`);
    }
  }
  for (const w of m.workloads) {
    const podUid = w.podSpec.securityContext?.runAsUser;
    const containers = [...arr(w.podSpec.containers), ...arr(w.podSpec.initContainers)];
    for (const c of containers) {
      if (c?.name === PROXY_CONTAINER || c?.name === 'istio-init' || c?.name === 'istio-validation') continue;
      const uid = c?.securityContext?.runAsUser ?? podUid;
      if (uid === PROXY_UID) {
        m.report('IST0144', w.entry, `User ID (UID) ${PROXY_UID} is reserved for the sidecar proxy, but container ${c?.name} runs as it: its traffic bypasses the proxy. Run the application as another UID.`);
      }
    }
    // image: auto is filled in by injection; without injection the pod cannot start.
    if (!arr(w.podSpec.containers).some((c: any) => c?.image === AUTO_IMAGE)) continue;
    const nsObj = m.get('Namespace', undefined, w.ns);
    if (!nsObj) continue; // injection of namespaces outside the input is unknown
    const nsLabels = stringMap(nsObj.obj.metadata?.labels);
    const podLabels = w.labels;
    const podAnnotations = stringMap(w.podMetadata.annotations);
    const nsInjects = nsLabels[IstioLabels.INJECTION] === 'enabled' || nsLabels[IstioLabels.REV] !== undefined;
    const podInjects = podLabels[IstioLabels.INJECT] === 'true' || podLabels[IstioLabels.REV] !== undefined;
    const optedOut = podLabels[IstioLabels.INJECT] === 'false' || podAnnotations[IstioAnnotations.INJECT] === 'false'
      || nsLabels[IstioLabels.INJECTION] === 'disabled';
    if ((nsInjects || podInjects) && !optedOut) continue;
    const code = w.isPod ? 'IST0147' : 'IST0146';
    m.report(code, w.entry, `${w.entry.kind} ${w.entry.name} uses image: auto, but no injection webhook will inject it (namespace ${w.ns} is not enabled for injection and the pod is not labelled for it), so the image is never set. Enable injection or give a real image.`);
  }
}
