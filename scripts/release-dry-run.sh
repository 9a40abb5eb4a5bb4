#!/usr/bin/env bash
# Proves the release machinery offline: in a scratch clone of HEAD, after a release tag v1.0.0 and two conventional
# commits (a feat and a fix), `projen bump` computes 1.1.0 and writes the changelog entry with both; `projen unbump`
# restores 0.0.0. The release workflow (.github/workflows/release.yml) runs the same bump on the hosting CI, then
# builds, publishes to npm with provenance and to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scratch=$(mktemp -d /tmp/cdk8s-mesh-release.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
git clone -q "$root" "$scratch/repo"
cd "$scratch/repo"
ln -s "$root/node_modules" node_modules
git() { command git -c user.name=release-dry-run -c user.email=release-dry-run@example.com -c commit.gpgsign=false -c tag.gpgsign=false "$@"; }
git tag v1.0.0
git commit -q --allow-empty -m "feat(gateway): dry-run feature"
git commit -q --allow-empty -m "fix(analysis): dry-run fix"
npx projen bump >/dev/null 2>&1 || { echo "release dry run: projen bump failed"; npx projen bump; exit 1; }
version=$(cat dist/version.txt)
[ "$version" = "1.1.0" ] || { echo "release dry run: expected 1.1.0 after a feat on v1.0.0, got $version"; exit 1; }
grep -q '"version": "1.1.0"' package.json || { echo "release dry run: package.json not bumped"; exit 1; }
grep -q '### Features' dist/changelog.md && grep -q 'dry-run feature' dist/changelog.md \
  && grep -q '### Bug Fixes' dist/changelog.md && grep -q 'dry-run fix' dist/changelog.md \
  || { echo "release dry run: changelog without the feat and the fix:"; cat dist/changelog.md; exit 1; }
npx projen unbump >/dev/null 2>&1
grep -q '"version": "0.0.0"' package.json || { echo "release dry run: unbump did not restore 0.0.0"; exit 1; }
echo "release dry run: v1.0.0 + feat + fix -> $version, changelog written (dist/changelog.md), unbumped to 0.0.0"
