/**
 * Property tests: the control plane and the mesh settings, and the regressions they found.
 *
 * A group: its files share one module registry (the library, cdk8s and the CRD bindings load once, not once per
 * file). Each file is still a test file of its own name; jest runs it here only (.projenrc.ts keeps the members out of
 * testMatch). Run one member alone: `npx jest test/groups/properties-control-plane.test.ts -t '<name>'`.
 */
import '../properties/control-plane.properties.test';
import '../properties/mesh.properties.test';
import '../properties/known-issues.test';
