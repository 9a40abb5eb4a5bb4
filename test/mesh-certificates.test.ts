import { Duration, Testing } from 'cdk8s';
import {
  CaIssuerType, CaKeyAlgorithm, IssuerKind, IstioControlPlane, IstioControlPlaneProps, Mesh, MeshCertificates, MeshProps,
} from '../src';
import { one, ofKind, synthValid, yamlOf } from './util';

function install(certificates: MeshCertificates, meshProps: MeshProps = {}, props: Partial<IstioControlPlaneProps> = {}) {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', meshProps);
  const cp = new IstioControlPlane(chart, 'istio', { mesh, certificates, ...props });
  return { chart, mesh, cp };
}

const CERT_KINDS = ['Certificate', 'Issuer', 'ClusterIssuer'];
const certObjects = (objects: any[]) => objects.filter(o => CERT_KINDS.includes(o.kind));

describe('MeshCertificates.certManager', () => {
  const { chart, cp } = install(MeshCertificates.certManager());
  const objects = synthValid(chart);

  test('self-signed ClusterIssuer -> root CA -> CA Issuer -> intermediate cacerts, in that order', () => {
    expect(certObjects(objects).map(o => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      'ClusterIssuer//istio-system-selfsigned',
      'Certificate/istio-system/istio-root-ca',
      'Issuer/istio-system/istio-root-ca',
      'Certificate/istio-system/cacerts',
    ]);
    expect(one(objects, 'ClusterIssuer').spec).toEqual({ selfSigned: {} });
    expect(one(objects, 'Issuer').spec).toEqual({ ca: { secretName: 'istio-root-ca' } });
  });

  test('root: a long-lived CA signed by the self-signed issuer', () => {
    const root = one(objects, 'Certificate', 'istio-root-ca');
    expect(root.spec).toEqual({
      secretName: 'istio-root-ca',
      secretTemplate: { labels: expect.any(Object) },
      isCA: true,
      commonName: 'Istio root CA',
      subject: { organizations: ['cluster.local'] },
      duration: '87600h',
      renewBefore: '29200h',
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Never' },
      usages: ['digital signature', 'cert sign', 'crl sign'],
      issuerRef: { name: 'istio-system-selfsigned', kind: 'ClusterIssuer', group: 'cert-manager.io' },
    });
  });

  test('intermediate: Secret cacerts in the root namespace, 1 year renewed at 2/3, with the CA SPIFFE identity', () => {
    const cert = one(objects, 'Certificate', 'cacerts');
    expect(cert.metadata.namespace).toBe('istio-system');
    expect(cert.spec).toEqual({
      secretName: 'cacerts',
      secretTemplate: { labels: expect.any(Object) },
      isCA: true,
      commonName: 'Istio intermediate CA',
      subject: { organizations: ['cluster.local'] },
      uris: ['spiffe://cluster.local/ns/istio-system/sa/citadel'],
      duration: '8760h',
      renewBefore: '2920h',
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      usages: ['digital signature', 'cert sign', 'crl sign'],
      issuerRef: { name: 'istio-root-ca', kind: 'Issuer', group: 'cert-manager.io' },
    });
  });

  test('istiod mounts cacerts and waits for it; it never writes its own CA secret', () => {
    const pod = one(objects, 'Deployment', 'istiod').spec.template.spec;
    expect(pod.volumes.find((v: any) => v.name === 'cacerts')).toEqual({ name: 'cacerts', secret: { secretName: 'cacerts', optional: false } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'cacerts', mountPath: '/etc/cacerts', readOnly: true });
    expect(pod.containers[0].env.map((e: any) => e.name)).not.toContain('ENABLE_CA_SERVER');
    expect(one(objects, 'Role', 'istiod').rules.find((r: any) => r.resources.includes('secrets')).verbs).toEqual(['get', 'list', 'watch']);
    expect(cp.certificatesConfig).toEqual({ istiodEnv: {}, cacertsRequired: true, istiodIsCa: true, istiodSelfSigns: false });
    // the certificates come before istiod in the output
    const idx = (kind: string, name: string) => objects.findIndex(o => o.kind === kind && o.metadata.name === name);
    expect(idx('Certificate', 'cacerts')).toBeLessThan(idx('Deployment', 'istiod'));
  });

  test('trust domain, root namespace and options flow into the certificates', () => {
    const { chart: c } = install(MeshCertificates.certManager({
      keyAlgorithm: CaKeyAlgorithm.rsa(3072),
      rootKeyAlgorithm: CaKeyAlgorithm.ecdsaP384(),
      duration: Duration.days(30),
      renewBefore: Duration.days(10),
      rootDuration: Duration.days(365 * 5),
      organizations: ['Example Corp'],
    }), { trustDomain: 'example.org', rootNamespace: 'mesh-system' });
    const all = synthValid(c);
    const inter = one(all, 'Certificate', 'cacerts');
    expect(inter.metadata.namespace).toBe('mesh-system');
    expect(inter.spec).toMatchObject({
      uris: ['spiffe://example.org/ns/mesh-system/sa/citadel'],
      duration: '720h',
      renewBefore: '240h',
      privateKey: { algorithm: 'RSA', size: 3072 },
      subject: { organizations: ['Example Corp'] },
    });
    expect(one(all, 'Certificate', 'istio-root-ca').spec).toMatchObject({
      duration: '43800h', renewBefore: '14600h', privateKey: { algorithm: 'ECDSA', size: 384 },
    });
    expect(one(all, 'ClusterIssuer').metadata.name).toBe('mesh-system-selfsigned');
  });

  test('YAML snapshot of the certificate objects', () => {
    expect(yamlOf(certObjects(objects))).toMatchSnapshot();
  });
});

describe('MeshCertificates.fromIssuer', () => {
  test('only the intermediate, signed by the existing ClusterIssuer', () => {
    const { chart } = install(MeshCertificates.fromIssuer({ issuerName: 'vault-issuer', issuerType: CaIssuerType.VAULT, kind: IssuerKind.CLUSTER_ISSUER }));
    const objects = synthValid(chart);
    expect(certObjects(objects).map(o => `${o.kind}/${o.metadata.name}`)).toEqual(['Certificate/cacerts']);
    expect(one(objects, 'Certificate').spec.issuerRef).toEqual({ name: 'vault-issuer', kind: 'ClusterIssuer', group: 'cert-manager.io' });
    expect(one(objects, 'Deployment').spec.template.spec.volumes.find((v: any) => v.name === 'cacerts').secret.optional).toBe(false);
  });

  test('a namespaced Issuer by default; external issuer groups', () => {
    const { chart } = install(MeshCertificates.fromIssuer({ issuerName: 'org-root', issuerType: CaIssuerType.EXTERNAL_CA, group: 'awspca.cert-manager.io' }));
    const objects = synthValid(chart);
    expect(one(objects, 'Certificate').spec.issuerRef).toEqual({ name: 'org-root', kind: 'Issuer', group: 'awspca.cert-manager.io' });
  });

  test('the issuer must be stated to return its CA (ca.crt), or istiod exits on an incomplete signing CA bundle', () => {
    // an ACME or Venafi issuer signs without returning ca.crt: istiod would exit with `incomplete signing CA bundle detected`
    expect(() => install(MeshCertificates.fromIssuer({ issuerName: 'letsencrypt' } as any)))
      .toThrow(/istio\/certificates: issuerType \(not set\) is invalid: .*ca\.crt.*incomplete signing CA bundle.*CaIssuerType/);
    expect(() => install(MeshCertificates.fromIssuer({ issuerName: 'x', issuerType: 'ACME' as any })))
      .toThrow(/istio\/certificates: issuerType 'ACME' is invalid: must be one of CA, VAULT, EXTERNAL_CA/);
    // cert-manager's own CA and Vault issuers live in cert-manager.io; an external CA issuer has its own group
    expect(() => install(MeshCertificates.fromIssuer({ issuerName: 'x', issuerType: CaIssuerType.EXTERNAL_CA })))
      .toThrow(/istio\/certificates: group 'cert-manager.io' is invalid: CaIssuerType.EXTERNAL_CA is an external issuer with its own API group/);
    expect(() => install(MeshCertificates.fromIssuer({ issuerName: 'x', issuerType: CaIssuerType.CA, group: 'awspca.cert-manager.io' })))
      .toThrow(/istio\/certificates: group 'awspca.cert-manager.io' is invalid: CaIssuerType.CA is a cert-manager.io issuer/);
    const { chart } = install(MeshCertificates.fromIssuer({ issuerName: 'org-ca', issuerType: CaIssuerType.CA }));
    expect(one(synthValid(chart), 'Certificate').spec.issuerRef).toEqual({ name: 'org-ca', kind: 'Issuer', group: 'cert-manager.io' });
  });
});

describe('MeshCertificates.istioCsr', () => {
  const csr = 'cert-manager-istio-csr.cert-manager.svc:443';

  test('istiod runs without its CA server; proxies use istio-csr', () => {
    const { chart, mesh } = install(MeshCertificates.istioCsr(), { caAddress: csr });
    const objects = synthValid(chart);
    expect(certObjects(objects)).toEqual([]);
    const env = one(objects, 'Deployment').spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'ENABLE_CA_SERVER', value: 'false' });
    expect(env.map((e: any) => e.name).indexOf('ENABLE_CA_SERVER')).toBe(6);
    expect(JSON.parse(one(objects, 'ConfigMap', 'istio-sidecar-injector').data.values).global.caAddress).toBe(csr);
    expect(mesh.caAddress).toBe(csr);
    // istiod's serving certificate comes from istio-csr's istiod-tls Secret
    expect(one(objects, 'Deployment').spec.template.spec.volumes).toContainEqual({ name: 'istio-csr-dns-cert', secret: { secretName: 'istiod-tls', optional: true } });
  });

  test('the mesh must send proxies to the same CA', () => {
    expect(() => install(MeshCertificates.istioCsr())).toThrow(
      /istio: mesh.caAddress 'istiod.istio-system.svc:15012' is invalid: must be 'cert-manager-istio-csr.cert-manager.svc:443' with this certificate setup/);
  });

  test('a custom address', () => {
    const { mesh } = install(MeshCertificates.istioCsr({ caAddress: 'istio-csr.pki.svc:443' }), { caAddress: 'istio-csr.pki.svc:443' });
    expect(mesh.caAddress).toBe('istio-csr.pki.svc:443');
    expect(() => install(MeshCertificates.istioCsr({ caAddress: 'https://x' }), { caAddress: 'x.svc:443' }))
      .toThrow(/certificates.caAddress 'https:\/\/x' is invalid: must be 'host:port'/);
  });
});

describe('MeshCertificates: bad input', () => {
  test('RSA below 2048 bits', () => {
    expect(() => install(MeshCertificates.certManager({ keyAlgorithm: CaKeyAlgorithm.rsa(1024) })))
      .toThrow(/istio\/certificates: keyAlgorithm 'RSA 1024' is invalid: RSA keys must be 2048, 3072, 4096 bits/);
    expect(() => install(MeshCertificates.certManager({ rootKeyAlgorithm: CaKeyAlgorithm.rsa(512) })))
      .toThrow(/rootKeyAlgorithm 'RSA 512' is invalid/);
  });

  test('renewBefore equal to or longer than the duration', () => {
    expect(() => install(MeshCertificates.certManager({ duration: Duration.days(30), renewBefore: Duration.days(30) })))
      .toThrow(/istio\/certificates: renewBefore '30 days' is invalid: must be shorter than the certificate's duration \(30 days\)/);
    expect(() => install(MeshCertificates.fromIssuer({ issuerName: 'x', issuerType: CaIssuerType.CA, duration: Duration.hours(2), renewBefore: Duration.hours(3) })))
      .toThrow(/renewBefore '3 hours' is invalid: must be shorter/);
    expect(() => install(MeshCertificates.certManager({ rootDuration: Duration.days(400), rootRenewBefore: Duration.days(500) })))
      .toThrow(/rootRenewBefore '500 days' is invalid/);
  });

  test('durations below cert-manager minimums, and an intermediate outliving the root', () => {
    expect(() => install(MeshCertificates.certManager({ duration: Duration.minutes(30) }))).toThrow(/duration '30 minutes' is invalid: must be at least one hour/);
    expect(() => install(MeshCertificates.certManager({ duration: Duration.hours(1), renewBefore: Duration.minutes(1) }))).toThrow(/renewBefore '1 minute' is invalid: must be at least 5 minutes/);
    expect(() => install(MeshCertificates.certManager({ duration: Duration.days(4000) }))).toThrow(/duration '4000 days' is invalid: the intermediate CA must not outlive the root/);
  });

  test('invalid issuer names and groups', () => {
    expect(() => install(MeshCertificates.fromIssuer({ issuerName: 'Vault_Issuer', issuerType: CaIssuerType.VAULT })))
      .toThrow(/istio\/certificates: issuerName 'Vault_Issuer' is invalid: must be a DNS subdomain/);
    expect(() => install(MeshCertificates.fromIssuer({ issuerName: '', issuerType: CaIssuerType.CA }))).toThrow(/issuerName '' is invalid/);
    expect(() => install(MeshCertificates.fromIssuer({ issuerName: 'ok', issuerType: CaIssuerType.EXTERNAL_CA, group: 'Not A Group' }))).toThrow(/group 'Not A Group' is invalid/);
  });

  test('empty organization', () => {
    expect(() => install(MeshCertificates.certManager({ organizations: [''] }))).toThrow(/organizations '' is invalid/);
  });
});

test('no synthesized document contains a private key', () => {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh');
  new IstioControlPlane(chart, 'istio', { mesh, certificates: MeshCertificates.certManager() });
  const other = Testing.chart();
  const mesh2 = new Mesh(other, 'mesh', { revision: '1-30' });
  new IstioControlPlane(other, 'istio', { mesh: mesh2, certificates: MeshCertificates.fromIssuer({ issuerName: 'vault', issuerType: CaIssuerType.VAULT }) });
  const docs = [...Testing.synth(chart), ...Testing.synth(other)];
  expect(ofKind(docs, 'Secret')).toEqual([]);
  // the serialized objects hold every string the YAML holds, verbatim (no folding, markers on one line)
  for (const d of docs) expect(JSON.stringify(d)).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
});
