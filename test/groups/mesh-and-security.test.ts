/**
 * The mesh model, ambient, input checks, cdk8s-plus interop, docs links and the architecture rules.
 *
 * A group: its files share one module registry (the library, cdk8s and the CRD bindings load once, not once per
 * file). Each file is still a test file of its own name; jest runs it here only (.projenrc.ts keeps the members out of
 * testMatch). Run one member alone: `npx jest test/groups/mesh-and-security.test.ts -t '<name>'`.
 */
import '../ambient.test';
import '../mesh-model.test';
import '../observability-ambient.test';
import '../security-input.test';
import '../cdk8s-plus-versions.test';
import '../app-security.test';
import '../observability-units.test';
import '../docs-links.test';
import '../mesh.test';
import '../mesh-ca-alerts.test';
import '../schema-validation.test';
import '../security-docs.test';
import '../architecture.test';
