/**
 * App probe rewrite: httpGet, tcpSocket and gRPC probes (and httpGet/tcpSocket lifecycle hooks) of app containers go
 * through pilot-agent on the status port, so the kubelet's plaintext probes still work under STRICT mTLS. The original
 * handlers travel to pilot-agent in ISTIO_KUBE_APP_PROBERS. exec probes are left alone. As in Istio 1.30.3
 * (pkg/kube/inject/app_probe.go), every such probe is rewritten, whether or not its port is captured: pilot-agent
 * reaches the app either way.
 * @internal
 */
import { invalid } from '../errors';
import { probePath } from './constants';

type Json = { [key: string]: any };

const PROBES: Array<[string, (c: string) => string]> = [
  ['readinessProbe', probePath.readiness],
  ['livenessProbe', probePath.liveness],
  ['startupProbe', probePath.startup],
];
const HOOKS: Array<[string, (c: string) => string]> = [
  ['preStop', probePath.preStop],
  ['postStart', probePath.postStart],
];

/** The result of rewriting: new containers and the prober map (empty when nothing was rewritten). */
export interface ProbeRewrite {
  readonly containers: Json[];
  readonly initContainers: Json[];
  readonly probers: { [path: string]: Json };
}

/** Rewrites the probes of the given app containers. */
export function rewriteProbes(scope: string, containers: Json[], initContainers: Json[], statusPort: number): ProbeRewrite {
  const probers: { [path: string]: Json } = {};
  const rewrite = (c: Json, where: string): Json => {
    const out = { ...c };
    const resolve = (port: any, field: string): number => {
      if (typeof port === 'number') return port;
      if (typeof port === 'string' && /^\d+$/.test(port)) return parseInt(port, 10);
      const named = (c.ports ?? []).find((p: Json) => p.name === port);
      if (!named) {
        invalid(scope, `${where}[${c.name}].${field}.port`, port, `must be a port number or the name of a port of container '${c.name}' (${(c.ports ?? []).map((p: Json) => p.name).filter(Boolean).join(', ') || 'it names none'})`);
      }
      return named.containerPort;
    };
    for (const [key, pathOf] of PROBES) {
      const probe = c[key];
      if (!probe) continue;
      const r = convert(probe, pathOf(c.name), statusPort, (p, f) => resolve(p, `${key}.${f}`), true);
      if (r) {
        out[key] = r.handler;
        probers[pathOf(c.name)] = r.prober;
      }
    }
    if (c.lifecycle) {
      const lifecycle = { ...c.lifecycle };
      for (const [key, pathOf] of HOOKS) {
        const hook = lifecycle[key];
        if (!hook) continue;
        const r = convert(hook, pathOf(c.name), statusPort, (p, f) => resolve(p, `lifecycle.${key}.${f}`), false);
        if (r) {
          lifecycle[key] = r.handler;
          probers[pathOf(c.name)] = r.prober;
        }
      }
      out.lifecycle = lifecycle;
    }
    return out;
  };
  return {
    containers: containers.map(c => rewrite(c, 'containers')),
    initContainers: initContainers.map(c => rewrite(c, 'initContainers')),
    probers,
  };
}

/** Converts one probe or hook; undefined when it stays as it is. */
function convert(handler: Json, path: string, statusPort: number, resolve: (port: any, field: string) => number,
  isProbe: boolean): { handler: Json; prober: Json } | undefined {
  const { httpGet, tcpSocket, grpc, ...rest } = handler;
  const timeout = isProbe && handler.timeoutSeconds ? { timeoutSeconds: handler.timeoutSeconds } : {};
  let prober: Json;
  let newGet: Json;
  if (httpGet) {
    const port = resolve(httpGet.port, 'httpGet');
    if (port === statusPort && httpGet.path === path) return undefined; // already rewritten
    // Go's HTTPGetAction field order: path, port, host, scheme, httpHeaders
    const original = { path: httpGet.path, port, host: httpGet.host, scheme: httpGet.scheme, httpHeaders: httpGet.httpHeaders };
    prober = { httpGet: dropUndefined(original), ...timeout };
    // kubelet -> HTTP -> pilot-agent -> HTTP(S) -> app: an HTTPS probe becomes HTTP towards the agent
    const { path: _p, port: _port, scheme, ...others } = httpGet;
    newGet = dropUndefined({ path, port: statusPort, ...others, scheme: scheme === 'HTTPS' ? 'HTTP' : scheme });
  } else if (tcpSocket) {
    const port = resolve(tcpSocket.port, 'tcpSocket');
    prober = { tcpSocket: dropUndefined({ port, host: tcpSocket.host }), ...timeout };
    newGet = { path, port: statusPort };
  } else if (grpc && isProbe) {
    prober = { grpc: dropUndefined({ port: grpc.port, service: grpc.service }), ...timeout };
    newGet = { path, port: statusPort };
  } else {
    return undefined; // exec (and sleep hooks) are left alone
  }
  return { handler: { httpGet: newGet, ...rest }, prober };
}

function dropUndefined(o: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}
