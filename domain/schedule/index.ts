export * from './buckets.js';
export * from './decide.js';
export * from './due.js';
export type * from './types.js';
