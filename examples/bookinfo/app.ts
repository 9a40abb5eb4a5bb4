/**
 * The flagship example: Istio's Bookinfo application, meshed end to end with cdk8s-mesh.
 *
 * - `mesh-system`: the mesh, istiod with its CA from cert-manager, metrics scraping, mesh-wide telemetry.
 * - `istio-ingress`: an HTTPS ingress gateway for the Bookinfo host, its certificate from cert-manager (ACME).
 * - `bookinfo`: productpage, details, reviews v1/v2 (+ v3 as a canary: 10% of everyone and all iPhone users) and
 *   ratings in a zero-trust namespace with exactly the edges the app needs, alerts and dashboards.
 * - `argocd`: the Argo CD Applications that deliver the three charts above, in order.
 *
 * `buildBookinfo()` is shared by `main.ts` (`npm run example`) and the tests (test/bookinfo.test.ts).
 */
import { App, Chart, Duration } from 'cdk8s';
import {
  ArgoCdDelivery, CanaryRelease, CanaryTraffic, DataPlaneMode, GatewayTls, GoldenSignalAlerts, IstioControlPlane, Mesh,
  MeshAnalyzer, MeshCertificates, MeshDashboard, MeshDiagram, MeshedService, MeshGateway, MeshMetricsScraping,
  MeshNamespace, MeshTelemetry, PathMatch, Probe, RequestMatch, RetryOn, ServiceDashboard, ServicePort,
  TelemetryProvider, TelemetryTarget, WorkloadVolume, ZeroTrustNamespace,
} from '../../src';

/** Istio's Bookinfo sample images (samples/bookinfo in Istio's repository), pinned. */
const IMAGE_TAG = '1.20.3';
const image = (name: string) => `docker.io/istio/examples-bookinfo-${name}:${IMAGE_TAG}`;

export interface BookinfoOptions {
  /** Where the YAML is written. */
  readonly outdir: string;
  /** The public host the gateway serves. @default 'bookinfo.example.com' */
  readonly host?: string;
  /** The ClusterIssuer that signs the gateway certificate (e.g. an ACME issuer). @default 'letsencrypt' */
  readonly issuer?: string;
  /** The Git repository Argo CD syncs from. */
  readonly repoUrl?: string;
  /**
   * The data plane: sidecars, or ambient (ztunnel, and waypoints where layer 7 is declared), for
   * examples/bookinfo-ambient. @default DataPlaneMode.SIDECAR
   */
  readonly dataPlaneMode?: DataPlaneMode;
  /** The repository path Argo CD syncs (where the YAML is committed). @default 'examples/bookinfo/dist' */
  readonly repoPath?: string;
}

export function buildBookinfo(options: BookinfoOptions): App {
  const host = options.host ?? 'bookinfo.example.com';
  const app = new App({ outdir: options.outdir, outputFileExtension: '.yaml' });

  // ---- The platform chart: one per cluster, owned by the platform team.
  const platform = new Chart(app, 'mesh-system');
  const mesh = new Mesh(platform, 'mesh', { version: '1.30.3', trustDomain: 'cluster.local', dataPlaneMode: options.dataPlaneMode });
  const istio = new IstioControlPlane(platform, 'istio', { mesh, certificates: MeshCertificates.certManager() });
  // Traces go to an OpenTelemetry collector (declared once, in the mesh config), 1% sampled; errors are logged.
  const otel = TelemetryProvider.openTelemetry(istio, {
    name: 'otel', service: 'otel-collector.observability.svc.cluster.local', port: 4317,
  });
  new MeshTelemetry(platform, 'telemetry', {
    target: TelemetryTarget.mesh(mesh),
    accessLogging: [{ providers: [TelemetryProvider.envoy()], filter: 'response.code >= 400' }],
    tracing: [{ providers: [otel], randomSamplingPercentage: 1 }],
  });
  new MeshMetricsScraping(platform, 'scraping', { mesh });
  new MeshDashboard(platform, 'mesh-dashboard', { mesh });

  // ---- The ingress chart: the gateway lives in its own namespace (the app namespace denies by default).
  const ingressChart = new Chart(app, 'istio-ingress');
  ingressChart.addDependency(platform);
  const ingressNs = MeshNamespace.fromName(ingressChart, 'ns', { name: 'istio-ingress', mesh });
  const ingress = new MeshGateway(ingressChart, 'ingress', {
    namespace: ingressNs,
    hosts: [host],
    tls: GatewayTls.certManager({ issuer: options.issuer ?? 'letsencrypt' }),
  });

  // ---- The application chart: one per team or app.
  const bookinfo = new Chart(app, 'bookinfo');
  bookinfo.addDependency(platform);
  const ns = new ZeroTrustNamespace(bookinfo, 'ns', { mesh, name: 'bookinfo' });
  const http = [ServicePort.http(9080)];
  const ready = Probe.httpGet('/health', { port: 9080 });

  const details = new MeshedService(bookinfo, 'details', {
    namespace: ns, image: image('details-v1'), ports: http, readinessProbe: Probe.tcp({ port: 9080 }),
  });
  const ratings = new MeshedService(bookinfo, 'ratings', {
    namespace: ns, image: image('ratings-v1'), ports: http, readinessProbe: ready,
  });
  // reviews runs on Open Liberty, which writes to its output directory and /tmp: scratch volumes keep the root
  // filesystem read-only, as Istio's sample does.
  const reviews = new MeshedService(bookinfo, 'reviews', {
    namespace: ns,
    image: image('reviews-v1'),
    version: 'v1',
    ports: http,
    env: { LOG_DIR: '/tmp/logs' },
    volumes: [WorkloadVolume.emptyDir('wlp-output', '/opt/ibm/wlp/output'), WorkloadVolume.emptyDir('tmp', '/tmp')],
    timeout: Duration.seconds(5),
    retries: { attempts: 2, perTryTimeout: Duration.seconds(2), retryOn: [RetryOn.GATEWAY_ERROR, RetryOn.CONNECT_FAILURE] },
  });
  reviews.addVersion('v2', { image: image('reviews-v2') });
  const productpage = new MeshedService(bookinfo, 'productpage', {
    namespace: ns,
    image: image('productpage-v1'),
    ports: http,
    readinessProbe: ready,
    volumes: [WorkloadVolume.emptyDir('tmp', '/tmp')],
  });

  // The access graph, declared once: it becomes AuthorizationPolicies, NetworkPolicies and Sidecar scopes.
  // (Identities are per service account, so "reviews v2/v3 -> ratings" is granted to the reviews identity.)
  productpage.connectsTo(details, { methods: ['GET'] });
  productpage.connectsTo(reviews, { methods: ['GET'] });
  reviews.connectsTo(ratings, { methods: ['GET'] });

  // The way in: HTTPS for the public host, straight to productpage (which then may call details and reviews).
  ingress.route({ path: PathMatch.prefix('/'), to: productpage, timeout: Duration.seconds(15) });

  // reviews v3 as a canary: 10% of everyone, and every iPhone user.
  new CanaryRelease(bookinfo, 'reviews-v3', {
    service: reviews,
    image: image('reviews-v3'),
    version: 'v3',
    stableVersion: 'v1',
    traffic: CanaryTraffic.weighted(10).andMatch(RequestMatch.userAgent('.*iPhone.*')),
  });

  for (const svc of [productpage, reviews]) {
    // In ambient mode productpage has no waypoint (nothing at layer 7 is declared for it): ztunnel reports only its
    // TCP connections, which its dashboard shows; request alerts would need one (waypoint: AlertWaypoint.CREATE).
    const requestMetrics = svc !== productpage || options.dataPlaneMode !== DataPlaneMode.AMBIENT;
    if (requestMetrics) new GoldenSignalAlerts(bookinfo, `${svc.name}-alerts`, { service: svc });
    new ServiceDashboard(bookinfo, `${svc.name}-dashboard`, { service: svc, folder: 'Bookinfo' });
  }

  // ---- Delivery: Argo CD Applications for the charts above, in order (CRDs, control plane, gateway, app).
  const argocd = new Chart(app, 'argocd');
  new ArgoCdDelivery(argocd, 'bookinfo', {
    repoUrl: options.repoUrl ?? 'https://github.com/example/bookinfo-gitops.git',
    targetRevision: 'main',
    path: options.repoPath ?? 'examples/bookinfo/dist',
    charts: [platform, ingressChart, bookinfo],
  });

  // A picture of the mesh for pull-request review (dist/mesh.mmd), and istioctl analyze's checks at synth.
  new MeshDiagram(app, 'diagram');
  MeshAnalyzer.attach(app);
  return app;
}
