// Property-based tests (fast-check) of ZeroTrustNamespace: property (5), policies == graph.
import './zero-trust';
import { runGroup } from './run-group';

runGroup('zero-trust');
