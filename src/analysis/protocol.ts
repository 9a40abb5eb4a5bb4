/**
 * Istio's protocol selection for a Service port (istio-facts.md, section d). @internal
 */
import { text } from './model';

const PREFIXES: Record<string, string> = {
  http: 'HTTP',
  http2: 'HTTP2',
  https: 'HTTPS',
  grpc: 'GRPC',
  tcp: 'TCP',
  tls: 'TLS',
  mongo: 'Mongo',
  redis: 'Redis',
  mysql: 'MySQL',
  http_proxy: 'HTTP_PROXY',
  udp: 'UDP',
};
const APP_PROTOCOLS: Record<string, string> = {
  'kubernetes.io/h2c': 'HTTP2', 'kubernetes.io/ws': 'HTTP', 'kubernetes.io/wss': 'HTTPS',
};
/** Ports that default to TCP when the name says nothing. */
const DEFAULT_TCP_PORTS = new Set([25, 53, 3306, 27017]);

/** The protocol Istio reads from a name or appProtocol, or undefined when it does not recognise it. */
export function protocolOfName(name: string | undefined): string | undefined {
  // objects read from YAML may carry anything here (a number, a list): not a name Istio recognises
  if (!name || typeof name !== 'string') return undefined;
  const lower = name.toLowerCase();
  if (APP_PROTOCOLS[lower]) return APP_PROTOCOLS[lower];
  if (lower.startsWith('grpc-web')) return 'GRPC-Web';
  const prefix = lower.split('-')[0];
  return PREFIXES[prefix];
}

/** The protocol of a Kubernetes Service port; undefined means auto-detection (sniffing). */
export function protocolOfServicePort(port: any): string | undefined {
  if (text(port?.protocol ?? 'TCP').toUpperCase() === 'UDP') return 'UDP';
  const fromName = protocolOfName(port?.appProtocol ?? port?.name);
  if (fromName) return fromName;
  return DEFAULT_TCP_PORTS.has(Number(port?.port)) ? 'TCP' : undefined;
}

/** Whether Istio treats the protocol as HTTP-aware (L7 attributes are available). */
export function isHttpProtocol(p: string | undefined): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-Web' || p === 'HTTP_PROXY';
}
