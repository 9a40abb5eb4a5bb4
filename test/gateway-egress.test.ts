import { Testing } from 'cdk8s';
import { EgressGateway, ExternalProtocol, Mesh, MeshNamespace } from '../src';
import { one, ofKind, synthValid, yamlOf } from './util';

describe('EgressGateway', () => {
  test('routes external hosts through a fixed exit (snapshot)', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', {});
    const egress = new EgressGateway(chart, 'egress', { mesh });
    egress.addExternalHost('api.stripe.com');
    egress.addExternalHost('edition.cnn.com', { protocol: ExternalProtocol.HTTP });
    const objects = synthValid(chart);
    expect(yamlOf(objects)).toMatchSnapshot();
    const svc = one(objects, 'Service', 'istio-egressgateway');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports.map((p: any) => p.name)).toEqual(['status-port', 'http-80', 'tls-443']);
    expect(svc.spec.selector).toEqual({ istio: 'egressgateway', app: 'istio-egressgateway' });
    const vs = one(objects, 'VirtualService', 'istio-egressgateway-api.stripe.com');
    expect(vs.spec.gateways).toEqual(['mesh', 'istio-egressgateway']);
    expect(vs.spec.tls.map((r: any) => r.route[0].destination.host)).toEqual(['istio-egressgateway.istio-egress.svc.cluster.local', 'api.stripe.com']);
    expect(one(objects, 'DestinationRule').spec.subsets).toEqual([{ name: 'api-stripe-com' }, { name: 'edition-cnn-com' }]);
    expect(ofKind(objects, 'ServiceEntry').map(s => s.spec.location)).toEqual(['MESH_EXTERNAL', 'MESH_EXTERNAL']);
    expect(egress.principal).toBe('cluster.local/ns/istio-egress/sa/istio-egressgateway');
  });

  test('the mesh given must be the namespace\'s (shared with MeshGateway)', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh');
    const other = new Mesh(chart, 'other', { trustDomain: 'other.example.com' });
    const namespace = MeshNamespace.fromName(chart, 'ns', { name: 'istio-egress', mesh });
    expect(() => new EgressGateway(chart, 'egress', { namespace, mesh: other }))
      .toThrow("test/egress: mesh.trustDomain 'other.example.com' is invalid: must match the namespace's mesh ('cluster.local')");
  });

  test('bad input', () => {
    const chart = Testing.chart();
    const egress = new EgressGateway(chart, 'egress', { mesh: new Mesh(chart, 'mesh', {}) });
    expect(() => egress.addExternalHost('*.example.com')).toThrow(/externalHosts\[0\]\.host '\*\.example\.com' is invalid: must be a DNS name/);
    egress.addExternalHost('a.example.com');
    expect(() => egress.addExternalHost('b.example.com', { protocol: ExternalProtocol.HTTP, port: 443 }))
      .toThrow(/externalHosts\[1\]\.port 443 is invalid: is used by a.example.com with protocol TLS/);
  });
});
