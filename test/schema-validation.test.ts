import { ApiObject, Chart, Testing } from 'cdk8s';
import { expectValid, SchemaRegistry, validateAll } from './util';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
  },
});
const virtualService = () => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'shop' },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 100 }] }] },
});

describe('strict schema validation', () => {
  test('valid core and custom objects pass', () => {
    expect(validateAll([deployment(), virtualService()])).toEqual([]);
  });

  test('a misspelled field in a core kind is rejected', () => {
    const d = deployment();
    (d.spec.template.spec.containers[0] as any).imagePullPolcy = 'Always';
    expect(validateAll([d])).toEqual([expect.objectContaining({
      path: '/spec/template/spec/containers/0', message: "unknown field 'imagePullPolcy'",
    })]);
  });

  test('a misspelled field in a custom resource is rejected', () => {
    const vs = virtualService();
    (vs.spec.http[0] as any).retrys = { attempts: 3 };
    expect(validateAll([vs])).toEqual([expect.objectContaining({ path: '/spec/http/0', message: "unknown field 'retrys'" })]);
  });

  test('a misspelled metadata field is rejected', () => {
    const vs: any = virtualService();
    vs.metadata.label = { a: 'b' };
    expect(validateAll([vs])).toEqual([expect.objectContaining({ path: '/metadata', message: "unknown field 'label'" })]);
  });

  test('a wrong type is rejected', () => {
    const d: any = deployment();
    d.spec.replicas = 'three';
    const vs: any = virtualService();
    vs.spec.http[0].route[0].weight = '100';
    const v = validateAll([d, vs]);
    expect(v).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: '/spec/replicas', message: 'must be integer' }),
      expect.objectContaining({ path: '/spec/http/0/route/0/weight', message: 'must be integer' }),
    ]));
  });

  test('a missing required field is rejected', () => {
    const d: any = deployment();
    delete d.spec.selector;
    delete d.spec.template.spec.containers[0].name;
    const v = validateAll([d]);
    expect(v.map(x => x.message)).toEqual(expect.arrayContaining(["must have required property 'selector'", "must have required property 'name'"]));
    const vs: any = virtualService();
    delete vs.spec.http[0].route[0].destination.host;
    expect(validateAll([vs])).toEqual([expect.objectContaining({ message: "must have required property 'host'" })]);
  });

  test('an enum value outside the schema is rejected', () => {
    const pa = { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'shop' }, spec: { mtls: { mode: 'STRICTER' } } };
    expect(validateAll([pa])[0].message).toMatch(/must be equal to one of the allowed values/);
  });

  test('unknown kinds and invalid names are rejected', () => {
    expect(validateAll([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }])[0].message)
      .toBe('no upstream schema for example.com/v1 Widget');
    const d: any = deployment();
    d.metadata.name = 'Web_1';
    expect(validateAll([d])[0].message).toMatch(/not a valid DNS subdomain/);
  });

  test('expectValid lists the violations', () => {
    const d: any = deployment();
    d.spec.replica = 3;
    expect(() => expectValid([d])).toThrow(/1 schema violation\(s\):\n {2}apps\/v1 Deployment shop\/web \/spec: unknown field 'replica'/);
  });

  test('what cdk8s synthesizes is checked the same way', () => {
    const chart = Testing.chart();
    new ApiObject(chart, 'cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'b' } });
    new ApiObject(chart, 'bad', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'y' }, dta: { a: 'b' } } as any);
    expect(validateAll(Testing.synth(chart as Chart))).toEqual([expect.objectContaining({ object: 'v1 ConfigMap y', message: "unknown field 'dta'" })]);
  });

  test('schemas are known for every kind the library emits', () => {
    const r = SchemaRegistry.forKubernetes('1.33');
    for (const [av, k] of [['networking.istio.io/v1', 'Sidecar'], ['security.istio.io/v1', 'AuthorizationPolicy'],
      ['telemetry.istio.io/v1', 'Telemetry'], ['cert-manager.io/v1', 'Certificate'], ['gateway.networking.k8s.io/v1', 'HTTPRoute'],
      ['argoproj.io/v1alpha1', 'Application'], ['argoproj.io/v1alpha1', 'Rollout'], ['monitoring.coreos.com/v1', 'PodMonitor'],
      ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration'], ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'],
      ['autoscaling/v2', 'HorizontalPodAutoscaler'], ['policy/v1', 'PodDisruptionBudget'], ['networking.k8s.io/v1', 'NetworkPolicy']]) {
      expect(`${av}/${k}: ${r.knows(av, k)}`).toBe(`${av}/${k}: true`);
    }
  });

  test('native sidecars (restartPolicy on init containers) are valid on 1.33 and not on 1.27', () => {
    const d: any = deployment();
    d.spec.template.spec.initContainers = [{ name: 'istio-proxy', image: 'proxyv2', restartPolicy: 'Always' }];
    expect(validateAll([d], '1.33')).toEqual([]);
    expect(validateAll([d], '1.27')).toEqual([expect.objectContaining({ message: "unknown field 'restartPolicy'" })]);
  });
});
