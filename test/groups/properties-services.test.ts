/**
 * Property tests: meshed services, canary releases, gateways.
 *
 * A group: its files share one module registry (the library, cdk8s and the CRD bindings load once, not once per
 * file). Each file is still a test file of its own name; jest runs it here only (.projenrc.ts keeps the members out of
 * testMatch). Run one member alone: `npx jest test/groups/properties-services.test.ts -t '<name>'`.
 */
import '../properties/meshed-service.properties.test';
import '../properties/canary-release.properties.test';
import '../properties/mesh-gateway.properties.test';
