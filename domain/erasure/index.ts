/** Compatibility: reason codes are part of the vocabulary (domain/vocabulary). */
export { REASON_CODE_PATTERN, validateReasonCode } from '../vocabulary/codes.js';
export * from './deadline.js';
export * from './ids.js';
export * from './plan.js';
export * from './request.js';
export * from './task.js';
export type { Transition } from './transition.js';
export type * from './types.js';
