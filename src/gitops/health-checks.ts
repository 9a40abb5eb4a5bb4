import { ARGOCD_GROUP, ARGOCD_HEALTH_KEY_PREFIX } from './argocd-constants';

/**
 * Lua health check for Istio's configuration kinds. Argo CD has none built in, so without it every Istio object is
 * "Healthy" the moment it exists, and a failing VirtualService never shows. Istio reports on config through
 * `status` only when istiod's status writing / analysis is on (`PILOT_ENABLE_STATUS`, `istiod.enableAnalysis`); when
 * there is no status the check says Healthy, so a sync never hangs on an install without it.
 * - status.validationMessages with level ERROR (istiod's analyzers, e.g. IST0101 ReferencedResourceNotFound) -> Degraded
 * - status.observedGeneration behind metadata.generation -> Progressing (istiod has not processed the change yet)
 * - otherwise Healthy, with the number of analyzer warnings in the message.
 */
const ISTIO_CONFIG_HEALTH = `-- cdk8s-mesh: health of Istio config from the status istiod writes (absent status = Healthy)
local hs = { status = "Healthy", message = "" }
local st = obj.status
if st == nil then return hs end
local warnings = 0
for _, m in ipairs(st.validationMessages or {}) do
  local code = (m.type and m.type.code) or "IST"
  if m.level == "ERROR" then
    hs.status = "Degraded"
    hs.message = code .. " " .. ((m.type and m.type.name) or "analysis error")
    if m.documentationUrl ~= nil then hs.message = hs.message .. " (" .. m.documentationUrl .. ")" end
    return hs
  elseif m.level == "WARNING" then
    warnings = warnings + 1
  end
end
if st.observedGeneration ~= nil and obj.metadata.generation ~= nil
   and tostring(st.observedGeneration) ~= tostring(obj.metadata.generation) then
  hs.status = "Progressing"
  hs.message = "istiod has not processed generation " .. tostring(obj.metadata.generation) .. " yet"
  return hs
end
if warnings > 0 then hs.message = warnings .. " analyzer warning(s)" end
return hs
`;

/**
 * Lua health check for Argo CD Applications, for app-of-apps. Argo CD 1.8 removed the built-in one, so a root
 * Application does not wait for a child to be healthy before the next sync wave; with this check it does.
 * The child's own health (status.health.status) becomes the health of the Application object.
 */
const APPLICATION_HEALTH = `-- cdk8s-mesh: an Application is as healthy as the resources it syncs
local hs = { status = "Progressing", message = "waiting for the first sync" }
if obj.status ~= nil and obj.status.health ~= nil and obj.status.health.status ~= nil then
  hs.status = obj.status.health.status
  hs.message = obj.status.health.message or ""
end
return hs
`;

/** Istio kinds this library emits, by API group. */
const ISTIO_KINDS: Array<[string, string[]]> = [
  ['networking.istio.io', ['DestinationRule', 'Gateway', 'ServiceEntry', 'Sidecar', 'VirtualService']],
  ['security.istio.io', ['AuthorizationPolicy', 'PeerAuthentication', 'RequestAuthentication']],
  ['telemetry.istio.io', ['Telemetry']],
];

/**
 * Options for `ArgoCdHealthChecks.forMesh`.
 */
export interface ArgoCdHealthCheckOptions {
  /**
   * Also include the health check for `argoproj.io/Application`, which an app-of-apps root needs so that its sync
   * waves wait for each child Application to be healthy.
   *
   * @default true
   */
  readonly applications?: boolean;
}

/**
 * Resource health customizations for Argo CD (`argocd-cm` keys `resource.customizations.health.<group>_<kind>`).
 *
 * Argo CD assesses health with built-in checks for core kinds, cert-manager (Certificate, Issuer, ClusterIssuer) and
 * Argo Rollouts, but has none for Istio's kinds. These scripts are small and documented in docs/gitops.md; merge them
 * into the `argocd-cm` ConfigMap of your Argo CD installation (Helm value `configs.cm`, or a kustomize patch).
 * They are returned rather than emitted, because argocd-cm belongs to the Argo CD installation.
 */
export class ArgoCdHealthChecks {
  /**
   * The health checks for the kinds this library emits: key -> Lua script, sorted by key.
   *
   * Keys: `resource.customizations.health.networking.istio.io_VirtualService` (and DestinationRule, Gateway,
   * ServiceEntry, Sidecar), `..._security.istio.io_{AuthorizationPolicy,PeerAuthentication,RequestAuthentication}`,
   * `..._telemetry.istio.io_Telemetry`, and `..._argoproj.io_Application` (unless `applications: false`).
   */
  public static forMesh(options: ArgoCdHealthCheckOptions = {}): { [key: string]: string } {
    const entries: Array<[string, string]> = [];
    for (const [group, kinds] of ISTIO_KINDS) {
      for (const kind of kinds) entries.push([ArgoCdHealthChecks.keyOf(group, kind), ISTIO_CONFIG_HEALTH]);
    }
    if (options.applications ?? true) entries.push([ArgoCdHealthChecks.keyOf(ARGOCD_GROUP, 'Application'), APPLICATION_HEALTH]);
    entries.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
    return Object.fromEntries(entries);
  }

  /**
   * The argocd-cm key of a health check.
   *
   * @param group the API group, e.g. `networking.istio.io`
   * @param kind the kind
   */
  public static keyOf(group: string, kind: string): string {
    return `${ARGOCD_HEALTH_KEY_PREFIX}${group}_${kind}`;
  }

  private constructor() {}
}
