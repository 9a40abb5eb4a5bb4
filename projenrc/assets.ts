/**
 * The generated assets in one process (`npm test` starts one ts-node instead of two, a few seconds each): Istio's
 * annotation and label catalogue, then the CRD bundle (which is skipped when its stamp says it is up to date).
 */
import './istio-catalogue';
import './bundle-crds';
