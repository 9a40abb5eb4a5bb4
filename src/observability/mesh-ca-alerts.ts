import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { MONITORING_API_VERSION } from './constants';
import { CACERTS_SECRET, ROOT_CA_CERTIFICATE } from '../control-plane/constants';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../mesh/constants';
import { IMesh } from '../mesh/mesh';
import { checkInteger, checkLabels } from '../validation';

/** Properties of MeshCaAlerts. */
export interface MeshCaAlertsProps {
  /** The mesh whose CA (MeshCertificates.certManager()) is watched. */
  readonly mesh: IMesh;
  /**
   * Warn this many days before cert-manager renews the root (plan the intermediate re-issue and the istiod restart).
   * @default 30
   */
  readonly renewalWarningDays?: number;
  /**
   * Page this many days before the root expires (it should have been renewed by then).
   * @default 30
   */
  readonly rootExpiryCriticalDays?: number;
  /**
   * Page this many days before the intermediate istiod signs with expires.
   * @default 7
   */
  readonly intermediateExpiryCriticalDays?: number;
  /**
   * Labels on the PrometheusRule, for your Prometheus' `ruleSelector`.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
}

/**
 * Alerts ahead of the mesh CA's expiry, as a prometheus-operator PrometheusRule in the mesh's root namespace, from
 * cert-manager's `certmanager_certificate_*_timestamp_seconds` (cert-manager v1.21.1) and istiod's
 * `citadel_server_root_cert_expiry_timestamp` (Istio 1.30.3): the root's renewal coming up, the root or the
 * intermediate close to expiry, and istiod still serving an older root than cert-manager holds (restart istiod).
 * The rotation procedure they point to is in docs/security.md.
 */
export class MeshCaAlerts extends Construct {
  /** The PrometheusRule. */
  public readonly rule: ApiObject;

  constructor(scope: Construct, id: string, props: MeshCaAlertsProps) {
    super(scope, id);
    const renewal = props.renewalWarningDays ?? 30;
    const rootExpiry = props.rootExpiryCriticalDays ?? 30;
    const intermediateExpiry = props.intermediateExpiryCriticalDays ?? 7;
    checkInteger(this, 'renewalWarningDays', renewal, 1, 3650);
    checkInteger(this, 'rootExpiryCriticalDays', rootExpiry, 1, 3650);
    checkInteger(this, 'intermediateExpiryCriticalDays', intermediateExpiry, 1, 3650);
    checkLabels(this, 'labels', props.labels);
    const ns = props.mesh.rootNamespace;
    const cert = (name: string) => `{namespace="${ns}", name="${name}"}`;
    const days = (n: number) => `${n} * 86400`;
    const rule = (alert: string, expr: string, severity: string, summary: string, forDuration?: string) => ({
      alert,
      expr,
      ...(forDuration ? { for: forDuration } : {}),
      labels: { severity, namespace: ns },
      annotations: { summary, runbook: 'docs/security.md#root-ca-rotation' },
    });
    this.rule = new ApiObject(this, 'Rule', {
      apiVersion: MONITORING_API_VERSION,
      kind: 'PrometheusRule',
      metadata: { name: 'mesh-ca-expiry', namespace: ns, labels: { ...(props.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY } },
      spec: {
        groups: [{
          name: `${ns}.mesh-ca`,
          rules: [
            rule('MeshRootCaRenewalSoon', `certmanager_certificate_renewal_timestamp_seconds${cert(ROOT_CA_CERTIFICATE)} - time() < ${days(renewal)}`,
              'warning', `The mesh root CA is renewed within ${renewal} days: re-issue the intermediate and restart istiod after it`),
            rule('MeshRootCaExpiring', `certmanager_certificate_expiration_timestamp_seconds${cert(ROOT_CA_CERTIFICATE)} - time() < ${days(rootExpiry)}`,
              'critical', `The mesh root CA expires within ${rootExpiry} days and was not renewed: every mTLS connection fails when it does`),
            rule('MeshIstiodOnOlderRoot',
              `max(citadel_server_root_cert_expiry_timestamp) < on() max(certmanager_certificate_expiration_timestamp_seconds${cert(ROOT_CA_CERTIFICATE)})`,
              'warning', 'istiod still serves an older root than cert-manager holds: restart istiod', '1h'),
            rule('MeshIntermediateCaExpiring', `certmanager_certificate_expiration_timestamp_seconds${cert(CACERTS_SECRET)} - time() < ${days(intermediateExpiry)}`,
              'critical', `The intermediate CA istiod signs with expires within ${intermediateExpiry} days`),
          ],
        }],
      },
    } as any);
  }
}
