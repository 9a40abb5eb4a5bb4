#!/usr/bin/env node
/**
 * `cdk8s-mesh analyze <files or dirs> [-o json]`: the mesh analyzer over any YAML, offline.
 * Exit code: 1 when there is an error-level finding or an unreadable document, 2 on usage errors, 0 otherwise.
 * Files that hold no Kubernetes object at all (e.g. a package.json beside the manifests) are skipped with a note.
 * @internal
 */
import { analyzeDocuments } from './analyze';
import { defaultResources, isDefaultResource } from './defaults';
import { Finding, FindingLevel, formatFinding } from './finding';
import { analyzeFlowDocuments, formatFlowMatrix } from './flows';
import { listFiles, loadFiles } from './load';

const USAGE = `Usage: cdk8s-mesh analyze <file or directory>... [options]

Analyzes Kubernetes and Istio objects (.yaml, .yml, .json; directories recursively) for mesh misconfigurations,
with istioctl analyze's message codes.

Options:
  -o, --output <text|json>      output format (default text)
  -n, --namespace <name>        namespace of objects that have none (default "default")
      --root-namespace <name>   Istio's root namespace (default "istio-system")
      --suppress <code>         drop a code everywhere (repeatable)
      --flows                   flow analysis too: print the flow matrix (one line per source -> service:port,
                                with its verdict and reason), then the findings (MESH1xx included)
      --no-default-resources    do not add the default ingress gateway (a Pod and Service labelled
                                istio=ingressgateway in the root namespace) that istioctl analyze adds to files
  -h, --help                    show this help
`;

/** Where the CLI writes. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Runs the CLI with its arguments (without `node` and the script) and returns the exit code. */
export function runCli(args: readonly string[], io: CliIo): number {
  try {
    return run(args, io);
  } catch (e: any) {
    io.stderr(`cdk8s-mesh: internal error: ${e?.stack ?? e}\n`);
    return 1;
  }
}

function run(args: readonly string[], io: CliIo): number {
  const usage = (msg?: string) => {
    if (msg) io.stderr(`cdk8s-mesh: ${msg}\n`);
    io.stderr(USAGE);
    return 2;
  };
  if (args.length === 0) return usage('missing command');
  if (args[0] === '-h' || args[0] === '--help' || args[0] === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  if (args[0] !== 'analyze') return usage(`unknown command "${args[0]}"`);
  const paths: string[] = [];
  let output = 'text';
  let namespace: string | undefined;
  let rootNamespace: string | undefined;
  const suppressed = new Set<string>();
  let flows = false;
  let defaults = true;
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith('-')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    try {
      if (a === '-h' || a === '--help') {
        io.stdout(USAGE);
        return 0;
      } else if (a === '-o' || a === '--output') {output = value();} else if (a.startsWith('--output=')) {output = a.slice('--output='.length);} else if (a === '-n' || a === '--namespace') {namespace = value();} else if (a === '--root-namespace') {rootNamespace = value();} else if (a === '--suppress') {suppressed.add(value());} else if (a === '--no-default-resources') {defaults = false;} else if (a === '--flows') {flows = true;} else if (a.startsWith('-') && a !== '-') {return usage(`unknown option ${a}`);} else {paths.push(a);}
    } catch (e) {
      if (e instanceof UsageError) return usage(e.message);
      throw e;
    }
  }
  if (output !== 'text' && output !== 'json') return usage(`unknown output format "${output}" (text or json)`);
  if (paths.length === 0) return usage('no files or directories given');

  let files: string[];
  try {
    files = listFiles(paths);
  } catch (e: any) {
    return usage(`cannot read ${e?.path ?? 'input'}: ${e?.code === 'ENOENT' ? 'no such file or directory' : e?.message}`);
  }
  const { documents, problems, skipped } = loadFiles(files);
  for (const s of skipped) io.stderr(`Note: ${s.file}: ${s.message}; skipped\n`);
  for (const p of problems) {
    io.stderr(`Error: ${p.file}${p.documentIndex !== undefined ? `, document ${p.documentIndex}` : ''}: ${p.message}; skipped\n`);
  }
  // Like istioctl analyze on files, add the default ingress gateway unless the input has its own.
  const istioNs = rootNamespace ?? 'istio-system';
  const own = documents.some(d =>
    isDefaultResource({ kind: d.object.kind, namespace: d.object.metadata?.namespace, name: d.object.metadata?.name }, istioNs));
  const added = defaults && !own ? defaultResources(istioNs) : [];
  const findings = analyzeDocuments([...documents, ...added], { defaultNamespace: namespace, rootNamespace, ...(flows ? { flows: {} } : {}) })
    .filter(f => !suppressed.has(f.code) && !(added.length && isDefaultResource(f.object, istioNs)));
  // the flow matrix is computed on the input as given (without the default gateway)
  const matrix = flows ? analyzeFlowDocuments(documents, { defaultNamespace: namespace, rootNamespace }) : undefined;
  if (output === 'json') {
    io.stdout(JSON.stringify(matrix ? { flows: matrix.flows, findings } : findings, undefined, 2) + '\n');
    return problems.length > 0 || findings.some((f: Finding) => f.level === FindingLevel.ERROR) ? 1 : 0;
  }
  if (matrix) io.stdout(`${formatFlowMatrix(matrix)}\n`);
  if (findings.length === 0) {
    io.stdout(problems.length ? 'No validation issues found in the readable documents.\n' : `No validation issues found when analyzing ${documents.length} object(s).\n`);
  } else {
    io.stdout(findings.map(f => formatFinding(f) + '\n').join(''));
  }
  const failed = problems.length > 0 || findings.some((f: Finding) => f.level === FindingLevel.ERROR);
  return failed ? 1 : 0;
}

class UsageError extends Error {}

/* istanbul ignore next */
if (require.main === module) {
  process.exitCode = runCli(process.argv.slice(2), {
    stdout: t => process.stdout.write(t),
    stderr: t => process.stderr.write(t),
  });
}
