/**
 * Without the pinned CRDs (no CRDS_DIR copy, no network), the build scripts say in one line what is missing and how
 * to point at a local copy: no stack trace.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CrdSourceError, crdFile } from '../projenrc/crd-source';

const ROOT = path.join(__dirname, '..');

test('a CRDS_DIR without the pinned files: crdFile names the missing file', () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'crds-empty-'));
  const before = process.env.CRDS_DIR;
  process.env.CRDS_DIR = empty;
  try {
    expect(() => crdFile('istio', 'crd-all.gen.yaml')).toThrow(CrdSourceError);
    expect(() => crdFile('istio', 'crd-all.gen.yaml')).toThrow(`CRDS_DIR=${empty}: missing istio/crd-all.gen.yaml`);
  } finally {
    if (before === undefined) delete process.env.CRDS_DIR; else process.env.CRDS_DIR = before;
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

test('npm run example / crds: one line on stderr and exit 1, no stack trace', () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'crds-empty-'));
  const r = spawnSync(process.execPath, [require.resolve('ts-node/dist/bin'), '--swc', '--project', 'tsconfig.dev.json', 'projenrc/bundle-crds.ts'], {
    cwd: ROOT, env: { ...process.env, CRDS_DIR: empty }, encoding: 'utf8',
  });
  fs.rmSync(empty, { recursive: true, force: true });
  expect(r.status).toBe(1);
  expect(r.stderr.trim().split('\n')).toEqual([`cdk8s-mesh: CRDS_DIR=${empty}: missing istio/crd-all.gen.yaml`]);
});
