// Property-based tests (fast-check) of the 'meshed-service' group; the properties live in ./properties.ts.
import { runGroup } from './run-group';

runGroup('meshed-service');
