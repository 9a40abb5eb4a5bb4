// Property-based tests (fast-check) of the 'gateway' group; the properties live in ./release-and-gateway.ts.
import './release-and-gateway';
import { runGroup } from './run-group';

runGroup('gateway');
