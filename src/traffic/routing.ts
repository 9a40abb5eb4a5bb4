import { invalid } from '../errors';
import type { ServiceVersion } from '../service/workload';

/** How a request attribute is compared (VirtualService StringMatch). */
export class StringMatch {
  /** Equal to `value`. */
  public static exact(value: string): StringMatch {
    return new StringMatch('exact', value);
  }
  /** Starts with `value`. */
  public static prefix(value: string): StringMatch {
    return new StringMatch('prefix', value);
  }
  /** Matches the RE2 regular expression `pattern` (the whole value). */
  public static regex(pattern: string): StringMatch {
    return new StringMatch('regex', pattern);
  }

  /** `exact`, `prefix` or `regex`. */
  public readonly kind: string;
  /** The value or pattern. */
  public readonly value: string;

  private constructor(kind: string, value: string) {
    if (typeof value !== 'string') invalid('StringMatch', kind, value, 'must be a string');
    this.kind = kind;
    this.value = value;
  }

  /** @internal */
  public _render(): any {
    return { [this.kind]: this.value };
  }
}

/**
 * Conditions on a request; all given conditions must hold (one VirtualService `http[].match[]` entry).
 */
export interface HttpRequestMatch {
  /**
   * The request path.
   * @default - any path
   */
  readonly uri?: StringMatch;
  /**
   * Request headers (names lowercase).
   * @default - any headers
   */
  readonly headers?: { [name: string]: StringMatch };
  /**
   * Query parameters.
   * @default - any query
   */
  readonly queryParams?: { [name: string]: StringMatch };
  /**
   * The HTTP method.
   * @default - any method
   */
  readonly method?: StringMatch;
  /**
   * Headers that must be absent or not match.
   * @default - none
   */
  readonly withoutHeaders?: { [name: string]: StringMatch };
  /**
   * Labels of the calling workload's pods (meshed callers only).
   * @default - any caller
   */
  readonly sourceLabels?: { [key: string]: string };
  /**
   * Namespace of the calling workload (meshed callers only).
   * @default - any namespace
   */
  readonly sourceNamespace?: string;
}

/** A share of a route's traffic sent to one version of the service. */
export interface WeightedDestination {
  /** The version (as returned by `MeshedService.addVersion` or found in `MeshedService.versions`). */
  readonly version: ServiceVersion;
  /**
   * Share of the route's traffic, 0-100. The weights of a route must add up to 100.
   * @default 100
   */
  readonly weight?: number;
}

/**
 * One HTTP route of a service: requests that match go to the given versions. The service's resilience settings
 * (timeout, retries, fault, mirror) are added to every route when the VirtualService is rendered.
 */
export interface HttpRouteRule {
  /**
   * A name for the route (shows up in Envoy stats and access logs).
   * @default - none
   */
  readonly name?: string;
  /**
   * Request conditions; the route applies when any of them matches. A route without matches catches every
   * request, so it must be the last one.
   * @default - every request
   */
  readonly matches?: HttpRequestMatch[];
  /**
   * Where the traffic goes.
   * @default - every version, as the Kubernetes Service balances (no subset)
   */
  readonly destinations?: WeightedDestination[];
  /**
   * Mirror (shadow) a share of this route's requests to a version of the service (a dark launch): `weight` is the
   * mirrored percentage (fractions allowed); the mirror's responses are discarded. Rendered next to the service's
   * own `mirror` setting (both as `mirrors` when the service has one).
   * @default - no mirror to a version
   */
  readonly mirror?: WeightedDestination;
}

/** Renders a map of StringMatch. @internal */
export function renderMatchMap(m: { [name: string]: StringMatch } | undefined, lower: boolean): any {
  if (!m) return undefined;
  const out: any = {};
  for (const k of Object.keys(m).sort()) out[lower ? k.toLowerCase() : k] = m[k]._render();
  return out;
}
