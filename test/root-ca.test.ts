/**
 * The mesh's root CA (MeshCertificates.certManager): a root that keeps its key, sane lifetimes, and a trust-manager
 * Bundle for a rotation's overlap.
 */
import { Duration, Testing } from 'cdk8s';
import { IstioControlPlane, Mesh, MeshCertificates, MeshProps } from '../src';
import { one, ofKind, synthValid, yamlOf } from './util';
import { CertManagerCaOptions } from '../src/certificates/mesh-certificates';

function install(options: CertManagerCaOptions = {}, meshProps: MeshProps = {}) {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', meshProps);
  new IstioControlPlane(chart, 'istio', { mesh, certificates: MeshCertificates.certManager(options) });
  return chart;
}

const ROOT_PEM = [
  '-----BEGIN CERTIFICATE-----',
  'MIIBdzCCAR2gAwIBAgIRAKzU0mIhZ3xX2zvW1M0Z8yMwCgYIKoZIzj0EAwIwGDEW',
  'MBQGA1UEAxMNSXN0aW8gcm9vdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw0zNTAxMDEw',
  '-----END CERTIFICATE-----',
].join('\n');

describe('root CA', () => {
  test('the root keeps its key across renewals (istiod refuses a new trust anchor at runtime); the intermediate rotates', () => {
    const objects = synthValid(install());
    expect(one(objects, 'Certificate', 'istio-root-ca').spec.privateKey).toEqual({ algorithm: 'ECDSA', size: 256, rotationPolicy: 'Never' });
    expect(one(objects, 'Certificate', 'cacerts').spec.privateKey).toEqual({ algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' });
  });

  test('a root of less than a year is refused (a 2-hour root renewing every minute was accepted)', () => {
    const twoHours = {
      rootDuration: Duration.hours(2), rootRenewBefore: Duration.minutes(119), duration: Duration.hours(1), renewBefore: Duration.minutes(10),
    };
    expect(() => install(twoHours))
      .toThrow(/test\/istio\/certificates: rootDuration '[^']*' is invalid: must be at least 365 days/);
    expect(() => install({ rootDuration: Duration.days(364), duration: Duration.days(30) })).toThrow(/rootDuration '364 days' is invalid: must be at least 365 days/);
  });

  test('a root renewed before half its life is refused', () => {
    expect(() => install({ rootDuration: Duration.days(3650), rootRenewBefore: Duration.days(3000) }))
      .toThrow(/rootRenewBefore '3000 days' is invalid: must be at most half of rootDuration \(3650 days\)/);
  });

  test('a root renewal window shorter than 30 days or than the intermediate\'s lifetime is refused', () => {
    expect(() => install({ rootDuration: Duration.days(3650), rootRenewBefore: Duration.days(10), duration: Duration.days(5) }))
      .toThrow(/rootRenewBefore '10 days' is invalid: must be at least 30 days and at least the intermediate's duration \(5 days\)/);
    expect(() => install({ rootDuration: Duration.days(3650), rootRenewBefore: Duration.days(100) }))
      .toThrow(/rootRenewBefore '100 days' is invalid: must be at least 30 days and at least the intermediate's duration \(365 days\)/);
    // a one-year root works with a shorter intermediate
    const oneYear = {
      rootDuration: Duration.days(365), rootRenewBefore: Duration.days(120), duration: Duration.days(90), renewBefore: Duration.days(30),
    };
    expect(() => synthValid(install(oneYear))).not.toThrow();
  });
});

describe('trust-manager Bundle for a rotation overlap', () => {
  test('none by default', () => {
    expect(ofKind(synthValid(install()), 'Bundle')).toEqual([]);
  });

  test('old and new roots in one schema-valid Bundle (crds/trust-manager), published to the selected namespaces', () => {
    const objects = synthValid(install({
      trustBundle: { previousRootSecrets: ['istio-root-ca-2025'], previousRootsPem: [ROOT_PEM], namespaceLabels: { 'istio.io/rev': 'default' } },
    }));
    const bundle = one(objects, 'Bundle');
    expect(bundle.apiVersion).toBe('trust.cert-manager.io/v1alpha1');
    expect(bundle.metadata.name).toBe('istio-system-ca-roots');
    expect(bundle.metadata.namespace).toBeUndefined(); // cluster-scoped
    expect(bundle.spec).toEqual({
      sources: [
        { secret: { name: 'istio-root-ca', key: 'tls.crt' } },
        { secret: { name: 'istio-root-ca-2025', key: 'tls.crt' } },
        { inLine: ROOT_PEM + '\n' },
      ],
      target: { configMap: { key: 'root-cert.pem' }, namespaceSelector: { matchLabels: { 'istio.io/rev': 'default' } } },
    });
    // it comes after the root it publishes
    const idx = (kind: string, name: string) => objects.findIndex(o => o.kind === kind && o.metadata.name === name);
    expect(idx('Certificate', 'istio-root-ca')).toBeLessThan(idx('Bundle', 'istio-system-ca-roots'));
    expect(yamlOf([bundle])).toMatchSnapshot();
  });

  test('a private key is refused, and never shown in the error', () => {
    const key = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIDeadBeefSecretMaterial\n-----END EC PRIVATE KEY-----';
    let message = '';
    try {
      install({ trustBundle: { previousRootsPem: [ROOT_PEM + '\n' + key] } });
    } catch (e: any) {
      message = e.message;
    }
    expect(message).toMatch(/trustBundle.previousRootsPem\[0\] '<not shown: it holds a private key>' is invalid: must be certificates only/);
    expect(message).not.toContain('DeadBeef');
  });

  test('not PEM, istiod\'s own ConfigMap name, or the current root listed as a previous one', () => {
    expect(() => install({ trustBundle: { previousRootsPem: ['hello'] } })).toThrow(/previousRootsPem\[0\] '<5 characters, not shown>' is invalid: must be PEM certificates/);
    expect(() => install({ trustBundle: { name: 'istio-ca-root-cert' } })).toThrow(/trustBundle.name 'istio-ca-root-cert' is invalid: must not be istio-ca-root-cert: istiod owns/);
    expect(() => install({ trustBundle: { previousRootSecrets: ['istio-root-ca'] } })).toThrow(/previousRootSecrets 'istio-root-ca' is invalid: is the current root's Secret/);
    expect(() => install({ trustBundle: { namespaceLabels: { 'bad key!': 'x' } } })).toThrow(/trustBundle.namespaceLabels key 'bad key!' is invalid/);
  });
});
