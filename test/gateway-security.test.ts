/**
 * Gateways, secure by default: no mesh CA Secret as a credential, no gateway in the root namespace, a RuntimeDefault
 * seccomp profile, and a Role that grants only what istiod checks.
 */
import { Testing } from 'cdk8s';
import { EgressGateway, GatewayTls, Mesh, MeshGateway, MeshNamespace } from '../src';
import { one, synthValid } from './util';

function setup() {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', {});
  return { chart, mesh };
}

describe('gateway credentials', () => {
  test.each(['cacerts', 'istio-ca-secret', 'istio-root-ca', 'istiod-tls', 'cacerts-cacert'])('credentialName %s (a mesh CA Secret) is refused', name => {
    const { chart, mesh } = setup();
    expect(() => new MeshGateway(chart, 'ingress', { mesh, hosts: ['shop.example.com'], tls: GatewayTls.secret(name) }))
      .toThrow(new RegExp(`test/ingress: listeners\\[0\\]\\.tls\\.secretName '${name}' is invalid: must not be one of the mesh CA's Secrets`));
  });

  test('also through GatewayTls.mutual and a cert-manager secretName (which would overwrite the CA)', () => {
    const a = setup();
    expect(() => new MeshGateway(a.chart, 'ingress', { mesh: a.mesh, hosts: ['shop.example.com'], tls: GatewayTls.mutual({ secretName: 'cacerts' }) }))
      .toThrow(/secretName 'cacerts' is invalid: must not be one of the mesh CA's Secrets/);
    const b = setup();
    expect(() => new MeshGateway(b.chart, 'ingress', { mesh: b.mesh, hosts: ['shop.example.com'], tls: GatewayTls.certManager({ issuer: 'le', secretName: 'cacerts' }) }))
      .toThrow(/secretName 'cacerts' is invalid: must not be one of the mesh CA's Secrets/);
  });
});

describe('gateway placement', () => {
  test('a gateway in the mesh\'s root namespace is refused (it could read the CA\'s keys)', () => {
    const { chart, mesh } = setup();
    const root = MeshNamespace.fromName(chart, 'root', { name: 'istio-system', mesh });
    expect(() => new MeshGateway(chart, 'ingress', { mesh, namespace: root, hosts: ['shop.example.com'] }))
      .toThrow(/test\/ingress: namespace 'istio-system' is invalid: must not be the mesh's root namespace: a gateway may read every Secret of its namespace/);
    const other = setup();
    const root2 = MeshNamespace.fromName(other.chart, 'root', { name: 'istio-system', mesh: other.mesh });
    expect(() => new EgressGateway(other.chart, 'egress', { namespace: root2 })).toThrow(/egress: namespace 'istio-system' is invalid: must not be the mesh's root namespace/);
  });
});

describe('gateway workload', () => {
  const { chart, mesh } = setup();
  new MeshGateway(chart, 'ingress', { mesh, hosts: ['shop.example.com'], tls: GatewayTls.secret('shop-cert') });
  const objects = synthValid(chart);

  test('the pods run with the RuntimeDefault seccomp profile', () => {
    const pod = one(objects, 'Deployment').spec.template.spec;
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(pod.securityContext.sysctls).toEqual([{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }]);
  });

  test('the Role grants only `list` on secrets, the one verb istiod\'s SubjectAccessReview checks; the pod has no API token', () => {
    expect(one(objects, 'Role').rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }]);
    expect(one(objects, 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(false);
  });
});
