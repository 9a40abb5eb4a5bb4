/**
 * Injection webhook checks: IST0139, IST0163, IST0164. @internal
 */
import { isIP } from 'net';
import { arr, canonical, Entry, Model } from '../model';

/**
 * IST0163 / IST0164 (Istio 1.30.3 externalcontrolplane.ExternalControlPlaneAnalyzer): Istio's validating
 * (`istiod-default-validator`, `istio-validator*`) and injection (`istio-sidecar-injector*`) webhooks must name a
 * Service or a URL, and a URL should name a host rather than an IP address.
 */
function checkExternalControlPlane(m: Model): void {
  const configs = [
    ...m.ofKind('ValidatingWebhookConfiguration').filter(c => c.name === 'istiod-default-validator' || c.name.startsWith('istio-validator')),
    ...m.ofKind('MutatingWebhookConfiguration').filter(c => c.name.startsWith('istio-sidecar-injector')),
  ];
  for (const cfg of configs) {
    for (const w of arr(cfg.obj.webhooks)) {
      const cc = w?.clientConfig ?? {};
      if (typeof cc.url === 'string') {
        let host: string;
        try {
          host = new URL(cc.url).hostname.replace(/^\[(.*)\]$/, '$1');
        } catch {
          m.report('IST0163', cfg, `The hostname (${cc.url}) that was provided for the webhook (${w?.name}) to reach the control plane was provided in an invalid format. Give a URL such as https://istiod.example.com:15017/inject.`);
          continue;
        }
        if (isIP(host)) {
          m.report('IST0164', cfg, `The address (${cc.url}) that was provided for the webhook (${w?.name}) to reach the control plane is an IP address. A hostname is recommended: an IP address does not survive a change of the load balancer.`);
        }
      } else if (!cc.service) {
        m.report('IST0163', cfg, `The hostname () that was provided for the webhook (${w?.name}) to reach the control plane is blank. Set clientConfig.service or clientConfig.url.`);
      }
    }
  }
}

/** Istio's sidecar injection webhooks are named `*.sidecar-injector.istio.io`. */
function isInjectionWebhook(w: any): boolean {
  return typeof w?.name === 'string' && w.name.endsWith('sidecar-injector.istio.io');
}

export function analyzeWebhooks(m: Model): void {
  checkExternalControlPlane(m);
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
