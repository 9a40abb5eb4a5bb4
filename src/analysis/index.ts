// The mesh analyzer's public API.
export * from './finding';
export * from './acknowledge';
export * from './analyze';
export * from './mesh-analyzer';
export * from './flows';
