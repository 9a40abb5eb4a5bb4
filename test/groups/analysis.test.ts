/**
 * The analyzer and the flow analysis: codes, parity with istioctl, the CLI, its docs.
 *
 * A group: its files share one module registry (the library, cdk8s and the CRD bindings load once, not once per
 * file). Each file is still a test file of its own name; jest runs it here only (.projenrc.ts keeps the members out of
 * testMatch). Run one member alone: `npx jest test/groups/analysis.test.ts -t '<name>'`.
 */
import '../analysis-flows.test';
import '../analysis.test';
import '../analysis-cli.test';
import '../analysis-parity.test';
import '../analysis-cli-foreign.test';
import '../analysis-docs.test';
