// Property-based tests (fast-check) of the 'control-plane' group; the properties live in ./properties.ts.
import { runGroup } from './run-group';

runGroup('control-plane');
