/**
 * App containers: capabilities, root, privileged and the proxy's UID (issue 16). MeshedService renders them with
 * renderSecurity; raw pod templates are checked with checkAppContainerSecurity.
 */
import { ApiObject, Testing } from 'cdk8s';
import { Mesh, MeshedService, MeshedServiceProps, MeshNamespace, ServicePort } from '../src';
import { one, synthValid } from './util';
import { checkAppContainerSecurity } from '../src/service/workload-options';

function make(props: Partial<MeshedServiceProps> = {}) {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh');
  const namespace = MeshNamespace.fromName(chart, 'ns', { name: 'shop', mesh });
  const svc = new MeshedService(chart, 'svc', { namespace, image: 'example/app:1', ports: [ServicePort.http(8080)], ...props } as MeshedServiceProps);
  return { chart, svc };
}

describe('MeshedService app container', () => {
  test('NET_BIND_SERVICE is the one capability allowed by default', () => {
    const { chart } = make({ securityContext: { addCapabilities: ['NET_BIND_SERVICE'], runAsUser: 1000 } });
    const app = one(synthValid(chart), 'Deployment').spec.template.spec.containers.find((c: any) => c.name !== 'istio-proxy');
    expect(app.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
  });

  test.each(['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN', 'SYS_PTRACE'])('capability %s is refused without allowPrivilegedApp', cap => {
    expect(() => make({ securityContext: { addCapabilities: [cap] } }))
      .toThrow(`test/svc: securityContext.addCapabilities '${cap}' is invalid: must be NET_BIND_SERVICE (capabilities such as NET_ADMIN or NET_RAW let an app bypass the proxy); opt-out: allowPrivilegedApp`);
  });

  test('root with capabilities is refused, even NET_BIND_SERVICE', () => {
    expect(() => make({ securityContext: { allowRunAsRoot: true, addCapabilities: ['NET_BIND_SERVICE'] } }))
      .toThrow(/test\/svc: securityContext.addCapabilities \["NET_BIND_SERVICE"\] is invalid: must not be added to a container that may run as root/);
    expect(() => make({ securityContext: { allowRunAsRoot: true, runAsUser: 0, addCapabilities: ['NET_BIND_SERVICE'] } })).toThrow(/may run as root/);
  });

  test('the proxy\'s UID/GID 1337 is refused, fsGroup included', () => {
    expect(() => make({ securityContext: { fsGroup: 1337 } })).toThrow(/test\/svc: securityContext.fsGroup 1337 is invalid: 1337 is reserved for the Istio proxy \(IST0144\): traffic from that ID bypasses the proxy/);
    expect(() => make({ securityContext: { runAsUser: 1337, allowPrivilegedApp: true } })).toThrow(/runAsUser 1337 is invalid/);
  });

  test('allowPrivilegedApp is the named opt-out', () => {
    const { chart } = make({ securityContext: { allowPrivilegedApp: true, allowRunAsRoot: true, addCapabilities: ['NET_ADMIN', 'NET_BIND_SERVICE'] } });
    const app = one(synthValid(chart), 'Deployment').spec.template.spec.containers.find((c: any) => c.name !== 'istio-proxy');
    expect(app.securityContext).toMatchObject({ runAsNonRoot: false, capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_BIND_SERVICE'] } });
  });
});

describe('checkAppContainerSecurity (raw pod templates)', () => {
  const check = (container: any, pod: any = {}, allow = false) => () => checkAppContainerSecurity('test/web', 'spec.containers[app]', container, pod, allow);

  test('privileged, extra capabilities, root with capabilities and UID 1337 are refused', () => {
    expect(check({ securityContext: { privileged: true } })).toThrow('test/web: spec.containers[app].securityContext.privileged true is invalid: must not be true');
    expect(check({ securityContext: { runAsNonRoot: true, capabilities: { add: ['CAP_NET_ADMIN'] } } })).toThrow(/capabilities.add 'CAP_NET_ADMIN' is invalid: must be NET_BIND_SERVICE/);
    expect(check({ securityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } } })).toThrow(/may run as root/);
    expect(check({ securityContext: { runAsUser: 0, capabilities: { add: ['NET_BIND_SERVICE'] } } })).toThrow(/may run as root/);
    expect(check({}, { runAsUser: 1337 })).toThrow(/securityContext.runAsUser 1337 is invalid: 1337 is reserved/);
    expect(check({}, { fsGroup: 1337 })).toThrow(/securityContext.fsGroup 1337 is invalid/);
  });

  test('a non-root container with NET_BIND_SERVICE passes; allowPrivilegedApp lifts all but 1337', () => {
    expect(check({ securityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } } }, { runAsNonRoot: true })).not.toThrow();
    expect(check({ securityContext: { runAsUser: 1000, capabilities: { add: ['NET_BIND_SERVICE'] } } })).not.toThrow();
    expect(check({ securityContext: { privileged: true, capabilities: { add: ['NET_ADMIN'] } } }, {}, true)).not.toThrow();
    expect(check({ securityContext: { runAsUser: 1337 } }, {}, true)).toThrow(/1337 is reserved/);
  });
});

describe('mesh.inject checks the app containers of a brought-in workload', () => {
  const deployment = (chart: any, name: string, container: any, pod: any = {}) => new ApiObject(chart, name, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop' },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { ...pod, containers: [{ name: 'app', image: 'x', ...container }] } } },
  });

  test('NET_ADMIN, privileged and hostPID are refused; allowPrivilegedApp is the named opt-out', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh');
    expect(() => mesh.inject(deployment(chart, 'netadmin', { securityContext: { runAsNonRoot: true, capabilities: { add: ['NET_ADMIN'] } } })))
      .toThrow(/test\/netadmin: spec.containers\[app\].securityContext.capabilities.add 'NET_ADMIN' is invalid/);
    expect(() => mesh.inject(deployment(chart, 'priv', { securityContext: { privileged: true } })))
      .toThrow(/spec.containers\[app\].securityContext.privileged true is invalid/);
    expect(() => mesh.inject(deployment(chart, 'pid', {}, { hostPID: true }))).toThrow(/spec.hostPID true is invalid/);
    mesh.inject(deployment(chart, 'allowed', { securityContext: { privileged: true } }), {}, true);
    expect(Testing.synth(chart).map(o => o.metadata.name)).toContain('allowed');
  });
});
