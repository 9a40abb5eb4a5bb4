// Property-based tests (fast-check) of the 'mesh' group; the properties live in ./properties.ts.
import { runGroup } from './run-group';

runGroup('mesh');
