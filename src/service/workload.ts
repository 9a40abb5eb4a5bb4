import { ApiObject } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { ServicePort } from './service-port';
import { invalid } from '../errors';
import type { IMesh } from '../mesh/mesh';
import type { IMeshNamespace } from '../mesh/namespace';
import { checkPrincipal } from '../validation';

/**
 * A workload in the mesh that can call services: it has an identity (service account, SPIFFE principal) and pods
 * that a label selector finds. `MeshedService` implements it; `MeshGateway` implements it too.
 *
 * Policy constructs (ZeroTrustNamespace) read callers through this interface only.
 */
export interface IMeshWorkload extends IConstruct {
  /** The workload name (the `app` label, and the Service name for a service). */
  readonly name: string;
  /** The namespace the workload runs in (its `name` and `mesh`). */
  readonly namespace: IMeshNamespace;
  /** The mesh the workload belongs to (the namespace's). */
  readonly mesh: IMesh;
  /** The Kubernetes service account its pods run as. */
  readonly serviceAccountName: string;
  /**
   * Its SPIFFE identity without the `spiffe://` scheme, `<trust domain>/ns/<namespace>/sa/<service account>`, as
   * AuthorizationPolicy `source.principals` expects it.
   */
  readonly principal: string;
  /** Labels that select every pod of the workload (all versions), e.g. `{ app: 'reviews' }`. */
  readonly podSelector: { [key: string]: string };
}

/**
 * A meshed workload that others call through a Kubernetes Service: adds the host, the ports and who may call it.
 * Only an IMeshService can be the target of `connectsTo`, so a connection to something outside the mesh does not
 * type-check.
 */
export interface IMeshService extends IMeshWorkload {
  /** The fully qualified host, `<name>.<namespace>.svc.<cluster domain>` (DestinationRule/VirtualService host). */
  readonly host: string;
  /** The ports the Service exposes. */
  readonly ports: ServicePort[];
  /** Who may call this service, with which constraints (one entry per `connectsTo`/`allowFrom`). */
  readonly inboundRules: MeshConnection[];

  /**
   * Allows `caller` to call this service (records an inbound rule; a policy construct turns it into an
   * AuthorizationPolicy rule and a NetworkPolicy ingress rule). Throws for ports this service does not expose, for
   * HTTP-only constraints on non-HTTP ports and for callers in another mesh.
   * @returns the recorded connection
   */
  allowFrom(caller: IMeshWorkload, options?: ConnectionOptions): MeshConnection;
}

/** Constraints on a connection between two meshed workloads. */
export interface ConnectionOptions {
  /**
   * The target ports the caller may use (ports the target exposes).
   * @default - every port of the target
   */
  readonly ports?: ServicePort[];
  /**
   * HTTP methods the caller may use, uppercase (HTTP ports only).
   * @default - any method
   */
  readonly methods?: string[];
  /**
   * Request paths the caller may use (HTTP ports only): exact (`/api/v1/items`), prefix (`/api/*`) or suffix
   * (`*.png`), as AuthorizationPolicy `to.operation.paths` accepts them.
   * @default - any path
   */
  readonly paths?: string[];
  /**
   * Why the caller calls: a plain call, or a gateway route (set by MeshGateway). Reported by the flow analysis and
   * the mesh diagram.
   * @default FlowKind.CALL
   */
  readonly kind?: FlowKind;
}

/** Why a flow exists: what the app declared that needs it. */
export enum FlowKind {
  /** `a.connectsTo(b)` / `b.allowFrom(a)`. */
  CALL = 'CALL',
  /** A gateway route: the gateway's pods call the service. */
  GATEWAY_ROUTE = 'GATEWAY_ROUTE',
  /** Traffic mirroring: whoever calls the mirrored service also sends copies to the mirror target. */
  MIRROR = 'MIRROR',
}

/**
 * An edge of the access graph: `source` may call `target` on `ports` (with optional HTTP constraints). The same
 * object is in `source.outboundDependencies` (when the source is a MeshedService) and in `target.inboundRules`.
 */
export interface MeshConnection {
  /** The caller. */
  readonly source: IMeshWorkload;
  /** The service called. */
  readonly target: IMeshService;
  /**
   * The target ports allowed: always resolved, every port of the target when the caller gave none. Policies that
   * select pods (AuthorizationPolicy `to.operation.ports`, NetworkPolicy) use each port's `targetPort`.
   */
  readonly ports: ServicePort[];
  /** Whether the caller gave no port list (every port of the target is allowed). */
  readonly allPorts: boolean;
  /**
   * Allowed HTTP methods, sorted; empty means any.
   */
  readonly methods: string[];
  /**
   * Allowed request paths, sorted; empty means any.
   */
  readonly paths: string[];
  /**
   * Why the flow exists (a call, a gateway route, a mirrored copy).
   * @default FlowKind.CALL
   */
  readonly kind?: FlowKind;
}

/** One version of a meshed service: its own Deployment, its own DestinationRule subset. */
export interface ServiceVersion {
  /** The version, the value of the `version` pod label (e.g. `v1`). */
  readonly name: string;
  /** The DestinationRule subset name: the version as a DNS label (`v1.2` becomes `v1-2`). */
  readonly subsetName: string;
  /** The labels that select this version's pods, `{ app, version }`. */
  readonly selector: { [key: string]: string };
  /** The container image. */
  readonly image: string;
  /** The replica count. */
  readonly replicas: number;
  /** The Deployment (apps/v1), named `<service>-<subsetName>`; its pod template is injected at synth time. */
  readonly deployment: ApiObject;
}

/**
 * Whether `x` has the shape of an IMeshService (a MeshedService or another implementation): the one test every
 * construct that takes a service uses. Cheap tests first; `inboundRules` (a copying getter) last. @internal
 */
export function isMeshService(x: any): x is IMeshService {
  return !!x && typeof x.allowFrom === 'function' && typeof x.host === 'string' && Array.isArray(x.ports)
    && !!x.namespace && typeof x.namespace.name === 'string' && !!x.namespace.mesh
    && typeof x.principal === 'string' && Array.isArray(x.inboundRules);
}

/** Throws a MeshValidationError naming `field` unless `x` is a meshed service. @internal */
export function checkMeshService(scope: IConstruct | string, field: string, x: any): asserts x is IMeshService {
  if (!isMeshService(x)) {
    invalid(scope as Construct | string, field, x ? String(x) : x, 'must be a meshed service (MeshedService or another IMeshService)');
  }
}

// AuthorizationPolicy `to.operation` methods and paths as Istio matches them
const HTTP_METHOD = /^[A-Z]+$/;
const HTTP_PATH = /^(\*|\/[^\s*]*\*?|\*[^\s*]+)$/;

/**
 * The edge `caller` -> `target`, checked once for every IMeshService of this library: the caller is one workload of the
 * same mesh (its principal one identity), the ports are ports the target exposes (never an empty list: that would open
 * every port), methods and paths are well-formed and only on HTTP ports, and the kind is a declared one (mirrors are
 * derived by the model). The caller declares the returned edge into the mesh model. @internal
 */
export function resolveConnection(target: IMeshService, caller: IMeshWorkload, options: ConnectionOptions): MeshConnection {
  const own = target.ports;
  if (!caller || typeof caller.principal !== 'string' || !caller.namespace || !caller.mesh) {
    invalid(target as any, 'allowFrom caller', caller ? String(caller) : caller, 'must be a meshed workload (MeshedService, MeshGateway or another IMeshWorkload)');
  }
  if (caller.mesh.trustDomain !== target.mesh.trustDomain) {
    invalid(target as any, 'allowFrom caller', caller.node.path,
      `must be in the same mesh (trust domain '${target.mesh.trustDomain}'), not in trust domain '${caller.mesh.trustDomain}'`);
  }
  // a caller is one identity: a wildcard or malformed principal from a custom IMeshWorkload would open the service
  checkPrincipal(target as any, 'allowFrom caller principal', caller.principal, target.mesh.trustDomain);
  const field = `connection from ${caller.node.path}`;
  let ports: ServicePort[];
  if (options.ports === undefined) {
    ports = [...own];
  } else {
    if (!Array.isArray(options.ports) || options.ports.length === 0) invalid(target as any, `${field}: ports`, options.ports, `must be a non-empty list of ports ${target.name} exposes (omit it for every port)`);
    ports = [];
    for (const p of options.ports) {
      const match = p && own.find(q => q.port === p.port && q.name === p.name);
      if (!match) invalid(target as any, `${field}: port`, p ? `${p.name}/${p.port}` : p, `must be a port ${target.name} exposes: ${own.map(q => `${q.name}/${q.port}`).join(', ')}`);
      if (!ports.includes(match)) ports.push(match);
    }
    ports.sort((a, b) => a.port - b.port);
  }
  const methods = [...new Set(options.methods ?? [])].sort();
  const paths = [...new Set(options.paths ?? [])].sort();
  for (const m of methods) if (typeof m !== 'string' || !HTTP_METHOD.test(m)) invalid(target as any, `${field}: methods`, m, 'must be an uppercase HTTP method, e.g. GET');
  for (const p of paths) if (typeof p !== 'string' || !HTTP_PATH.test(p)) invalid(target as any, `${field}: paths`, p, "must be an exact path ('/a/b'), a prefix ('/a/*'), a suffix ('*.png') or '*'");
  const tcp = ports.filter(p => !p.isHttp);
  if (methods.length + paths.length > 0 && tcp.length) {
    invalid(target as any, `${field}: methods/paths`, tcp.map(p => `${p.name}/${p.port}`).join(', '), 'are HTTP-only, but these ports do not speak HTTP: restrict `ports` to HTTP ports');
  }
  const kind = options.kind ?? FlowKind.CALL;
  if (!Object.values(FlowKind).includes(kind) || kind === FlowKind.MIRROR) invalid(target as any, `${field}: kind`, kind, 'must be FlowKind.CALL or FlowKind.GATEWAY_ROUTE (mirrors are derived from the mirror setting)');
  return { source: caller, target, ports, allPorts: options.ports === undefined, methods, paths, kind };
}
