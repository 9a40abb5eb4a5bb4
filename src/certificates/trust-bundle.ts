/**
 * The mesh's root certificates published by trust-manager (a `Bundle`, trust.cert-manager.io/v1alpha1): the
 * current root and, during a rotation's overlap, the previous ones. Only public certificates: a private key given
 * here is refused and never shown.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { IMesh } from '../mesh/mesh';
import { checkDnsSubdomain, checkLabels } from '../validation';

/** Options of the trust-manager Bundle that publishes the mesh's root certificates (`CertManagerCaOptions.trustBundle`). */
export interface RootTrustBundleOptions {
  /**
   * The name of the Bundle (cluster-scoped) and of the ConfigMap it writes in each selected namespace. Must not be
   * `istio-ca-root-cert`, which istiod owns and rewrites.
   * @default '<root namespace>-ca-roots' (e.g. 'istio-system-ca-roots')
   */
  readonly name?: string;
  /**
   * Secrets in trust-manager's trust namespace (the mesh's root namespace) that hold previous root certificates in
   * `tls.crt`, kept trusted during a rotation's overlap. Remove them once every workload certificate is signed by
   * the new root.
   * @default - none
   */
  readonly previousRootSecrets?: string[];
  /**
   * Previous root certificates as PEM text (`-----BEGIN CERTIFICATE-----` blocks only), kept trusted during a
   * rotation's overlap. Certificates are public; anything with a private key is refused.
   * @default - none
   */
  readonly previousRootsPem?: string[];
  /**
   * Labels a namespace must carry to receive the ConfigMap.
   * @default - every namespace
   */
  readonly namespaceLabels?: { [key: string]: string };
}

/** The key of the root bundle in the target ConfigMap (the key Istio uses in `istio-ca-root-cert`). */
export const TRUST_BUNDLE_KEY = 'root-cert.pem';
/** istiod's own root ConfigMap: it rewrites it, so a Bundle must never target it. */
const ISTIOD_ROOT_CONFIGMAP = 'istio-ca-root-cert';
const PEM_CERTIFICATES = /^(-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*)+$/;

/** Renders the Bundle for the root CA Certificate `root` (Secret of the same name). @internal */
export function renderTrustBundle(scope: Construct, mesh: IMesh, root: ApiObject, o: RootTrustBundleOptions): ApiObject {
  const name = o.name ?? `${mesh.rootNamespace}-ca-roots`;
  checkDnsSubdomain(scope, 'trustBundle.name', name);
  if (name === ISTIOD_ROOT_CONFIGMAP) {
    invalid(scope, 'trustBundle.name', name, `must not be ${ISTIOD_ROOT_CONFIGMAP}: istiod owns that ConfigMap and rewrites it; pick another name`);
  }
  const secrets = o.previousRootSecrets ?? [];
  for (const s of secrets) {
    checkDnsSubdomain(scope, 'trustBundle.previousRootSecrets', s);
    if (s === root.name) invalid(scope, 'trustBundle.previousRootSecrets', s, 'is the current root\'s Secret: list only previous roots');
  }
  const pems = o.previousRootsPem ?? [];
  pems.forEach((pem, i) => {
    if (typeof pem !== 'string' || /PRIVATE KEY/.test(pem)) {
      // never echo what may be key material
      invalid(scope, `trustBundle.previousRootsPem[${i}]`, '<not shown: it holds a private key>', 'must be certificates only (-----BEGIN CERTIFICATE----- blocks); a private key must never be written to a manifest');
    }
    if (!PEM_CERTIFICATES.test(pem)) {
      invalid(scope, `trustBundle.previousRootsPem[${i}]`, `<${pem.length} characters, not shown>`, 'must be PEM certificates: one or more -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE----- blocks and nothing else');
    }
  });
  checkLabels(scope, 'trustBundle.namespaceLabels', o.namespaceLabels);
  const labels = o.namespaceLabels && Object.keys(o.namespaceLabels).length
    ? Object.fromEntries(Object.keys(o.namespaceLabels).sort().map(k => [k, o.namespaceLabels![k]]))
    : undefined;
  const bundle = new ApiObject(scope, 'trust-bundle', {
    apiVersion: 'trust.cert-manager.io/v1alpha1',
    kind: 'Bundle',
    metadata: { name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY, 'app.kubernetes.io/part-of': 'istio', 'app.kubernetes.io/component': 'mesh-ca' } },
    spec: {
      sources: [
        { secret: { name: root.name, key: 'tls.crt' } },
        ...[...new Set(secrets)].sort().map(s => ({ secret: { name: s, key: 'tls.crt' } })),
        ...pems.map(pem => ({ inLine: pem.trim() + '\n' })),
      ],
      target: { configMap: { key: TRUST_BUNDLE_KEY }, ...(labels ? { namespaceSelector: { matchLabels: labels } } : {}) },
    },
  });
  bundle.node.addDependency(root);
  return bundle;
}
