import { cdk8s, javascript } from 'projen';
import { UpdateSnapshot } from 'projen/lib/javascript';
import { groupedTestFiles } from './projenrc/test-groups';

/**
 * cdk8s-mesh: typed constructs that synthesize a complete Istio service mesh.
 *
 * Everything in package.json, tsconfig*.json, .projen/ and .gitignore is generated from this file:
 * edit here and run `npx projen`.
 */
const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-mesh',
  description: 'Typed cdk8s constructs for an Istio service mesh: control plane, synth-time sidecar injection, zero-trust policy, gateways, canaries and GitOps.',
  author: 'cdk8s-mesh maintainers',
  authorAddress: 'maintainers@cdk8s-mesh.dev',
  repositoryUrl: 'https://github.com/cdk8s-mesh/cdk8s-mesh.git',
  defaultReleaseBranch: 'main',
  keywords: ['cdk8s', 'istio', 'service-mesh', 'kubernetes', 'zero-trust', 'cert-manager', 'argocd'],
  license: 'Apache-2.0',
  projenrcTs: true,
  tsconfigDevFile: 'tsconfig.dev.json',
  packageManager: javascript.NodePackageManager.NPM,
  minNodeVersion: '20.0.0',

  // The cdk8s-construct template defaults to cdk8s v1; this library is cdk8s v2.
  cdk8sVersion: '2.70.0',
  constructsVersion: '10.4.0',
  jsiiVersion: '~5.9.0',
  typescriptVersion: '~5.9.0',
  peerDeps: ['cdk8s-plus-27@^2.9.5'],
  // Runtime dependencies that are not jsii modules are bundled into the package.
  bundledDeps: ['yaml@^2.6.0', '@grafana/grafana-foundation-sdk@0.0.21', 're2js@2.10.0'],
  // `cdk8s-mesh analyze <files or dirs>`: the offline mesh analyzer.
  bin: { 'cdk8s-mesh': 'lib/src/analysis/cli.js' },
  devDeps: [
    'cdk8s-plus-27@^2.9.5',
    // the newest cdk8s-plus on the registry: injection and the access graph are tested with 27 and with it
    'cdk8s-plus-34@2.0.54',
    // `npm run example` and the build scripts transpile with swc through ts-node (type checking is `typecheck`'s job)
    '@swc/core@1.16.22',
    '@swc/jest@0.2.39',
    // the test schema cache parses the reference CRD files with it: 7x faster than yaml, and it reads the Flagger CRD
    // (single-quoted descriptions continued at the key's indentation, as Go's YAML accepts) that yaml 2.9 reports as errors
    'js-yaml@4.3.2',
    '@types/js-yaml@4.0.9',
    'cdk8s-cli@^2.200.0',
    'ajv@^8.17.1',
    'fast-check@^4.0.0',
  ],

  // Releases as construct libraries do them: versions and CHANGELOG from conventional commits, the build and release
  // workflows for GitHub Actions (committed under .github/workflows; they run on the hosting CI, .ci/run is the
  // check here), npm with provenance and PyPI through jsii-pacmak.
  release: true,
  releaseToNpm: true,
  npmProvenance: true,
  publishToPypi: { distName: 'cdk8s-mesh', module: 'cdk8s_mesh' },
  githubOptions: { mergify: false, pullRequestLint: true },
  // the release tooling (commit-and-tag-version 13) needs Node 22; the library itself supports Node 20 and later
  workflowNodeVersion: '22.x',
  depsUpgrade: false,
  pullRequestTemplate: false,
  // The API reference is docs/api/ (an index, one page per concern, the CRD bindings apart): projenrc/api-docs.ts.
  docgenFilePath: 'docs/api/README.md',

  // Generated CRD bindings live in a top-level imports/, compiled together with src/.
  // jsii: rootDir '.' so lib/ mirrors src/ and imports/ (main becomes lib/src/index.js).
  entrypoint: 'lib/src/index.js',
  tsconfig: {
    compilerOptions: { rootDir: '.' },
    include: ['src/**/*.ts', 'imports/**/*.ts'],
  },
  excludeTypescript: ['test/**', 'examples/**', 'projenrc/**', '.projenrc.ts', 'scripts/**'],

  eslintOptions: {
    dirs: ['src'],
    projectService: false,
    tsconfigPath: './tsconfig.dev.json',
    devdirs: ['test', 'examples', 'projenrc', '.projenrc.ts'],
    ignorePatterns: ['imports/', '*.js', '*.d.ts', 'node_modules/', 'lib/', 'dist/', 'coverage/'],
    // unchanged files are not linted again (a fresh clone, as in CI, lints everything); a file whose import target was
    // renamed or deleted is re-checked (import/no-unresolved) when the file itself changes or the cache is removed
    // no --fix: `npm test` runs eslint beside the type check, which must not read a file eslint is rewriting
    // (fix locally with `npx eslint --ext .ts --fix <files>`)
    commandOptions: { fix: false, extraArgs: ['--cache', '--cache-strategy', 'content', '--cache-location', 'node_modules/.cache/cdk8s-mesh/eslint/'] },
  },

  jestOptions: {
    // Snapshots are reviewed by a person; the test run never rewrites them.
    updateSnapshot: UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // the members of test/groups/*.test.ts run in their group only (see groupedTestFiles)
      testPathIgnorePatterns: ['/node_modules/', '/lib/', '/examples/bookinfo/dist/', ...groupedTestFiles().map(f => `<rootDir>/${f.replace(/\./g, '\\.')}$`)],
      coveragePathIgnorePatterns: ['/node_modules/', '/imports/', '/test/'],
      // Coverage on request (`npm run test:coverage`): collecting it costs about 5 s per test file (V8 coverage
      // converted through source maps), more than half of the suite's time.
      collectCoverage: false,
      maxWorkers: 2,
      // the schema validators the suite needs, compiled once before the workers start
      globalSetup: '<rootDir>/test/util/global-setup.ts',
    },
  },
  // Type checking is done by the compiler (jsii); tests transpile only (isolatedModules), which keeps the suite fast.
  tsconfigDev: { compilerOptions: { isolatedModules: true } },

  gitignore: ['/assets/', '/.crds-cache/', '/examples/**/dist/', '/bench/results*.json', '/bench/profiles/', '/bench/scratch-*.ts', '*.tgz'],
  npmignoreEnabled: true,
});

// Lint without a type program: building one for eslint cost as much as the type check itself (`npm run typecheck`
// checks every file). The two typed rules projen enables guard promises, and the code has none (cdk8s synthesizes
// synchronously): async code is refused instead, until someone needs it and turns typed linting back on.
project.eslint?.addRules({
  '@typescript-eslint/no-floating-promises': 'off',
  '@typescript-eslint/return-await': 'off',
  'no-restricted-syntax': ['error', {
    selector: ':function[async=true], AwaitExpression',
    message: 'cdk8s-mesh is synchronous (cdk8s synthesizes synchronously): async code needs typed linting (no-floating-promises) turned back on in .projenrc.ts',
  }],
});
project.tryFindObjectFile('.eslintrc.json')?.addDeletionOverride('parserOptions.project');

// Tests transpile with swc, as `npm run example` does (type checking is `npm run typecheck`'s job): with a cold
// transform cache (CI, a fresh clone) ts-jest's transpiler cost about 25 s of the suite's wall time on 2 cores.
// Options match tsconfig.json's output: ES2022 classes (define semantics for fields), CommonJS modules.
project.jest!.config.transform = {
  '^.+\\.[t]sx?$': ['@swc/jest', {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022', transform: { useDefineForClassFields: true } },
    module: { type: 'commonjs' },
    // source maps kept beside the code (jest maps stack traces and coverage with them): V8 compiles less text
    sourceMaps: true,
  }],
};
project.deps.removeDependency('ts-jest');

// jsii must see imports/ as part of the package: compile from the repository root.
project.package.addField('types', 'lib/src/index.d.ts');
// unrs-resolver 1.13.0 (via jest 30 and eslint-import-resolver-typescript) lists platform bindings the registry
// does not serve, which breaks `npm ci`; 1.12.2 has them all.
project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });

// Ship the CRDs bundled at build time (assets/), never the sources or tests.
project.npmignore?.addPatterns('/test/', '/examples/', '/projenrc/', '/scripts/', '/.ci/', '/.crds-cache/', '/bench-results/');
project.npmignore?.include('/assets/', '/lib/', '/docs/', '/README.md', '/.jsii');
// docs/ ships so the README's links (docs/*.md, docs/api/) work for a reader of the installed package too.
project.addFields({ files: ['lib/', 'assets/', '.jsii', 'docs/', 'README.md', 'LICENSE'] });
// docs/api/ from the assembly: an index by construct, one page per concern, the CRD bindings apart. Committed (so the
// README links work on the repository host); verify-package regenerates it and fails when it differs.
project.tasks.tryFind('docgen')?.reset('ts-node --swc --project tsconfig.dev.json projenrc/api-docs.ts');

// ---------------------------------------------------------------------------------------------------------
// Upstream CRDs: one pinned source for imports/, the bundled control-plane CRDs and the test schemas.
// CRDS_DIR=<dir> uses a local copy laid out one folder per project; otherwise the pinned release files are
// downloaded once into .crds-cache/.
const crds = project.addTask('crds', {
  description: 'Bundle the pinned upstream CRDs into assets/ (read at build time, shipped in the package)',
  exec: 'ts-node --swc --project tsconfig.dev.json projenrc/bundle-crds.ts',
});
project.addTask('import', {
  description: 'Regenerate imports/ (typed CRD bindings) with cdk8s import from the pinned upstream CRDs',
  exec: 'ts-node --project tsconfig.dev.json projenrc/import-crds.ts',
});
project.preCompileTask.spawn(crds);
project.addTask('test:timings', {
  description: 'Run the tests (cold cache, no coverage) and print the wall time and the slowest files and tests',
  exec: 'ts-node --swc --project tsconfig.dev.json scripts/test-timings.ts',
  receiveArgs: true,
});
// `npm test` runs each property with half its CI runs (test/properties/properties.ts, FAST_LOOP_SHARE): this runs
// the property groups with all of them; .ci/run runs it after `npm test`
const testProperties = project.addTask('test:properties', {
  description: 'Run the property tests with their full CI number of runs (npm test runs half of them)',
});
// every CI run unless the caller scales them (`PROPERTY_RUNS=2 npm run test:properties`); the arguments reach jest as
// given (`npm run test:properties -- -t 'flow analysis'`)
testProperties.execArgs(['bash', '-c', 'PROPERTY_RUNS="${PROPERTY_RUNS:-1}" exec jest --ci test/groups/properties- "$@"', 'test:properties'], { receiveArgs: true });
// the build (the GitHub build and release workflows run it) checks every CI case of the properties too: after the
// compile (projen's build task is locked; its `test` step is `npm test`, the fast loop)
project.postCompileTask.spawn(testProperties);
project.addTask('test:coverage', {
  description: 'Run the tests with coverage (coverage/)',
  exec: 'jest --passWithNoTests --ci --coverage',
});
// Istio's annotation and label catalogue (istio/api at the pinned version) for the analyzer: assets/, like the CRDs.
const catalogue = project.addTask('istio-catalogue', {
  description: 'Generate assets/istio-catalogue.json (Istio\'s annotation and label catalogue, read by the mesh analyzer)',
  exec: 'ts-node --swc --project tsconfig.dev.json projenrc/istio-catalogue.ts',
});
project.preCompileTask.spawn(catalogue);
// `npm test` makes both assets in one process
const assets = project.addTask('assets', {
  description: 'Generate the Istio catalogue and bundle the CRDs into assets/ (one process)',
  exec: 'ts-node --swc --project tsconfig.dev.json projenrc/assets.ts',
});
// Tests transpile only (fast); this type-checks src, test, examples and scripts in one pass.
project.addTask('typecheck', {
  description: 'Type-check everything (src, tests, examples, bench, projenrc) without emitting',
  // incremental: a second run re-checks only what changed (the build info lives in node_modules/.cache)
  exec: 'tsc --noEmit -p tsconfig.dev.json --incremental --tsBuildInfoFile node_modules/.cache/cdk8s-mesh/typecheck.tsbuildinfo',
});
const staticChecks = project.addTask('static-checks', {
  description: 'eslint and the type check, side by side (scripts/static-checks.sh)',
  exec: 'bash scripts/static-checks.sh',
});
// `npm test`: the assets, the test suite (arguments go to jest), then eslint and the type check together
project.testTask.reset();
project.testTask.spawn(assets);
// execArgs: the arguments reach jest as given (`npm test -- -t 'two words'`), not re-split by a shell
project.testTask.execArgs(['bash', 'scripts/test-suite.sh'], { receiveArgs: true });
project.testTask.spawn(staticChecks);

project.addTask('example', {
  description: 'Synthesize the flagship example (Bookinfo) into examples/bookinfo/dist/',
  // swc transpiles (no type check: `npm run typecheck` does that), and the CRD bundle is rebuilt only when stale
  exec: 'ts-node --swc --project tsconfig.dev.json examples/bookinfo/main.ts',
}).prependSpawn(crds);
project.addTask('example:ambient', {
  description: 'Synthesize Bookinfo in ambient mode (ztunnel, waypoints) into examples/bookinfo-ambient/dist/',
  exec: 'ts-node --swc --project tsconfig.dev.json examples/bookinfo-ambient/main.ts',
}).prependSpawn(crds);

project.addTask('bench', {
  description: 'Synthesis benchmark: generated meshes of 250 to 2,000 services against the raw-ApiObject floor',
  exec: 'ts-node --project tsconfig.dev.json bench/run.ts',
}).prependSpawn(crds);
project.addTask('release-dry-run', {
  description: 'Offline proof of the release machinery: bump and changelog from conventional commits in a scratch clone',
  exec: 'bash scripts/release-dry-run.sh',
});
project.addTask('verify-package', {
  description: 'Pack the npm tarball and synthesize a meshed service with it from a fresh cdk8s app outside the repo',
  exec: 'bash scripts/verify-package.sh',
});

project.tsconfigDev.addInclude('imports/**/*.ts');
project.tsconfigDev.addInclude('bench/**/*.ts');
project.tsconfigDev.addInclude('examples/**/*.ts');
project.tsconfigDev.addInclude('projenrc/**/*.ts');
project.tsconfigDev.addInclude('scripts/**/*.ts');
project.tsconfigDev.addInclude('.projenrc.ts');

project.synth();
