/**
 * The `values` key of the injector ConfigMap (`istio-sidecar-injector[-<rev>]`): the settings istiod's injection
 * templates read as `.Values`.
 *
 * Source: Istio 1.30.3, manifests/charts/istio-control/istio-discovery: templates/istiod-injector-configmap.yaml picks
 * `global`, `sidecarInjectorWebhook`, `revision`, `pilot` (= the chart's `cni` and `env`) and `gateways`
 * (`securityContext`, `seccompProfile`) out of values.yaml; those 81 leaf keys and their chart defaults are below.
 * A template that reads a key missing here renders `<nil>` (e.g. `initialDelaySeconds: <nil>`) and the pod is
 * rejected, so every key is always rendered. Mesh settings replace the chart defaults they correspond to.
 * @internal
 */
import { IMAGE_PROXY } from '../mesh/constants';

/** The chart defaults of the injector values (Istio 1.30.3 istio-discovery values.yaml). @internal */
export function chartInjectorValues(): { [key: string]: any } {
  // a fresh object on every call: callers merge into it
  return {
    global: {
      istioNamespace: 'istio-system',
      certSigners: [],
      defaultPodDisruptionBudget: { enabled: true },
      defaultResources: { requests: { cpu: '10m' } },
      hub: 'docker.io/istio',
      tag: '1.30.3',
      variant: '',
      imagePullPolicy: '',
      imagePullSecrets: [],
      istiod: { enableAnalysis: false },
      logAsJson: false,
      nativeNftables: false,
      logging: { level: 'default:info' },
      networkPolicy: { enabled: false },
      omitSidecarInjectorConfigMap: false,
      resourceScope: 'all',
      operatorManageWebhooks: false,
      priorityClassName: '',
      proxy: {
        image: IMAGE_PROXY,
        autoInject: 'enabled',
        clusterDomain: 'cluster.local',
        componentLogLevel: 'misc:error',
        excludeInboundPorts: '',
        includeInboundPorts: '*',
        includeIPRanges: '*',
        excludeIPRanges: '',
        includeOutboundPorts: '',
        excludeOutboundPorts: '',
        logLevel: 'warning',
        outlierLogPath: '',
        privileged: false,
        seccompProfile: {},
        readinessFailureThreshold: 4,
        readinessInitialDelaySeconds: 0,
        readinessPeriodSeconds: 15,
        startupProbe: { enabled: true, failureThreshold: 600 },
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2000m', memory: '1024Mi' } },
        statusPort: 15020,
        tracer: 'none',
      },
      proxy_init: { image: IMAGE_PROXY, forceApplyIptables: false },
      remotePilotAddress: '',
      caAddress: '',
      externalIstiod: false,
      configCluster: false,
      configValidation: true,
      meshID: '',
      meshNetworks: {},
      mountMtlsCerts: false,
      multiCluster: { clusterName: '' },
      network: '',
      pilotCertProvider: 'istiod',
      sds: { token: { aud: 'istio-ca' } },
      sts: { servicePort: 0 },
      caName: '',
      waypoint: {
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } },
        affinity: {},
        topologySpreadConstraints: [],
        nodeSelector: {},
        tolerations: [],
      },
    },
    sidecarInjectorWebhook: {
      neverInjectSelector: [],
      alwaysInjectSelector: [],
      injectedAnnotations: {},
      enableNamespacesByDefault: false,
      reinvocationPolicy: 'Never',
      rewriteAppHTTPProbe: true,
      templates: {},
      defaultTemplates: [],
    },
    revision: '',
    pilot: {
      cni: { enabled: false, provider: 'default' },
      env: {},
    },
    gateways: {
      securityContext: {},
      seccompProfile: {},
    },
  };
}
