/**
 * Observability: metrics, dashboards, the mesh diagram, telemetry providers and collectors.
 *
 * A group: its files share one module registry (the library, cdk8s and the CRD bindings load once, not once per
 * file). Each file is still a test file of its own name; jest runs it here only (.projenrc.ts keeps the members out of
 * testMatch). Run one member alone: `npx jest test/groups/observability.test.ts -t '<name>'`. The members' snapshots are in
 * test/groups/__snapshots__/observability.test.ts.snap.
 */
import '../observability-telemetry.test';
import '../observability-diagram.test';
import '../observability-metrics.test';
import '../observability-dashboards.test';
