/**
 * Dispatching a request that changes between its read and its dispatch: the race is staged with
 * the in-memory unit of work's `beforeCommit` hook, which lets another writer land first.
 */
import { describe, expect, it } from 'vitest';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import { dispatchOrBlock } from '../../functions/services/erasure-requests.js';
import { HANDLER_NOW, handlerDeps } from '../helpers/handler-deps.js';

const request: ErasureRequest = {
  requestId: 'req_race',
  subjectId: 'subject-race',
  origin: 'api',
  dataClasses: ['cloud-video'],
  reason: 'gdpr-art17-request',
  status: 'received',
  receivedAt: HANDLER_NOW,
  deadline: '2026-12-21T12:00:00.000Z',
  taskCount: 1,
  verifiedCount: 0,
  failedCount: 0,
};

const task: ErasureTask = {
  taskId: 'task_race',
  requestId: 'req_race',
  subjectId: 'subject-race',
  dataClass: 'cloud-video',
  action: 'delete',
  target: 'cloud-video',
  connector: 's3-prefix',
  status: 'pending',
  attempts: 0,
  affectedCount: 0,
};

/** The request stored as received; another writer moves it to `status` just before the dispatch commits. */
const racedTo = async (status: ErasureRequest['status']) => {
  const built = handlerDeps();
  await built.ports.uow.commit([{ kind: 'request.create', request, tasks: [task] }]);
  built.ports.beforeCommit = (changes) => {
    if (changes.some((change) => change.kind === 'request.transition')) {
      built.ports.state.requests.set(request.requestId, { ...request, status });
      built.ports.beforeCommit = undefined;
    }
  };
  return built;
};

describe('dispatching a request that changed under us', () => {
  it('sends no task when compliance rejected the request between its creation and its dispatch (IMOU-6)', async () => {
    // Prepare
    const built = await racedTo('rejected');

    // Act
    const result = await dispatchOrBlock(built.deps, request, [task]);

    // Assess
    expect(result.status).toBe('rejected');
    expect(built.ports.sent).toEqual([]);
    expect(built.ports.allEntries().map((entry) => entry.type)).not.toContain('request.dispatched');
  });

  it('still sends the tasks when another worker dispatched the request first', async () => {
    // Prepare
    const built = await racedTo('dispatched');

    // Act
    const result = await dispatchOrBlock(built.deps, request, [task]);

    // Assess
    expect(result.status).toBe('dispatched');
    expect(built.ports.sent).toEqual([{ taskId: 'task_race', requestId: 'req_race' }]);
  });
});
