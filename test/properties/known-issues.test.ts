/**
 * Regressions: issues the property tests found, now fixed and kept as plain tests.
 */
import { App, Chart, Testing } from 'cdk8s';
import { Mesh, MeshedService, MeshNamespace, ServicePort } from '../../src';
import { MeshValidationError } from '../../src/errors';

describe('regressions found by the property tests', () => {
  // Two MeshedServices with the same name in the same namespace are accepted: the output holds two Services, two
  // Deployments and two VirtualServices with the same name and host (kubectl apply merges them; the analyzer
  // reports IST0109). Wanted: MeshValidationError on the second one's `name`.
  test('a second MeshedService with the same name in the same namespace is rejected', () => {
    const app = new App();
    const chart = new Chart(app, 'apps');
    const mesh = new Mesh(chart, 'mesh');
    const ns = MeshNamespace.fromName(chart, 'ns', { name: 'shop', mesh });
    new MeshedService(chart, 'one', { namespace: ns, name: 'reviews', image: 'r:1', ports: [ServicePort.http(9080)] });
    let error: unknown;
    try {
      new MeshedService(chart, 'two', { namespace: ns, name: 'reviews', image: 'r:2', ports: [ServicePort.http(9080)] });
      Testing.synth(chart);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MeshValidationError);
  });

  // MeshedService `proxy` options are checked only when the Deployment is rendered (inside a cdk8s Lazy), so a bad
  // option surfaces at synth as a plain Error ("Failed serializing construct at path ...: MeshValidationError: ...")
  // instead of a MeshValidationError thrown by the constructor. Wanted: checked in the constructor/addVersion.
  test('bad MeshedService proxy options are rejected when given, with MeshValidationError', () => {
    const app = new App();
    const chart = new Chart(app, 'apps');
    const mesh = new Mesh(chart, 'mesh');
    const ns = MeshNamespace.fromName(chart, 'ns', { name: 'shop', mesh });
    expect(() => new MeshedService(chart, 'svc', {
      namespace: ns, image: 'r:1', ports: [ServicePort.http(9080)], proxy: { logLevel: 'loud' as any },
    })).toThrow(MeshValidationError);
  });
});
