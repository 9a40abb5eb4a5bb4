/**
 * Injection and workload checks: IST0123, IST0144, IST0146, IST0147. @internal
 */
import { IstioAnnotations, IstioLabels, PROXY_UID } from '../../mesh/constants';
import { arr, Model, stringMap } from '../model';

const PROXY_CONTAINER = 'istio-proxy';
const AUTO_IMAGE = 'auto';

export function analyzeInjection(m: Model): void {
  for (const ns of m.ofKind('Namespace')) {
    const labels = stringMap(ns.obj.metadata?.labels);
    if (labels[IstioLabels.INJECTION] !== undefined && labels[IstioLabels.REV] !== undefined) {
      m.report('IST0123', ns, `The namespace has both ${IstioLabels.INJECTION} and ${IstioLabels.REV} labels; ${IstioLabels.INJECTION} wins and the revision is ignored. Keep only one of them.`);
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
