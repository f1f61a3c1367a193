export * from './identifiers.js';
export * from './resolver.js';
