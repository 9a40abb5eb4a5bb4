/**
 * Gateways, egress, traffic policy, the mesh CA and its certificates.
 *
 * A group: its files share one module registry (the library, cdk8s and the CRD bindings load once, not once per
 * file). Each file is still a test file of its own name; jest runs it here only (.projenrc.ts keeps the members out of
 * testMatch). Run one member alone: `npx jest test/groups/gateways-and-certificates.test.ts -t '<name>'`. The members' snapshots are in
 * test/groups/__snapshots__/gateways-and-certificates.test.ts.snap.
 */
import '../mesh-certificates.test';
import '../traffic.test';
import '../root-ca.test';
import '../mesh-gateway.test';
import '../gateway-egress.test';
