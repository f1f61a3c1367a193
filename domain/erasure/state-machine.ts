/**
 * The request and task state machine, gathered from the modules it is split into: `request.ts`,
 * `deadline.ts` (ALU-3), `task.ts` and `transition.ts`. Kept so that imports of this path go on
 * working; new code imports `domain/erasure/index.js`.
 */
export { REASON_CODE_PATTERN, validateReasonCode } from '../vocabulary/codes.js';
export * from './deadline.js';
export * from './request.js';
export * from './task.js';
export type { Transition } from './transition.js';
