export * from './ids.js';
export * from './state-machine.js';
export type * from './types.js';
