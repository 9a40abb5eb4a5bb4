/**
 * The resources `istioctl analyze` adds when it analyzes files only (Istio 1.30.3, pkg/config/analysis/local
 * defaults.go, AddDefaultResources): the default ingress gateway, a Pod labelled `istio: ingressgateway` with an
 * istio-proxy container and its Service `istio-ingressgateway`, in Istio's namespace. Gateways selecting
 * `istio: ingressgateway` therefore find a workload, as they would in a default installation. @internal
 */
import { InputDocument } from './model';

/** The mesh config default `ingressService` (Istio 1.30.3). */
export const DEFAULT_INGRESS_SERVICE = 'istio-ingressgateway';

/** The default resources, for Istio's namespace `ns`. */
export function defaultResources(ns: string): InputDocument[] {
  const labels = { istio: 'ingressgateway' };
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${DEFAULT_INGRESS_SERVICE}-dummypod`, namespace: ns, labels },
    spec: { containers: [{ name: 'istio-proxy', image: 'proxyv2' }] },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: DEFAULT_INGRESS_SERVICE, namespace: ns },
    spec: {
      selector: labels,
      ports: [
        { name: 'http2', port: 80, protocol: 'TCP', targetPort: 80 },
        { name: 'https', port: 443, protocol: 'TCP', targetPort: 443 },
        { name: 'tcp', port: 31400, protocol: 'TCP', targetPort: 31400 },
        { name: 'tls', port: 15443, protocol: 'TCP', targetPort: 15443 },
      ],
    },
  };
  return [{ object: pod }, { object: service }];
}

/** Whether an object is one of the default resources (findings about them are not the user's). */
export function isDefaultResource(ref: { kind: string; namespace?: string; name: string }, ns: string): boolean {
  return ref.namespace === ns && ((ref.kind === 'Pod' && ref.name === `${DEFAULT_INGRESS_SERVICE}-dummypod`)
    || (ref.kind === 'Service' && ref.name === DEFAULT_INGRESS_SERVICE));
}
