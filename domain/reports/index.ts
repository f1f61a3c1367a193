export * from './csv.js';
export * from './deadlines.js';
export * from './erasures.js';
export * from './failures.js';
export * from './holds.js';
export * from './upcoming.js';
