import { Testing } from 'cdk8s';
import { EgressGateway, ExternalService, Mesh, MeshNamespace } from '../src';
import { one, ofKind, synthValid, yamlOf } from './util';

describe('EgressGateway', () => {
  test('routes external hosts through a fixed exit (snapshot)', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', {});
    const egress = new EgressGateway(chart, 'egress', { mesh });
    egress.addExternalService(ExternalService.https('api.stripe.com'));
    egress.addExternalService(ExternalService.http('edition.cnn.com'));
    const objects = synthValid(chart);
    expect(yamlOf(objects)).toMatchSnapshot();
    const svc = one(objects, 'Service', 'istio-egressgateway');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports.map((p: any) => p.name)).toEqual(['status-port', 'http-80', 'tls-443']);
    expect(svc.spec.selector).toEqual({ istio: 'egressgateway', app: 'istio-egressgateway' });
    const vs = one(objects, 'VirtualService', 'istio-egressgateway-api.stripe.com-443');
    expect(vs.spec.gateways).toEqual(['mesh', 'istio-egressgateway']);
    expect(vs.spec.tls.map((r: any) => r.route[0].destination.host)).toEqual(['istio-egressgateway.istio-egress.svc.cluster.local', 'api.stripe.com']);
    expect(one(objects, 'DestinationRule').spec.subsets).toEqual([{ name: 'api-stripe-com-443' }, { name: 'edition-cnn-com-80' }]);
    expect(ofKind(objects, 'ServiceEntry').map(s => s.spec.location)).toEqual(['MESH_EXTERNAL', 'MESH_EXTERNAL']);
    // one vocabulary with ExternalService: the same protocol as a workload's own ServiceEntry for the host (IST0177)
    expect(ofKind(objects, 'ServiceEntry').map(s => s.spec.ports[0])).toEqual([
      { number: 443, name: 'https-443', protocol: 'HTTPS' }, { number: 80, name: 'http-80', protocol: 'HTTP' },
    ]);
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
    expect(() => egress.addExternalService(ExternalService.https('*.example.com'))).toThrow(/externalServices\[0\]\.host '\*\.example\.com' is invalid: must be a DNS name/);
    expect(() => egress.addExternalService(ExternalService.tcp('db.example.com', 5432))).toThrow(/externalServices\[0\]\.protocol 'TCP' is invalid: must be HTTPS, TLS or HTTP/);
    expect(() => egress.addExternalService(ExternalService.http('x.example.com', 80, { originateTls: true }))).toThrow(/externalServices\[0\]\.originateTls true is invalid/);
    egress.addExternalService(ExternalService.https('a.example.com'));
    expect(() => egress.addExternalService(ExternalService.https('a.example.com'))).toThrow(/must be added once per port/);
    expect(() => egress.addExternalService(ExternalService.http('b.example.com', 443)))
      .toThrow(/externalServices\[1\]\.port 443 is invalid: is used by a.example.com with protocol TLS/);
  });

  test('two hosts on one port share one Gateway server (server port names are unique)', () => {
    const chart = Testing.chart();
    const egress = new EgressGateway(chart, 'egress', { mesh: new Mesh(chart, 'mesh', {}) });
    egress.addExternalService(ExternalService.https('b.example.com'));
    egress.addExternalService(ExternalService.https('a.example.com'));
    const servers = one(synthValid(chart), 'Gateway').spec.servers;
    expect(servers).toEqual([{ port: { number: 443, name: 'tls-443', protocol: 'TLS' }, hosts: ['a.example.com', 'b.example.com'], tls: { mode: 'PASSTHROUGH' } }]);
  });
});
