import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { Mesh, MeshCaAlerts } from '../src';
import { one, synthValid } from './util';

describe('MeshCaAlerts (issue 16: alert ahead of root expiry)', () => {
  test('four rules over cert-manager and istiod metrics, in the root namespace, schema-valid', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', { rootNamespace: 'mesh-system' });
    new MeshCaAlerts(chart, 'ca-alerts', { mesh, labels: { release: 'kube-prometheus-stack' } });
    const rule = one(synthValid(chart), 'PrometheusRule');
    expect(rule.metadata.namespace).toBe('mesh-system');
    const rules = rule.spec.groups[0].rules;
    expect(rules.map((r: any) => `${r.alert} ${r.labels.severity}`)).toEqual([
      'MeshRootCaRenewalSoon warning', 'MeshRootCaExpiring critical', 'MeshIstiodOnOlderRoot warning', 'MeshIntermediateCaExpiring critical',
    ]);
    expect(rules[1].expr).toBe('certmanager_certificate_expiration_timestamp_seconds{namespace="mesh-system", name="istio-root-ca"} - time() < 30 * 86400');
    expect(rules[3].expr).toContain('name="cacerts"');
    // promtool (Debian's prometheus) checks the rules when it is installed (.ci/run installs it)
    let promtool = '';
    try {
      promtool = execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim();
    } catch { /* not installed */ }
    if (promtool) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ca-alerts-'));
      const file = path.join(dir, 'rules.yaml');
      fs.writeFileSync(file, YAML.stringify({ groups: rule.spec.groups }));
      expect(execFileSync(promtool, ['check', 'rules', file], { encoding: 'utf8' })).toContain('SUCCESS');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad input names the field', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh');
    expect(() => new MeshCaAlerts(chart, 'a', { mesh, renewalWarningDays: 0 })).toThrow(/test\/a: renewalWarningDays 0 is invalid/);
  });
});
