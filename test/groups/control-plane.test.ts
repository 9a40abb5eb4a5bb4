/**
 * The control plane: istiod, the CNI agent, sidecar injection fidelity.
 *
 * A group: its files share one module registry (the library, cdk8s and the CRD bindings load once, not once per
 * file). Each file is still a test file of its own name; jest runs it here only (.projenrc.ts keeps the members out of
 * testMatch). Run one member alone: `npx jest test/groups/control-plane.test.ts -t '<name>'`. The members' snapshots are in
 * test/groups/__snapshots__/control-plane.test.ts.snap.
 */
import '../control-plane.test';
import '../istio-cni.test';
import '../sidecar.test';
