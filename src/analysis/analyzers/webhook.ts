/**
 * Injection webhook checks: IST0139. @internal
 */
import { arr, canonical, Entry, Model } from '../model';

/** Istio's sidecar injection webhooks are named `*.sidecar-injector.istio.io`. */
function isInjectionWebhook(w: any): boolean {
  return typeof w?.name === 'string' && w.name.endsWith('sidecar-injector.istio.io');
}

export function analyzeWebhooks(m: Model): void {
  const bySelectors = new Map<string, Array<{ cfg: Entry; name: string }>>();
  for (const cfg of m.ofKind('MutatingWebhookConfiguration')) {
    for (const w of arr(cfg.obj.webhooks)) {
      if (!isInjectionWebhook(w)) continue;
      const svc = w?.clientConfig?.service;
      if (svc?.name && svc?.namespace && !m.exists('Service', svc.namespace, svc.name)) {
        m.report('IST0139', cfg, `Webhook ${w.name} points to Service ${svc.namespace}/${svc.name}, which does not exist, so pod creation in the selected namespaces fails or goes uninjected. Fix clientConfig.service.`);
      }
      const k = canonical({ ns: w?.namespaceSelector ?? {}, obj: w?.objectSelector ?? {} });
      const l = bySelectors.get(k) ?? [];
      l.push({ cfg, name: w.name });
      bySelectors.set(k, l);
    }
  }
  for (const list of bySelectors.values()) {
    if (new Set(list.map(l => l.cfg)).size < 2) continue;
    const reported = new Set<Entry>();
    for (const { cfg, name } of list) {
      if (reported.has(cfg)) continue;
      reported.add(cfg);
      const others = list.filter(o => o.cfg !== cfg).map(o => `${o.cfg.name} (${o.name})`).join(', ');
      m.report('IST0139', cfg, `Webhook ${name} selects the same namespaces and objects as ${others}: pods would be injected twice. Give each revision distinct selectors.`);
    }
  }
}
