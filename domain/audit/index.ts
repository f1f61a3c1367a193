export * from './anchor.js';
export * from './canonical.js';
export * from './certificate.js';
export * from './chain.js';
export * from './csv.js';
export * from './cursor.js';
export * from './merkle.js';
export * from './pseudonym.js';
export type * from './types.js';
