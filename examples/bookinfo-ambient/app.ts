/**
 * Bookinfo in ambient mode: the same services, edges, canary, gateway and telemetry as examples/bookinfo (its
 * `buildBookinfo`, reused as is), with the data plane switched to `DataPlaneMode.AMBIENT`:
 *
 * - no sidecar in any Bookinfo pod; ztunnel (with the CNI agent in ambient mode) carries their traffic over HBONE;
 * - the layer-4 policy (who may call whom, on which port) is enforced by ztunnel;
 * - a waypoint exactly where layer 7 is declared: details, reviews and ratings (HTTP methods in their callers'
 *   rules; reviews' retries, timeout and canary routes), not productpage (reached by the ingress gateway, which
 *   applies its own routes). The mesh diagram says which services go through the waypoint.
 *
 * `buildBookinfoAmbient()` is shared by `main.ts` (`npm run example:ambient`) and test/bookinfo-ambient.test.ts.
 */
import { App } from 'cdk8s';
import { DataPlaneMode } from '../../src';
import { BookinfoOptions, buildBookinfo } from '../bookinfo/app';

export function buildBookinfoAmbient(options: BookinfoOptions): App {
  return buildBookinfo({ repoPath: 'examples/bookinfo-ambient/dist', ...options, dataPlaneMode: DataPlaneMode.AMBIENT });
}
