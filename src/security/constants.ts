/**
 * Upstream facts the security constructs read (Kubernetes Pod Security Admission, NetworkPolicy conventions, the
 * cluster DNS add-on). Istio's own ports and labels are in src/mesh/constants.ts.
 * @internal
 */

/**
 * Pod Security Admission namespace labels (kubernetes.io/docs/concepts/security/pod-security-admission):
 * `pod-security.kubernetes.io/<mode>` and `pod-security.kubernetes.io/<mode>-version`.
 */
export const PSA_LABEL_PREFIX = 'pod-security.kubernetes.io/';

/**
 * The label every namespace carries with its own name (set by the API server since Kubernetes 1.22); NetworkPolicy
 * `namespaceSelector`s select namespaces by it.
 */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** The namespace and pod label of the cluster DNS add-on (CoreDNS keeps kube-dns' `k8s-app: kube-dns` label). */
export const CLUSTER_DNS = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, port: 53 } as const;

/**
 * Capabilities the Pod Security Standards' `baseline` level allows to add (kubernetes.io/docs/concepts/security/
 * pod-security-standards, "Capabilities"). NET_ADMIN and NET_RAW, which Istio's `istio-init` container adds, are not
 * among them; `restricted` allows only NET_BIND_SERVICE.
 */
export const BASELINE_ALLOWED_CAPABILITIES: readonly string[] = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP',
  'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
];

/** IPv4 and IPv6 "anywhere": a NetworkPolicy cannot name a DNS host, only address blocks. */
export const ANYWHERE_CIDRS: readonly string[] = ['0.0.0.0/0', '::/0'];
