#!/usr/bin/env bash
# Proves the package is publishable as it stands: builds the npm tarball (compiled library, .jsii assembly, the API
# reference docs/api/ and the docs the README links, README, bundled CRD assets; nothing of tests or examples),
# installs it into a fresh cdk8s TypeScript app outside the repository and synthesizes a meshed service with it; then
# generates the Python target's code with jsii-pacmak (offline: building the wheel needs PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

npx projen compile >/dev/null
npx projen docgen >/dev/null
# the committed API reference is the one the assembly gives (it cannot drift from the TSDoc)
if [ -d .git ] && [ -n "$(git status --porcelain -- docs/api)" ]; then
  git status --short -- docs/api | head
  echo "docs/api/ is out of date with the TSDoc: run 'npx projen compile && npx projen docgen' and commit docs/api/"; exit 1
fi
rm -rf dist/js && mkdir -p dist/js
tarball=$(npm pack --pack-destination dist/js --silent | tail -n 1)
tgz="$root/dist/js/$tarball"
echo "packed $tarball ($(du -h "$tgz" | cut -f1))"

# what is in it, and what must not be
contents=$(tar -tzf "$tgz")
for must in package/lib/src/index.js package/lib/src/index.d.ts package/.jsii package/docs/api/README.md package/README.md package/assets/crds/istio.json; do
  grep -qx "$must" <<<"$contents" || { echo "missing from the tarball: $must"; exit 1; }
done
# every file the README links (docs/*.md, docs/api/...) is in the package, so the links work where it is installed
linked=$(grep -oE '\]\((docs/[^)#[:space:]]+)' README.md | sed -E 's/^\]\(//' | sort -u)
[ -n "$linked" ] || { echo "the README links no docs/ page"; exit 1; }
for f in $linked; do
  grep -qx "package/$f" <<<"$contents" || { echo "README links $f, which is not in the tarball"; exit 1; }
done
echo "the README's $(wc -l <<<"$linked") docs/ links resolve inside the package"

if grep -E '^package/(test|examples|projenrc|scripts|src|imports)/' <<<"$contents" | head -5 | grep -q .; then
  echo "the tarball holds sources, tests or examples:"; grep -E '^package/(test|examples|projenrc|scripts|src|imports)/' <<<"$contents" | head; exit 1
fi

app=$(mktemp -d /tmp/cdk8s-mesh-app.XXXXXX)
trap 'rm -rf "$app"' EXIT
cd "$app"
cat > package.json <<'JSON'
{ "name": "meshed-app", "version": "1.0.0", "private": true }
JSON
versions=$(node -e "const p=require('$root/package.json'); const d=p.devDependencies; console.log(['cdk8s@'+d.cdk8s.replace(/^[\^~]/,''), 'constructs@'+d.constructs.replace(/^[\^~]/,''), 'cdk8s-plus-27@'+d['cdk8s-plus-27'], 'typescript@'+d.typescript, 'ts-node@'+d['ts-node']].join(' '))")
npm install --no-audit --no-fund --silent $versions "$tgz" >/dev/null
cat > main.ts <<'TS'
import { App, Chart } from 'cdk8s';
import { Mesh, IstioControlPlane, MeshedService, MeshNamespace, ServiceDashboard, ServicePort } from 'cdk8s-mesh';

const app = new App({ outdir: 'dist' });
const platform = new Chart(app, 'platform');
const mesh = new Mesh(platform, 'mesh');
new IstioControlPlane(platform, 'istio', { mesh });
const shop = new Chart(app, 'shop');
const ns = MeshNamespace.fromName(shop, 'ns', { name: 'shop', mesh });
const web = new MeshedService(shop, 'web', { namespace: ns, image: 'nginx:1.27', ports: [ServicePort.http(8080)] });
// a dashboard loads the bundled Grafana SDK (required when a dashboard is first built, not with the package)
new ServiceDashboard(shop, 'web-dashboard', { service: web });
app.synth();
TS
npx ts-node --compiler-options '{"module":"commonjs","esModuleInterop":true,"strict":true}' main.ts
grep -q 'name: istio-proxy' dist/shop.k8s.yaml || { echo "no injected proxy in dist/shop.k8s.yaml"; exit 1; }
grep -q 'kind: CustomResourceDefinition' dist/platform.k8s.yaml || { echo "no CRDs in dist/platform.k8s.yaml"; exit 1; }
grep -q 'grafana_dashboard' dist/shop.k8s.yaml || { echo "no Grafana dashboard ConfigMap in dist/shop.k8s.yaml"; exit 1; }

# the README's first screen, as a user runs it: its Quickstart as main.ts, `npx ts-node main.ts`, then the analyzer
mkdir -p quickstart && cp package.json quickstart/ && ln -s "$app/node_modules" quickstart/node_modules
grep -E "^echo '\{ \"compilerOptions\".*> tsconfig.json$" "$root/README.md" | (cd quickstart && bash)
[ -s quickstart/tsconfig.json ] || { echo "the README's tsconfig.json line was not found"; exit 1; }
awk '/^## Quickstart/{q=1} q&&/^```ts$/{p=1;next} p&&/^```$/{exit} p' "$root/README.md" > quickstart/main.ts
grep -q "from 'cdk8s-mesh'" quickstart/main.ts || { echo "no Quickstart snippet found in README.md"; exit 1; }
(cd quickstart && npx ts-node main.ts && npx cdk8s-mesh analyze dist/ >/dev/null) || { echo "the README's Quickstart failed with the package"; exit 1; }
for f in 0000-mesh-system.k8s.yaml 0001-shop.k8s.yaml; do
  [ -s "quickstart/dist/$f" ] || { echo "the README's Quickstart did not write dist/$f"; ls quickstart/dist; exit 1; }
done
echo "the README's Quickstart synthesized $(ls quickstart/dist | tr '\n' ' ')with the package, and the analyzer passed it"

# the offline analyzer, from the installed package's bin, over the app's output and over hand-written YAML
npx cdk8s-mesh analyze dist/
mkdir -p handwritten
cat > handwritten/broken.yaml <<'YAML'
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
    - route: [{ destination: { host: reviews, subset: v9 } }]
YAML
if out=$(npx cdk8s-mesh analyze handwritten/ 2>&1); then
  echo "cdk8s-mesh analyze should fail on handwritten/broken.yaml"; exit 1
fi
grep -q 'Error \[IST0101\] (VirtualService shop/reviews)' <<<"$out" || { echo "unexpected analyzer output: $out"; exit 1; }

# jsii targets: the Python package's code from the assembly (jsii-pacmak --code-only needs no network; building the
# wheel needs setuptools and the jsii runtime from PyPI, so the release workflow builds it on the hosting CI)
cd "$root"
if command -v python3 >/dev/null; then
  rm -rf dist/pacmak-code
  npx jsii-pacmak --target python --code-only -o dist/pacmak-code >/dev/null 2>&1 || { echo "jsii-pacmak --target python failed"; exit 1; }
  py=dist/pacmak-code/python
  grep -q '"name": "cdk8s-mesh"' "$py/setup.py" || { echo "no setup.py for the cdk8s-mesh distribution"; exit 1; }
  grep -q '^class Mesh(' "$py/src/cdk8s_mesh/__init__.py" || { echo "the Python module has no class Mesh"; exit 1; }
  python3 -m compileall -q "$py/src" >/dev/null || { echo "the generated Python does not compile"; exit 1; }
  echo "jsii-pacmak: Python package cdk8s_mesh generated ($(find "$py/src" -name '*.py' | wc -l) modules) and byte-compiled"
else
  echo "jsii-pacmak: python3 not found; the Python target was not checked"
fi
echo "verify-package: a fresh cdk8s app synthesized a meshed service with $tarball, and its analyzer CLI ran"
