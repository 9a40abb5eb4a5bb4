import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { invalid } from '../errors';
import { AmbientPolicy } from './ambient-policy';
import { renderAmbientAuthorization, renderAmbientWorkloadNetworkPolicy } from './ambient-renderers';
import { CLUSTER_DNS, PSA_LABEL_PREFIX } from './constants';
import { ExternalService } from './external-service';
import { JwtRequirementOptions, JwtRule } from './jwt';
import {
  collectorPorts, externalObjectName, NamespaceView, renderAllowControlPlane, renderAllowDns, renderAllowScrape, renderAllowTelemetry,
  renderAuthorization, renderDefaultDeny, renderDefaultSidecar, renderExternalDestinationRule, renderJwtRequirement,
  renderPermissivePeerAuthentication, renderRequestAuthentication, renderServiceEntry, renderSidecar,
  renderWorkloadNetworkPolicy, ServiceGrants, sortByJson,
} from './policy-renderers';
import { DATAPLANE_MODE_AMBIENT, DATAPLANE_MODE_LABEL } from '../ambient/constants';
import { IstioLabels, MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { DataPlaneMode } from '../mesh/data-plane';
import { IMesh } from '../mesh/mesh';
import { IMeshNamespace } from '../mesh/namespace';
import { MeshFact, MeshModel } from '../model/mesh-model';
import { ServicePort } from '../service/service-port';
import { checkMeshService, IMeshService, IMeshWorkload } from '../service/workload';
import { canonicalCidr, checkDnsLabel, checkLabels, checkPath, checkPort, checkPrincipal, compact, parseCidr } from '../validation';

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
   * The namespace's data plane, to mix data planes in one mesh or migrate one namespace at a time. An ambient
   * namespace is labelled `istio.io/dataplane-mode: ambient` (no injection labels), its pods run without a sidecar or
   * init container (so `restricted` Pod Security holds), it gets no Sidecar resources, its AuthorizationPolicies are
   * layer-4 ones ztunnel enforces, its NetworkPolicies admit HBONE (15008), and it gets a waypoint exactly when one of
   * its services needs layer 7 (routes, HTTP authorization, tokens). The mesh's control plane then installs ztunnel.
   * @default - the mesh's `dataPlaneMode`
   */
  readonly dataPlaneMode?: DataPlaneMode;
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
  /**
   * Where the cluster DNS runs, for the NetworkPolicy that lets every pod resolve names (egress control only).
   * @default - namespace `kube-system`, pods labelled `k8s-app: kube-dns` (kube-dns, and CoreDNS as kubeadm, EKS,
   * GKE and AKS deploy it), port 53
   */
  readonly clusterDns?: ClusterDns;
}

/** Where the cluster DNS add-on runs (the `allow-dns` NetworkPolicy's egress peer). */
export interface ClusterDns {
  /**
   * The namespace of the DNS pods.
   * @default 'kube-system'
   */
  readonly namespace?: string;
  /**
   * Labels of the DNS pods (e.g. `{ 'app.kubernetes.io/name': 'coredns' }` for CoreDNS installed by its Helm chart).
   * @default { 'k8s-app': 'kube-dns' }
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * The port the DNS pods listen on (UDP and TCP); a NetworkPolicy matches the pod's port, not the Service's.
   * @default 53
   */
  readonly port?: number;
}

/**
 * The callers still without a proxy that may reach a `permissiveMtls` port in plain text. Plain-text peers carry no
 * identity, so the AuthorizationPolicy can tell them only by address: CIDRs are checked by both the
 * AuthorizationPolicy (`ipBlocks`) and the NetworkPolicy; namespaces only by the NetworkPolicy (the
 * AuthorizationPolicy admits unauthenticated peers, `notPrincipals: ['*']`, from any address, and the NetworkPolicy
 * admits only pods of these namespaces). At least one source must be given.
 */
export interface PlaintextSources {
  /**
   * Namespaces whose pods may connect in plain text.
   * @default - none
   */
  readonly namespaces?: string[];
  /**
   * Address blocks (`10.20.0.0/16`, `2001:db8::/48`, or one address) that may connect in plain text; not `/0`.
   * @default - none
   */
  readonly cidrs?: string[];
}

/** Options of `allowFromAnyMeshed`. */
export interface AnyMeshedOptions {
  /**
   * The ports opened to any meshed workload.
   * @default - every port of the service
   */
  readonly ports?: ServicePort[];
}

const CLAIM = /^[A-Za-z0-9_.:\/-]+$/;
const LEVELS = [PodSecurityLevel.PRIVILEGED, PodSecurityLevel.BASELINE, PodSecurityLevel.RESTRICTED];
const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

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
 * Gateways belong in their own namespace: the default-deny NetworkPolicies here would cut off their load balancer
 * (and, for an egress gateway, its way out), so a MeshGateway or EgressGateway declared in this namespace is refused.
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
  /** The namespace's data plane (its own, else the mesh's). */
  public readonly dataPlaneMode: DataPlaneMode;
  /** The Namespace (v1). */
  public readonly namespace: ApiObject;
  /** The namespace-wide PeerAuthentication (`default`, STRICT). */
  public readonly peerAuthentication: ApiObject;

  private readonly grants = new Map<IMeshService, ServiceGrants>();
  private readonly namespaceJwt: JwtRule[] = [];
  private readonly objects = new Map<string, ApiObject>();
  /** The first external destination declared per host and port (`<host>\0<port>`), for the IST0177 check. */
  private readonly externalsByHostPort = new Map<string, { readonly external: ExternalService; readonly by: IMeshWorkload }>();
  private readonly ownScraper?: { readonly namespace: string; readonly podLabels: { [key: string]: string } };
  /** What each object of the namespace is for, by kind and name (one name, one purpose). */
  private readonly purposes = new Map<string, string>();
  private readonly model: MeshModel;
  private readonly dns: { namespace: string; podLabels: { [key: string]: string }; port: number };
  /** The ambient side (waypoints, probes), for an ambient namespace. */
  private readonly ambient?: AmbientPolicy;

  constructor(scope: Construct, id: string, props: ZeroTrustNamespaceProps) {
    super(scope, id);
    if (!props || !props.mesh || typeof props.mesh.trustDomain !== 'string') invalid(this, 'mesh', props?.mesh, 'must be a Mesh (new Mesh(...) or Mesh.fromAttributes(...))');
    const name = props.name ?? id;
    checkDnsLabel(this, 'name', name);
    const mesh = props.mesh;
    if (name === mesh.rootNamespace || name === CLUSTER_DNS.namespace) {
      invalid(this, 'name', name, `must not be the control plane's namespace or ${CLUSTER_DNS.namespace}: zero-trust policy would cut off the control plane`);
    }
    this.model = MeshModel.of(this);
    this.model.claim(this, 'namespace', name, 'name', name, other => `must be unique in the app: ${other} already defines namespace '${name}'`);
    this.name = name;
    this.mesh = mesh;
    this.mode = props.mode ?? PolicyMode.ENFORCE;
    if (!Object.values(PolicyMode).includes(this.mode)) invalid(this, 'mode', this.mode, `must be one of ${Object.values(PolicyMode).join(', ')}`);
    this.egressControl = !(props.allowAnyEgress ?? false);

    this.dataPlaneMode = props.dataPlaneMode ?? mesh.dataPlaneMode ?? DataPlaneMode.SIDECAR;
    if (!Object.values(DataPlaneMode).includes(this.dataPlaneMode)) {
      invalid(this, 'dataPlaneMode', this.dataPlaneMode, `must be one of ${Object.values(DataPlaneMode).join(', ')}`);
    }
    const ambient = this.dataPlaneMode === DataPlaneMode.AMBIENT;
    if (ambient && !mesh.cni) {
      invalid(this, 'dataPlaneMode', this.dataPlaneMode, "needs a mesh with Istio CNI (the Mesh default; not cni: false): the CNI agent redirects ambient pods' traffic to ztunnel");
    }
    // ambient pods carry no init container: restricted always holds
    const allowed = mesh.cni || ambient ? PodSecurityLevel.RESTRICTED : PodSecurityLevel.PRIVILEGED;
    this.podSecurity = props.podSecurity ?? allowed;
    if (!LEVELS.includes(this.podSecurity)) invalid(this, 'podSecurity', this.podSecurity, `must be one of ${LEVELS.join(', ')}`);
    if (LEVELS.indexOf(this.podSecurity) > LEVELS.indexOf(allowed)) {
      invalid(this, 'podSecurity', this.podSecurity,
        "must be 'privileged' with the mesh's cni: false opt-out: the istio-init container adds NET_ADMIN and NET_RAW and runs as root, which 'baseline' and 'restricted' reject; keep Istio CNI (the Mesh default) for 'restricted'");
    }
    const dns = props.clusterDns ?? {};
    this.dns = {
      namespace: dns.namespace ?? CLUSTER_DNS.namespace,
      podLabels: { ...(dns.podLabels ?? CLUSTER_DNS.labels) },
      port: dns.port ?? CLUSTER_DNS.port,
    };
    checkDnsLabel(this, 'clusterDns.namespace', this.dns.namespace);
    if (this.dns.namespace === name) invalid(this, 'clusterDns.namespace', name, 'must not be this namespace: its default deny would cut every pod of the cluster off from DNS');
    checkLabels(this, 'clusterDns.podLabels', this.dns.podLabels);
    if (Object.keys(this.dns.podLabels).length === 0) {
      invalid(this, 'clusterDns.podLabels', '{}', "must select the DNS pods: an empty selector would open port 53 to every pod of the DNS namespace; e.g. { 'k8s-app': 'kube-dns' }");
    }
    checkPort(this, 'clusterDns.port', this.dns.port);
    checkLabels(this, 'labels', props.labels);
    if (props.metricsScraper) {
      checkDnsLabel(this, 'metricsScraper.namespace', props.metricsScraper.namespace);
      checkLabels(this, 'metricsScraper.podLabels', props.metricsScraper.podLabels);
    }

    // ambient: the dataplane-mode label and no injection label (the webhook must not add sidecars there)
    const injection: { [key: string]: string } = ambient ? { [DATAPLANE_MODE_LABEL]: DATAPLANE_MODE_AMBIENT } : mesh.revision
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

    this.peerAuthentication = this.object('PeerAuthentication', 'security.istio.io/v1', 'default', () => ({ mtls: { mode: 'STRICT' } }));
    if (this.mode !== PolicyMode.AUDIT) this.object('AuthorizationPolicy', 'security.istio.io/v1', 'allow-nothing', () => ({}));
    if (this.enforcing) {
      this.np('default-deny', () => renderDefaultDeny(this.view));
      if (this.egressControl) {
        this.np('allow-dns', () => renderAllowDns(this.dns));
        this.np('allow-istiod', () => renderAllowControlPlane(this.view));
      }
      if (!ambient) this.object('Sidecar', 'networking.istio.io/v1', 'default', () => renderDefaultSidecar(this.view));
    }
    if (ambient) {
      this.ambient = new AmbientPolicy({
        scope: this,
        name,
        mesh,
        model: this.model,
        enforcing: this.enforcing,
        namespace: this.namespace,
        view: () => this.view,
        object: (kind, apiVersion, objName, produce, labels) => this.object(kind, apiVersion, objName, produce, labels),
      });
    }
    if (props.metricsScraper) {
      // this namespace's own scraper: admitted here only (not an app-wide fact: other namespaces did not ask for it)
      this.ownScraper = { namespace: props.metricsScraper.namespace, podLabels: { ...props.metricsScraper.podLabels } };
      if (this.enforcing) this.np('allow-metrics-scrape', () => renderAllowScrape(this.view));
    }
    // push: every fact of the app reaches this namespace as it is declared (earlier ones first)
    this.model.subscribe(f => this.onFact(f));
    // a check, not a render: validation hooks create and annotate nothing
    this.node.addValidation({ validate: () => { this.checkModes(); return []; } });
  }

  /**
   * Accepts plain text (mTLS PERMISSIVE) on one port of a service, for migration: the callers in `from` that have no
   * proxy yet can reach it while they are being meshed. Only they get in without an identity: the
   * AuthorizationPolicy admits unauthenticated peers (`notPrincipals: ['*']`) on this port, from `from.cidrs` when
   * only CIDRs are given, and the NetworkPolicy admits only pods of `from.namespaces` and addresses of `from.cidrs`;
   * the declared callers keep their own rules (mTLS, by principal). Calls for the same port add sources. Remove it
   * when the callers are meshed.
   */
  public permissiveMtls(service: IMeshService, port: ServicePort, from: PlaintextSources): void {
    const g = this.grantsFor(service, 'permissiveMtls');
    const own = this.ownPort(service, port, 'permissiveMtls port');
    const namespaces = [...new Set(from?.namespaces ?? [])].sort();
    const cidrs: string[] = [];
    for (const ns of namespaces) checkDnsLabel(this, 'permissiveMtls from.namespaces', ns);
    for (const c of from?.cidrs ?? []) {
      const parsed = parseCidr(c);
      if (!parsed) invalid(this, 'permissiveMtls from.cidrs', c, "must be an IPv4 or IPv6 address or CIDR block, e.g. '10.20.0.0/16'");
      if (parsed.prefix === 0) invalid(this, 'permissiveMtls from.cidrs', c, 'must not be everywhere (/0): name the blocks the plain-text callers run in');
      if (!cidrs.includes(canonicalCidr(parsed))) cidrs.push(canonicalCidr(parsed));
    }
    if (namespaces.length + cidrs.length === 0) {
      invalid(this, 'permissiveMtls from', JSON.stringify(from ?? null), 'must name the plain-text callers: namespaces and/or cidrs (plain text from anyone would bypass the caller list)');
    }
    let entry = g.permissive.find(x => x.port === own);
    if (!entry) {
      entry = { port: own, namespaces: [], cidrs: [] };
      g.permissive.push(entry);
    }
    for (const ns of namespaces) if (!entry.namespaces.includes(ns)) entry.namespaces.push(ns);
    for (const c of cidrs) if (!entry.cidrs.includes(c)) entry.cidrs.push(c);
    entry.namespaces.sort();
    entry.cidrs.sort();
    this.ensureAuthorization(service);
    this.ensureNetworkPolicy(service);
    this.object('PeerAuthentication', 'security.istio.io/v1', `${service.name}-permissive`, () => renderPermissivePeerAuthentication(this.view, service), undefined,
      `the permissive-mTLS PeerAuthentication of service '${service.name}'`);
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
    this.ensureAuthorization(service);
    this.ensureNetworkPolicy(service);
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
    if (service) this.ensureRequestAuthentication(service);
    else this.object('RequestAuthentication', 'security.istio.io/v1', 'jwt', () => this.layer7(undefined, { jwtRules: sortByJson(this.namespaceJwt.map(r => r._render())) }));
    if (this.ambient) this.model.declareLayer7(this.name, service, 'JWT');
  }

  private ensureRequestAuthentication(service: IMeshService) {
    this.object('RequestAuthentication', 'security.istio.io/v1', `${service.name}-jwt`, () => this.layer7(service, renderRequestAuthentication(this.view, service)), undefined,
      `the RequestAuthentication of service '${service.name}'`);
  }

  /**
   * Demands a valid token of `rule`'s issuer (optionally of given subjects, with given claims) on `service`'s HTTP
   * ports, on every path but `options.exceptPaths`. Also accepts the issuer for the service (`acceptJwt`).
   *
   * Rendered as a DENY AuthorizationPolicy (`notRequestPrincipals`, and one `notValues` condition per claim) with
   * negative path matching (`notPaths` of the exceptions), so any path variant not exactly exempt needs a token (fails
   * closed). Not an ALLOW policy: ALLOW policies are OR-ed, so an ALLOW rule for token holders would let anyone with
   * a token in, past the service's caller list. DENY is AND-ed with it: the caller must be allowed AND present the
   * token.
   *
   * Several calls for one service are "any of": a request passes with a valid token of any of the issuers (and
   * subjects) required. They must give the same `exceptPaths`, and `claims` need a single requirement (a claim of one
   * issuer cannot be demanded of another issuer's tokens with DENY rules): other combinations are refused.
   */
  public requireJwt(service: IMeshService, rule: JwtRule, options: JwtRequirementOptions = {}): void {
    const g = this.grantsFor(service, 'requireJwt');
    if (!(rule instanceof JwtRule)) invalid(this, 'requireJwt rule', rule, 'must be made with JwtRule.issuer(...)');
    if (!service.ports.some(p => p.isHttp)) {
      invalid(this, 'requireJwt service', service.node.path, 'must have an HTTP port: tokens are read from HTTP requests');
    }
    const paths = checkExceptPaths(this, options.exceptPaths);
    const subjects = [...new Set(options.subjects ?? [])].sort();
    for (const s of subjects) if (typeof s !== 'string' || s.length === 0 || /[\s*]/.test(s)) invalid(this, 'requireJwt subjects', s, "must be token subjects (`sub`): non-empty, no spaces, no '*'");
    const claims = Object.keys(options.claims ?? {}).sort().map(k => [k, options.claims![k]] as [string, string]);
    for (const [k, v] of claims) {
      if (!CLAIM.test(k)) invalid(this, 'requireJwt claims', k, "must be claim names of letters, digits and '_', '.', ':', '/', '-'");
      if (typeof v !== 'string' || v.length === 0) invalid(this, `requireJwt claims['${k}']`, v, 'must be a non-empty value');
    }
    for (const other of g.required) {
      if (JSON.stringify(other.exceptPaths) !== JSON.stringify(paths)) {
        invalid(this, 'requireJwt exceptPaths', JSON.stringify(options.exceptPaths ?? []),
          `must equal the exceptPaths of ${service.name}'s earlier requireJwt (${JSON.stringify(other.exceptPaths)}): the paths without a token are one set per service`);
      }
      if (other.claims.length || claims.length) {
        invalid(this, 'requireJwt claims', JSON.stringify(Object.fromEntries((claims.length ? claims : other.claims))),
          `cannot be combined with a second token requirement on ${service.name}: requirements are "any of", and a DENY policy cannot demand a claim of one issuer's tokens only; require the claims with a single requireJwt`);
      }
    }
    addRule(this, g.accepted, rule);
    g.required.push({ rule, exceptPaths: paths, subjects, claims });
    this.ensureRequestAuthentication(service);
    this.object('AuthorizationPolicy', 'security.istio.io/v1', `${service.name}-require-jwt`, () => this.layer7(service, renderJwtRequirement(this.view, service)), undefined,
      `the token requirement of service '${service.name}'`);
    if (this.ambient) this.model.declareLayer7(this.name, service, 'JWT');
  }

  /** A layer-7 spec: as rendered with sidecars, attached to the waypoint (targetRefs) in an ambient namespace. */
  private layer7(service: IMeshService | undefined, spec: any): any {
    return this.ambient ? this.ambient.forWaypoint(spec, service) : spec;
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

  /** What the renderers read: this namespace's settings and grants, and the app's model. */
  private get view(): NamespaceView {
    return {
      name: this.name,
      mesh: this.mesh,
      mode: this.mode,
      egressControl: this.egressControl,
      model: this.model,
      ownScraper: this.ownScraper,
      grantsOf: (s: IMeshService) => this.grants.get(s),
    };
  }

  // ------------------------------------------------------------------ push: facts -> objects (specs rendered lazily)

  private onFact(f: MeshFact) {
    const mine = (w: IMeshWorkload) => w.namespace.name === this.name;
    switch (f.type) {
      case 'gateway':
        if (mine(f.gateway.workload)) {
          invalid(this, 'gateway', f.gateway.workload.node.path,
            `must not be in ZeroTrustNamespace '${this.name}': its default-deny NetworkPolicies would cut ${f.gateway.egress ? 'the egress gateway off from the outside' : 'the gateway off from its load balancer'}; give the gateway a namespace of its own (MeshNamespace.fromName)`);
        }
        break;
      case 'service':
        if (mine(f.service)) {
          this.ensureSidecar(f.service);
          // a telemetry collector declared before its service
          if (collectorPorts(this.model, f.service).length) this.admitTelemetry(f.service);
        }
        break;
      case 'edge':
        if (mine(f.edge.target)) {
          // a custom IMeshWorkload's principal lands in source.principals: one workload, never a wildcard
          checkPrincipal(this, `caller of ${f.edge.target.name} principal`, f.edge.source.principal, this.mesh.trustDomain);
          this.ensureAuthorization(f.edge.target);
          this.ensureNetworkPolicy(f.edge.target);
        }
        if (mine(f.edge.source)) {
          if (this.egressControl) this.ensureNetworkPolicy(f.edge.source);
          this.ensureSidecar(f.edge.source);
        }
        break;
      case 'external':
        if (mine(f.source)) {
          this.checkExternal(f.source, f.external);
          this.ensureServiceEntry(f.external.host, f.external.originateTls);
          if (this.egressControl) this.ensureNetworkPolicy(f.source);
          this.ensureSidecar(f.source);
        }
        break;
      case 'collector':
        if (f.collector.rootNamespace === this.mesh.rootNamespace && this.enforcing && this.egressControl) {
          this.np('allow-telemetry', () => renderAllowTelemetry(this.view));
        }
        // a collector that is one of this namespace's services (declared before the collector): every proxy sends to it
        if (!f.collector.external && f.collector.namespace === this.name) {
          for (const s of this.model.servicesIn(this.name)) if (collectorPorts(this.model, s).length) this.admitTelemetry(s);
        }
        break;
      case 'scraper':
        if (this.enforcing) this.np('allow-metrics-scrape', () => renderAllowScrape(this.view));
        break;
      default:
        break;
    }
  }

  /**
   * One protocol per external host and port in a namespace (IST0177): checked when the destination is declared,
   * against the first declaration of that host and port (an index, so n hosts cost n look-ups, not n^2/2 comparisons).
   */
  private checkExternal(source: IMeshWorkload, x: ExternalService) {
    const key = `${x.host}\0${x.port}`;
    const first = this.externalsByHostPort.get(key);
    if (!first) {
      this.externalsByHostPort.set(key, { external: x, by: source });
      return;
    }
    const y = first.external;
    if (y !== x && (y.protocol !== x.protocol || y.wirePort !== x.wirePort)) {
      invalid(this, `external ${x.host} port`, x.port,
        `is declared twice with different settings (${y.protocol}->${y.wirePort} by ${first.by.node.path} and ${x.protocol}->${x.wirePort} by ${source.node.path}): one protocol per host and port (IST0177)`);
    }
  }

  /**
   * A telemetry collector of the mesh that runs here: every proxy of every namespace (sidecars, gateways, waypoints)
   * sends it spans and logs with Istio mTLS, so its ports are open to any meshed workload, as `allowFromAnyMeshed`
   * (the renderers read the collector ports from the model: `anyMeshedPorts`).
   */
  private admitTelemetry(s: IMeshService) {
    this.ensureAuthorization(s);
    this.ensureNetworkPolicy(s);
  }

  private ensureAuthorization(s: IMeshService) {
    this.object('AuthorizationPolicy', 'security.istio.io/v1', s.name, () => (this.ambient ? renderAmbientAuthorization(this.view, s) : renderAuthorization(this.view, s)),
      undefined, `the AuthorizationPolicy of service '${s.name}'`);
  }

  private ensureNetworkPolicy(w: IMeshWorkload) {
    if (!this.enforcing) return;
    this.np(w.name, () => (this.ambient ? renderAmbientWorkloadNetworkPolicy(this.view, w) : renderWorkloadNetworkPolicy(this.view, w)),
      `the NetworkPolicy of workload '${w.name}'`);
  }

  private ensureSidecar(w: IMeshWorkload) {
    if (!this.enforcing || this.ambient) return;
    this.object('Sidecar', 'networking.istio.io/v1', w.name, () => renderSidecar(this.view, w), undefined, `the Sidecar of workload '${w.name}'`);
  }

  private ensureServiceEntry(host: string, originateTls: boolean) {
    const name = externalObjectName(host);
    this.object('ServiceEntry', 'networking.istio.io/v1', name, () => renderServiceEntry(this.view, host), undefined, `the ServiceEntry of external host '${host}'`);
    if (originateTls) this.object('DestinationRule', 'networking.istio.io/v1', name, () => renderExternalDestinationRule(this.view, host), undefined, `the TLS origination of external host '${host}'`);
  }

  private np(name: string, produce: () => any, purpose?: string) {
    return this.object('NetworkPolicy', 'networking.k8s.io/v1', name, produce, undefined, purpose);
  }

  /** Creates an object of this namespace once (by kind and name); its spec is rendered at synth time from the model. */
  private object(kind: string, apiVersion: string, name: string, produce: () => any, labels?: { [key: string]: string },
    purpose = `the namespace's ${kind} '${name}'`): ApiObject {
    const key = `${kind}/${name}`;
    const existing = this.objects.get(key);
    if (existing) {
      // one name, one object: two purposes on one name would silently drop one policy (a token requirement, a service's
      // allow rules, the namespace's own DNS rule...)
      const other = this.purposes.get(key);
      if (other !== purpose) {
        invalid(this, `${kind} name`, name, `is needed for both ${other} and ${purpose}: rename the service or workload (names such as '<service>-require-jwt', 'allow-dns', 'default' are taken by the namespace's own objects)`);
      }
      return existing;
    }
    this.purposes.set(key, purpose);
    const dryRun = kind === 'AuthorizationPolicy' && this.mode === PolicyMode.DRY_RUN;
    const obj = new ApiObject(this, `${kind}-${name}`, {
      apiVersion,
      kind,
      metadata: compact({
        name,
        namespace: this.name,
        labels: { ...labels, [MANAGED_BY_LABEL]: MANAGED_BY },
        annotations: dryRun ? { [DRY_RUN_ANNOTATION]: 'true' } : undefined,
      }),
      spec: Lazy.any({ produce }),
    } as any);
    this.objects.set(key, obj);
    return obj;
  }

  /**
   * The mode conflict: a service whose callers are told to send plain text (its DestinationRule disables TLS,
   * `UpstreamTls.disabledAllowPlaintext()`) on a port this namespace requires mTLS on. Every call from every
   * namespace would be rejected, so it must be resolved here: make the port `permissiveMtls`, or keep mTLS.
   */
  private checkModes(): void {
    for (const s of this.model.servicesIn(this.name)) {
      const policy = (s as any).trafficPolicy;
      if (!policy) continue;
      const permissive = (this.grants.get(s)?.permissive ?? []).map(x => x.port);
      const inbound = this.model.inboundOf(s);
      for (const p of s.ports) {
        const portTls = (policy.portSettings ?? []).find((x: any) => x.port && x.port.port === p.port)?.tls;
        const mode = (portTls ?? policy.tls)?.mode;
        if (mode === 'DISABLE' && !permissive.includes(p) && inbound.some(e => e.ports.includes(p))) {
          invalid(this, `${s.name} port ${p.name}/${p.port}`, 'plaintext (UpstreamTls.disabledAllowPlaintext)',
            `conflicts with STRICT mTLS in namespace '${this.name}': callers would send plain text that the server rejects; declare ns.permissiveMtls(service, port) for the migration, or keep UpstreamTls.istioMutual()`);
        }
      }
    }
  }
}

/**
 * Checks `requireJwt` exceptPaths: exact paths or prefixes `/x/*` (no suffixes: `*.css` would exempt
 * `/api/orders;.css`, which some servers route to `/api/orders`), each a clean path as `checkPath` says. A prefix
 * `/x/*` also exempts `/x` (Istio's `/x/*` does not match it). Sorted, deduplicated.
 */
function checkExceptPaths(scope: Construct, paths: string[] | undefined): string[] {
  if (paths === undefined) return [];
  const field = 'requireJwt exceptPaths';
  if (!Array.isArray(paths) || paths.length === 0) invalid(scope, field, paths, 'must be a non-empty list of paths (omit it to require a token on every path)');
  const out = new Set<string>();
  for (const p of paths) {
    if (typeof p !== 'string' || !p.startsWith('/') || p.indexOf('*') !== (p.endsWith('/*') ? p.length - 1 : -1)) {
      invalid(scope, field, p, "must be an exact path ('/healthz') or a prefix ending in '/*' ('/public/*'): no other '*' (a suffix such as '*.css' would exempt '/api/orders;.css')");
    }
    const stem = p.endsWith('/*') ? p.slice(0, -2) : p;
    if (stem === '') invalid(scope, field, p, 'must not exempt every path: drop requireJwt instead');
    checkPath(scope, field, stem);
    out.add(p);
    if (p.endsWith('/*')) out.add(stem);
  }
  return [...out].sort();
}

function addRule(scope: Construct, list: JwtRule[], rule: JwtRule) {
  const same = list.find(r => r.iss === rule.iss);
  if (same && same !== rule && JSON.stringify(same._render()) !== JSON.stringify(rule._render())) {
    invalid(scope, 'jwt issuer', rule.iss, 'is already accepted with different settings: one JwtRule per issuer');
  }
  if (!same) list.push(rule);
}

