/**
 * The rule of every external destination's host in the library (`ExternalService`, telemetry collectors outside the
 * cluster). @internal
 */

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether a host names something inside the cluster (Kubernetes service DNS, the API server). */
function clusterInternal(labels: string[]): boolean {
  const last = labels.length - 1;
  return labels[last] === 'svc'
    || labels.some((l, i) => i >= 2 && l === 'svc') // <service>.<namespace>.svc.<cluster domain>
    || labels.slice(-2).join('.') === 'cluster.local'
    || (labels[0] === 'kubernetes' && labels[1] === 'default');
}

/**
 * What is wrong with an external host, if anything (undefined when it is fine): the rule of every external
 * destination of the library (`ExternalService`, telemetry collectors outside the cluster). @internal
 */
export function externalHostProblem(host: string, o: { readonly tcp: boolean; readonly originateTls: boolean }): string | undefined {
  const what = "must be a lowercase fully qualified DNS name such as 'api.example.com' (labels of letters, digits and '-', at most 253 characters)";
  if (typeof host !== 'string' || host.length === 0 || host.length > 253) return what;
  const wildcard = host.startsWith('*.');
  const labels = (wildcard ? host.slice(2) : host).split('.');
  if (labels.length < 2 || labels.some(l => l.length > 63 || !LABEL.test(l)) || /^\d+$/.test(labels[labels.length - 1])) {
    return what + (host.includes('*') ? "; a wildcard is allowed only as a leading '*.' label" : '');
  }
  if (clusterInternal(host.split('.'))) {
    return "is a cluster-internal name (Kubernetes service DNS '*.svc', '*.svc.<cluster domain>', '*.cluster.local' or the API server 'kubernetes.default'), not an external destination: declare the service in the mesh";
  }
  if (wildcard) {
    if (o.tcp) {
      return 'must not be a wildcard for TCP: TCP carries no host name to match on; give the exact host and its addresses';
    }
    if (o.originateTls) {
      return 'must not be a wildcard with originateTls: the proxy needs one concrete name to resolve and to send as SNI';
    }
  }
  return undefined;
}
