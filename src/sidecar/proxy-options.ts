import { Duration } from 'cdk8s';
import type { ResourceSettings } from '../mesh/mesh';

/** Envoy log levels (`sidecar.istio.io/logLevel`). */
export enum ProxyLogLevel {
  TRACE = 'trace',
  DEBUG = 'debug',
  INFO = 'info',
  WARNING = 'warning',
  ERROR = 'error',
  CRITICAL = 'critical',
  OFF = 'off',
}

/** Which injection template shapes the proxy (`inject.istio.io/templates`). */
export enum SidecarTemplate {
  /** A sidecar next to an application: `proxy sidecar`, traffic capture by istio-init (or CNI). */
  SIDECAR = 'SIDECAR',
  /**
   * A standalone gateway: the proxy is the workload (`proxy router`), no traffic capture, no
   * `security.istio.io/tlsMode` label, readiness on 15021.
   */
  GATEWAY = 'GATEWAY',
}

/**
 * Per-workload proxy settings. Each one has the meaning of the Istio annotation named in its doc, and is written onto
 * the pod template as that annotation, so the pod reads the same whether the proxy is injected at synth time or by
 * istiod's webhook.
 */
export interface ProxyOptions {
  /**
   * Proxy CPU and memory (`sidecar.istio.io/proxyCPU`, `proxyMemory`, `proxyCPULimit`, `proxyMemoryLimit`). As in Istio,
   * these replace the mesh defaults completely: if only requests are given, the proxy has no limits. With the gateway
   * template, which reads neither these annotations nor the mesh defaults (Istio 1.30.3), they are set on the
   * istio-proxy container instead, as Istio's gateway chart does.
   * @default - the mesh's proxyResources (gateway template: none)
   */
  readonly resources?: ResourceSettings;
  /**
   * Envoy worker threads (`proxy.istio.io/config` concurrency). 0 means one per CPU core.
   * @default - Istio decides from the CPU limit
   */
  readonly concurrency?: number;
  /**
   * Envoy log level (`sidecar.istio.io/logLevel`).
   * @default ProxyLogLevel.WARNING
   */
  readonly logLevel?: ProxyLogLevel;
  /**
   * Envoy per-component log levels, e.g. `misc:error,upstream:debug` (`sidecar.istio.io/componentLogLevel`).
   * @default 'misc:error'
   */
  readonly componentLogLevel?: string;
  /**
   * Start the application containers only once the proxy is ready (`proxy.istio.io/config`
   * holdApplicationUntilProxyStarts). With native sidecars the proxy always starts first, so this only changes legacy
   * placement (proxy first, with a `pilot-agent wait` postStart hook).
   * @default false
   */
  readonly holdApplicationUntilProxyStarts?: boolean;
  /**
   * Inbound ports to capture (`traffic.sidecar.istio.io/includeInboundPorts`).
   * @default - all ports ('*')
   */
  readonly includeInboundPorts?: number[];
  /**
   * Inbound ports not to capture (`traffic.sidecar.istio.io/excludeInboundPorts`).
   * @default - none (besides the proxy's own 15090, 15021, 15020)
   */
  readonly excludeInboundPorts?: number[];
  /**
   * Outbound ports to capture regardless of destination IP (`traffic.sidecar.istio.io/includeOutboundPorts`).
   * @default - none
   */
  readonly includeOutboundPorts?: number[];
  /**
   * Outbound ports not to capture (`traffic.sidecar.istio.io/excludeOutboundPorts`).
   * @default - none
   */
  readonly excludeOutboundPorts?: number[];
  /**
   * Outbound destination CIDRs to capture (`traffic.sidecar.istio.io/includeOutboundIPRanges`).
   * @default - all ('*')
   */
  readonly includeOutboundIpRanges?: string[];
  /**
   * Outbound destination CIDRs not to capture (`traffic.sidecar.istio.io/excludeOutboundIPRanges`).
   * @default - none
   */
  readonly excludeOutboundIpRanges?: string[];
  /**
   * Extra proxy metadata, set as environment variables of the proxy (`proxy.istio.io/config` proxyMetadata).
   * @default - none
   */
  readonly proxyMetadata?: { [key: string]: string };
  /**
   * Rewrite the app's httpGet, tcpSocket and gRPC probes to go through pilot-agent on the status port 15020, so they
   * work under STRICT mTLS (`sidecar.istio.io/rewriteAppHTTPProbers`).
   * @default true
   */
  readonly rewriteAppProbes?: boolean;
  /**
   * The injection template (`inject.istio.io/templates`).
   * @default SidecarTemplate.SIDECAR
   */
  readonly template?: SidecarTemplate;
  /**
   * Further Istio injection annotations, with Istio's meaning. Honoured: `sidecar.istio.io/proxyImage`,
   * `proxyCPU`, `proxyMemory`, `proxyCPULimit`, `proxyMemoryLimit`, `logLevel`, `componentLogLevel`, `agentLogLevel`,
   * `interceptionMode` (REDIRECT only), `rewriteAppHTTPProbers`, `nativeSidecar`; `traffic.sidecar.istio.io/*`
   * include/exclude ports and IP ranges; `proxy.istio.io/config` (JSON or YAML ProxyConfig: concurrency,
   * holdApplicationUntilProxyStarts and proxyMetadata shape the pod, the whole of it reaches the proxy as PROXY_CONFIG);
   * `readiness.status.sidecar.istio.io/initialDelaySeconds|periodSeconds|failureThreshold`;
   * `prometheus.istio.io/merge-metrics`. Other `sidecar.istio.io/*` keys are rejected. Typed options above win over
   * the same annotation given here or on the pod template.
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
}

/** The workload that owns a pod template (for ISTIO_META_WORKLOAD_NAME / ISTIO_META_OWNER). */
export interface InjectionTarget {
  /**
   * The owner's apiVersion, e.g. `apps/v1`.
   */
  readonly apiVersion: string;
  /**
   * The owner's kind, e.g. `Deployment`.
   */
  readonly kind: string;
  /**
   * The owner's name.
   */
  readonly name: string;
  /**
   * The owner's namespace.
   * @default - the pod's own namespace, resolved by the kubelet (`$(POD_NAMESPACE)`)
   */
  readonly namespace?: string;
}

/**
 * Mesh-wide proxy defaults: Istio's `meshConfig.defaultConfig` (a ProxyConfig), which every injected proxy starts
 * from before its pod's `proxy.istio.io/config` annotation is merged over it. Injection reads them as Istio 1.30.3's
 * injector does: they reach the proxy in PROXY_CONFIG, proxyMetadata becomes env of istio-proxy and istio-init, and
 * holdApplicationUntilProxyStarts puts the proxy first (legacy sidecars).
 */
export interface MeshProxyConfig {
  /**
   * Start application containers only once the proxy is ready. Native sidecars always start first; a legacy sidecar
   * becomes the first container, with a `pilot-agent wait` postStart hook. A pod's own setting wins.
   * @default false
   */
  readonly holdApplicationUntilProxyStarts?: boolean;
  /**
   * How long Envoy drains connections on a hot restart, in whole seconds.
   * @default - Istio's default, 45 seconds
   */
  readonly drainDuration?: Duration;
  /**
   * How long the proxy drains inbound connections when the pod terminates.
   * @default - Istio's default, 5 seconds
   */
  readonly terminationDrainDuration?: Duration;
  /**
   * Envoy worker threads; 0 means one per CPU core. A pod's own setting wins.
   * @default - Istio decides from the CPU limit
   */
  readonly concurrency?: number;
  /**
   * Proxy metadata: environment variables of every proxy, and of istio-init (istio-iptables reads
   * ISTIO_META_DNS_CAPTURE and ISTIO_DUAL_STACK there). A pod's own proxyMetadata wins key by key.
   * @default - none
   */
  readonly proxyMetadata?: { [key: string]: string };
}
