// Property-based test (fast-check) of the flow analysis over random meshes (issue 13): see flows.ts.
import './flows';
import { runGroup } from './run-group';

runGroup('flows');
