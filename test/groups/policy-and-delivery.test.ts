/**
 * Zero-trust namespaces and Argo CD delivery.
 *
 * A group: its files share one module registry (the library, cdk8s and the CRD bindings load once, not once per
 * file). Each file is still a test file of its own name; jest runs it here only (.projenrc.ts keeps the members out of
 * testMatch). Run one member alone: `npx jest test/groups/policy-and-delivery.test.ts -t '<name>'`. The members' snapshots are in
 * test/groups/__snapshots__/policy-and-delivery.test.ts.snap.
 */
import '../zero-trust-namespace.test';
import '../gitops.test';
