import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import {
  atWaypoint, edgeNeedsLayer7, gatewayTargetRefs, renderAllowKubeletProbes, renderWaypointAuthorization,
  renderWaypointGateway, renderWaypointNetworkPolicy, serviceTargetRefs, waypointPodLabels,
} from './ambient-renderers';
import { NamespaceView } from './policy-renderers';
import { USE_WAYPOINT_LABEL, WAYPOINT_FOR_LABEL, WAYPOINT_FOR_SERVICE, WAYPOINT_NAME } from '../ambient/constants';
import { IMesh } from '../mesh/mesh';
import { MeshFact, MeshModel, WaypointInfo } from '../model/mesh-model';
import { IMeshService } from '../service/workload';

/** What the ambient side of a ZeroTrustNamespace reads and calls. @internal */
export interface AmbientPolicyHost {
  /** The ZeroTrustNamespace (named in errors and claims). */
  readonly scope: Construct;
  readonly name: string;
  readonly mesh: IMesh;
  readonly model: MeshModel;
  /** Whether policies are enforced (NetworkPolicies are emitted). */
  readonly enforcing: boolean;
  /** The Namespace object (labelled `istio.io/use-waypoint` when the whole namespace needs a waypoint). */
  readonly namespace: ApiObject;
  view(): NamespaceView;
  /** Creates an object of the namespace once, by kind and name, its spec rendered lazily. */
  object(kind: string, apiVersion: string, name: string, produce: () => any, labels?: { [key: string]: string }): ApiObject;
}

/**
 * The ambient side of a ZeroTrustNamespace: declares the namespace ambient (the control plane installs ztunnel),
 * admits kubelet probes, and places waypoints exactly where layer 7 is needed. It subscribes to the model: an edge
 * with HTTP methods or paths, a token requirement, or a service's routes (declared by the service) are `layer7`
 * facts; the first one for a namespace's service creates the namespace's waypoint (a Gateway of class
 * `istio-waypoint`), and declares that the service uses it: the service labels its Service `istio.io/use-waypoint`,
 * and the service's layer-7 authorization is attached to the waypoint (`targetRefs`). A namespace-wide feature
 * (a namespace JWT rule) labels the Namespace instead. Namespaces with layer-4 policy only get no waypoint.
 * @internal
 */
export class AmbientPolicy {
  private waypoint?: WaypointInfo;

  constructor(private readonly host: AmbientPolicyHost) {
    const mesh = host.mesh;
    host.model.declareAmbientNamespace({ name: host.name, rootNamespace: mesh.rootNamespace, revision: mesh.revision });
    if (host.enforcing) host.object('NetworkPolicy', 'networking.k8s.io/v1', 'allow-kubelet-probes', () => renderAllowKubeletProbes());
    host.model.subscribe(f => this.onFact(f));
  }

  /** The layer-7 spec of a service's policy, attached to its waypoint. */
  public forWaypoint(spec: any, service?: IMeshService): any {
    if (service) return atWaypoint(spec, serviceTargetRefs(service, this.host.model.routeBackendsOf(service)));
    return atWaypoint(spec, gatewayTargetRefs(this.ensureWaypoint()));
  }

  private onFact(f: MeshFact) {
    const host = this.host;
    switch (f.type) {
      case 'edge':
        if (f.edge.target.namespace.name === host.name && edgeNeedsLayer7(f.edge)) {
          host.model.declareLayer7(host.name, f.edge.target, 'HTTP authorization');
        }
        break;
      case 'layer7':
        if (f.namespace === host.name) host.model.declareWaypoint(this.ensureWaypoint(), f.service);
        break;
      case 'waypoint':
        if (f.waypoint.namespace !== host.name) break;
        if (f.service) {
          const s = f.service;
          host.object('AuthorizationPolicy', 'security.istio.io/v1', `${s.name}-waypoint`, () => renderWaypointAuthorization(host.view(), s));
        } else {
          host.namespace.metadata.addLabel(USE_WAYPOINT_LABEL, f.waypoint.name);
        }
        break;
      default:
        break;
    }
  }

  /** The namespace's waypoint, created on first need. */
  private ensureWaypoint(): WaypointInfo {
    if (this.waypoint) return this.waypoint;
    const host = this.host;
    // istiod deploys the waypoint as a workload of the namespace (Deployment, Service and ServiceAccount 'waypoint')
    host.model.claim(host.scope, 'workload', `${host.name}/${WAYPOINT_NAME}`, 'waypoint', WAYPOINT_NAME,
      other => `needs the name '${WAYPOINT_NAME}' in namespace '${host.name}' (istiod deploys the waypoint under it), but ${other} uses it: rename that workload`);
    const wp: WaypointInfo = {
      namespace: host.name,
      name: WAYPOINT_NAME,
      principal: host.mesh.principalFor(host.name, WAYPOINT_NAME),
      podLabels: waypointPodLabels(WAYPOINT_NAME),
      rootNamespace: host.mesh.rootNamespace,
      revision: host.mesh.revision,
    };
    this.waypoint = wp;
    const revision: { [key: string]: string } = host.mesh.revision ? { 'istio.io/rev': host.mesh.revision } : {};
    host.object('Gateway', 'gateway.networking.k8s.io/v1', wp.name, () => renderWaypointGateway(),
      { [WAYPOINT_FOR_LABEL]: WAYPOINT_FOR_SERVICE, ...revision });
    if (host.enforcing) host.object('NetworkPolicy', 'networking.k8s.io/v1', wp.name, () => renderWaypointNetworkPolicy(host.view(), wp));
    return wp;
  }
}
