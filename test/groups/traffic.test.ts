/**
 * Routing: the traffic docs' snippets, gateway and mesh routes, request matches, route input checks.
 *
 * A group: its files share one module registry (the library, cdk8s and the CRD bindings load once, not once per
 * file). Each file is still a test file of its own name; jest runs it here only (.projenrc.ts keeps the members out of
 * testMatch). Run one member alone: `npx jest test/groups/traffic.test.ts -t '<name>'`.
 */
import '../traffic-docs.test';
import '../gateway-routing.test';
import '../mesh-routing.test';
import '../request-match.test';
import '../gateway-security.test';
