/**
 * Synth-time sidecar injection: a pure function over a pod template, as `istioctl kube-inject` does for Istio 1.30.
 */
import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { invalid } from '../errors';
import { boolAnnotation, hasOptions, optionAnnotations, parseProxyConfig, validateAnnotations } from './annotations';
import {
  AUTO_IMAGE, ENV_ENABLE_HBONE, GATEWAY_SYSCTL, INIT_CONTAINER, LABEL_NETWORK, LABEL_TUNNEL, LABEL_WORKLOAD_NAME,
  PROXY_CONTAINER, TEMPLATE_GATEWAY, TUNNEL_HTTP, VALIDATION_CONTAINER,
} from './constants';
import {
  addWebhookEnv, canonicalLabels, initContainer, interception, overlayContainer, prometheusMerge, proxyContainer,
  proxyEnv, proxyResources, proxyVolumes,
} from './pod';
import { rewriteProbes } from './probes';
import { meshProxyConfig, mergeProxyConfig, proxyConfigEnvValue } from './proxy-config';
import { InjectionTarget, ProxyOptions, SidecarTemplate } from './proxy-options';
import { IstioAnnotations, IstioLabels, IstioPorts, PROXY_UID, RESERVED_PORTS } from '../mesh/constants';
import { InjectionMode } from '../mesh/injection-mode';
import type { IMesh } from '../mesh/mesh';
import { MeshModel } from '../model/mesh-model';
import { checkAppContainerSecurity } from '../service/workload-options';

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

/**
 * IST0144 and reserved ports: app containers must leave the proxy's UID (1337, or the one its istio-proxy container
 * sets) and the proxy's ports to the proxy.
 */
function validateApp(scope: string, spec: Json, proxyUid: number, injected: (c: Json) => boolean, allowPrivilegedApp: boolean) {
  const podUid = spec.securityContext?.runAsUser;
  if (spec.hostPID === true && !allowPrivilegedApp) {
    invalid(scope, 'spec.hostPID', true, 'must not be true: a container sharing the node\'s process namespace can reach every pod\'s proxy; opt-out: allowPrivilegedApp');
  }
  for (const [list, where] of [[spec.containers ?? [], 'containers'], [spec.initContainers ?? [], 'initContainers']] as Array<[Json[], string]>) {
    for (const c of list) {
      if (injected(c)) continue;
      const uid = c.securityContext?.runAsUser ?? podUid;
      if (uid === proxyUid) {
        const field = c.securityContext?.runAsUser !== undefined ? `spec.${where}[${c.name}].securityContext.runAsUser` : 'spec.securityContext.runAsUser';
        invalid(scope, field, uid, `UID ${proxyUid} is reserved for the Istio proxy (IST0144): run container '${c.name}' as another user`);
      }
      for (const p of c.ports ?? []) {
        if (RESERVED_PORTS.includes(p.containerPort)) {
          invalid(scope, `spec.${where}[${c.name}].ports[${p.name ?? p.containerPort}].containerPort`, p.containerPort,
            `ports ${RESERVED_PORTS.join(', ')} are reserved for the Istio proxy: use another port`);
        }
      }
      // capabilities, privileged, root with capabilities: what would let the app rewrite the capture (issue 16)
      checkAppContainerSecurity(scope, `spec.${where}[${c.name}]`, c, spec.securityContext, allowPrivilegedApp);
    }
  }
}

/**
 * Pod labels the webhook selects on, so the same template is injected in labelled and unlabelled namespaces. With the
 * gateway template, resources from the options go on the istio-proxy container (the template reads no annotations
 * for them).
 */
function webhookTemplate(t: Json, annotations: { [key: string]: string }, mesh: IMesh, gateway: boolean, gatewayResources: Json): Json {
  const labels: { [key: string]: string } = { ...t.metadata?.labels, [IstioLabels.INJECT]: 'true' };
  if (mesh.revision) labels[IstioLabels.REV] = mesh.revision;
  const spec = { ...t.spec };
  if (gateway) {
    const containers: Json[] = [...(spec.containers ?? [])];
    let i = containers.findIndex((c: Json) => c.name === PROXY_CONTAINER);
    if (i < 0) i = containers.push({ name: PROXY_CONTAINER, image: AUTO_IMAGE }) - 1;
    if (Object.keys(gatewayResources).length) containers[i] = overlayContainer({ ...containers[i], resources: gatewayResources }, containers[i]);
    spec.containers = containers;
  }
  const metadata: Json = { ...t.metadata, labels: sorted(labels) };
  if (Object.keys(annotations).length) metadata.annotations = sorted(annotations);
  return { ...t, metadata, spec };
}

/** Finds a container by name among the containers, then the init containers. */
function findContainer(spec: Json, name: string): Json | undefined {
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].find((c: Json) => c.name === name);
}

/** Whether the options (or the template's own annotation) ask for the gateway template. */
function wantsGateway(options: ProxyOptions, own: { [key: string]: string }): boolean {
  if (options.template !== undefined) return options.template === SidecarTemplate.GATEWAY;
  return (options.annotations?.[A.TEMPLATES] ?? own[A.TEMPLATES]) === TEMPLATE_GATEWAY;
}

/**
 * The gateway template's pod security context (Istio 1.30.3): its `sysctls` replace the pod's, so a pod that sets
 * other sysctls is refused rather than silently changed.
 */
function gatewaySecurityContext(scope: string, podContext: Json | undefined): Json {
  const own: Json[] = podContext?.sysctls ?? [];
  const other = own.find((x: Json) => x.name !== GATEWAY_SYSCTL.name || String(x.value) !== GATEWAY_SYSCTL.value);
  if (other) {
    invalid(scope, 'spec.securityContext.sysctls', other, `Istio's gateway template replaces the pod's sysctls with ${GATEWAY_SYSCTL.name}=${GATEWAY_SYSCTL.value}: remove the others`);
  }
  return { ...podContext, sysctls: [{ ...GATEWAY_SYSCTL }] };
}

/**
 * Injects the Istio proxy into a pod template (plain JSON: `{ metadata, spec }`), returning a new template; the input
 * is not modified. See `SidecarInjector.injectPodTemplate` for the behaviour.
 *
 * @param scope the construct path used in error messages (default: `<kind>/<name>` of the target)
 */
export function injectPodTemplate(template: any, mesh: IMesh, target: InjectionTarget, options: ProxyOptions = {}, scope?: string,
  allowPrivilegedApp = false): any {
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
  // Istio 1.30.3 (inject.go injectRequired, IntoObject) leaves pods on the host network uninjected
  if (spec.hostNetwork === true) {
    if (hasOptions(options)) invalid(where, 'spec.hostNetwork', true, 'Istio does not inject pods on the host network, so proxy options cannot apply: pass none, or set hostNetwork false');
    return t;
  }
  // with the gateway template, resources belong on the istio-proxy container (as in Istio's gateway chart)
  const gatewayWanted = wantsGateway(options, own);
  const { resources: optionResources, ...otherOptions } = options;
  if (gatewayWanted && optionResources) optionAnnotations(where, { resources: optionResources }); // validate
  const gatewayResources = gatewayWanted ? proxyResources({}, optionResources ?? {}) : {};
  const annotations: { [key: string]: string } = { ...own, ...optionAnnotations(where, gatewayWanted ? otherOptions : options, own[A.PROXY_CONFIG]) };
  validateAnnotations(where, annotations);
  const gateway = annotations[A.TEMPLATES] === TEMPLATE_GATEWAY;

  // the user's istio-proxy (and istio-init/istio-validation) containers customize the injected ones (Istio 1.30.3
  // webhook.go reapplyOverwrittenContainers): merged over them, never kept as containers of their own
  const overlay = findContainer(spec, PROXY_CONTAINER);
  const initName = gateway ? undefined : mesh.cni ? VALIDATION_CONTAINER : INIT_CONTAINER;
  const initOverlay = initName ? findContainer(spec, initName) : undefined;
  const isTemplates = (c: Json) => c.name === PROXY_CONTAINER || (initOverlay !== undefined && c.name === initName);
  const proxyUid: number | undefined = overlay?.securityContext?.runAsUser;
  const proxyGid: number | undefined = overlay?.securityContext?.runAsGroup;
  if (proxyUid === 0) {
    invalid(where, `spec.containers[${PROXY_CONTAINER}].securityContext.runAsUser`, 0, 'the proxy must not run as root: iptables tells its traffic apart by UID (use a UID other than 0)');
  }
  validateApp(where, spec, proxyUid ?? PROXY_UID, isTemplates, allowPrivilegedApp);
  if (mesh.injectionMode === InjectionMode.WEBHOOK) return webhookTemplate(t, annotations, mesh, gateway, gatewayResources);

  let apps: Json[] = spec.containers.filter((c: Json) => !isTemplates(c));
  let userInits: Json[] = (spec.initContainers ?? []).filter((c: Json) => !isTemplates(c));

  const proxyConfig = mergeProxyConfig(meshProxyConfig(mesh), parseProxyConfig(where, annotations[A.PROXY_CONFIG]));
  const native = !gateway && (boolAnnotation(annotations[A.NATIVE_SIDECAR]) ?? mesh.nativeSidecars);
  const hold = proxyConfig.holdApplicationUntilProxyStarts === true;
  const image = annotations[A.PROXY_IMAGE] ?? mesh.proxyImage;
  const resources = gateway ? gatewayResources : proxyResources(annotations, mesh.proxyResources);
  const capture = interception(annotations);
  const network = labels[LABEL_NETWORK] || mesh.network;

  // prometheus merge first, then the probe rewrite (the injector's order, which is also the env order)
  const prom = prometheusMerge(annotations);
  let appProbers: string | undefined;
  if (boolAnnotation(annotations[A.REWRITE_APP_HTTP_PROBERS]) !== false) {
    const r = rewriteProbes(where, apps, userInits, IstioPorts.STATUS);
    apps = r.containers;
    userInits = r.initContainers;
    if (Object.keys(r.probers).length) {
      const probers: Json = {};
      for (const k of Object.keys(r.probers).sort()) probers[k] = r.probers[k];
      appProbers = JSON.stringify(probers);
    }
  }

  const env = proxyEnv({
    mesh,
    target,
    proxyConfig,
    proxyConfigValue: proxyConfigEnvValue(proxyConfig),
    podContainers: spec.containers,
    appNames: spec.containers.filter((c: Json) => c.name !== PROXY_CONTAINER).map((c: Json) => c.name),
    gateway,
    workloadName: (!gateway && labels[LABEL_WORKLOAD_NAME]) || target.name,
  });
  let proxy = proxyContainer({ image, env, annotations, resources, gateway, native, hold, clusterDomain: mesh.clusterDomain });
  if (overlay) proxy = overlayContainer(proxy, overlay);
  proxy.env = addWebhookEnv(proxy.env, { network, prometheusAnnotations: prom.env, appProbers });

  // placement: native = [iptables, proxy, ...user init]; legacy = [validation?, ...user init, istio-init?] and the
  // proxy last among containers (first with holdApplicationUntilProxyStarts)
  let init: Json | undefined;
  if (!gateway) {
    init = initContainer({ image, interception: capture, cni: mesh.cni, resources, proxyMetadata: proxyConfig.proxyMetadata, proxyUid, proxyGid });
    if (initOverlay) init = overlayContainer(init, initOverlay);
  }
  let initContainers: Json[];
  let containers: Json[];
  if (native) {
    initContainers = [init!, proxy, ...userInits];
    containers = apps;
  } else {
    initContainers = !init ? userInits : mesh.cni ? [init, ...userInits] : [...userInits, init];
    containers = hold ? [proxy, ...apps] : [...apps, proxy];
  }

  const added = proxyVolumes(gateway);
  const taken = new Set((spec.volumes ?? []).map((v: Json) => v.name));
  for (const v of added) {
    if (taken.has(v.name)) invalid(where, `spec.volumes[${v.name}]`, v.name, `volume names ${added.map(x => x.name).join(', ')} are reserved for the Istio proxy`);
  }
  // the template is the strategic merge patch: its volumes come first, then the pod's own (Istio 1.30.3 goldens)
  const volumes = [...added, ...(spec.volumes ?? [])];

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
    volumes: added.map(v => v.name),
    imagePullSecrets: mesh.imagePullSecrets.length ? [...mesh.imagePullSecrets] : null,
    revision: mesh.revisionLabel,
  });
  const outLabels: { [key: string]: string } = { ...labels, ...canonicalLabels(labels, target.name) };
  if (!gateway) {
    // the pod's own values win (Istio 1.30.3 injection-template.yaml)
    outLabels[IstioLabels.TLS_MODE] = labels[IstioLabels.TLS_MODE] || 'istio';
    if (proxyConfig.proxyMetadata?.[ENV_ENABLE_HBONE] === 'true') outLabels[LABEL_TUNNEL] = labels[LABEL_TUNNEL] || TUNNEL_HTTP;
  }
  if (network) outLabels[LABEL_NETWORK] = network;
  // keeps istiod's webhook away: every injector webhook's objectSelector excludes sidecar.istio.io/inject=false
  outLabels[IstioLabels.INJECT] = 'false';

  const outSpec: Json = { ...spec, containers };
  if (initContainers.length) outSpec.initContainers = initContainers;
  else delete outSpec.initContainers;
  outSpec.volumes = volumes;
  if (gateway) outSpec.securityContext = gatewaySecurityContext(where, spec.securityContext);
  if (mesh.imagePullSecrets.length) {
    // a strategic merge keyed by name, the template being the patch: the mesh's Secrets, then the pod's other ones
    const podSecrets: Json[] = (spec.imagePullSecrets ?? []).filter((x: Json) => !mesh.imagePullSecrets.includes(x.name));
    outSpec.imagePullSecrets = [...mesh.imagePullSecrets.map(name => ({ name })), ...podSecrets];
  }
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

/** Where injectWorkload records, on the ApiObject itself, the options it was injected with. */
const INJECTED_WITH = Symbol.for('cdk8s-mesh.injectedWith');

const WORKLOAD_KINDS = 'Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, Pod or Argo Rollout';

/** Whether an object is a Kubernetes list (`kind: List`, or `<Kind>List`, with items). */
function isList(json: Json): boolean {
  return typeof json.kind === 'string' && /List$/.test(json.kind) && Array.isArray(json.items);
}

/** A pod template a List or an Include holds that Istio would not inject: it is left alone, not an error. */
function skipped(template: Json | undefined): boolean {
  return template?.spec?.hostNetwork === true || template?.metadata?.labels?.[IstioLabels.INJECT] === 'false';
}

/**
 * The workload a bare Pod belongs to, as Istio 1.30.3 derives it (pkg/kube/util.go GetDeployMetaFromPod): for a pod
 * whose name is generated, its controller owner, with a ReplicaSet seen as its Deployment (pod-template-hash) and a
 * Job named `<name>-<8 to 10 digits>` as its CronJob; otherwise the pod itself.
 */
export function podOwner(pod: Json): InjectionTarget {
  const meta = pod.metadata ?? {};
  const self: InjectionTarget = { apiVersion: 'v1', kind: 'Pod', name: meta.name, namespace: meta.namespace };
  const ref = meta.generateName ? (meta.ownerReferences ?? []).find((r: Json) => r?.controller === true) : undefined;
  if (!ref) return self;
  const labels = meta.labels ?? {};
  let { apiVersion, kind, name } = ref as { apiVersion: string; kind: string; name: string };
  const hash = labels['pod-template-hash'];
  const cron = /^(.+)-\d{8,10}$/.exec(name);
  if (kind === 'ReplicaSet' && hash && name.endsWith(hash)) {
    name = name.slice(0, name.length - hash.length - 1);
    kind = 'Deployment';
  } else if (kind === 'Job' && cron) {
    name = cron[1];
    kind = 'CronJob';
    apiVersion = 'batch/v1';
  }
  return { apiVersion, kind, name: name || meta.name, namespace: meta.namespace };
}

/** Injects the pod template of one workload object (JSON), in place. `many`: part of a List or an Include. */
function injectObject(json: Json, mesh: IMesh, options: ProxyOptions, scope: string, many: boolean, allowPrivilegedApp = false): boolean {
  const path = podTemplatePath(json.kind);
  if (!path) return false;
  const target: InjectionTarget = json.kind === 'Pod' ? podOwner(json)
    : { apiVersion: json.apiVersion, kind: json.kind, name: json.metadata?.name, namespace: json.metadata?.namespace };
  if (path.length === 0) {
    if (many && skipped(json)) return true;
    const pod = injectPodTemplate({ metadata: json.metadata, spec: json.spec }, mesh, target, options, scope, allowPrivilegedApp);
    json.metadata = pod.metadata;
    json.spec = pod.spec;
    return true;
  }
  let parent: Json = json;
  for (const k of path.slice(0, -1)) {
    if (!parent[k]) invalid(scope, path.join('.'), undefined, `a ${json.kind} needs ${path.join('.')}`);
    parent = parent[k];
  }
  const last = path[path.length - 1];
  if (many && skipped(parent[last])) return true;
  parent[last] = injectPodTemplate(parent[last], mesh, target, options, scope, allowPrivilegedApp);
  return true;
}

/**
 * The API objects `mesh.inject` works on: the workload itself (an ApiObject, or a construct whose default child is
 * one), or every API object directly under a construct without a default child, such as cdk8s `Include`.
 */
function injectionTargets(workload: IConstruct): { objects: ApiObject[]; many: boolean } {
  if (workload instanceof ApiObject || workload.node.defaultChild) return { objects: [ApiObject.of(workload)], many: false };
  const objects = workload.node.children.filter((c): c is ApiObject => c instanceof ApiObject);
  if (objects.length === 0) {
    invalid(workload.node.path, 'workload', workload.node.path, `must be a workload (${WORKLOAD_KINDS}), a List of them, or a construct of API objects such as cdk8s Include`);
  }
  return { objects, many: true };
}

/**
 * Injects a workload's pod template when it is synthesized, by wrapping the ApiObject's `toJson` (so escape-hatch
 * patches are applied first). A `List` (e.g. included YAML with `kind: List`) has each workload item injected; a
 * construct of API objects (cdk8s `Include`) has each workload, and each workload of each List, injected. Other
 * objects there, and pods Istio would not inject (host network, `sidecar.istio.io/inject: "false"`), are left alone.
 * Options are validated now. @internal
 */
export function injectWorkload(workload: IConstruct, mesh: IMesh, options: ProxyOptions = {}, allowPrivilegedApp = false): void {
  const { objects, many } = injectionTargets(workload);
  optionAnnotations(workload.node.path, options); // validate early
  const key = JSON.stringify(options);
  const chosen = objects.filter(obj => obj.kind === 'List' || /List$/.test(obj.kind) || podTemplatePath(obj.kind));
  if (!many && chosen.length === 0) {
    invalid(objects[0].node.path, 'kind', objects[0].kind, `must be a workload with a pod template (${WORKLOAD_KINDS}), or a List of them`);
  }
  if (many && chosen.length === 0) {
    invalid(workload.node.path, 'workload', objects.map(o => o.kind).join(', '), `holds no workload to inject: needs a ${WORKLOAD_KINDS}, or a List of them`);
  }
  for (const obj of chosen) {
    const scope = obj.node.path;
    const previous: string | undefined = (obj as any)[INJECTED_WITH];
    if (previous !== undefined) {
      if (previous === key) continue;
      invalid(scope, 'options', options, `the workload is already injected with other proxy options (${previous})`);
    }
    Object.defineProperty(obj, INJECTED_WITH, { value: key, enumerable: false });
    const inject = (json: Json): Json => {
      if (!isList(json)) {
        if (!injectObject(json, mesh, options, scope, many, allowPrivilegedApp)) invalid(scope, 'kind', json.kind, `must be a workload with a pod template (${WORKLOAD_KINDS})`);
        return json;
      }
      let found = 0;
      json.items.forEach((item: Json, i: number) => {
        if (item && typeof item === 'object' && injectObject(item, mesh, options, `${scope}/items[${i}]`, true, allowPrivilegedApp)) found++;
      });
      if (found === 0 && !many) {
        invalid(scope, 'items', json.items.map((x: Json) => x?.kind).join(', '), `the List holds no workload to inject: needs a ${WORKLOAD_KINDS}`);
      }
      return json;
    };
    if (Object.getPrototypeOf(obj).toJson === ApiObject.prototype.toJson) {
      // a plain ApiObject (raw, included YAML): checked now (its kind, a List's items), so a mistake fails where it is
      // made; injected as it is written, by a synth-time transform of the mesh model (a cdk8s resolver); its own JSON
      // patches apply to the injected object
      inject(clone(obj.toJson()));
      MeshModel.of(obj).addObjectTransform((_o, json) => inject(json), obj);
    } else {
      // A generated binding (cdk8s-plus's KubeDeployment...) maps its props to JSON after cdk8s resolved them, and
      // drops fields its Kubernetes version does not know (cdk8s-plus-27 has no container restartPolicy, which native
      // sidecars need): only its final JSON can be injected, and cdk8s 2.70 has no hook after that mapping. The one
      // deliberate exception to "never replace another object's methods", recorded in docs/architecture.md.
      const toJson = obj.toJson.bind(obj);
      obj.toJson = () => inject(toJson());
    }
  }
}

/**
 * Sidecar injection at synth time, faithful to `istioctl kube-inject` and the injection webhook of Istio 1.30.3 (the
 * `sidecar` and `gateway` templates): istio-init (or istio-validation with CNI), istio-proxy as a native sidecar
 * (Kubernetes 1.33+) or a regular container, the Istio volumes, probe rewrite to pilot-agent (15020), prometheus merge,
 * canonical labels and the `sidecar.istio.io/status` annotation. PROXY_CONFIG is the mesh's `defaultProxyConfig` (and
 * revision discovery address) with the pod's `proxy.istio.io/config` merged over it; the mesh's `network` and
 * `imagePullSecrets` are applied as Istio applies `values.global.network` and `values.global.imagePullSecrets`.
 *
 * The pod's own `istio-proxy`, `istio-init` or `istio-validation` containers customize the injected ones (merged over
 * them, as Istio does); the `runAsUser`/`runAsGroup` of its `istio-proxy` become the UID iptables excludes. Pods on the
 * host network are left uninjected, as Istio leaves them.
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
   * (CronJob: `spec.jobTemplate.spec.template`). Injecting twice with the same options is a no-op. A `List` object
   * (such as included YAML with `kind: List`), or a construct of API objects such as cdk8s `Include`, has each of its
   * workloads injected; other objects, and pods Istio would not inject, are left alone.
   */
  public static inject(workload: IConstruct, mesh: IMesh, options?: ProxyOptions): void {
    injectWorkload(workload, mesh, options ?? {});
  }

  private constructor() {}
}
