import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requireCertifiable } from '../../domain/audit/certificate.js';
import { assertNoSubjectData, chainEntry, pseudonymise, verifyChain } from '../../domain/audit/index.js';
import type { AuditEntry, AuditEvent } from '../../domain/audit/types.js';
import {
  blockRequest,
  cancelTask,
  countOutcomes,
  createTask,
  DeadlineAlreadyExtendedError,
  deadlineWithin,
  dispatchRequest,
  extendDeadline,
  isFinal,
  isOverdue,
  MAX_TASK_ERROR_LENGTH,
  MS_PER_DAY,
  newRequestId,
  receiveRequest,
  recordTaskOutcome,
  redriveRequest,
  redriveTask,
  rejectRequest,
  scheduledRequestId,
  settleRequest,
  startTask,
  type Transition,
  taskAwaitingCallback,
  taskFailed,
  taskIdFor,
  taskPending,
  taskSucceeded,
  tasksFromPlan,
  taskVerified,
  withdrawRequest,
} from '../../domain/erasure/index.js';
import type { ErasureRequest, ErasureTask, RequestStatus, TaskStatus } from '../../domain/erasure/types.js';
import { IllegalTransitionError, ValidationError } from '../../domain/errors.js';
import { validationErrorOf } from '../helpers/factories.js';

const SUBJECT = 'alice@example.com';
const RECEIVED_AT = '2026-11-21T10:00:00.000Z';
const LATER = '2026-11-22T10:00:00.000Z';
const LEGAL_REASON = 'gdpr-art17-3b-legal-obligation';

const minutesAfter = (instant: string, minutes: number): string =>
  new Date(Date.parse(instant) + minutes * 60_000).toISOString();

const receivedRequest = (overrides: Partial<Parameters<typeof receiveRequest>[0]> = {}): ErasureRequest =>
  receiveRequest({
    requestId: 'req_0123456789abcdef',
    subjectId: SUBJECT,
    origin: 'api',
    dataClasses: ['customer-profile', 'cloud-video'],
    reason: 'gdpr-art17-1a-no-longer-necessary',
    receivedAt: RECEIVED_AT,
    ...overrides,
  }).next;

/** A request in `status`, reached through legal transitions only; dispatched requests have two tasks. */
const requestIn = (status: RequestStatus): ErasureRequest => {
  const received = receivedRequest();
  const dispatched = dispatchRequest(received, 2, LATER).next;
  switch (status) {
    case 'received':
      return received;
    case 'blocked':
      return blockRequest(received, ['hold-1'], LATER).next;
    case 'rejected':
      return rejectRequest(received, LEGAL_REASON, LATER).next;
    case 'dispatched':
      return dispatched;
    case 'completed':
      return recordTaskOutcome(recordTaskOutcome(dispatched, 'verified', LATER).next, 'verified', LATER).next;
    case 'partially_failed':
      return recordTaskOutcome(recordTaskOutcome(dispatched, 'verified', LATER).next, 'failed', LATER).next;
    case 'cancelled': {
      const withdrawn = withdrawRequest(
        dispatched,
        [],
        { eventType: 'account.restored', occurredAt: LATER },
        LATER,
      );
      return withdrawn.request?.next ?? dispatched;
    }
  }
};

const pendingTask = (overrides: Partial<Parameters<typeof createTask>[0]> = {}): ErasureTask =>
  createTask({
    requestId: 'req_0123456789abcdef',
    subjectId: SUBJECT,
    dataClass: 'cloud-video',
    action: 'delete',
    target: 'video-bucket',
    connector: 's3-prefix',
    ...overrides,
  });

const taskIn = (status: TaskStatus): ErasureTask => {
  const pending = pendingTask();
  const running = startTask(pending, LATER).next;
  const succeeded = taskSucceeded(running, 3, LATER).next;
  switch (status) {
    case 'pending':
      return pending;
    case 'running':
      return running;
    case 'succeeded':
      return succeeded;
    case 'verified':
      return taskVerified(succeeded, LATER).next;
    case 'failed':
      return taskFailed(running, 'connector timed out', LATER).next;
    case 'cancelled':
      return cancelTask(pending, LATER).next;
  }
};

const thrown = (act: () => unknown): unknown => {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
};

const chainOf = (events: readonly AuditEvent[]): AuditEntry[] => {
  const chainId = pseudonymise('test-key', SUBJECT);
  const chain: AuditEntry[] = [];
  for (const event of events) chain.push(chainEntry(chain.at(-1), event, chainId, chainId));
  return chain;
};

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

describe('erasure requests: rules', () => {
  it('ALU-3: a request received 2026-11-21T10:00Z is due 2026-12-21T10:00Z; one extension with a reason moves it by at most 60 days (2027-02-19T10:00Z); a second extension is refused', () => {
    // Prepare
    const received = receiveRequest({
      requestId: 'req_alu3',
      subjectId: SUBJECT,
      origin: 'api',
      dataClasses: ['customer-profile'],
      reason: 'gdpr-art17-1b-consent-withdrawn',
      receivedAt: '2026-11-21T10:00:00.000Z',
    });

    // Act
    const extended = extendDeadline(received.next, 'complex-request-art12-3', '2026-12-01T09:00:00.000Z');
    const secondExtension = () => extendDeadline(extended.next, 'still-complex', '2026-12-02T09:00:00.000Z');

    // Assess
    expect(received.next.deadline).toBe('2026-12-21T10:00:00.000Z');
    expect(received.audit.detail).toMatchObject({ deadline: '2026-12-21T10:00:00.000Z' });
    expect(extended.next.deadline).toBe('2027-02-19T10:00:00.000Z');
    expect(extended.next.deadlineExtension).toEqual({
      reason: 'complex-request-art12-3',
      extendedAt: '2026-12-01T09:00:00.000Z',
    });
    expect(extended.audit).toMatchObject({
      type: 'request.deadline_extended',
      idempotencyKey: 'request:req_alu3:deadline-extended',
      ruleRef: 'ALU-3',
      detail: {
        reason: 'complex-request-art12-3',
        extensionDays: 60,
        previousDeadline: '2026-12-21T10:00:00.000Z',
        deadline: '2027-02-19T10:00:00.000Z',
      },
    });
    expect(secondExtension).toThrow(DeadlineAlreadyExtendedError);
    expect(secondExtension).toThrow(IllegalTransitionError);
    expect(() => extendDeadline(received.next, 'complex-request', LATER, 61)).toThrow(
      expect.objectContaining({ name: 'ValidationError', field: 'extensionDays' }),
    );
    expect(() => extendDeadline(received.next, 'complex request with a name', LATER)).toThrow(
      expect.objectContaining({ name: 'ValidationError', field: 'reason' }),
    );
  });

  it("a scheduled deletion's own reason is never refused for the subject id it folds into: the sweep would fail it every time", () => {
    // Act
    const request = receivedRequest({
      subjectId: 'retention-ale-1',
      origin: 'schedule',
      reason: 'retention:ale-1',
    });

    // Assess
    expect(request.reason).toBe('retention:ale-1');
    expect(
      validationErrorOf(() => receivedRequest({ subjectId: 'retention-ale-1', reason: 'retention:ale-1' }))
        .field,
    ).toBe('reason');
  });

  it("a reason that carries one of the request's identifier values is refused at intake, rejection and extension (it would stay in the trail)", () => {
    // Prepare
    const identifiers = { email: ['ana@example.com'] };
    const request = receivedRequest({ identifiers });
    const field = (act: () => unknown) => validationErrorOf(act).field;

    // Act / Assess
    expect(field(() => receivedRequest({ identifiers, reason: 'asked-by-ana.example.com' }))).toBe('reason');
    expect(field(() => rejectRequest(request, 'ana-example-com-owes', LATER))).toBe('legalReason');
    expect(field(() => extendDeadline(request, 'ana.example.com-abroad', LATER))).toBe('reason');
  });

  it("IMOU-6: a request rejected with legal reason 'gdpr-art17-3b-legal-obligation' records and audits the reason", () => {
    // Prepare
    const request = receivedRequest({ requestId: 'req_imou6' });

    // Act
    const { next, audit } = rejectRequest(request, 'gdpr-art17-3b-legal-obligation', LATER);

    // Assess
    expect(next.status).toBe('rejected');
    expect(isFinal(next.status)).toBe(true);
    expect(next.rejection).toEqual({ legalReason: 'gdpr-art17-3b-legal-obligation', rejectedAt: LATER });
    expect(audit).toEqual({
      type: 'request.rejected',
      at: LATER,
      idempotencyKey: 'request:req_imou6:rejected',
      requestId: 'req_imou6',
      ruleRef: 'IMOU-6',
      detail: {
        status: 'rejected',
        legalReason: 'gdpr-art17-3b-legal-obligation',
        previousStatus: 'received',
        cancelledTasks: 0,
      },
    });
    expect(() => rejectRequest(request, 'Mr Smith owes us money', LATER)).toThrow(
      expect.objectContaining({ name: 'ValidationError', field: 'legalReason' }),
    );
    expect(() => dispatchRequest(next, 1, LATER)).toThrow(IllegalTransitionError);
  });

  it('IMOU-6: what is left of a partially failed request can be refused for a legal reason: final, its failed tasks counted as not erased', () => {
    // Prepare: one of two tasks verified, one failed for good.
    const request = requestIn('partially_failed');

    // Act
    const { next, audit } = rejectRequest(request, 'gdpr-art17-3b-legal-obligation', LATER);

    // Assess
    expect(next.status).toBe('rejected');
    expect(isFinal(next.status)).toBe(true);
    expect(next.rejection).toEqual({ legalReason: 'gdpr-art17-3b-legal-obligation', rejectedAt: LATER });
    expect(audit.detail).toEqual({
      status: 'rejected',
      legalReason: 'gdpr-art17-3b-legal-obligation',
      previousStatus: 'partially_failed',
      cancelledTasks: 0,
      verifiedTasks: request.verifiedCount,
      failedTasks: request.failedCount,
    });
    expect(() => redriveRequest(next, 1, LATER)).toThrow(IllegalTransitionError);
    // A restore arriving now is told what ran: the verified task's data is gone.
    const verified = taskIn('verified');
    const withdrawal = withdrawRequest(
      next,
      [verified, { ...taskIn('failed'), taskId: 'task_failed' }],
      { eventType: 'account.restored', occurredAt: LATER },
      LATER,
    );
    expect(withdrawal.tooLate.map((task) => task.taskId)).toEqual([verified.taskId]);
  });

  it('ALE-5: every request and task transition yields an audit event; the chain proves the order', () => {
    // Prepare
    const events: AuditEvent[] = [];
    const step = <T>(transition: Transition<T>): T => {
      events.push(transition.audit);
      return transition.next;
    };
    let clock = RECEIVED_AT;
    const tick = () => {
      clock = minutesAfter(clock, 5);
      return clock;
    };

    // Act
    let request = step(
      receiveRequest({
        requestId: 'req_ale5',
        subjectId: SUBJECT,
        origin: 'api',
        dataClasses: ['customer-profile', 'billing-traffic'],
        reason: 'gdpr-art17-1a-no-longer-necessary',
        receivedAt: clock,
        taskCount: 2,
      }),
    );
    request = step(blockRequest(request, ['hold-invoice-1'], tick()));
    request = step(dispatchRequest(request, 2, tick()));
    const profile = createTask({
      requestId: request.requestId,
      subjectId: SUBJECT,
      dataClass: 'customer-profile',
      action: 'delete',
      target: 'crm-webhook',
      connector: 'http-webhook',
    });
    const billing = createTask({
      requestId: request.requestId,
      subjectId: SUBJECT,
      dataClass: 'billing-traffic',
      action: 'anonymise',
      target: 'billing-table',
      connector: 'dynamodb-items',
    });
    let first = step(startTask(profile, tick()));
    first = step(taskAwaitingCallback(first, tick()));
    first = step(startTask(first, tick()));
    first = step(taskSucceeded(first, 1, tick()));
    first = step(taskVerified(first, tick()));
    request = step(recordTaskOutcome(request, 'verified', tick(), first.taskId));
    let second = step(startTask(billing, tick()));
    second = step(
      taskFailed(second, { message: `AccessDenied on item ${SUBJECT}`, code: 'retries-exhausted' }, tick()),
    );
    request = step(recordTaskOutcome(request, 'failed', tick(), second.taskId));
    second = step(redriveTask(second, tick()));
    request = step(redriveRequest(request, 1, tick()));
    second = step(taskSucceeded(second, 12, tick()));
    second = step(taskVerified(second, tick()));
    request = step(recordTaskOutcome(request, 'verified', tick(), second.taskId));
    const chain = chainOf(events);
    const verification = verifyChain(chain, {
      expectedHead: { seq: chain.length, hash: chain.at(-1)?.hash ?? '' },
    });
    const swapped = [chain[0], chain[2], chain[1], ...chain.slice(3)].filter((entry) => entry !== undefined);

    // Assess
    expect(request.status).toBe('completed');
    expect(events.map((event) => event.type)).toEqual([
      'request.received',
      'request.blocked',
      'request.dispatched',
      'task.started',
      'task.awaiting_callback',
      'task.restarted',
      'task.succeeded',
      'task.verified',
      'request.task_outcome',
      'task.started',
      'task.failed',
      'request.partially_failed',
      'task.redriven',
      'request.redriven',
      'task.succeeded',
      'task.verified',
      'request.completed',
    ]);
    expect(new Set(events.map((event) => event.idempotencyKey)).size).toBe(events.length);
    for (const event of events) {
      expect(() => assertNoSubjectData(event, SUBJECT)).not.toThrow();
      expect(JSON.stringify(event)).not.toContain('AccessDenied');
    }
    expect(verification).toEqual({ ok: true, length: events.length, headHash: chain.at(-1)?.hash });
    expect(chain.map((entry) => entry.seq)).toEqual(events.map((_, index) => index + 1));
    expect(chain.map((entry) => entry.at)).toEqual([...chain.map((entry) => entry.at)].sort());
    expect(verifyChain(swapped)).toMatchObject({ ok: false, index: 1, problem: 'reordered' });
  });
});

// ---------------------------------------------------------------------------------------------
// Receiving and validating
// ---------------------------------------------------------------------------------------------

describe('receiveRequest', () => {
  it('creates a received request due in 30 days and audits it without the subject id', () => {
    // Act
    const { next, audit } = receiveRequest({
      requestId: 'req_1',
      subjectId: SUBJECT,
      origin: 'schedule',
      dataClasses: ['alarm-events'],
      reason: 'retention:imou-2',
      receivedAt: RECEIVED_AT,
    });

    // Assess
    expect(next).toEqual({
      requestId: 'req_1',
      subjectId: SUBJECT,
      origin: 'schedule',
      dataClasses: ['alarm-events'],
      reason: 'retention:imou-2',
      status: 'received',
      receivedAt: RECEIVED_AT,
      deadline: '2026-12-21T10:00:00.000Z',
      taskCount: 0,
      verifiedCount: 0,
      failedCount: 0,
    });
    expect(audit).toEqual({
      type: 'request.received',
      at: RECEIVED_AT,
      idempotencyKey: 'request:req_1:received',
      requestId: 'req_1',
      // The rule the scheduled deletion is done under, named by its reason.
      ruleRef: 'IMOU-2',
      detail: {
        status: 'received',
        origin: 'schedule',
        reason: 'retention:imou-2',
        dataClasses: 'alarm-events',
        deadline: '2026-12-21T10:00:00.000Z',
        taskCount: 0,
      },
    });
  });

  it('counts the deadline in exact 24-hour days across the end of daylight saving time', () => {
    // Act
    const request = receivedRequest({ receivedAt: '2026-10-10T23:30:00.000Z' });

    // Assess
    expect(request.deadline).toBe('2026-11-09T23:30:00.000Z');
  });

  it.each([
    ['a free-text reason', { reason: 'Customer Alice asked by phone' }, 'reason'],
    ['a reason with an e-mail address', { reason: 'asked-by:alice@example.com' }, 'reason'],
    ['a reason containing the subject id', { subjectId: 'cust-8842', reason: 'cust-8842-request' }, 'reason'],
    ['a reason in upper case, which the API refuses too', { reason: 'GDPR-ART17' }, 'reason'],
    ['an empty subject id', { subjectId: '' }, 'subjectId'],
    ['a subject id the API would refuse', { subjectId: 'alice example' }, 'subjectId'],
    ['a data class that is not a catalog name', { dataClasses: ['Cloud_Video'] }, 'dataClasses[0]'],
    [
      'a request id that is the subject id',
      { requestId: 'alice.example', subjectId: 'alice.example' },
      'requestId',
    ],
    ['no data classes', { dataClasses: [] }, 'dataClasses'],
    ['a data class listed twice', { dataClasses: ['cookies', 'cookies'] }, 'dataClasses[1]'],
    ['a non-canonical instant', { receivedAt: '2026-11-21T10:00:00Z' }, 'receivedAt'],
    ['a negative task count', { taskCount: -1 }, 'taskCount'],
  ])('refuses %s with a ValidationError naming the field', (_name, overrides, field) => {
    // Act
    const error = thrown(() => receivedRequest(overrides));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field });
  });
});

// ---------------------------------------------------------------------------------------------
// Request transitions
// ---------------------------------------------------------------------------------------------

const REQUEST_STATUSES: readonly RequestStatus[] = [
  'received',
  'blocked',
  'rejected',
  'dispatched',
  'completed',
  'partially_failed',
];

const REQUEST_OPERATIONS: ReadonlyArray<{
  readonly name: string;
  readonly to: string;
  readonly legalFrom: readonly RequestStatus[];
  readonly run: (request: ErasureRequest) => unknown;
}> = [
  {
    name: 'rejectRequest',
    to: 'rejected',
    legalFrom: ['received', 'blocked', 'partially_failed'],
    run: (request) => rejectRequest(request, LEGAL_REASON, LATER),
  },
  {
    name: 'blockRequest',
    to: 'blocked',
    legalFrom: ['received', 'blocked'],
    run: (request) => blockRequest(request, ['hold-2'], LATER),
  },
  {
    name: 'dispatchRequest',
    to: 'dispatched',
    legalFrom: ['received', 'blocked'],
    run: (request) => dispatchRequest(request, 2, LATER),
  },
  {
    name: 'recordTaskOutcome',
    to: 'task-outcome',
    legalFrom: ['dispatched'],
    run: (request) => recordTaskOutcome(request, 'verified', LATER),
  },
  {
    name: 'extendDeadline',
    to: 'deadline-extended',
    legalFrom: ['received', 'blocked', 'dispatched', 'partially_failed'],
    run: (request) => extendDeadline(request, 'complex-request', LATER),
  },
  {
    name: 'redriveRequest',
    to: 'dispatched',
    legalFrom: ['partially_failed'],
    run: (request) => redriveRequest(request, 1, LATER),
  },
];

describe('request transitions', () => {
  const cases = REQUEST_OPERATIONS.flatMap((operation) =>
    REQUEST_STATUSES.map((status) => [operation.name, status, operation] as const),
  );

  it.each(cases)('%s from %s is allowed only where the state machine says so', (_name, status, operation) => {
    // Prepare
    const request = requestIn(status);

    // Act
    const act = () => operation.run(request);

    // Assess
    if (operation.legalFrom.includes(status)) {
      expect(act).not.toThrow();
    } else {
      const error = thrown(act);
      expect(error).toBeInstanceOf(IllegalTransitionError);
      expect(error).toMatchObject({
        entity: 'request',
        from: status,
        to: operation.to,
        code: 'illegal_transition',
      });
    }
  });

  it('blocks with the sorted, distinct hold ids and dispatches once the holds are released', () => {
    // Prepare
    const request = receivedRequest({ requestId: 'req_hold' });

    // Act
    const blocked = blockRequest(request, ['hold-b', 'hold-a', 'hold-b'], LATER);
    const reblocked = blockRequest(blocked.next, ['hold-b'], minutesAfter(LATER, 1));
    const dispatched = dispatchRequest(reblocked.next, 3, minutesAfter(LATER, 2));

    // Assess
    expect(blocked.next).toMatchObject({
      status: 'blocked',
      blockedBy: ['hold-a', 'hold-b'],
      blockedAt: LATER,
    });
    expect(blocked.audit).toMatchObject({
      idempotencyKey: 'request:req_hold:blocked:hold-a,hold-b',
      ruleRef: 'ALM-3',
      detail: { holdIds: 'hold-a,hold-b', holdCount: 2, previousStatus: 'received' },
    });
    expect(reblocked.audit.idempotencyKey).toBe(`request:req_hold:blocked:hold-b@${minutesAfter(LATER, 1)}`);
    expect(dispatched.next).toMatchObject({
      status: 'dispatched',
      dispatchedAt: minutesAfter(LATER, 2),
      taskCount: 3,
      verifiedCount: 0,
      failedCount: 0,
    });
    expect(dispatched.audit).toMatchObject({
      type: 'request.dispatched',
      idempotencyKey: 'request:req_hold:dispatched',
      detail: { previousStatus: 'blocked', taskCount: 3 },
    });
  });

  it('refuses to block without holds, or with a hold id that is not an id', () => {
    // Prepare
    const request = receivedRequest();

    // Act / Assess
    expect(() => blockRequest(request, [], LATER)).toThrow(expect.objectContaining({ field: 'holdIds' }));
    expect(() => blockRequest(request, ['hold for Alice'], LATER)).toThrow(
      expect.objectContaining({ field: 'holdIds[0]' }),
    );
  });

  it('ALM-3: blocked again on other holds, each block is an entry of its own: holds A, then A and B, then A again gives three', () => {
    // Act
    const first = blockRequest(receivedRequest(), ['hold-a'], LATER);
    const second = blockRequest(first.next, ['hold-a', 'hold-b'], '2026-11-23T00:00:00.000Z');
    const third = blockRequest(second.next, ['hold-a'], '2026-11-24T00:00:00.000Z');

    // Assess
    const keys = [first, second, third].map(({ audit }) => audit.idempotencyKey);
    expect(new Set(keys).size).toBe(3);
    expect(third.next.blockedBy).toEqual(['hold-a']);
    // Blocked since the first block, whatever holds took over since.
    expect(third.next.blockedAt).toBe(LATER);
    // A retried block (same holds, same instant) keeps its key: it is recorded once.
    expect(blockRequest(second.next, ['hold-a'], '2026-11-24T00:00:00.000Z').audit.idempotencyKey).toBe(
      keys[2],
    );
  });

  it('dispatches a request without tasks (nothing it could address), which then settles at once as completed', () => {
    // Act
    const { next } = dispatchRequest(receivedRequest(), 0, LATER);

    // Assess
    expect(next).toMatchObject({ status: 'dispatched', taskCount: 0 });
    expect(settleRequest(next, LATER)?.next).toMatchObject({ status: 'completed', completedAt: LATER });
    expect(() => dispatchRequest(receivedRequest(), -1, LATER)).toThrow(
      expect.objectContaining({ name: 'ValidationError', field: 'taskCount' }),
    );
  });

  it('gives a retried transition the same event, so an append is not repeated', () => {
    // Prepare
    const request = receivedRequest();

    // Act
    const first = dispatchRequest(request, 2, LATER);
    const retry = dispatchRequest(request, 2, LATER);

    // Assess
    expect(retry).toEqual(first);
    expect(first.audit.idempotencyKey).toBe('request:req_0123456789abcdef:dispatched');
  });

  it('refuses to extend a deadline that has already passed', () => {
    // Prepare
    const request = receivedRequest();

    // Act
    const error = thrown(() => extendDeadline(request, 'complex-request', '2026-12-21T10:00:00.001Z'));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'at' });
  });

  it('extends by fewer days when asked', () => {
    // Act
    const { next } = extendDeadline(receivedRequest(), 'complex-request', LATER, 14);

    // Assess
    expect(next.deadline).toBe('2027-01-04T10:00:00.000Z');
  });

  it('names a second extension with its own error class, still an illegal transition', () => {
    // Prepare
    const extended = extendDeadline(requestIn('dispatched'), 'complex-request', LATER).next;

    // Act
    const error = thrown(() => extendDeadline(extended, 'complex-request', LATER));

    // Assess
    expect(error).toBeInstanceOf(DeadlineAlreadyExtendedError);
    expect(error).toMatchObject({ entity: 'request', from: 'dispatched', to: 'deadline-extended' });
  });
});

// ---------------------------------------------------------------------------------------------
// Completion counting
// ---------------------------------------------------------------------------------------------

describe('task outcomes on a request', () => {
  it('completes only when the last of three tasks is verified', () => {
    // Prepare
    const dispatched = dispatchRequest(receivedRequest({ requestId: 'req_three' }), 3, LATER).next;

    // Act
    const one = recordTaskOutcome(dispatched, 'verified', LATER);
    const two = recordTaskOutcome(one.next, 'verified', LATER);
    const three = recordTaskOutcome(two.next, 'verified', '2026-11-23T10:00:00.000Z');

    // Assess
    expect(one.next).toMatchObject({ status: 'dispatched', verifiedCount: 1, failedCount: 0 });
    expect(two.next).toMatchObject({ status: 'dispatched', verifiedCount: 2, failedCount: 0 });
    expect(three.next).toMatchObject({
      status: 'completed',
      verifiedCount: 3,
      failedCount: 0,
      completedAt: '2026-11-23T10:00:00.000Z',
    });
    expect([one, two, three].map((step) => step.audit.idempotencyKey)).toEqual([
      'request:req_three:outcome:1:0',
      'request:req_three:outcome:2:0',
      'request:req_three:completed',
    ]);
    expect(three.audit).toMatchObject({
      type: 'request.completed',
      detail: { taskCount: 3, verifiedCount: 3, failedCount: 0, withinDeadline: true },
    });
  });

  it('fails partially when one task failed and all the others are verified, whatever the order', () => {
    // Prepare
    const dispatched = dispatchRequest(receivedRequest({ requestId: 'req_partial' }), 3, LATER).next;

    // Act
    const failedFirst = recordTaskOutcome(dispatched, 'failed', LATER);
    const verified = recordTaskOutcome(failedFirst.next, 'verified', LATER);
    const last = recordTaskOutcome(verified.next, 'verified', LATER);

    // Assess
    expect(verified.next.status).toBe('dispatched');
    expect(last.next).toMatchObject({ status: 'partially_failed', verifiedCount: 2, failedCount: 1 });
    expect(last.next.completedAt).toBeUndefined();
    expect(last.audit).toMatchObject({
      type: 'request.partially_failed',
      idempotencyKey: 'request:req_partial:partially_failed',
      detail: { taskCount: 3, verifiedCount: 2, failedCount: 1 },
    });
    expect(isFinal(last.next.status)).toBe(true);
  });

  it('refuses an outcome once every task has reported', () => {
    // Prepare
    const completed = requestIn('completed');

    // Act
    const error = thrown(() => recordTaskOutcome(completed, 'verified', LATER));

    // Assess
    expect(error).toMatchObject({ entity: 'request', from: 'completed', to: 'task-outcome' });
  });

  it('notes in the audit when a request completes after its deadline', () => {
    // Prepare
    const dispatched = dispatchRequest(receivedRequest(), 1, LATER).next;

    // Act
    const { audit } = recordTaskOutcome(dispatched, 'verified', '2026-12-22T10:00:00.000Z');

    // Assess
    expect(audit.detail).toMatchObject({ withinDeadline: false });
  });

  it('counts exactly: the final status follows from the outcomes, in any order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('verified' as const, 'failed' as const), { minLength: 1, maxLength: 20 }),
        (outcomes) => {
          // Prepare
          let request = dispatchRequest(receivedRequest(), outcomes.length, LATER).next;
          const statuses: RequestStatus[] = [];

          // Act
          for (const outcome of outcomes) {
            request = recordTaskOutcome(request, outcome, LATER).next;
            statuses.push(request.status);
          }

          // Assess
          const failures = outcomes.filter((outcome) => outcome === 'failed').length;
          expect(statuses.slice(0, -1).every((status) => status === 'dispatched')).toBe(true);
          expect(request).toMatchObject({
            status: failures === 0 ? 'completed' : 'partially_failed',
            verifiedCount: outcomes.length - failures,
            failedCount: failures,
          });
        },
      ),
    );
  });

  it('counts outcomes committed together as if they had come one at a time', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('verified' as const, 'failed' as const), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 20, maxLength: 20 }),
        (outcomes, groupSizes) => {
          // Prepare
          const dispatched = dispatchRequest(receivedRequest(), outcomes.length, LATER).next;
          const groups: (typeof outcomes)[] = [];
          let start = 0;
          for (const size of groupSizes) {
            if (start >= outcomes.length) break;
            groups.push(outcomes.slice(start, start + size));
            start += size;
          }

          // Act
          let grouped = dispatched;
          let settledAudit: string | undefined;
          for (const group of groups) {
            const counted = countOutcomes(grouped, group, LATER);
            if (counted === undefined) throw new Error('a group was refused');
            grouped = counted.next;
            settledAudit = counted.settled?.audit.idempotencyKey ?? settledAudit;
          }
          let single = dispatched;
          for (const outcome of outcomes) single = countOutcomes(single, [outcome], LATER)?.next ?? single;

          // Assess
          expect(grouped).toEqual(single);
          expect(settledAudit).toBe(
            single.status === 'completed'
              ? `request:${single.requestId}:completed`
              : `request:${single.requestId}:partially_failed`,
          );
          expect(countOutcomes(grouped, ['verified'], LATER)).toBeUndefined();
        },
      ),
    );
  });

  it('refuses a group with more outcomes than tasks left to report, or none', () => {
    // Prepare
    const dispatched = dispatchRequest(receivedRequest(), 2, LATER).next;

    // Act
    const tooMany = countOutcomes(dispatched, ['verified', 'verified', 'failed'], LATER);
    const none = countOutcomes(dispatched, [], LATER);

    // Assess
    expect(tooMany).toBeUndefined();
    expect(none).toBeUndefined();
    expect(countOutcomes(dispatched, ['verified', 'failed'], LATER)?.next).toMatchObject({
      status: 'partially_failed',
      verifiedCount: 1,
      failedCount: 1,
    });
  });

  it('settles a request whose store counted the outcomes, and leaves others alone', () => {
    // Prepare
    const dispatched = requestIn('dispatched');
    const allReported = { ...dispatched, verifiedCount: 1, failedCount: 1 };

    // Act
    const settled = settleRequest(allReported, LATER);

    // Assess
    expect(settled?.next).toMatchObject({ status: 'partially_failed' });
    expect(settled?.audit.type).toBe('request.partially_failed');
    expect(settleRequest({ ...dispatched, verifiedCount: 1 }, LATER)).toBeUndefined();
    expect(settleRequest(requestIn('completed'), LATER)).toBeUndefined();
    expect(() => settleRequest({ ...dispatched, verifiedCount: 3 }, LATER)).toThrow(IllegalTransitionError);
  });

  it('re-drives failed tasks: the request waits for their new outcomes and audits each round apart', () => {
    // Prepare
    const partiallyFailed = requestIn('partially_failed');

    // Act
    const redriven = redriveRequest(partiallyFailed, 1, LATER);
    const failedAgain = recordTaskOutcome(redriven.next, 'failed', LATER);
    const redrivenAgain = redriveRequest(failedAgain.next, 1, LATER);
    const completed = recordTaskOutcome(redrivenAgain.next, 'verified', LATER);

    // Assess
    expect(redriven.next).toMatchObject({
      status: 'dispatched',
      verifiedCount: 1,
      failedCount: 0,
      redriveCount: 1,
    });
    expect(failedAgain.next.status).toBe('partially_failed');
    expect(completed.next).toMatchObject({ status: 'completed', verifiedCount: 2, failedCount: 0 });
    const keys = [redriven, failedAgain, redrivenAgain, completed].map((step) => step.audit.idempotencyKey);
    expect(keys).toEqual([
      'request:req_0123456789abcdef:redriven:1',
      'request:req_0123456789abcdef:partially_failed:r1',
      'request:req_0123456789abcdef:redriven:2',
      'request:req_0123456789abcdef:completed',
    ]);
    expect(() => redriveRequest(partiallyFailed, 2, LATER)).toThrow(
      expect.objectContaining({ field: 'redrivenTaskCount' }),
    );
  });

  it('re-drives a task that failed while others are still running', () => {
    // Prepare
    const dispatched = dispatchRequest(receivedRequest(), 3, LATER).next;
    const oneFailed = recordTaskOutcome(dispatched, 'failed', LATER).next;

    // Act
    const { next } = redriveRequest(oneFailed, 1, LATER);

    // Assess
    expect(next).toMatchObject({ status: 'dispatched', failedCount: 0, redriveCount: 1 });
    expect(() => redriveRequest(next, 1, LATER)).toThrow(IllegalTransitionError);
  });
});

// ---------------------------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------------------------

describe('isOverdue / deadlineWithin', () => {
  const DEADLINE = '2026-12-21T10:00:00.000Z';

  it('is on time at the deadline instant and overdue just after it', () => {
    // Prepare
    const request = requestIn('dispatched');

    // Act / Assess
    expect(isOverdue(request, DEADLINE)).toBe(false);
    expect(isOverdue(request, '2026-12-21T10:00:00.001Z')).toBe(true);
  });

  it.each([
    ['received', true],
    ['blocked', true],
    ['dispatched', true],
    ['partially_failed', true],
    ['completed', false],
    ['rejected', false],
  ] as const)('a %s request past its deadline is overdue: %s', (status, overdue) => {
    // Act / Assess
    expect(isOverdue(requestIn(status), '2027-01-01T00:00:00.000Z')).toBe(overdue);
  });

  it('flags a deadline inside the window, but not one beyond it or already past', () => {
    // Prepare
    const request = requestIn('dispatched');
    const week = 7 * MS_PER_DAY;

    // Act / Assess
    expect(deadlineWithin(request, '2026-12-14T10:00:00.000Z', week)).toBe(true);
    expect(deadlineWithin(request, DEADLINE, week)).toBe(true);
    expect(deadlineWithin(request, '2026-12-14T09:59:59.999Z', week)).toBe(false);
    expect(deadlineWithin(request, '2026-12-21T10:00:00.001Z', week)).toBe(false);
    expect(deadlineWithin(requestIn('completed'), '2026-12-20T10:00:00.000Z', week)).toBe(false);
  });

  it('refuses a malformed instant or window', () => {
    // Prepare
    const request = requestIn('dispatched');

    // Act / Assess
    expect(() => isOverdue(request, '2026-12-21')).toThrow(expect.objectContaining({ field: 'now' }));
    expect(() => deadlineWithin(request, LATER, -1)).toThrow(expect.objectContaining({ field: 'windowMs' }));
  });
});

// ---------------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------------

const TASK_STATUSES: readonly TaskStatus[] = ['pending', 'running', 'succeeded', 'verified', 'failed'];

const TASK_OPERATIONS: ReadonlyArray<{
  readonly name: string;
  readonly to: TaskStatus;
  readonly legalFrom: readonly TaskStatus[];
  readonly run: (task: ErasureTask) => unknown;
}> = [
  {
    name: 'startTask',
    to: 'running',
    legalFrom: ['pending', 'running'],
    run: (task) => startTask(task, LATER),
  },
  {
    name: 'taskAwaitingCallback',
    to: 'running',
    legalFrom: ['running'],
    run: (task) => taskAwaitingCallback(task, LATER),
  },
  {
    name: 'taskSucceeded',
    to: 'succeeded',
    legalFrom: ['running'],
    run: (task) => taskSucceeded(task, 1, LATER),
  },
  {
    name: 'taskVerified',
    to: 'verified',
    legalFrom: ['succeeded'],
    run: (task) => taskVerified(task, LATER),
  },
  {
    name: 'taskFailed',
    to: 'failed',
    legalFrom: ['pending', 'running', 'succeeded'],
    run: (task) => taskFailed(task, 'boom', LATER),
  },
  { name: 'redriveTask', to: 'running', legalFrom: ['failed'], run: (task) => redriveTask(task, LATER) },
];

describe('rolling-window tasks', () => {
  it('IMOU-1: every audit event of a rolling-window task records its cut-off, so the trail says what "erased" meant', () => {
    // Prepare
    const task = pendingTask({ olderThan: '2026-02-23T00:00:00.000Z' });

    // Act
    const started = startTask(task, LATER);
    const succeeded = taskSucceeded(started.next, 3, LATER);
    const verified = taskVerified(succeeded.next, LATER);

    // Assess
    for (const { audit } of [started, succeeded, verified]) {
      expect(audit.detail?.olderThan).toBe('2026-02-23T00:00:00.000Z');
    }
    expect(startTask(pendingTask(), LATER).audit.detail).not.toHaveProperty('olderThan');
  });
});

describe('task transitions', () => {
  const cases = TASK_OPERATIONS.flatMap((operation) =>
    TASK_STATUSES.map((status) => [operation.name, status, operation] as const),
  );

  it.each(cases)('%s from %s is allowed only where the state machine says so', (_name, status, operation) => {
    // Prepare
    const task = taskIn(status);

    // Act
    const act = () => operation.run(task);

    // Assess
    if (operation.legalFrom.includes(status)) {
      expect(act).not.toThrow();
    } else {
      const error = thrown(act);
      expect(error).toBeInstanceOf(IllegalTransitionError);
      expect(error).toMatchObject({ entity: 'task', from: status, to: operation.to });
    }
  });

  it('creates a pending task with a deterministic id', () => {
    // Act
    const task = pendingTask({ olderThan: '2026-11-14T10:00:00.000Z' });

    // Assess
    expect(task).toEqual({
      taskId: taskIdFor('req_0123456789abcdef', 'cloud-video', 'video-bucket'),
      requestId: 'req_0123456789abcdef',
      subjectId: SUBJECT,
      dataClass: 'cloud-video',
      action: 'delete',
      target: 'video-bucket',
      connector: 's3-prefix',
      status: 'pending',
      attempts: 0,
      affectedCount: 0,
      olderThan: '2026-11-14T10:00:00.000Z',
    });
    expect(pendingTask({ taskId: 'task_given' }).taskId).toBe('task_given');
  });

  it('counts a redelivered message as a new attempt, audited apart', () => {
    // Prepare
    const pending = pendingTask();

    // Act
    const started = startTask(pending, LATER);
    const redelivered = startTask(started.next, minutesAfter(LATER, 5));

    // Assess
    expect(started.next).toMatchObject({ status: 'running', attempts: 1, startedAt: LATER });
    expect(redelivered.next).toMatchObject({
      status: 'running',
      attempts: 2,
      startedAt: minutesAfter(LATER, 5),
    });
    expect(started.audit).toMatchObject({
      type: 'task.started',
      idempotencyKey: `task:${pending.taskId}:started:1`,
      requestId: pending.requestId,
      taskId: pending.taskId,
      dataClass: 'cloud-video',
      target: 'video-bucket',
      detail: { status: 'running', attempts: 1, action: 'delete', connector: 's3-prefix' },
    });
    expect(redelivered.audit).toMatchObject({
      type: 'task.restarted',
      idempotencyKey: `task:${pending.taskId}:restarted:2`,
    });
  });

  it('keeps a task accepted asynchronously running until the callback reports it done', () => {
    // Prepare
    const running = taskIn('running');

    // Act
    const waiting = taskAwaitingCallback(running, LATER);
    const again = taskPending(waiting.next, LATER);
    const done = taskSucceeded(waiting.next, 7, minutesAfter(LATER, 30));

    // Assess
    expect(waiting.next).toMatchObject({ status: 'running', awaitingCallback: true, affectedCount: 0 });
    expect(waiting.audit).toMatchObject({
      type: 'task.awaiting_callback',
      idempotencyKey: `task:${running.taskId}:awaiting_callback:1`,
    });
    expect(again.audit.idempotencyKey).toBe(waiting.audit.idempotencyKey);
    expect(done.next).toMatchObject({
      status: 'succeeded',
      affectedCount: 7,
      succeededAt: minutesAfter(LATER, 30),
    });
    expect(done.next.awaitingCallback).toBeUndefined();
    expect(done.audit.detail).toMatchObject({ affectedCount: 7, viaCallback: true });
  });

  it('verifies a succeeded task and audits what it erased', () => {
    // Prepare
    const succeeded = taskIn('succeeded');

    // Act
    const { next, audit } = taskVerified(succeeded, LATER);

    // Assess
    expect(next).toMatchObject({ status: 'verified', verifiedAt: LATER, affectedCount: 3 });
    expect(audit).toMatchObject({
      type: 'task.verified',
      idempotencyKey: `task:${succeeded.taskId}:verified`,
      detail: { affectedCount: 3 },
    });
  });

  it('keeps a failure message without the subject id, audits only its code', () => {
    // Prepare
    const running = taskIn('running');
    const message = `AccessDenied:\n s3://video/${SUBJECT}/clip.mp4 ${'x'.repeat(1000)}`;

    // Act
    const { next, audit } = taskFailed(running, { message, code: 'retries-exhausted' }, LATER);

    // Assess
    expect(next).toMatchObject({ status: 'failed', failedAt: LATER, errorCode: 'retries-exhausted' });
    expect(next.error).toMatch(/^AccessDenied: s3:\/\/video\/\[subject\]\/clip\.mp4 x+…$/);
    expect(Array.from(next.error ?? '').length).toBe(MAX_TASK_ERROR_LENGTH);
    expect(audit).toEqual({
      type: 'task.failed',
      at: LATER,
      idempotencyKey: `task:${running.taskId}:failed:1`,
      requestId: running.requestId,
      taskId: running.taskId,
      dataClass: 'cloud-video',
      target: 'video-bucket',
      detail: {
        status: 'failed',
        attempts: 1,
        action: 'delete',
        connector: 's3-prefix',
        previousStatus: 'running',
        errorCode: 'retries-exhausted',
      },
    });
  });

  it('refuses a failure code that is free text', () => {
    // Act / Assess
    expect(() => taskFailed(taskIn('running'), { message: 'x', code: 'gave up on Alice' }, LATER)).toThrow(
      expect.objectContaining({ field: 'failure.code' }),
    );
  });

  it('leaves failed only through a re-drive, which starts a new attempt and clears the failure', () => {
    // Prepare
    const failed = taskIn('failed');

    // Act
    const redriven = redriveTask(failed, minutesAfter(LATER, 60));
    const failedAgain = taskFailed(redriven.next, 'still down', minutesAfter(LATER, 70));

    // Assess
    expect(() => startTask(failed, LATER)).toThrow(IllegalTransitionError);
    expect(redriven.next).toMatchObject({
      status: 'running',
      attempts: 2,
      startedAt: minutesAfter(LATER, 60),
    });
    expect(redriven.next.error).toBeUndefined();
    expect(redriven.next.failedAt).toBeUndefined();
    expect(redriven.audit.idempotencyKey).toBe(`task:${failed.taskId}:redriven:2`);
    expect(failedAgain.audit.idempotencyKey).toBe(`task:${failed.taskId}:failed:2`);
  });

  it('refuses a negative or fractional affected count', () => {
    // Prepare
    const running = taskIn('running');

    // Act / Assess
    expect(() => taskSucceeded(running, -1, LATER)).toThrow(
      expect.objectContaining({ field: 'affectedCount' }),
    );
    expect(() => taskSucceeded(running, 1.5, LATER)).toThrow(
      expect.objectContaining({ field: 'affectedCount' }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Whole lifecycles (property)
// ---------------------------------------------------------------------------------------------

interface World {
  request: ErasureRequest;
  tasks: ErasureTask[];
  events: AuditEvent[];
}

type Move = (world: World) => void;

const TARGETS = ['video-bucket', 'crm-webhook', 'billing-table', 'alarm-table', 'cookie-store'];

/** The moves a worker, a callback or an operator could make in this state. */
const legalMoves = (world: World, choice: number): Move[] => {
  const moves: Move[] = [];
  world.tasks.forEach((task, index) => {
    const apply =
      (transition: (task: ErasureTask) => Transition<ErasureTask>, outcome?: 'verified' | 'failed'): Move =>
      (w) => {
        const step = transition(task);
        w.tasks[index] = step.next;
        w.events.push(step.audit);
        if (outcome !== undefined) {
          const counted = recordTaskOutcome(w.request, outcome, LATER, task.taskId);
          w.request = counted.next;
          w.events.push(counted.audit);
        }
      };
    switch (task.status) {
      case 'pending':
        moves.push(
          apply((t) => startTask(t, LATER)),
          apply((t) => taskFailed(t, 'queue gave up', LATER), 'failed'),
        );
        break;
      case 'running':
        moves.push(
          apply((t) => startTask(t, LATER)),
          apply((t) => taskAwaitingCallback(t, LATER)),
          apply((t) => taskSucceeded(t, choice % 5, LATER)),
          apply(
            (t) => taskFailed(t, { message: `timeout for ${SUBJECT}`, code: 'retries-exhausted' }, LATER),
            'failed',
          ),
        );
        break;
      case 'succeeded':
        moves.push(
          apply((t) => taskVerified(t, LATER), 'verified'),
          apply((t) => taskFailed(t, { message: 'data left', code: 'verification-failed' }, LATER), 'failed'),
        );
        break;
      case 'failed':
        moves.push((w) => {
          const request = redriveRequest(w.request, 1, LATER);
          const redriven = redriveTask(task, LATER);
          w.request = request.next;
          w.tasks[index] = redriven.next;
          w.events.push(request.audit, redriven.audit);
        });
        break;
      case 'verified':
        break;
    }
  });
  return moves;
};

describe('erasure lifecycles (property)', () => {
  it('audits every transition under its own key, never with the subject id, and keeps the request counts equal to the tasks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: TARGETS.length }),
        fc.array(fc.nat(), { maxLength: 60 }),
        (taskCount, choices) => {
          // Prepare
          const received = receiveRequest({
            requestId: 'req_walk',
            subjectId: SUBJECT,
            origin: 'api',
            dataClasses: ['cloud-video'],
            reason: 'gdpr-art17-1a-no-longer-necessary',
            receivedAt: RECEIVED_AT,
          });
          const dispatched = dispatchRequest(received.next, taskCount, LATER);
          const world: World = {
            request: dispatched.next,
            tasks: TARGETS.slice(0, taskCount).map((target) =>
              pendingTask({ requestId: 'req_walk', target }),
            ),
            events: [received.audit, dispatched.audit],
          };

          // Act
          for (const choice of choices) {
            const moves = legalMoves(world, choice);
            const move = moves[choice % Math.max(moves.length, 1)];
            if (move === undefined) break;
            move(world);
          }

          // Assess
          const verified = world.tasks.filter((task) => task.status === 'verified').length;
          const failed = world.tasks.filter((task) => task.status === 'failed').length;
          const expectedStatus =
            verified + failed < taskCount ? 'dispatched' : failed === 0 ? 'completed' : 'partially_failed';
          expect(world.request).toMatchObject({
            status: expectedStatus,
            verifiedCount: verified,
            failedCount: failed,
          });
          // Only a repeated no-op (asking again to await the callback) may reuse a key, with the same event.
          const byKey = new Map<string, AuditEvent>();
          for (const event of world.events) {
            expect(byKey.get(event.idempotencyKey) ?? event).toEqual(event);
            byKey.set(event.idempotencyKey, event);
            expect(() => assertNoSubjectData(event, SUBJECT)).not.toThrow();
          }
          const repeatedNoOps = world.events.length - byKey.size;
          expect(
            world.events.filter((event) => event.type === 'task.awaiting_callback').length,
          ).toBeGreaterThanOrEqual(repeatedNoOps);
          expect(verifyChain(chainOf(world.events)).ok).toBe(true);
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------------

describe('ids', () => {
  it('gives a scheduled deletion the same request id every time, without showing the subject id', () => {
    // Act
    const id = scheduledRequestId(SUBJECT, 'alarm-events', '2026-11-28T10:00:00.000Z');
    const again = scheduledRequestId(SUBJECT, 'alarm-events', '2026-11-28T10:00:00.000Z');

    // Assess
    expect(id).toBe(again);
    expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(id).not.toContain('alice');
  });

  it('gives different schedule entries different ids', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.string({ minLength: 1 }), fc.string({ minLength: 1 })),
        fc.tuple(fc.string({ minLength: 1 }), fc.string({ minLength: 1 })),
        ([subjectA, classA], [subjectB, classB]) => {
          fc.pre(subjectA !== subjectB || classA !== classB);

          // Act / Assess
          expect(scheduledRequestId(subjectA, classA, RECEIVED_AT)).not.toBe(
            scheduledRequestId(subjectB, classB, RECEIVED_AT),
          );
        },
      ),
    );
  });

  it('keys a scheduled request id when given the pseudonym key, so it cannot be confirmed by guessing', () => {
    // Act
    const unkeyed = scheduledRequestId(SUBJECT, 'alarm-events', RECEIVED_AT);
    const keyed = scheduledRequestId(SUBJECT, 'alarm-events', RECEIVED_AT, { key: 'pseudonym-key' });

    // Assess
    expect(keyed).toMatch(/^req_[0-9a-f]{32}$/);
    expect(keyed).not.toBe(unkeyed);
    expect(scheduledRequestId(SUBJECT, 'alarm-events', RECEIVED_AT, { key: 'pseudonym-key' })).toBe(keyed);
  });

  it('refuses a schedule time that is not a canonical instant', () => {
    // Act / Assess
    expect(() => scheduledRequestId(SUBJECT, 'alarm-events', '2026-11-28')).toThrow(
      expect.objectContaining({ field: 'dueAt' }),
    );
  });

  it('derives task ids from request, class and target', () => {
    // Act
    const id = taskIdFor('req_1', 'cloud-video', 'video-bucket');

    // Assess
    expect(id).toMatch(/^task_[0-9a-f]{32}$/);
    expect(taskIdFor('req_1', 'cloud-video', 'video-bucket')).toBe(id);
    expect(taskIdFor('req_1', 'cloud-video', 'other-bucket')).not.toBe(id);
    expect(taskIdFor('req_2', 'cloud-video', 'video-bucket')).not.toBe(id);
  });

  it('turns injected randomness into a request id', () => {
    // Act
    const id = newRequestId('5f0c8b1e-3a52-4c55-9a55-0e0d6c1b7a10');

    // Assess
    expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(newRequestId('5f0c8b1e-3a52-4c55-9a55-0e0d6c1b7a10')).toBe(id);
    expect(newRequestId('0b7c5a1e-1111-4c55-9a55-0e0d6c1b7a10')).not.toBe(id);
    expect(newRequestId(new Uint8Array([1, 2, 3]))).toMatch(/^req_[0-9a-f]{32}$/);
    expect(() => newRequestId('')).toThrow(ValidationError);
  });
});

describe('the rule an erasure is done under is on its audit entries, so the trail filters by rule as the erasures report counts', () => {
  const requestOf = (origin: 'api' | 'schedule', reason: string) =>
    receiveRequest({
      requestId: 'req_0123456789abcdef',
      subjectId: SUBJECT,
      origin,
      dataClasses: ['customer-profile'],
      reason,
      receivedAt: RECEIVED_AT,
    });
  const taskOf = (request: ErasureRequest) =>
    tasksFromPlan(
      [
        {
          dataClass: 'customer-profile',
          action: 'delete',
          target: {
            kind: 'dynamodb-items',
            name: 'customer-records',
            table: 'customers',
            keyAttributes: ['subjectId'],
            subjectAttribute: 'subjectId',
          },
        },
      ],
      request,
    )[0] as ErasureTask;

  it.each([
    ['a subject’s erasure request (ALU-3)', 'api', 'gdpr-art17-request', 'ALU-3'],
    ['a scheduled deletion (its retention rule)', 'schedule', 'retention:all-1', 'ALL-1'],
  ] as const)('%s: the request’s and its tasks’ entries', (_name, origin, reason, ruleRef) => {
    const received = requestOf(origin, reason);
    const task = taskOf(received.next);
    const dispatched = dispatchRequest(received.next, 1, LATER);
    const started = startTask(task, LATER);
    const verified = taskVerified(taskSucceeded(started.next, 3, LATER).next, LATER);

    expect(received.audit.ruleRef).toBe(ruleRef);
    expect(dispatched.audit.ruleRef).toBe(ruleRef);
    expect(task.ruleRef).toBe(ruleRef);
    expect(started.audit.ruleRef).toBe(ruleRef);
    expect(verified.audit.ruleRef).toBe(ruleRef);
    // A decision of its own keeps its own rule.
    expect(rejectRequest(received.next, LEGAL_REASON, LATER).audit.ruleRef).toBe('IMOU-6');
  });
});

describe('a refused transition says which states allow it', () => {
  it('rejecting a completed request, and re-driving one with nothing failed', () => {
    const completed = requestIn('completed');

    const rejecting = (() => {
      try {
        rejectRequest(completed, LEGAL_REASON, LATER);
      } catch (error) {
        return error as Error;
      }
    })();
    const redriving = (() => {
      try {
        redriveRequest(completed, 1, LATER);
      } catch (error) {
        return error as Error;
      }
    })();

    expect(rejecting).toBeInstanceOf(IllegalTransitionError);
    expect(rejecting?.message).toBe(
      "A request cannot go from 'completed' to 'rejected': only a request that is received, blocked or partially_failed can.",
    );
    expect(redriving?.message).toBe(
      "A request cannot go from 'completed' to 'dispatched': only a request that is partially_failed, or dispatched with a failed task, can be re-driven.",
    );
  });
});

describe('which requests may get a certificate of erasure', () => {
  const codeOf = (request: ErasureRequest, tasks: readonly ErasureTask[]) =>
    (thrown(() => requireCertifiable({ request, tasks })) as { code?: string } | undefined)?.code;

  it('a final request that did not erase everything gets no_certificate: a client must not wait for one', () => {
    expect(codeOf(requestIn('rejected'), [taskIn('cancelled')])).toBe('no_certificate');
    expect(codeOf(requestIn('rejected'), [taskIn('verified'), taskIn('failed')])).toBe('no_certificate');
    expect(codeOf(requestIn('cancelled'), [taskIn('cancelled')])).toBe('no_certificate');
    // Completed with nothing it could address: nothing was erased, and nothing ever will be.
    expect(codeOf(requestIn('completed'), [])).toBe('no_certificate');
  });

  it('a request that may still finish gets not_ready, naming what is missing', () => {
    expect(codeOf(requestIn('received'), [])).toBe('not_ready');
    expect(codeOf(requestIn('dispatched'), [taskIn('verified'), taskIn('running')])).toBe('not_ready');
    // Partially failed can be re-driven.
    expect(codeOf(requestIn('partially_failed'), [taskIn('verified'), taskIn('failed')])).toBe('not_ready');
    expect(() =>
      requireCertifiable({
        request: requestIn('completed'),
        tasks: [taskIn('verified'), taskIn('verified')],
      }),
    ).not.toThrow();
  });
});
