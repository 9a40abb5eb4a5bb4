import { Construct } from 'constructs';
import { DEFAULT_SCRAPER } from './constants';
import { MeshModel } from '../model/mesh-model';
import type { MetricsScraper } from '../security/zero-trust-namespace';
import { checkDnsLabel, checkLabels } from '../validation';

/**
 * Declares into the mesh model that metrics are consumed: by the given scraper, or (when no construct names one by
 * synth time) by the default Prometheus. Zero-trust namespaces let the scrapers in on the proxies' metrics ports.
 * @internal
 */
export function declareScraper(scope: Construct, scraper: MetricsScraper | undefined): void {
  const model = MeshModel.of(scope);
  if (scraper === undefined) {
    model.declareMetricsNeeded({ namespace: DEFAULT_SCRAPER.namespace, podLabels: { ...DEFAULT_SCRAPER.podLabels }, declaredBy: scope.node.path });
    return;
  }
  checkDnsLabel(scope, 'scraper.namespace', scraper.namespace);
  checkLabels(scope, 'scraper.podLabels', scraper.podLabels);
  model.declareScraper({ namespace: scraper.namespace, podLabels: { ...scraper.podLabels }, declaredBy: scope.node.path });
}
