import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { MeshedService } from '../service/meshed-service';
import { ServicePort } from '../service/service-port';
import { checkDnsSubdomain, checkInteger } from '../validation';
import { istioDuration, millisOf } from './duration';

/** Envoy's local rate limit HTTP filter and its typed config (Envoy API v3). */
const LOCAL_RATELIMIT_FILTER = 'envoy.filters.http.local_ratelimit';
const LOCAL_RATELIMIT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
/** The HTTP connection manager, the network filter the HTTP filter is inserted into. */
const HCM_FILTER = 'envoy.filters.network.http_connection_manager';
/** The header the limiter adds to the responses it refuses, as Istio's rate-limit task does. */
const RATE_LIMITED_HEADER = 'x-local-rate-limit';
/** Envoy's fill interval is at least 50ms. */
const MIN_FILL_INTERVAL_MS = 50;

/** Properties of a LocalRateLimit. */
export interface LocalRateLimitProps {
  /** The service whose pods enforce the limit (on their inbound traffic). */
  readonly service: MeshedService;
  /** Requests allowed per `per` interval, by EACH pod of the service (a local limit: replicas multiply it). */
  readonly requests: number;
  /** The interval the allowance refills over, at least 50ms, e.g. `Duration.minutes(1)`. */
  readonly per: Duration;
  /**
   * The most requests a pod accepts at once after an idle time (the token bucket's size).
   * @default - `requests`
   */
  readonly burst?: number;
  /**
   * Limit only this HTTP port of the service.
   * @default - every inbound HTTP port of the service's pods
   */
  readonly port?: ServicePort;
  /**
   * The EnvoyFilter's name.
   * @default `<service>-local-ratelimit`
   */
  readonly name?: string;
}

/**
 * Local rate limiting of a meshed service, as Istio's "Enabling Rate Limits using Envoy" task does it: an EnvoyFilter
 * that inserts Envoy's local rate limit filter into the inbound HTTP chain of the service's pods. Requests over the
 * limit get `429 Too Many Requests` with the `x-local-rate-limit: true` header. Each pod has its own token bucket:
 * the service-wide limit is `requests` times the number of pods. EnvoyFilter is Istio's escape hatch API: check it
 * again when you upgrade Istio.
 */
export class LocalRateLimit extends Construct {
  /** The EnvoyFilter (networking.istio.io/v1alpha3). */
  public readonly envoyFilter: ApiObject;

  constructor(scope: Construct, id: string, props: LocalRateLimitProps) {
    super(scope, id);
    const service = props.service;
    if (!MeshedService.isMeshedService(service)) invalid(this, 'service', service ? String(service) : service, 'must be a MeshedService');
    checkInteger(this, 'requests', props.requests, 1, 2147483647);
    const burst = props.burst ?? props.requests;
    checkInteger(this, 'burst', burst, 1, 2147483647);
    if (burst < props.requests) invalid(this, 'burst', burst, `must be at least requests (${props.requests}): the bucket refills by requests at once`);
    const ms = millisOf(this, 'per', props.per);
    if (ms < MIN_FILL_INTERVAL_MS) invalid(this, 'per', props.per.toHumanString(), `must be at least ${MIN_FILL_INTERVAL_MS}ms (Envoy's smallest fill interval)`);
    let port: ServicePort | undefined;
    if (props.port !== undefined) {
      port = service.ports.find(p => props.port && p.port === props.port.port && p.name === props.port.name);
      if (!port) invalid(this, 'port', props.port ? `${props.port.name}/${props.port.port}` : props.port, `must be a port of ${service.name}: ${service.ports.map(p => `${p.name}/${p.port}`).join(', ')}`);
    }
    const httpPorts = port ? [port] : service.ports.filter(p => p.isHttp);
    if (httpPorts.length === 0 || !httpPorts.every(p => p.isHttp)) {
      invalid(this, port ? 'port' : 'service', port ? `${port.name}/${port.port}` : service.name, 'must have an HTTP port: rate limiting counts HTTP requests');
    }
    const name = props.name ?? `${service.name}-local-ratelimit`;
    checkDnsSubdomain(this, 'name', name);

    const percent = (key: string) => ({ runtime_key: key, default_value: { numerator: 100, denominator: 'HUNDRED' } });
    const listener: any = { filterChain: { filter: { name: HCM_FILTER } } };
    // inbound filter chains match on the container (target) port
    if (port) listener.filterChain.destinationPort = port.targetPort;
    this.envoyFilter = new ApiObject(this, 'EnvoyFilter', {
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'EnvoyFilter',
      metadata: { name, namespace: service.namespace.name, labels: { ...service.podSelector, [MANAGED_BY_LABEL]: MANAGED_BY } },
      spec: {
        workloadSelector: { labels: { ...service.podSelector } },
        // relative operations need a priority to apply in a defined order (IST0151)
        priority: 10,
        configPatches: [{
          applyTo: 'HTTP_FILTER',
          match: { context: 'SIDECAR_INBOUND', listener },
          patch: {
            operation: 'INSERT_BEFORE',
            value: {
              name: LOCAL_RATELIMIT_FILTER,
              typed_config: {
                '@type': LOCAL_RATELIMIT_TYPE,
                'stat_prefix': 'http_local_rate_limiter',
                'token_bucket': { max_tokens: burst, tokens_per_fill: props.requests, fill_interval: istioDuration(this, 'per', props.per) },
                'filter_enabled': percent('local_rate_limit_enabled'),
                'filter_enforced': percent('local_rate_limit_enforced'),
                'response_headers_to_add': [{ append_action: 'OVERWRITE_IF_EXISTS_OR_ADD', header: { key: RATE_LIMITED_HEADER, value: 'true' } }],
              },
            },
          },
        }],
      },
    } as any);
  }
}
