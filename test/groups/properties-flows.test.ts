/**
 * Property tests: the flow analysis and the zero-trust policies against the declared graph.
 *
 * A group: its files share one module registry (the library, cdk8s and the CRD bindings load once, not once per
 * file). Each file is still a test file of its own name; jest runs it here only (.projenrc.ts keeps the members out of
 * testMatch). Run one member alone: `npx jest test/groups/properties-flows.test.ts -t '<name>'`.
 */
import '../properties/flows.properties.test';
import '../properties/zero-trust.properties.test';
