/**
 * Jest's global setup: runs once in the main process before the workers start. It compiles the schema validators the
 * suite needs that are not cached yet (a fresh clone, new CRDs): compiled in the workers, two of them compiled the
 * same validators side by side. With a warm cache it only checks that the files exist.
 */
import { SchemaRegistry, SUITE_KINDS } from './schemas';

export default function globalSetup(): void {
  SchemaRegistry.forKubernetes('1.33').precompile(SUITE_KINDS);
  SchemaRegistry.forKubernetes('1.27').precompile(['meta/ObjectMeta', 'apps/v1/Deployment']);
}
