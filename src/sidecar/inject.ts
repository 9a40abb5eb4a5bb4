/**
 * Synth-time sidecar injection: a pure function over a pod template, as `istioctl kube-inject` does for Istio 1.30.
 */
import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { invalid } from '../errors';
import { boolAnnotation, hasOptions, optionAnnotations, parseProxyConfig, validateAnnotations } from './annotations';
import { AUTO_IMAGE, PROXY_CONTAINER, PROXY_VOLUMES, TEMPLATE_GATEWAY } from './constants';
import {
  canonicalLabels, initContainer, interception, overlayContainer, prometheusMerge, proxyContainer,
  proxyEnv, proxyResources, proxyVolumes,
} from './pod';
import { rewriteProbes } from './probes';
import { InjectionTarget, ProxyOptions } from './proxy-options';
import { IstioAnnotations, IstioLabels, IstioPorts, PROXY_UID, RESERVED_PORTS } from '../mesh/constants';
import { IMesh, InjectionMode } from '../mesh/mesh';

export type { InjectionTarget } from './proxy-options';

type Json = { [key: string]: any };
const A = IstioAnnotations;

/** Whether a pod template already carries a proxy (status annotation, or a filled-in istio-proxy container). @internal */
export function isInjected(template: Json): boolean {
  if (template?.metadata?.annotations?.[A.STATUS] !== undefined) return true;
  const all = [...(template?.spec?.containers ?? []), ...(template?.spec?.initContainers ?? [])];
  return all.some((c: Json) => c.name === PROXY_CONTAINER && c.image !== AUTO_IMAGE);
}

function clone<T>(x: T): T {
  return x === undefined ? x : JSON.parse(JSON.stringify(x));
}

function sorted(o: { [key: string]: string }): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

/** IST0144 and reserved ports: app containers must leave UID 1337 and the proxy's ports to the proxy. */
function validateApp(scope: string, spec: Json) {
  const podUid = spec.securityContext?.runAsUser;
  for (const [list, where] of [[spec.containers ?? [], 'containers'], [spec.initContainers ?? [], 'initContainers']] as Array<[Json[], string]>) {
    for (const c of list) {
      if (c.name === PROXY_CONTAINER) continue;
      const uid = c.securityContext?.runAsUser ?? podUid;
      if (uid === PROXY_UID) {
        const field = c.securityContext?.runAsUser !== undefined ? `spec.${where}[${c.name}].securityContext.runAsUser` : 'spec.securityContext.runAsUser';
        invalid(scope, field, uid, `UID ${PROXY_UID} is reserved for the Istio proxy (IST0144): run container '${c.name}' as another user`);
      }
      for (const p of c.ports ?? []) {
        if (RESERVED_PORTS.includes(p.containerPort)) {
          invalid(scope, `spec.${where}[${c.name}].ports[${p.name ?? p.containerPort}].containerPort`, p.containerPort,
            `ports ${RESERVED_PORTS.join(', ')} are reserved for the Istio proxy: use another port`);
        }
      }
    }
  }
}

/** Pod labels the webhook selects on, so the same template is injected in labelled and unlabelled namespaces. */
function webhookTemplate(t: Json, annotations: { [key: string]: string }, mesh: IMesh, gateway: boolean): Json {
  const labels: { [key: string]: string } = { ...t.metadata?.labels, [IstioLabels.INJECT]: 'true' };
  if (mesh.revision) labels[IstioLabels.REV] = mesh.revision;
  const spec = { ...t.spec };
  if (gateway && !(spec.containers ?? []).some((c: Json) => c.name === PROXY_CONTAINER)) {
    spec.containers = [...(spec.containers ?? []), { name: PROXY_CONTAINER, image: AUTO_IMAGE }];
  }
  const metadata: Json = { ...t.metadata, labels: sorted(labels) };
  if (Object.keys(annotations).length) metadata.annotations = sorted(annotations);
  return { ...t, metadata, spec };
}

/**
 * Injects the Istio proxy into a pod template (plain JSON: `{ metadata, spec }`), returning a new template; the input
 * is not modified. See `SidecarInjector.injectPodTemplate` for the behaviour.
 *
 * @param scope the construct path used in error messages (default: `<kind>/<name>` of the target)
 */
export function injectPodTemplate(template: any, mesh: IMesh, target: InjectionTarget, options: ProxyOptions = {}, scope?: string): any {
  const where = scope ?? `${target.kind}/${target.name}`;
  const t: Json = clone(template) ?? {};
  const spec: Json = t.spec ?? {};
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) {
    invalid(where, 'spec.containers', spec.containers, 'a pod template needs at least one container');
  }
  if (isInjected(t)) {
    if (hasOptions(options)) {
      invalid(where, 'options', options, `the pod template is already injected (it has the ${A.STATUS} annotation or an istio-proxy container): inject it once, or give the options on the first injection`);
    }
    return t;
  }
  const own = { ...(t.metadata?.annotations ?? {}) };
  const labels = t.metadata?.labels ?? {};
  const optedOut = (labels[IstioLabels.INJECT] ?? own[A.INJECT]) === 'false';
  if (optedOut) {
    if (hasOptions(options)) invalid(where, `metadata.labels['${IstioLabels.INJECT}']`, 'false', 'the pod opts out of injection: remove the label, or pass no proxy options');
    return t;
  }
  if (spec.hostNetwork === true) {
    invalid(where, 'spec.hostNetwork', true, 'Istio does not inject pods on the host network: set hostNetwork false, or do not inject this workload');
  }
  const annotations: { [key: string]: string } = { ...own, ...optionAnnotations(where, options, own[A.PROXY_CONFIG]) };
  validateAnnotations(where, annotations);
  validateApp(where, spec);
  const gateway = annotations[A.TEMPLATES] === TEMPLATE_GATEWAY;
  if (mesh.injectionMode === InjectionMode.WEBHOOK) return webhookTemplate(t, annotations, mesh, gateway);

  // the user's istio-proxy with image 'auto' (gateway chart style) is an overlay, not an app container
  const overlay = [...spec.containers, ...(spec.initContainers ?? [])].find((c: Json) => c.name === PROXY_CONTAINER);
  const notProxy = (c: Json) => c.name !== PROXY_CONTAINER;
  let apps: Json[] = spec.containers.filter(notProxy);
  let userInits: Json[] = (spec.initContainers ?? []).filter(notProxy);

  const proxyConfig = parseProxyConfig(where, annotations[A.PROXY_CONFIG]);
  const native = !gateway && (boolAnnotation(annotations[A.NATIVE_SIDECAR]) ?? mesh.nativeSidecars);
  const hold = proxyConfig.holdApplicationUntilProxyStarts === true;
  const image = annotations[A.PROXY_IMAGE] ?? mesh.proxyImage;
  const resources = proxyResources(annotations, mesh.proxyResources);
  const capture = interception(annotations);

  // prometheus merge first, then the probe rewrite (the injector's order, which is also the env order)
  const prom = prometheusMerge(annotations);
  let appProbers: string | undefined;
  if (boolAnnotation(annotations[A.REWRITE_APP_HTTP_PROBERS]) !== false) {
    const r = rewriteProbes(where, apps, userInits, IstioPorts.STATUS, gateway ? () => true : capture.captures);
    apps = r.containers;
    userInits = r.initContainers;
    if (Object.keys(r.probers).length) {
      const probers: Json = {};
      for (const k of Object.keys(r.probers).sort()) probers[k] = r.probers[k];
      appProbers = JSON.stringify(probers);
    }
  }

  const env = proxyEnv({ mesh, target, proxyConfig, appContainers: apps, gateway, prometheusAnnotations: prom.env, appProbers });
  let proxy = proxyContainer({ image, env, annotations, proxyConfig, resources, gateway, native, hold, clusterDomain: mesh.clusterDomain });
  if (overlay) proxy = overlayContainer(proxy, overlay);

  // placement: native = [iptables, proxy, ...user init]; legacy = [validation?, ...user init, istio-init?] and the
  // proxy last among containers (first with holdApplicationUntilProxyStarts)
  const init = gateway ? undefined : initContainer(image, capture, mesh.cni, resources);
  let initContainers: Json[];
  let containers: Json[];
  if (native) {
    initContainers = [init!, proxy, ...userInits];
    containers = apps;
  } else {
    initContainers = !init ? userInits : mesh.cni ? [init, ...userInits] : [...userInits, init];
    containers = hold ? [proxy, ...apps] : [...apps, proxy];
  }

  const taken = new Set((spec.volumes ?? []).map((v: Json) => v.name));
  for (const v of PROXY_VOLUMES) {
    if (taken.has(v.name)) invalid(where, `spec.volumes[${v.name}]`, v.name, `volume names ${PROXY_VOLUMES.map(x => x.name).join(', ')} are reserved for the Istio proxy`);
  }
  const volumes = [...(spec.volumes ?? []), ...proxyVolumes()];

  // metadata
  const outAnnotations: { [key: string]: string } = { ...prom.annotations, [IstioLabels.REV]: mesh.revisionLabel };
  if (apps.length > 0) {
    outAnnotations[A.DEFAULT_CONTAINER] = outAnnotations[A.DEFAULT_CONTAINER] ?? apps[0].name;
    outAnnotations[A.DEFAULT_LOGS_CONTAINER] = outAnnotations[A.DEFAULT_LOGS_CONTAINER] ?? apps[0].name;
  }
  if (mesh.cni && !gateway) {
    outAnnotations[A.INTERCEPTION_MODE] = 'REDIRECT';
    outAnnotations[A.EXCLUDE_INBOUND_PORTS] = capture.excludeInboundPorts;
    outAnnotations[A.INCLUDE_INBOUND_PORTS] = capture.includeInboundPorts;
    outAnnotations[A.INCLUDE_OUTBOUND_IP_RANGES] = capture.includeOutboundIpRanges;
  }
  const injectedInits = native ? [init!.name, PROXY_CONTAINER] : init ? [init.name] : null;
  outAnnotations[A.STATUS] = JSON.stringify({
    initContainers: injectedInits,
    containers: native ? null : [PROXY_CONTAINER],
    volumes: PROXY_VOLUMES.map(v => v.name),
    imagePullSecrets: null,
    revision: mesh.revisionLabel,
  });
  const outLabels: { [key: string]: string } = { ...labels, ...canonicalLabels(labels, target.name) };
  if (!gateway) outLabels[IstioLabels.TLS_MODE] = 'istio';
  // keeps istiod's webhook away: every injector webhook's objectSelector excludes sidecar.istio.io/inject=false
  outLabels[IstioLabels.INJECT] = 'false';

  const outSpec: Json = { ...spec, containers };
  if (initContainers.length) outSpec.initContainers = initContainers;
  else delete outSpec.initContainers;
  outSpec.volumes = volumes;
  // a fresh tree: no object shared between containers (YAML writers would emit anchors for shared ones)
  return clone({ ...t, metadata: { ...t.metadata, labels: sorted(outLabels), annotations: sorted(outAnnotations) }, spec: outSpec });
}

/** Where the pod template sits in a workload of each kind; [] means the object is itself a pod. @internal */
export function podTemplatePath(kind: string): string[] | undefined {
  switch (kind) {
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'ReplicationController':
    case 'Job': case 'Rollout':
      return ['spec', 'template'];
    case 'CronJob':
      return ['spec', 'jobTemplate', 'spec', 'template'];
    case 'Pod':
      return [];
    default:
      return undefined;
  }
}

const INJECTED = new WeakMap<ApiObject, string>();

/**
 * Injects a workload's pod template when it is synthesized, by wrapping the ApiObject's `toJson` (so escape-hatch
 * patches are applied first). Options are validated now. @internal
 */
export function injectWorkload(workload: IConstruct, mesh: IMesh, options: ProxyOptions = {}): void {
  const obj = ApiObject.of(workload);
  const scope = obj.node.path;
  const path = podTemplatePath(obj.kind);
  if (!path) {
    invalid(scope, 'kind', obj.kind, 'must be a workload with a pod template: Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, Pod or Argo Rollout');
  }
  optionAnnotations(scope, options); // validate early
  const key = JSON.stringify(options);
  const previous = INJECTED.get(obj);
  if (previous !== undefined) {
    if (previous === key) return;
    invalid(scope, 'options', options, `the workload is already injected with other proxy options (${previous})`);
  }
  INJECTED.set(obj, key);
  const toJson = obj.toJson.bind(obj);
  obj.toJson = () => {
    const json = toJson();
    const target: InjectionTarget = { apiVersion: json.apiVersion, kind: json.kind, name: json.metadata?.name, namespace: json.metadata?.namespace };
    if (path.length === 0) {
      const pod = injectPodTemplate({ metadata: json.metadata, spec: json.spec }, mesh, target, options, scope);
      return { ...json, metadata: pod.metadata, spec: pod.spec };
    }
    let parent: Json = json;
    for (const k of path.slice(0, -1)) {
      if (!parent[k]) invalid(scope, path.join('.'), undefined, `a ${json.kind} needs ${path.join('.')}`);
      parent = parent[k];
    }
    const last = path[path.length - 1];
    parent[last] = injectPodTemplate(parent[last], mesh, target, options, scope);
    return json;
  };
}

/**
 * Sidecar injection at synth time, faithful to `istioctl kube-inject` of Istio 1.30 (default `sidecar` and `gateway`
 * templates): istio-init (or istio-validation with CNI), istio-proxy as a native sidecar (Kubernetes 1.33+) or a
 * regular container, the nine Istio volumes, probe rewrite to pilot-agent (15020), prometheus merge, canonical labels
 * and the `sidecar.istio.io/status` annotation.
 *
 * In `InjectionMode.WEBHOOK` nothing is injected: the pod template gets the labels istiod's webhook selects on
 * (`sidecar.istio.io/inject: "true"`, plus `istio.io/rev: <revision>` for a revisioned mesh), which match in
 * namespaces labelled `istio.io/rev`/`istio-injection=enabled` (default revision) as well as in unlabelled ones.
 * ProxyOptions become the equivalent annotations, which the webhook honours the same way.
 *
 * Idempotence and running next to the webhook: Istio's injector does NOT skip a pod that carries
 * `sidecar.istio.io/status`; it strips the containers listed there and injects again with the cluster's settings
 * (pkg/kube/inject stripPod/RunTemplate). So a pod injected here also gets the label
 * `sidecar.istio.io/inject: "false"`: every injector webhook's objectSelector (`NotIn ["false"]` or `In ["true"]`)
 * then excludes it, and the injector code honours the label too, so the pod runs exactly as written in Git even in
 * namespaces with injection enabled. Injecting an already injected template (status annotation, or an istio-proxy
 * container whose image is not `auto`) returns it unchanged; passing proxy options for it is an error, since they
 * could not take effect. A template labelled `sidecar.istio.io/inject: "false"` by the user is left alone.
 */
export class SidecarInjector {
  /**
   * Injects a pod template (plain JSON `{ metadata, spec }`) and returns the new template; the input is not modified.
   */
  public static injectPodTemplate(podTemplate: any, mesh: IMesh, target: InjectionTarget, options?: ProxyOptions): any {
    return injectPodTemplate(podTemplate, mesh, target, options ?? {});
  }

  /**
   * Injects the pod template of a workload (a cdk8s ApiObject such as `k8s.KubeDeployment`, or a construct whose
   * default child is one, such as a cdk8s-plus Deployment) when it is synthesized. The template path follows the kind
   * (CronJob: `spec.jobTemplate.spec.template`). Injecting twice with the same options is a no-op.
   */
  public static inject(workload: IConstruct, mesh: IMesh, options?: ProxyOptions): void {
    injectWorkload(workload, mesh, options ?? {});
  }

  private constructor() {}
}
