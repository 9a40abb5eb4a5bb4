import * as fs from 'fs';
import * as path from 'path';
import { App } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { invalid } from '../errors';
import { MeshGateway } from '../gateway/mesh-gateway';
import { MeshModel } from '../model/mesh-model';
import { MeshedService } from '../service/meshed-service';
import { FlowKind, IMeshService, IMeshWorkload, MeshConnection } from '../service/workload';

/** Properties of `MeshDiagram`. */
export interface MeshDiagramProps {
  /**
   * The file written into the app's output directory at synth.
   * @default 'mesh.mmd'
   */
  readonly fileName?: string;
}

interface NodeInfo { readonly id: string; readonly ns: string; readonly line: string }

const esc = (s: string) => s.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
const idOf = (kind: string, ns: string, name: string) => `${kind}__${ns}__${name}`.replace(/-/g, '_');

function isService(x: IMeshWorkload): x is IMeshService {
  return typeof (x as any).host === 'string' && typeof (x as any).allowFrom === 'function' && Array.isArray((x as any).ports);
}

function routeSummary(svc: MeshedService): string[] {
  const versions = svc.versions.map(v => v.name);
  const lines = [`versions: ${versions.join(', ')}`];
  svc.httpRoutes.forEach((r, i) => {
    const dests = r.destinations ?? [];
    if (!dests.length && !r.matches?.length && svc.httpRoutes.length === 1) return; // the default: all versions
    const name = r.name ?? (r.matches?.length ? `route ${i + 1} (matched)` : `route ${i + 1} (default)`);
    const to = dests.length ? dests.map(d => `${d.version.name} ${d.weight ?? 100}%`).join(' · ') : 'all versions';
    lines.push(`${name}: ${to}`);
  });
  return lines;
}

function edgeLabel(c: MeshConnection): string {
  const parts = [(c.kind === FlowKind.MIRROR ? 'mirror ' : '') + c.ports.map(p => `${p.name} ${p.port}`).sort().join(', ')];
  if (c.methods.length) parts.push(c.methods.join(','));
  if (c.paths.length) parts.push(c.paths.join(' '));
  return parts.join(' · ');
}

/**
 * A picture of the mesh as a Mermaid flowchart, drawn from the same public model the policies come from: services
 * (with their versions and HTTP route weights, so a canary shows), who may call whom (every `connectsTo`/`allowFrom`
 * edge with its ports, methods and paths; callers that are not services, such as gateways, are hexagons), and the
 * destinations outside the mesh each service may reach (dashed). A reviewer sees a change's security posture in
 * the pull request's diff of `mesh.mmd`. The output is sorted, so it only changes when the mesh does.
 *
 * Add the construct anywhere in a cdk8s App to write `<outdir>/mesh.mmd` at synth, or call `MeshDiagram.render`.
 */
export class MeshDiagram extends Construct {
  /** The Mermaid text of every meshed service under `scope` (usually the App) and what they connect to. */
  public static render(scope: IConstruct): string {
    const model = MeshModel.of(scope);
    const nodes = new Map<string, NodeInfo>();
    const edges = new Set<string>();
    const external = new Map<string, string>();
    // ambient: which waypoint (layer-7 proxy) a service's traffic goes through
    const waypointLine = (s: IMeshService) => {
      const wp = model.waypointOf(s);
      return wp ? [`via waypoint ${wp.namespace}/${wp.name}`] : [];
    };
    const addWorkload = (w: IMeshWorkload): string => {
      const ns = w.namespace.name;
      if (MeshedService.isMeshedService(w)) {
        const id = idOf('svc', ns, w.name);
        if (!nodes.has(id)) nodes.set(id, { id, ns, line: `${id}["${[`<b>${esc(w.name)}</b>`, ...[...routeSummary(w), ...waypointLine(w)].map(esc)].join('<br/>')}"]` });
        return id;
      }
      if (isService(w)) {
        const id = idOf('svc', ns, w.name);
        if (!nodes.has(id)) nodes.set(id, { id, ns, line: `${id}["${[`<b>${esc(w.name)}</b>`, ...waypointLine(w).map(esc)].join('<br/>')}"]` });
        return id;
      }
      const id = idOf('wl', ns, w.name);
      if (!nodes.has(id)) nodes.set(id, { id, ns, line: `${id}{{"${esc(w.name)}"}}` });
      return id;
    };

    // the facts come from the app's mesh model (declared when the constructs were), never from scanning the tree
    const services = model.namespaces.flatMap(ns => model.servicesIn(ns));
    for (const w of model.namespaces.flatMap(ns => model.workloadsIn(ns))) {
      const ext = model.externalsOfWorkload(w);
      if (!ext.length) continue;
      const source = addWorkload(w);
      for (const e of ext) {
        const id = `ext__${String(e.host).replace(/\*/g, 'star').replace(/-/g, '_h_').replace(/\./g, '_')}__${e.port}`;
        external.set(id, `${id}[("${esc(`${e.host}:${e.port}`)}")]`);
        const via = model.egressRouteFor(e);
        edges.add(`${source} -.->|"${esc(`${e.protocol}${e.originateTls ? ' (TLS originated)' : ''}${via ? ` via ${via.gateway.namespace.name}/${via.gateway.name}` : ''}`)}"| ${id}`);
      }
    }
    for (const svc of services) {
      const target = addWorkload(svc);
      for (const c of svc.inboundRules) {
        const source = addWorkload(c.source);
        // a gateway's edge shows the public hosts and paths that lead to the service
        const routes = c.source instanceof MeshGateway
          ? c.source.routeTable.filter(r => r.service === svc).map(r => `${r.hosts.join(',')} ${r.path}`)
          : [];
        const label = routes.length ? `${[...new Set(routes)].sort().join(' · ')} → ${edgeLabel(c)}` : edgeLabel(c);
        edges.add(`${source} -->|"${esc(label)}"| ${target}`);
      }
    }

    const out: string[] = ['%% Generated by cdk8s-mesh from the mesh model; do not edit.', 'flowchart LR'];
    const byNs = new Map<string, NodeInfo[]>();
    for (const n of nodes.values()) {
      const list = byNs.get(n.ns);
      if (list) list.push(n);
      else byNs.set(n.ns, [n]);
    }
    for (const ns of [...byNs.keys()].sort()) {
      out.push(`  subgraph ${idOf('ns', ns, '')}["namespace ${esc(ns)}"]`);
      for (const n of byNs.get(ns)!.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) out.push(`    ${n.line}`);
      out.push('  end');
    }
    if (external.size) {
      out.push('  subgraph outside["outside the mesh"]');
      for (const id of [...external.keys()].sort()) out.push(`    ${external.get(id)}`);
      out.push('  end');
    }
    for (const e of [...edges].sort()) out.push(`  ${e}`);
    return out.join('\n') + '\n';
  }

  /** The file name written into the app's output directory. */
  public readonly fileName: string;

  constructor(scope: Construct, id: string, props: MeshDiagramProps = {}) {
    super(scope, id);
    const fileName = props.fileName ?? 'mesh.mmd';
    if (typeof fileName !== 'string' || !/^[A-Za-z0-9][-A-Za-z0-9_.]*$/.test(fileName)) {
      invalid(this, 'fileName', fileName, "must be a plain file name (letters, digits, '-', '_', '.'), no directories");
    }
    this.fileName = fileName;
    // App.synth runs every construct's validations before it writes the charts: write the diagram there
    this.node.addValidation({
      validate: () => {
        const root = this.node.root;
        if (root instanceof App) this.writeTo(root.outdir);
        return [];
      },
    });
  }

  /** Writes the diagram of the whole app to `<directory>/<fileName>` and returns the file's path. */
  public writeTo(directory: string): string {
    fs.mkdirSync(directory, { recursive: true });
    const file = path.join(directory, this.fileName);
    fs.writeFileSync(file, MeshDiagram.render(this.node.root));
    return file;
  }
}
