// Property-based tests (fast-check) of the 'security' group: hostile inputs (issue 16); the properties live in ./security-inputs.ts.
import './security-inputs';
import { runGroup } from './run-group';

runGroup('security', 120_000);
