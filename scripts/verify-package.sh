#!/usr/bin/env bash
# Proves the package is publishable as it stands: builds the npm tarball (compiled library, .jsii assembly, API.md,
# README, bundled CRD assets; nothing of tests or examples), installs it into a fresh cdk8s TypeScript app outside
# the repository and synthesizes a meshed service with it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

npx projen compile >/dev/null
npx projen docgen >/dev/null
rm -rf dist/js && mkdir -p dist/js
tarball=$(npm pack --pack-destination dist/js --silent | tail -n 1)
tgz="$root/dist/js/$tarball"
echo "packed $tarball ($(du -h "$tgz" | cut -f1))"

# what is in it, and what must not be
contents=$(tar -tzf "$tgz")
for must in package/lib/src/index.js package/lib/src/index.d.ts package/.jsii package/API.md package/README.md package/assets/crds/istio.json; do
  grep -qx "$must" <<<"$contents" || { echo "missing from the tarball: $must"; exit 1; }
done
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
import { Mesh, IstioControlPlane, MeshedService, MeshNamespace, ServicePort } from 'cdk8s-mesh';

const app = new App({ outdir: 'dist' });
const platform = new Chart(app, 'platform');
const mesh = new Mesh(platform, 'mesh');
new IstioControlPlane(platform, 'istio', { mesh });
const shop = new Chart(app, 'shop');
const ns = MeshNamespace.fromName(shop, 'ns', { name: 'shop', mesh });
new MeshedService(shop, 'web', { namespace: ns, image: 'nginx:1.27', ports: [ServicePort.http(8080)] });
app.synth();
TS
npx ts-node --compiler-options '{"module":"commonjs","esModuleInterop":true,"strict":true}' main.ts
grep -q 'name: istio-proxy' dist/shop.k8s.yaml || { echo "no injected proxy in dist/shop.k8s.yaml"; exit 1; }
grep -q 'kind: CustomResourceDefinition' dist/platform.k8s.yaml || { echo "no CRDs in dist/platform.k8s.yaml"; exit 1; }

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
echo "verify-package: a fresh cdk8s app synthesized a meshed service with $tarball, and its analyzer CLI ran"
