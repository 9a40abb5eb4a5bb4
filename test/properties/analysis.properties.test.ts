// Property-based tests (fast-check) of the 'analysis' group; the properties live in ./properties.ts.
import { runGroup } from './run-group';

runGroup('analysis');
