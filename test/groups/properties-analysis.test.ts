/**
 * Property tests: the analyzer on mutated manifests, and hostile inputs.
 *
 * A group: its files share one module registry (the library, cdk8s and the CRD bindings load once, not once per
 * file). Each file is still a test file of its own name; jest runs it here only (.projenrc.ts keeps the members out of
 * testMatch). Run one member alone: `npx jest test/groups/properties-analysis.test.ts -t '<name>'`.
 */
import '../properties/analysis.properties.test';
import '../properties/security.properties.test';
