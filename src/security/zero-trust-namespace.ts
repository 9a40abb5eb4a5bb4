import { ApiObject, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { invalid } from '../errors';
import { ANYWHERE_CIDRS, CLUSTER_DNS, NAMESPACE_NAME_LABEL, PSA_LABEL_PREFIX } from './constants';
import { ExternalService } from './external-service';
import { checkPaths, JwtRequirementOptions, JwtRule } from './jwt';
import { IstioLabels, IstioPorts, MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { IMesh } from '../mesh/mesh';
import { IMeshNamespace } from '../mesh/namespace';
import { MeshedService } from '../service/meshed-service';
import { ServicePort } from '../service/service-port';
import { checkMeshService, currentGraphGeneration, IMeshService, isMeshService, IMeshWorkload, MeshConnection } from '../service/workload';
import { checkDnsLabel, checkLabels, compact } from '../validation';

/** How the namespace's authorization policies take effect. */
export enum PolicyMode {
  /** Policies are enforced: deny by default, allow exactly the declared edges. */
  ENFORCE = 'ENFORCE',
  /**
   * Shadow evaluation, the way to roll policy out safely: every AuthorizationPolicy (the allow-nothing one included)
   * is emitted with the `istio.io/dry-run: "true"` annotation, so proxies evaluate it and record what it would have
   * done (access log and `istio_requests_total` shadow fields) without enforcing it. Nothing that could block a call
   * is emitted: no NetworkPolicies and no Sidecars (they have no dry-run). mTLS stays STRICT.
   */
  DRY_RUN = 'DRY_RUN',
  /**
   * Istio's AUDIT action: each ALLOW policy becomes an AUDIT policy (the requests it matches are marked for an audit
   * provider plugin, e.g. Stackdriver; nothing is denied). The allow-nothing policy is not emitted (an AUDIT policy
   * without rules audits nothing), nor NetworkPolicies or Sidecars. mTLS stays STRICT. Prefer DRY_RUN to learn what
   * enforcement would deny.
   */
  AUDIT = 'AUDIT',
}

/** Pod Security Standards levels (namespace label values of Pod Security Admission). */
export enum PodSecurityLevel {
  /** No restrictions. */
  PRIVILEGED = 'privileged',
  /** Prevents known privilege escalations (no added capabilities beyond a short list, no host namespaces). */
  BASELINE = 'baseline',
  /** Hardened: non-root, no privilege escalation, all capabilities dropped, seccomp RuntimeDefault. */
  RESTRICTED = 'restricted',
}

/** Who scrapes the proxies' metrics (allowed in by NetworkPolicy on 15020 and 15090). */
export interface MetricsScraper {
  /** The namespace the scraper (Prometheus) runs in. */
  readonly namespace: string;
  /**
   * Labels of the scraper's pods.
   * @default - every pod of that namespace
   */
  readonly podLabels?: { [key: string]: string };
}

/** Properties of a ZeroTrustNamespace. */
export interface ZeroTrustNamespaceProps {
  /** The mesh the namespace's workloads join. */
  readonly mesh: IMesh;
  /**
   * The namespace name (a DNS label), unique in the app.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Whether authorization is enforced, shadow-evaluated (dry run) or audited.
   * @default PolicyMode.ENFORCE
   */
  readonly mode?: PolicyMode;
  /**
   * Opt out of egress control: the proxies pass traffic to destinations they do not know (outbound ALLOW_ANY) and
   * the NetworkPolicies do not restrict egress. By default (false) each proxy knows only what its service calls,
   * blocks the rest (REGISTRY_ONLY), and NetworkPolicies deny all egress except the declared destinations, DNS and
   * istiod.
   * @default false
   */
  readonly allowAnyEgress?: boolean;
  /**
   * The Pod Security Standards level enforced. The default is the strictest the mesh's proxy setup allows:
   * `restricted` with Istio CNI (no `istio-init`; the proxy runs as 1337, non-root, all capabilities dropped);
   * `privileged` without CNI, because `istio-init` adds NET_ADMIN and NET_RAW, which `baseline` does not allow
   * either (its allowed capabilities are AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD,
   * NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT) and runs as root. `warn` and `audit` are always
   * `restricted`, so violations other than the proxy's are still reported. A level stricter than the proxy setup
   * allows is rejected.
   * @default - PodSecurityLevel.RESTRICTED with CNI, PodSecurityLevel.PRIVILEGED without
   */
  readonly podSecurity?: PodSecurityLevel;
  /**
   * Lets a metrics scraper reach the proxies' metrics ports (15020 merged app+proxy metrics, as the
   * `prometheus.io/port` annotation says; 15090 Envoy's own). Health probes (15021, and app probes rewritten to
   * 15020) come from the kubelet on the node, which NetworkPolicy always allows, so they need no rule. These ports
   * bypass the proxy's inbound capture, so AuthorizationPolicies do not apply to them.
   * @default - no scraper is allowed in
   */
  readonly metricsScraper?: MetricsScraper;
  /**
   * Extra namespace labels.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
}

/** Options of `allowFromAnyMeshed`. */
export interface AnyMeshedOptions {
  /**
   * The ports opened to any meshed workload.
   * @default - every port of the service
   */
  readonly ports?: ServicePort[];
}

interface JwtRequirement {
  readonly rule: JwtRule;
  readonly paths: string[];
  readonly subjects: string[];
  readonly claims: Array<[string, string]>;
}

interface ServiceGrants {
  readonly service: IMeshService;
  permissive: ServicePort[];
  anyMeshed: ServicePort[];
  accepted: JwtRule[];
  required: JwtRequirement[];
}

/** What one synthesis pass knows about the namespace: read from the whole app at validation time. */
interface Model {
  readonly services: IMeshService[];
  /** Workloads of this namespace that call something (services and others, e.g. gateways), by name. */
  readonly callers: Map<string, { workload: IMeshWorkload; out: MeshConnection[] }>;
  readonly externals: Map<IMeshService, ExternalService[]>;
}

/** Keeps namespace names unique per app. */
const REGISTRY = new WeakMap<IConstruct, Map<string, ZeroTrustNamespace>>();
const CLAIM = /^[A-Za-z0-9_.:\/-]+$/;
const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

/**
 * The access graph of a whole app, indexed once per synthesis and shared by every ZeroTrustNamespace in it: services
 * by namespace, and edges by their source's namespace. Rebuilt when the graph changes (markGraphChanged), so a
 * namespace never walks the construct tree on its own (that was O(namespaces x app size)).
 */
interface AppIndex {
  readonly generation: number;
  readonly services: Map<string, IMeshService[]>;
  readonly outboundBySourceNamespace: Map<string, MeshConnection[]>;
}
const APP_INDEX = new WeakMap<IConstruct, AppIndex>();

function appIndex(root: IConstruct): AppIndex {
  const cached = APP_INDEX.get(root);
  if (cached && cached.generation === currentGraphGeneration()) return cached;
  const services = new Map<string, IMeshService[]>();
  const outbound = new Map<string, MeshConnection[]>();
  for (const c of root.node.findAll()) {
    if (!MeshedService.isMeshedService(c) && !isMeshService(c)) continue;
    const list = services.get(c.namespace.name);
    if (list) list.push(c);
    else services.set(c.namespace.name, [c]);
    for (const e of c.inboundRules) {
      const edges = outbound.get(e.source.namespace.name);
      if (edges) edges.push(e);
      else outbound.set(e.source.namespace.name, [e]);
    }
  }
  const index = { generation: currentGraphGeneration(), services, outboundBySourceNamespace: outbound };
  APP_INDEX.set(root, index);
  return index;
}


function sortByJson<T>(items: T[]): T[] {
  return items.map(i => [JSON.stringify(i), i] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(x => x[1]);
}

const targetPorts = (ports: ServicePort[]) => [...new Set(ports.map(p => p.targetPort))].sort((a, b) => a - b);
const npPorts = (ports: number[], protocol = 'TCP') => ports.map(port => ({ protocol, port }));

/**
 * A namespace where nothing talks unless the access graph says so: the graph is declared once on the services
 * (`a.connectsTo(b)`, `b.allowFrom(gateway)`, `a.connectsToExternal(ExternalService.https(...))`) and this construct
 * derives every policy from it at synth time, for the services whose namespace has this name:
 *
 * - the Namespace, with injection and Pod Security labels;
 * - PeerAuthentication STRICT (per-port `permissiveMtls` exceptions, for migration);
 * - an allow-nothing AuthorizationPolicy, then one ALLOW policy per service listing exactly the principals of its
 *   callers, with their ports (and HTTP methods/paths when given);
 * - NetworkPolicies: default deny (ingress and egress), DNS and istiod egress for every pod, per workload ingress from
 *   its callers' pods and egress to its dependencies' pods, on the target ports;
 * - a Sidecar per service: its proxy learns only the hosts it calls plus the control plane namespace, and blocks
 *   the rest (REGISTRY_ONLY). Without it every proxy holds configuration for every service in the mesh: in a mesh
 *   of 200 services that call 3 others each, each proxy knows 200 service hosts without scoping and 3 (plus
 *   `<root namespace>/*`) with it (measured in test/zero-trust-namespace.test.ts);
 * - ServiceEntries (and DestinationRules for TLS origination) for external destinations;
 * - RequestAuthentication and token requirements (`acceptJwt`, `requireJwt`).
 *
 * Injection labels: `istio.io/rev: <revision>` for a revisioned mesh, else `istio-injection: enabled` (never both,
 * IST0123). With synth-time injection the same label is set: our pods are injected already and carry
 * `sidecar.istio.io/inject: "false"`, which keeps the webhook off them, while any other pod created in the
 * namespace (a Job from another tool, say) is still injected by the webhook where one runs: an uninjected pod could
 * not talk under STRICT mTLS and default-deny anyway. It also keeps istioctl analyze quiet (IST0102).
 *
 * Gateways belong in their own namespace: the default-deny NetworkPolicies here would cut off their load balancer.
 */
export class ZeroTrustNamespace extends Construct implements IMeshNamespace {
  /** Whether `x` is a ZeroTrustNamespace. */
  public static isZeroTrustNamespace(x: any): x is ZeroTrustNamespace {
    return x instanceof ZeroTrustNamespace;
  }

  /** The namespace name. */
  public readonly name: string;
  /** The mesh. */
  public readonly mesh: IMesh;
  /** How authorization takes effect. */
  public readonly mode: PolicyMode;
  /** Whether egress is controlled (REGISTRY_ONLY proxies, egress NetworkPolicies). */
  public readonly egressControl: boolean;
  /** The Pod Security level enforced. */
  public readonly podSecurity: PodSecurityLevel;
  /** The Namespace (v1). */
  public readonly namespace: ApiObject;
  /** The namespace-wide PeerAuthentication (`default`, STRICT). */
  public readonly peerAuthentication: ApiObject;

  private readonly grants = new Map<IMeshService, ServiceGrants>();
  private readonly namespaceJwt: JwtRule[] = [];
  private readonly specs = new Map<string, any>();
  private readonly objects = new Map<string, ApiObject>();
  private readonly scraper?: MetricsScraper;

  constructor(scope: Construct, id: string, props: ZeroTrustNamespaceProps) {
    super(scope, id);
    if (!props || !props.mesh || typeof props.mesh.trustDomain !== 'string') invalid(this, 'mesh', props?.mesh, 'must be a Mesh (new Mesh(...) or Mesh.fromAttributes(...))');
    const name = props.name ?? id;
    checkDnsLabel(this, 'name', name);
    const mesh = props.mesh;
    if (name === mesh.rootNamespace || name === CLUSTER_DNS.namespace) {
      invalid(this, 'name', name, `must not be the control plane's namespace or ${CLUSTER_DNS.namespace}: zero-trust policy would cut off the control plane`);
    }
    const names = REGISTRY.get(this.node.root) ?? new Map<string, ZeroTrustNamespace>();
    REGISTRY.set(this.node.root, names);
    const other = names.get(name);
    if (other) invalid(this, 'name', name, `must be unique in the app: ${other.node.path} already defines namespace '${name}'`);
    names.set(name, this);
    this.name = name;
    this.mesh = mesh;
    this.mode = props.mode ?? PolicyMode.ENFORCE;
    if (!Object.values(PolicyMode).includes(this.mode)) invalid(this, 'mode', this.mode, `must be one of ${Object.values(PolicyMode).join(', ')}`);
    this.egressControl = !(props.allowAnyEgress ?? false);

    const allowed = mesh.cni ? PodSecurityLevel.RESTRICTED : PodSecurityLevel.PRIVILEGED;
    const levels = [PodSecurityLevel.PRIVILEGED, PodSecurityLevel.BASELINE, PodSecurityLevel.RESTRICTED];
    this.podSecurity = props.podSecurity ?? allowed;
    if (!levels.includes(this.podSecurity)) invalid(this, 'podSecurity', this.podSecurity, `must be one of ${levels.join(', ')}`);
    if (levels.indexOf(this.podSecurity) > levels.indexOf(allowed)) {
      invalid(this, 'podSecurity', this.podSecurity,
        "must be 'privileged' without Istio CNI: the istio-init container adds NET_ADMIN and NET_RAW and runs as root, which 'baseline' and 'restricted' reject; enable cni on the Mesh for 'restricted'");
    }
    checkLabels(this, 'labels', props.labels);
    if (props.metricsScraper) {
      checkDnsLabel(this, 'metricsScraper.namespace', props.metricsScraper.namespace);
      checkLabels(this, 'metricsScraper.podLabels', props.metricsScraper.podLabels);
      this.scraper = props.metricsScraper;
    }

    const injection: { [key: string]: string } = mesh.revision
      ? { [IstioLabels.REV]: mesh.revision }
      : { [IstioLabels.INJECTION]: 'enabled' };
    const psaVersion = `v${mesh.kubernetesVersion}`;
    this.namespace = new ApiObject(this, 'Namespace', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        labels: {
          ...props.labels,
          ...injection,
          [MANAGED_BY_LABEL]: MANAGED_BY,
          [`${PSA_LABEL_PREFIX}enforce`]: this.podSecurity,
          [`${PSA_LABEL_PREFIX}enforce-version`]: psaVersion,
          [`${PSA_LABEL_PREFIX}warn`]: PodSecurityLevel.RESTRICTED,
          [`${PSA_LABEL_PREFIX}warn-version`]: psaVersion,
          [`${PSA_LABEL_PREFIX}audit`]: PodSecurityLevel.RESTRICTED,
          [`${PSA_LABEL_PREFIX}audit-version`]: psaVersion,
        },
      },
    } as any);

    this.peerAuthentication = this.object('PeerAuthentication', 'security.istio.io/v1', 'default', { mtls: { mode: 'STRICT' } });
    if (this.mode !== PolicyMode.AUDIT) this.object('AuthorizationPolicy', 'security.istio.io/v1', 'allow-nothing', {});
    if (this.enforcing) {
      this.renderNamespaceNetworkPolicies();
      this.object('Sidecar', 'networking.istio.io/v1', 'default', compact({
        egress: [{ hosts: [`${mesh.rootNamespace}/*`] }],
        outboundTrafficPolicy: this.egressControl ? { mode: 'REGISTRY_ONLY' } : undefined,
      }));
    }
    this.node.addValidation({ validate: () => { this.materialize(); return []; } });
  }

  /**
   * Accepts plain text (mTLS PERMISSIVE) on one port of a service, for migration: callers without a proxy can reach
   * it while they are being meshed. Because such callers have no identity, the port is also opened to any caller in
   * the AuthorizationPolicy (a rule without `from`) and the NetworkPolicy (any source): that is what migration needs,
   * and why it is an explicit, per-port exception. Remove it when the callers are meshed.
   */
  public permissiveMtls(service: IMeshService, port: ServicePort): void {
    const g = this.grantsFor(service, 'permissiveMtls');
    const own = this.ownPort(service, port, 'permissiveMtls port');
    if (!g.permissive.includes(own)) g.permissive.push(own);
  }

  /**
   * Lets any workload with a mesh identity call `service` (AuthorizationPolicy `principals: ['*']`): any mTLS peer,
   * from any namespace, and any trust domain this mesh trusts. Plain-text callers are still rejected. The
   * NetworkPolicy opens the ports to pods of every namespace. Prefer `connectsTo`/`allowFrom` edges; use this for
   * shared services whose callers are not declared in this app.
   */
  public allowFromAnyMeshed(service: IMeshService, options: AnyMeshedOptions = {}): void {
    const g = this.grantsFor(service, 'allowFromAnyMeshed');
    const ports = options.ports === undefined ? service.ports : options.ports.map(p => this.ownPort(service, p, 'allowFromAnyMeshed port'));
    for (const p of ports) if (!g.anyMeshed.includes(p)) g.anyMeshed.push(p);
  }

  /**
   * Validates end-user tokens of `rule` when a request carries one (RequestAuthentication): for `service`, or for
   * every workload of the namespace when no service is given. A request with an invalid token is rejected; a request
   * without a token still passes: use `requireJwt` to demand one.
   */
  public acceptJwt(rule: JwtRule, service?: IMeshService): void {
    if (!(rule instanceof JwtRule)) invalid(this, 'acceptJwt rule', rule, 'must be made with JwtRule.issuer(...)');
    const list = service ? this.grantsFor(service, 'acceptJwt').accepted : this.namespaceJwt;
    addRule(this, list, rule);
  }

  /**
   * Demands a valid token of `rule`'s issuer (optionally of given subjects, with given claims) on `service`'s HTTP
   * ports, on the given paths. Also accepts the issuer for the service (`acceptJwt`).
   *
   * Rendered as a DENY AuthorizationPolicy (`notRequestPrincipals`, and one `notValues` condition per claim), not as
   * an ALLOW policy: ALLOW policies are OR-ed, so an ALLOW rule for token holders would let anyone with a token in,
   * past the service's caller list. DENY is AND-ed with it: the caller must be allowed AND present the token.
   */
  public requireJwt(service: IMeshService, rule: JwtRule, options: JwtRequirementOptions = {}): void {
    const g = this.grantsFor(service, 'requireJwt');
    if (!(rule instanceof JwtRule)) invalid(this, 'requireJwt rule', rule, 'must be made with JwtRule.issuer(...)');
    if (!service.ports.some(p => p.isHttp)) {
      invalid(this, 'requireJwt service', service.node.path, 'must have an HTTP port: tokens are read from HTTP requests');
    }
    const paths = checkPaths(this.node.path, 'requireJwt paths', options.paths);
    const subjects = [...new Set(options.subjects ?? [])].sort();
    for (const s of subjects) if (typeof s !== 'string' || s.length === 0 || /[\s*]/.test(s)) invalid(this, 'requireJwt subjects', s, "must be token subjects (`sub`): non-empty, no spaces, no '*'");
    const claims = Object.keys(options.claims ?? {}).sort().map(k => [k, options.claims![k]] as [string, string]);
    for (const [k, v] of claims) {
      if (!CLAIM.test(k)) invalid(this, 'requireJwt claims', k, "must be claim names of letters, digits and '_', '.', ':', '/', '-'");
      if (typeof v !== 'string' || v.length === 0) invalid(this, `requireJwt claims['${k}']`, v, 'must be a non-empty value');
    }
    addRule(this, g.accepted, rule);
    g.required.push({ rule, paths, subjects, claims });
  }

  private get enforcing(): boolean {
    return this.mode === PolicyMode.ENFORCE;
  }

  private grantsFor(service: IMeshService, field: string): ServiceGrants {
    checkMeshService(this, `${field} service`, service);
    if (service.namespace.name !== this.name) {
      invalid(this, `${field} service`, service.node.path, `must be in namespace '${this.name}', not '${service.namespace.name}': each namespace owns its services' policies`);
    }
    let g = this.grants.get(service);
    if (!g) {
      g = { service, permissive: [], anyMeshed: [], accepted: [], required: [] };
      this.grants.set(service, g);
    }
    return g;
  }

  private ownPort(service: IMeshService, port: ServicePort, field: string): ServicePort {
    const own = port && service.ports.find(p => p.port === port.port && p.name === port.name);
    if (!own) {
      invalid(this, field, port ? `${port.name}/${port.port}` : port,
        `must be a port ${service.name} exposes: ${service.ports.map(q => `${q.name}/${q.port}`).join(', ')}`);
    }
    return own;
  }

  /** Creates an object of this namespace whose spec is read at synth time from `specs`. */
  private object(kind: string, apiVersion: string, name: string, spec: any, annotations?: { [key: string]: string }): ApiObject {
    const key = `${kind}/${name}`;
    this.specs.set(key, spec);
    const existing = this.objects.get(key);
    if (existing) return existing;
    const dryRun = kind === 'AuthorizationPolicy' && this.mode === PolicyMode.DRY_RUN;
    const obj = new ApiObject(this, `${kind}-${name}`, {
      apiVersion,
      kind,
      metadata: compact({
        name,
        namespace: this.name,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
        annotations: dryRun || annotations ? { ...annotations, ...(dryRun ? { [DRY_RUN_ANNOTATION]: 'true' } : {}) } : undefined,
      }),
      spec: Lazy.any({ produce: () => this.specs.get(key) }),
    } as any);
    this.objects.set(key, obj);
    return obj;
  }

  // ------------------------------------------------------------------ synth time

  /** Reads the access graph from the app (one walk of the construct tree) and creates/updates every object. */
  private materialize() {
    const m = this.readModel();
    this.checkModes(m);
    for (const s of m.services) {
      this.renderAuthorization(s);
      this.renderJwt(s);
      this.renderPeerAuthentication(s);
    }
    if (this.namespaceJwt.length) {
      this.object('RequestAuthentication', 'security.istio.io/v1', 'jwt', { jwtRules: sortByJson(this.namespaceJwt.map(r => r._render())) });
    }
    this.renderExternals(m);
    if (this.enforcing) {
      this.renderWorkloadNetworkPolicies(m);
      for (const s of m.services) this.renderSidecar(s, m);
    }
  }

  private readModel(): Model {
    const services: IMeshService[] = [];
    const callers = new Map<string, { workload: IMeshWorkload; out: MeshConnection[] }>();
    const externals = new Map<IMeshService, ExternalService[]>();
    const index = appIndex(this.node.root);
    for (const c of index.services.get(this.name) ?? []) {
      services.push(c);
      const ext = (c as any).externalDependencies;
      if (Array.isArray(ext) && ext.length) externals.set(c, ext);
    }
    for (const e of index.outboundBySourceNamespace.get(this.name) ?? []) {
      const entry = callers.get(e.source.name) ?? { workload: e.source, out: [] };
      if (entry.workload !== e.source) {
        invalid(this, 'workload name', e.source.name, `must be unique in namespace '${this.name}': ${entry.workload.node.path} and ${e.source.node.path} share it`);
      }
      entry.out.push(e);
      callers.set(e.source.name, entry);
    }
    services.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let i = 1; i < services.length; i++) {
      if (services[i].name === services[i - 1].name) {
        invalid(this, 'service name', services[i].name, `must be unique in namespace '${this.name}': ${services[i - 1].node.path} and ${services[i].node.path} share it`);
      }
    }
    const known = new Set(services);
    for (const [g] of this.grants) {
      if (!known.has(g)) invalid(this, 'service', g.node.path, `is not in the app's tree: policies can only be rendered for services of namespace '${this.name}'`);
    }
    return { services, callers, externals };
  }

  /**
   * The mode conflict: a service whose callers are told to send plain text (its DestinationRule disables TLS,
   * `UpstreamTls.disabledAllowPlaintext()`) on a port this namespace requires mTLS on. Every call from every
   * namespace would be rejected, so it must be resolved here: make the port `permissiveMtls`, or keep mTLS.
   */
  private checkModes(m: Model) {
    for (const s of m.services) {
      const policy = (s as any).trafficPolicy;
      if (!policy) continue;
      const permissive = this.grants.get(s)?.permissive ?? [];
      for (const p of s.ports) {
        const portTls = (policy.portSettings ?? []).find((x: any) => x.port && x.port.port === p.port)?.tls;
        const mode = (portTls ?? policy.tls)?.mode;
        if (mode === 'DISABLE' && !permissive.includes(p) && s.inboundRules.some(e => e.ports.includes(p))) {
          invalid(this, `${s.name} port ${p.name}/${p.port}`, 'plaintext (UpstreamTls.disabledAllowPlaintext)',
            `conflicts with STRICT mTLS in namespace '${this.name}': callers would send plain text that the server rejects; declare ns.permissiveMtls(service, port) for the migration, or keep UpstreamTls.istioMutual()`);
        }
      }
    }
  }

  private renderAuthorization(s: IMeshService) {
    const g = this.grants.get(s);
    const groups = new Map<string, { to: any; principals: Set<string> }>();
    for (const e of s.inboundRules) {
      const to = [{
        operation: compact({
          ports: targetPorts(e.ports).map(String),
          methods: e.methods.length ? [...e.methods] : undefined,
          paths: e.paths.length ? [...e.paths] : undefined,
        }),
      }];
      const key = JSON.stringify(to);
      const group = groups.get(key) ?? { to, principals: new Set<string>() };
      group.principals.add(e.source.principal);
      groups.set(key, group);
    }
    const rules: any[] = [...groups.values()].map(x => ({ from: [{ source: { principals: [...x.principals].sort() } }], to: x.to }));
    if (g?.anyMeshed.length) rules.push({ from: [{ source: { principals: ['*'] } }], to: [{ operation: { ports: targetPorts(g.anyMeshed).map(String) } }] });
    if (g?.permissive.length) rules.push({ to: [{ operation: { ports: targetPorts(g.permissive).map(String) } }] });
    if (rules.length === 0) return;
    this.object('AuthorizationPolicy', 'security.istio.io/v1', s.name, {
      selector: { matchLabels: { ...s.podSelector } },
      action: this.mode === PolicyMode.AUDIT ? 'AUDIT' : 'ALLOW',
      rules: sortByJson(rules),
    });
  }

  private renderJwt(s: IMeshService) {
    const g = this.grants.get(s);
    if (!g || g.accepted.length === 0) return;
    this.object('RequestAuthentication', 'security.istio.io/v1', `${s.name}-jwt`, {
      selector: { matchLabels: { ...s.podSelector } },
      jwtRules: sortByJson(g.accepted.map(r => r._render())),
    });
    if (g.required.length === 0) return;
    const httpPorts = targetPorts(s.ports.filter(p => p.isHttp)).map(String);
    const rules: any[] = [];
    for (const r of g.required) {
      const to = [{ operation: compact({ ports: httpPorts, paths: r.paths.length ? [...r.paths] : undefined }) }];
      const principals = r.subjects.length ? r.subjects.map(sub => `${r.rule.iss}/${sub}`) : [`${r.rule.iss}/*`];
      rules.push({ from: [{ source: { notRequestPrincipals: principals } }], to });
      for (const [k, v] of r.claims) rules.push({ to, when: [{ key: `request.auth.claims[${k}]`, notValues: [v] }] });
    }
    this.object('AuthorizationPolicy', 'security.istio.io/v1', `${s.name}-require-jwt`, {
      selector: { matchLabels: { ...s.podSelector } },
      action: this.mode === PolicyMode.AUDIT ? 'AUDIT' : 'DENY',
      rules: sortByJson(rules),
    });
  }

  private renderPeerAuthentication(s: IMeshService) {
    const g = this.grants.get(s);
    if (!g || g.permissive.length === 0) return;
    const portLevelMtls: { [port: string]: any } = {};
    for (const p of targetPorts(g.permissive)) portLevelMtls[String(p)] = { mode: 'PERMISSIVE' };
    // port-level settings need a workload selector (Istio rejects them on a namespace-wide policy)
    this.object('PeerAuthentication', 'security.istio.io/v1', `${s.name}-permissive`, {
      selector: { matchLabels: { ...s.podSelector } },
      mtls: { mode: 'STRICT' },
      portLevelMtls,
    });
  }

  /** One ServiceEntry per external host (ports merged), exported to this namespace only. */
  private externalsByHost(m: Model): Map<string, ExternalService[]> {
    const byHost = new Map<string, ExternalService[]>();
    for (const list of m.externals.values()) {
      for (const x of list) {
        const same = byHost.get(x.host) ?? [];
        const clash = same.find(y => y.port === x.port && (y.protocol !== x.protocol || y.wirePort !== x.wirePort));
        if (clash) {
          invalid(this, `external ${x.host} port`, x.port, `is declared twice with different settings (${clash.protocol}->${clash.wirePort} and ${x.protocol}->${x.wirePort}): one protocol per host and port (IST0177)`);
        }
        if (!same.some(y => y.port === x.port)) same.push(x);
        byHost.set(x.host, same);
      }
    }
    return byHost;
  }

  private renderExternals(m: Model) {
    const byHost = this.externalsByHost(m);
    for (const host of [...byHost.keys()].sort()) {
      const list = byHost.get(host)!.sort((a, b) => a.port - b.port);
      const name = `external-${host.replace(/^\*\./, 'wildcard.').replace(/\./g, '-')}`.slice(0, 63).replace(/-+$/, '');
      const addresses = [...new Set(list.flatMap(x => x.addresses))].sort();
      const wildcard = host.startsWith('*.');
      this.object('ServiceEntry', 'networking.istio.io/v1', name, compact({
        hosts: [host],
        addresses: addresses.length ? addresses : undefined,
        ports: list.map(x => compact({
          number: x.port,
          name: x.portName,
          protocol: x.protocol,
          targetPort: x.wirePort !== x.port ? x.wirePort : undefined,
        })),
        location: 'MESH_EXTERNAL',
        // a wildcard cannot be resolved: the proxy forwards to the address the application resolved
        resolution: wildcard ? 'NONE' : 'DNS',
        exportTo: ['.'],
      }));
      const originating = list.filter(x => x.originateTls);
      if (originating.length) {
        this.object('DestinationRule', 'networking.istio.io/v1', name, {
          host,
          exportTo: ['.'],
          trafficPolicy: {
            portLevelSettings: originating.map(x => ({
              port: { number: x.port },
              tls: { mode: 'SIMPLE', sni: host, subjectAltNames: [host] },
            })),
          },
        });
      }
    }
  }

  private renderNamespaceNetworkPolicies() {
    const np = (name: string, spec: any) => this.object('NetworkPolicy', 'networking.k8s.io/v1', name, spec);
    const nsSel = (ns: string) => ({ matchLabels: { [NAMESPACE_NAME_LABEL]: ns } });
    np('default-deny', { podSelector: {}, policyTypes: this.egressControl ? ['Ingress', 'Egress'] : ['Ingress'] });
    if (this.egressControl) {
      np('allow-dns', {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{
          to: [{ namespaceSelector: nsSel(CLUSTER_DNS.namespace), podSelector: { matchLabels: { ...CLUSTER_DNS.labels } } }],
          ports: [{ protocol: 'UDP', port: CLUSTER_DNS.port }, { protocol: 'TCP', port: CLUSTER_DNS.port }],
        }],
      });
      // proxies open one connection to istiod: xDS and certificates on 15012 (15017 serves the API server's webhook
      // calls, 15014 monitoring scrapes: neither comes from proxies)
      const egress: any[] = [{
        to: [{
          namespaceSelector: nsSel(this.mesh.rootNamespace),
          podSelector: { matchLabels: { [IstioLabels.APP]: 'istiod', [IstioLabels.REV]: this.mesh.revisionLabel } },
        }],
        ports: npPorts([IstioPorts.XDS_TLS]),
      }];
      const ca = /^[^.]+\.([^.]+)\.svc(\.[^:]*)?:(\d+)$/.exec(this.mesh.caAddress);
      if (this.mesh.caAddress !== this.mesh.discoveryAddress && ca) {
        // an external CA (e.g. istio-csr) in its own namespace: allow its port there
        egress.push({ to: [{ namespaceSelector: nsSel(ca[1]) }], ports: npPorts([parseInt(ca[3], 10)]) });
      }
      np('allow-istiod', { podSelector: {}, policyTypes: ['Egress'], egress });
    }
    if (this.scraper) {
      np('allow-metrics-scrape', {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [{
          from: [compact({
            namespaceSelector: nsSel(this.scraper.namespace),
            podSelector: this.scraper.podLabels ? { matchLabels: { ...this.scraper.podLabels } } : undefined,
          })],
          ports: npPorts([IstioPorts.STATUS, IstioPorts.ENVOY_PROMETHEUS]),
        }],
      });
    }
  }

  private renderWorkloadNetworkPolicies(m: Model) {
    const peer = (w: IMeshWorkload) => ({
      namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: w.namespace.name } },
      podSelector: { matchLabels: { ...w.podSelector } },
    });
    const policies = new Map<string, { podSelector: any; ingress: any[]; egress: any[] }>();
    const entry = (w: IMeshWorkload) => {
      const e = policies.get(w.name) ?? { podSelector: { ...w.podSelector }, ingress: [], egress: [] };
      policies.set(w.name, e);
      return e;
    };
    for (const s of m.services) {
      const e = entry(s);
      const bySource = new Map<IMeshWorkload, Set<number>>();
      for (const c of s.inboundRules) {
        const set = bySource.get(c.source) ?? new Set<number>();
        for (const p of c.ports) set.add(p.targetPort);
        bySource.set(c.source, set);
      }
      for (const [src, ports] of bySource) e.ingress.push({ from: [peer(src)], ports: npPorts([...ports].sort((a, b) => a - b)) });
      const g = this.grants.get(s);
      if (g?.anyMeshed.length) e.ingress.push({ from: [{ namespaceSelector: {} }], ports: npPorts(targetPorts(g.anyMeshed)) });
      if (g?.permissive.length) e.ingress.push({ ports: npPorts(targetPorts(g.permissive)) });
    }
    if (this.egressControl) {
      for (const [, c] of m.callers) {
        const e = entry(c.workload);
        const byTarget = new Map<IMeshService, Set<number>>();
        for (const x of c.out) {
          const set = byTarget.get(x.target) ?? new Set<number>();
          for (const p of x.ports) set.add(p.targetPort);
          byTarget.set(x.target, set);
        }
        for (const [t, ports] of byTarget) e.egress.push({ to: [peer(t)], ports: npPorts([...ports].sort((a, b) => a - b)) });
      }
      for (const [s, list] of m.externals) {
        const e = entry(s);
        const byBlocks = new Map<string, Set<number>>();
        for (const x of list) {
          const key = (x.addresses.length ? x.addresses : ANYWHERE_CIDRS).join(',');
          const set = byBlocks.get(key) ?? new Set<number>();
          set.add(x.wirePort);
          byBlocks.set(key, set);
        }
        for (const [blocks, ports] of byBlocks) {
          e.egress.push({ to: blocks.split(',').map(cidr => ({ ipBlock: { cidr: cidr.includes('/') ? cidr : cidr + (cidr.includes(':') ? '/128' : '/32') } })), ports: npPorts([...ports].sort((a, b) => a - b)) });
        }
      }
    }
    for (const name of [...policies.keys()].sort()) {
      const p = policies.get(name)!;
      if (!p.ingress.length && !p.egress.length) continue;
      const policyTypes = [...(p.ingress.length ? ['Ingress'] : []), ...(p.egress.length ? ['Egress'] : [])];
      this.object('NetworkPolicy', 'networking.k8s.io/v1', name, compact({
        podSelector: { matchLabels: p.podSelector },
        policyTypes,
        ingress: p.ingress.length ? sortByJson(p.ingress) : undefined,
        egress: p.egress.length ? sortByJson(p.egress) : undefined,
      }));
    }
  }

  private renderSidecar(s: IMeshService, m: Model) {
    const hosts = new Set<string>([`${this.mesh.rootNamespace}/*`]);
    for (const c of m.callers.get(s.name)?.out ?? []) hosts.add(`${c.target.namespace.name}/${c.target.host}`);
    for (const x of m.externals.get(s) ?? []) hosts.add(`${this.name}/${x.host}`);
    this.object('Sidecar', 'networking.istio.io/v1', s.name, compact({
      workloadSelector: { labels: { ...s.podSelector } },
      egress: [{ hosts: [...hosts].sort() }],
      outboundTrafficPolicy: this.egressControl ? { mode: 'REGISTRY_ONLY' } : undefined,
    }));
  }
}

function addRule(scope: Construct, list: JwtRule[], rule: JwtRule) {
  const same = list.find(r => r.iss === rule.iss);
  if (same && same !== rule && JSON.stringify(same._render()) !== JSON.stringify(rule._render())) {
    invalid(scope, 'jwt issuer', rule.iss, 'is already accepted with different settings: one JwtRule per issuer');
  }
  if (!same) list.push(rule);
}

