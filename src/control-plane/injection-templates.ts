/**
 * The `gateway` and `kube-gateway` templates of the injector ConfigMap, rendered by this library from the mesh's
 * settings (its own rendering; no upstream template text).
 *
 * Facts from Istio 1.30.3 (tag 1.30.3):
 * - manifests/charts/istio-control/istio-discovery/templates/istiod-injector-configmap.yaml installs, next to
 *   `sidecar`, a `gateway` template (injects the proxy into gateway pods: `inject.istio.io/templates: gateway`) and a
 *   `kube-gateway` template (what istiod's Gateway API deployment controller renders for a `Gateway` of class
 *   `istio`); without `kube-gateway` istiod logs `no "kube-gateway" template defined` and deploys nothing
 *   (pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go, render).
 * - The deployment controller executes `kube-gateway` with its TemplateInput (the Gateway's object, .Name,
 *   .Namespace, .UID, .GatewayClass, .DeploymentName, .ServiceAccount, .Ports, .ServiceType, .ProxyUID, .ProxyGID,
 *   .InfrastructureLabels, .InfrastructureAnnotations) plus .ProxyImage, .ProxyConfig, .MeshConfig and .Values; it
 *   server-side applies only ServiceAccount, Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget
 *   in the Gateway's namespace, and drops the HPA and PDB unless a GatewayClass/parametersRef overlay configures them.
 * - Templates run with sprig's functions and Istio's (pkg/kube/inject/template.go: annotation, omit, strdict,
 *   toJsonMap, protoToJSON...).
 *
 * Mesh-wide settings (CA address, trust domain, cluster domain, revision, proxy resources) are written into the
 * templates at synth time; only what istiod knows at render time (the Gateway, its ports, the proxy image and
 * config) is left to Go. Each template is built once as data: `mode: 'template'` renders Go template text, `mode:
 * 'sample'` fills every render-time slot with a sample value, which tests validate against the Kubernetes schemas.
 * @internal
 */
import * as YAML from 'yaml';
import { DEFAULT_CLUSTER_ID, IstioAnnotations, IstioLabels, IstioPorts } from '../mesh/constants';
import { IMesh } from '../mesh/mesh';
import {
  DEFAULT_AGENT_LOG_LEVEL, DEFAULT_COMPONENT_LOG_LEVEL, DEFAULT_PROXY_LOG_LEVEL, ENVOY_PROM_PORT_NAME, GATEWAY_SYSCTL,
  HEALTH_READY_PATH, PROXY_CONTAINER, PROXY_VOLUMES, TOKEN_AUDIENCE,
} from '../sidecar/constants';
import { imagePullSecretRefs } from '../sidecar/mesh-settings';

/** Template names (Istio 1.30.3 istiod-injector-configmap.yaml; gatewaycommon/classinfo.go for `kube-gateway`). */
export const TEMPLATE_GATEWAY = 'gateway';
export const TEMPLATE_KUBE_GATEWAY = 'kube-gateway';

/** Gateway API labels istiod's deployment controller sets (Istio 1.30.3 label catalogue). */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
export const GATEWAY_CLASS_LABEL = 'gateway.networking.k8s.io/gateway-class-name';
export const GATEWAY_MANAGED_LABEL = 'gateway.istio.io/managed';
export const GATEWAY_MANAGED_VALUE = 'istio.io-gateway-controller';
/** Gateway annotations that are controller input, never copied onto the generated objects (Istio 1.30.3). */
export const GATEWAY_CONTROL_ANNOTATIONS = [
  'kubectl.kubernetes.io/last-applied-configuration', 'gateway.istio.io/name-override', 'gateway.istio.io/service-account',
  'gateway.istio.io/controller-version',
];
/** Probes of the generated gateway proxy (Istio 1.30.3 kube-gateway: startup 1s x30, readiness every 15s x4). */
const KUBE_GATEWAY_STARTUP = { failureThreshold: 30, initialDelaySeconds: 1, periodSeconds: 1, successThreshold: 1, timeoutSeconds: 1 };
const KUBE_GATEWAY_READINESS = { failureThreshold: 4, initialDelaySeconds: 0, periodSeconds: 15, successThreshold: 1, timeoutSeconds: 1 };
/** The `gateway` template's readiness probe: chart values readiness* and a 3s timeout (Istio 1.30.3). */
const GATEWAY_READINESS = { initialDelaySeconds: 0, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 };

/** How a template is rendered: as Go template text, or with sample values in every render-time slot. @internal */
export type TemplateMode = 'template' | 'sample';

/** Collects render-time slots: Go text in template mode, sample values in sample mode. @internal */
class Slots {
  private readonly go = new Map<string, string[]>();
  constructor(public readonly mode: TemplateMode) {}

  /** A value Go computes (a scalar, or a JSON map from toJsonMap): one pipeline. */
  public v(goExpr: string, sample: any): any {
    return this.raw(`{{ ${goExpr} }}`, sample);
  }

  /** A value Go computes with several actions (`text` is the whole Go text of the value). */
  public raw(text: string, sample: any): any {
    if (this.mode === 'sample') return sample;
    return this.placeholder('GOVALUE', [text]);
  }

  /** Zero or more map entries Go renders (`lines` are their YAML lines with control actions); spread into a map. */
  public entries(lines: string[], sample: { [key: string]: any }): { [key: string]: any } {
    if (this.mode === 'sample') return sample;
    return { [this.placeholder('GOBLOCK', lines)]: '' };
  }

  /** Zero or more list items Go renders (`lines` are the YAML lines of the items, with their control actions). */
  public items(lines: string[], sample: any[]): any[] {
    if (this.mode === 'sample') return sample;
    return [this.placeholder('GOBLOCK', lines)];
  }

  /** Replaces the placeholders of a YAML text by their Go text. */
  public fill(text: string): string {
    return text.split('\n').map(line => {
      // a block (list items or map entries): its lines replace the whole line, at its indentation
      const b = /^(\s*)(?:- )?(GOBLOCK\d+X)(?:: "")?$/.exec(line);
      if (b) return this.go.get(b[2])!.map(l => b[1] + l).join('\n');
      // a value: the Go text replaces the placeholder
      return line.replace(/GOVALUE\d+X/g, id => this.go.get(id)![0]);
    }).join('\n');
  }

  private placeholder(kind: string, lines: string[]): string {
    const id = `${kind}${this.go.size}X`;
    this.go.set(id, lines);
    return id;
  }
}

const q = (s: string) => JSON.stringify(s);
/** `{{ annotation .ObjectMeta "<key>" "<default>" }}`: an annotation of the Gateway/pod, or a default. */
const annotation = (key: string, def: string) => `annotation .ObjectMeta ${q(key)} ${q(def)}`;
/** The Gateway's annotations, minus the controller's input. */
const infraAnnotations = `omit .InfrastructureAnnotations ${GATEWAY_CONTROL_ANNOTATIONS.map(q).join(' ')}`;

function render(mode: TemplateMode, build: (s: Slots) => any[]): string | any[] {
  const s = new Slots(mode);
  const docs = build(s);
  if (mode === 'sample') return docs;
  return docs.map(d => s.fill(YAML.stringify(d, { lineWidth: 0 }))).join('---\n');
}

/** The proxy env both gateway templates share: identity, CA, downward API and resource-derived env. */
function proxyEnv(mesh: IMesh): any[] {
  const field = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const limit = (name: string, resource: string) => ({ name, valueFrom: { resourceFieldRef: { resource, divisor: '1' } } });
  return [
    { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
    { name: 'CA_ADDR', value: mesh.caAddress },
    field('POD_NAME', 'metadata.name'),
    field('POD_NAMESPACE', 'metadata.namespace'),
    field('INSTANCE_IP', 'status.podIP'),
    field('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    field('HOST_IP', 'status.hostIP'),
    limit('ISTIO_CPU_LIMIT', 'limits.cpu'),
  ];
}

function proxyArgs(mesh: IMesh, s: Slots): string[] {
  return [
    'proxy', 'router', '--domain', `$(POD_NAMESPACE).svc.${mesh.clusterDomain}`,
    '--proxyLogLevel', s.v(`${annotation(IstioAnnotations.LOG_LEVEL, DEFAULT_PROXY_LOG_LEVEL)} | quote`, DEFAULT_PROXY_LOG_LEVEL),
    '--proxyComponentLogLevel', s.v(`${annotation(IstioAnnotations.COMPONENT_LOG_LEVEL, DEFAULT_COMPONENT_LOG_LEVEL)} | quote`, DEFAULT_COMPONENT_LOG_LEVEL),
    '--log_output_level', s.v(`${annotation(IstioAnnotations.AGENT_LOG_LEVEL, DEFAULT_AGENT_LOG_LEVEL)} | quote`, DEFAULT_AGENT_LOG_LEVEL),
  ];
}

function resources(mesh: IMesh): any {
  const r = mesh.proxyResources;
  const pick = (cpu?: string, memory?: string) => {
    const out: { [key: string]: string } = {};
    if (cpu !== undefined) out.cpu = cpu;
    if (memory !== undefined) out.memory = memory;
    return Object.keys(out).length ? out : undefined;
  };
  const out: any = {};
  const requests = pick(r.cpuRequest, r.memoryRequest);
  const limits = pick(r.cpuLimit, r.memoryLimit);
  if (requests) out.requests = requests;
  if (limits) out.limits = limits;
  return out;
}

/** The proxy's volumes of a gateway (the sidecar's, without the CRL ConfigMap), and their mounts. */
function gatewayVolumes(): { volumes: any[]; mounts: any[] } {
  const vols = PROXY_VOLUMES.filter(v => v.name !== 'istio-ca-crl');
  return {
    volumes: vols.map(v => ({ name: v.name, ...v.source })),
    mounts: vols.map(v => ({ name: v.name, mountPath: v.mountPath })),
  };
}

/** The mesh's image pull Secrets (values.global.imagePullSecrets) on a pod spec. */
const pullSecrets = imagePullSecretRefs;

/** Env lines Go renders from the ProxyConfig's proxyMetadata, with samples. */
function proxyMetadataEnv(s: Slots): any[] {
  return s.items([
    '{{- range $key, $value := .ProxyConfig.ProxyMetadata }}',
    '- name: {{ $key | quote }}',
    '  value: {{ $value | quote }}',
    '{{- end }}',
  ], [{ name: 'ISTIO_META_DNS_CAPTURE', value: 'true' }]);
}

/**
 * The `kube-gateway` template: ServiceAccount, Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget of
 * a Gateway API `Gateway`, owned by it.
 * @internal
 */
export function kubeGatewayTemplate(mesh: IMesh, mode: TemplateMode = 'template'): any {
  return render(mode, s => {
    const name = s.v('.Name | quote', 'shop-gateway');
    const namespace = s.v('.Namespace | quote', 'shop');
    const deploymentName = s.v('.DeploymentName | quote', 'shop-gateway-istio');
    const owner = [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name, uid: s.v('.UID | quote', '1f6a6bd4-7c2b-4b38-9b1a-3a8e5b0d2c11') }];
    const annotations = () => s.v(`toJsonMap (${infraAnnotations})`, { 'example.com/team': 'shop' });
    const labels = (managed: boolean) => s.v(
      `toJsonMap .InfrastructureLabels (strdict ${q(GATEWAY_NAME_LABEL)} .Name ${q(GATEWAY_CLASS_LABEL)} .GatewayClass${managed ? ` ${q(GATEWAY_MANAGED_LABEL)} ${q(GATEWAY_MANAGED_VALUE)}` : ''})`,
      { [GATEWAY_NAME_LABEL]: 'shop-gateway', [GATEWAY_CLASS_LABEL]: 'istio', ...(managed ? { [GATEWAY_MANAGED_LABEL]: GATEWAY_MANAGED_VALUE } : {}) });
    const meta = (objName: any, managed = false) =>
      ({ name: objName, namespace, annotations: annotations(), labels: labels(managed), ownerReferences: owner });
    const selector = { [GATEWAY_NAME_LABEL]: name };
    const { volumes, mounts } = gatewayVolumes();
    const podAnnotations = s.v(`toJsonMap (${infraAnnotations}) (strdict ${q(IstioLabels.REV)} ${q(mesh.revisionLabel)} `
      + `${q(IstioAnnotations.PROMETHEUS_PATH)} "/stats/prometheus" ${q(IstioAnnotations.PROMETHEUS_PORT)} ${q(String(IstioPorts.STATUS))} `
      + `${q(IstioAnnotations.PROMETHEUS_SCRAPE)} "true")`,
    { [IstioLabels.REV]: mesh.revisionLabel, [IstioAnnotations.PROMETHEUS_PATH]: '/stats/prometheus', [IstioAnnotations.PROMETHEUS_PORT]: '15020', [IstioAnnotations.PROMETHEUS_SCRAPE]: 'true' });
    const podLabels = s.v(`toJsonMap (strdict ${q(IstioLabels.INJECT)} "false" ${q(IstioLabels.CANONICAL_NAME)} .DeploymentName `
      + `${q(IstioLabels.CANONICAL_REVISION)} "latest") .InfrastructureLabels (strdict ${q(GATEWAY_NAME_LABEL)} .Name `
      + `${q(GATEWAY_CLASS_LABEL)} .GatewayClass ${q(GATEWAY_MANAGED_LABEL)} ${q(GATEWAY_MANAGED_VALUE)})`,
    { [IstioLabels.INJECT]: 'false', [IstioLabels.CANONICAL_NAME]: 'shop-gateway-istio', [IstioLabels.CANONICAL_REVISION]: 'latest', [GATEWAY_NAME_LABEL]: 'shop-gateway', [GATEWAY_CLASS_LABEL]: 'istio', [GATEWAY_MANAGED_LABEL]: GATEWAY_MANAGED_VALUE });
    const network = 'topology.istio.io/network';
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(deploymentName, true),
      spec: {
        selector: { matchLabels: selector },
        template: {
          metadata: { annotations: podAnnotations, labels: podLabels },
          spec: {
            // Added vs upstream: the RuntimeDefault seccomp profile (the pod then meets Pod Security `restricted`)
            securityContext: { sysctls: [{ ...GATEWAY_SYSCTL }], seccompProfile: { type: 'RuntimeDefault' } },
            serviceAccountName: s.v('.ServiceAccount | quote', 'shop-gateway-istio'),
            containers: [{
              name: PROXY_CONTAINER,
              image: s.v('.ProxyImage | quote', mesh.proxyImage),
              resources: resources(mesh),
              securityContext: {
                capabilities: { drop: ['ALL'] },
                allowPrivilegeEscalation: false,
                privileged: false,
                readOnlyRootFilesystem: true,
                runAsUser: s.v('.ProxyUID | default 1337', 1337),
                runAsGroup: s.v('.ProxyGID | default 1337', 1337),
                runAsNonRoot: true,
              },
              ports: [
                { containerPort: IstioPorts.STATUS, name: 'metrics', protocol: 'TCP' },
                { containerPort: IstioPorts.HEALTH, name: 'status-port', protocol: 'TCP' },
                { containerPort: IstioPorts.ENVOY_PROMETHEUS, name: ENVOY_PROM_PORT_NAME, protocol: 'TCP' },
              ],
              args: proxyArgs(mesh, s),
              env: [
                ...proxyEnv(mesh),
                { name: 'PROXY_CONFIG', value: s.v('protoToJSON .ProxyConfig | toJson', '{}') },
                { name: 'ISTIO_META_POD_PORTS', value: '[]' },
                { name: 'ISTIO_META_APP_CONTAINERS', value: '' },
                { name: 'GOMEMLIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1' } } },
                { name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } },
                { name: 'ISTIO_META_CLUSTER_ID', value: DEFAULT_CLUSTER_ID },
                { name: 'ISTIO_META_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'ISTIO_META_INTERCEPTION_MODE', value: s.v('.ProxyConfig.InterceptionMode.String | quote', 'REDIRECT') },
                // the Gateway's topology.istio.io/network label, else the mesh's network
                ...s.items([
                  mesh.network
                    ? `{{- with (valueOrDefault (index .InfrastructureLabels ${q(network)}) ${q(mesh.network)}) }}`
                    : `{{- with (index .InfrastructureLabels ${q(network)}) }}`,
                  '- name: ISTIO_META_NETWORK',
                  '  value: {{ . | quote }}',
                  '{{- end }}',
                ], [{ name: 'ISTIO_META_NETWORK', value: mesh.network ?? 'network1' }]),
                { name: 'ISTIO_META_WORKLOAD_NAME', value: deploymentName },
                { name: 'ISTIO_META_OWNER', value: s.v('printf "kubernetes://apis/apps/v1/namespaces/%s/deployments/%s" .Namespace .DeploymentName | quote', 'kubernetes://apis/apps/v1/namespaces/shop/deployments/shop-gateway-istio') },
                { name: 'ISTIO_META_MESH_ID', value: mesh.trustDomain },
                { name: 'TRUST_DOMAIN', value: mesh.trustDomain },
                ...proxyMetadataEnv(s),
                ...s.items([
                  `{{- with (index .InfrastructureLabels ${q(network)}) }}`,
                  '- name: ISTIO_META_REQUESTED_NETWORK_VIEW',
                  '  value: {{ . | quote }}',
                  '{{- end }}',
                ], [{ name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: 'network1' }]),
              ],
              startupProbe: { ...KUBE_GATEWAY_STARTUP, httpGet: { path: HEALTH_READY_PATH, port: IstioPorts.HEALTH, scheme: 'HTTP' } },
              readinessProbe: { ...KUBE_GATEWAY_READINESS, httpGet: { path: HEALTH_READY_PATH, port: IstioPorts.HEALTH, scheme: 'HTTP' } },
              volumeMounts: mounts,
            }],
            volumes,
            ...pullSecrets(mesh),
          },
        },
      },
    };
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(deploymentName),
      spec: {
        ipFamilyPolicy: 'PreferDualStack',
        ports: s.items([
          '{{- range .Ports }}',
          '- name: {{ .Name | quote }}',
          '  port: {{ .Port }}',
          '  protocol: TCP',
          '  appProtocol: {{ .AppProtocol | quote }}',
          '{{- end }}',
        ], [
          { name: 'status-port', port: IstioPorts.HEALTH, protocol: 'TCP', appProtocol: 'tcp' },
          { name: 'http', port: 80, protocol: 'TCP', appProtocol: 'http' },
        ]),
        selector,
        // the Gateway's first address, for a LoadBalancer Service
        ...s.entries([
          '{{- if and .Spec.Addresses (eq .ServiceType "LoadBalancer") }}',
          'loadBalancerIP: {{ (index .Spec.Addresses 0).Value | quote }}',
          '{{- end }}',
        ], { loadBalancerIP: '203.0.113.10' }),
        type: s.v('.ServiceType | quote', 'LoadBalancer'),
      },
    };
    return [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(s.v('.ServiceAccount | quote', 'shop-gateway-istio')) },
      deployment,
      service,
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: meta(deploymentName),
        // only applied when a GatewayClass or parametersRef overlay configures it (deploymentcontroller.go)
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName }, maxReplicas: 1 },
      },
      {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: meta(deploymentName),
        spec: { selector: { matchLabels: selector } },
      },
    ];
  });
}

/**
 * The `gateway` template: injects the proxy into a gateway pod (`inject.istio.io/templates: gateway`, e.g. Istio's
 * gateway chart or a MeshGateway in webhook mode). Its output is merged into the pod.
 * @internal
 */
export function gatewayInjectionTemplate(mesh: IMesh, mode: TemplateMode = 'template'): any {
  return render(mode, s => {
    const { volumes, mounts } = gatewayVolumes();
    const labelOr = (first: string, ...fallbacks: string[]) =>
      [first, ...fallbacks].map(l => `(index .ObjectMeta.Labels ${q(l)})`).join(' | default ');
    return [{
      metadata: {
        labels: {
          [IstioLabels.CANONICAL_NAME]: s.v(`${labelOr(IstioLabels.CANONICAL_NAME, 'app.kubernetes.io/name', IstioLabels.APP)} | default .DeploymentMeta.Name | quote`, 'istio-ingressgateway'),
          [IstioLabels.CANONICAL_REVISION]: s.v(`${labelOr(IstioLabels.CANONICAL_REVISION, 'app.kubernetes.io/version', IstioLabels.VERSION)} | default "latest" | quote`, 'latest'),
        },
        // istio.io/rev, and the first non-proxy container as kubectl's default, unless the pod names one
        annotations: s.raw(
          `{{ $c := list }}{{ range .Spec.Containers }}{{ if ne .Name ${q(PROXY_CONTAINER)} }}{{ $c = append $c .Name }}{{ end }}{{ end }}`
          + `{{ $d := dict ${q(IstioLabels.REV)} ${q(mesh.revisionLabel)} }}{{ if $c }}`
          + `{{ range $k := list ${q(IstioAnnotations.DEFAULT_CONTAINER)} ${q(IstioAnnotations.DEFAULT_LOGS_CONTAINER)} }}`
          + '{{ if not (isset $.ObjectMeta.Annotations $k) }}{{ $_ := set $d $k (first $c) }}{{ end }}{{ end }}{{ end }}{{ toJson $d }}',
          { [IstioLabels.REV]: mesh.revisionLabel, [IstioAnnotations.DEFAULT_CONTAINER]: 'app', [IstioAnnotations.DEFAULT_LOGS_CONTAINER]: 'app' }),
      },
      spec: {
        securityContext: { sysctls: [{ ...GATEWAY_SYSCTL }] },
        containers: [{
          name: PROXY_CONTAINER,
          // a full image reference in sidecar.istio.io/proxyImage wins over the mesh's proxy image
          image: s.raw(`{{ if contains "/" (${annotation(IstioAnnotations.PROXY_IMAGE, '')}) }}{{ ${annotation(IstioAnnotations.PROXY_IMAGE, '')} | quote }}`
            + '{{ else }}{{ .ProxyImage | quote }}{{ end }}', mesh.proxyImage),
          ports: [{ containerPort: IstioPorts.ENVOY_PROMETHEUS, protocol: 'TCP', name: ENVOY_PROM_PORT_NAME }],
          args: proxyArgs(mesh, s),
          securityContext: { runAsUser: s.v('.ProxyUID | default 1337', 1337), runAsGroup: s.v('.ProxyGID | default 1337', 1337) },
          env: [
            ...proxyEnv(mesh),
            { name: 'PROXY_CONFIG', value: s.v('protoToJSON .ProxyConfig | toJson', '{}') },
            {
              name: 'ISTIO_META_POD_PORTS',
              // the pod's container ports, as a JSON array
              value: s.raw('{{ $p := list }}{{ range .Spec.Containers }}{{ range .Ports }}{{ $p = append $p (structToJSON .) }}{{ end }}{{ end }}'
                + '{{ printf "[%s]" (join "," $p) | toJson }}', '[{"containerPort":8080,"protocol":"TCP"}]'),
            },
            { name: 'GOMEMLIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1' } } },
            { name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } },
            ...s.items([
              '{{- if .CompliancePolicy }}',
              '- name: COMPLIANCE_POLICY',
              '  value: {{ .CompliancePolicy | quote }}',
              '{{- end }}',
            ], []),
            {
              name: 'ISTIO_META_APP_CONTAINERS',
              value: s.raw(`{{ $a := list }}{{ range .Spec.Containers }}{{ if ne .Name ${q(PROXY_CONTAINER)} }}{{ $a = append $a .Name }}{{ end }}{{ end }}`
                + '{{ join "," $a | quote }}', 'app'),
            },
            { name: 'ISTIO_META_CLUSTER_ID', value: DEFAULT_CLUSTER_ID },
            { name: 'ISTIO_META_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'ISTIO_META_INTERCEPTION_MODE', value: s.v('.ProxyConfig.InterceptionMode.String | quote', 'REDIRECT') },
            ...(mesh.network ? [{ name: 'ISTIO_META_NETWORK', value: mesh.network }] : []),
            ...s.items([
              '{{- if .DeploymentMeta.Name }}',
              '- name: ISTIO_META_WORKLOAD_NAME',
              '  value: {{ .DeploymentMeta.Name | quote }}',
              '{{- end }}',
              '{{- if and .TypeMeta.APIVersion .DeploymentMeta.Name }}',
              '- name: ISTIO_META_OWNER',
              '  value: {{ printf "kubernetes://apis/%s/namespaces/%s/%ss/%s" .TypeMeta.APIVersion (valueOrDefault .DeploymentMeta.Namespace "default") (toLower .TypeMeta.Kind) .DeploymentMeta.Name | quote }}',
              '{{- end }}',
            ], [
              { name: 'ISTIO_META_WORKLOAD_NAME', value: 'istio-ingressgateway' },
              { name: 'ISTIO_META_OWNER', value: 'kubernetes://apis/apps/v1/namespaces/istio-ingress/deployments/istio-ingressgateway' },
            ]),
            { name: 'ISTIO_META_MESH_ID', value: mesh.trustDomain },
            { name: 'TRUST_DOMAIN', value: mesh.trustDomain },
            ...proxyMetadataEnv(s),
          ],
          readinessProbe: { httpGet: { path: HEALTH_READY_PATH, port: IstioPorts.HEALTH }, ...GATEWAY_READINESS },
          volumeMounts: mounts,
        }],
        volumes: volumes.map(v => v.name === 'istio-token'
          ? { name: v.name, projected: { sources: [{ serviceAccountToken: { path: 'istio-token', expirationSeconds: 43200, audience: TOKEN_AUDIENCE } }] } }
          : v),
        ...pullSecrets(mesh),
      },
    }];
  });
}
