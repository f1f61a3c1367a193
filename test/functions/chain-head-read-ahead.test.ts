/**
 * The services that commit with an audit entry after reads of their own ask the unit of work to
 * read the chain head ahead (`prepare`), so the head's round trip runs beside theirs instead of
 * after them: intake before its three reads, a lifecycle event before its two, the worker while
 * verification reads the target, the sweep beside a due entry's holds. The adapter's side (the head read once, a stale one refused and
 * read again) is proven against DynamoDB Local in test/integration/unit-of-work.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ScheduleEntry } from '../../domain/schedule/types.js';
import { makeHandler as makeWorker } from '../../functions/run-connector-task.js';
import { submitErasureRequest } from '../../functions/services/erasure-requests.js';
import { recordLifecycleEvent } from '../../functions/services/lifecycle-events.js';
import { sweepDueDeletions } from '../../functions/services/sweep.js';
import { stubRegistry } from '../helpers/connectors.js';
import { handlerDeps, lambdaContext, sqsRecord } from '../helpers/handler-deps.js';

const SUBJECT = 'subject-read-ahead-1';

/**
 * The deps of `handlerDeps`, with every read, `prepare` and commit written to one log in order,
 * and `<call>.end` once a call's promise settles: reads that overlap start before either ends.
 */
const logged = (options: Parameters<typeof handlerDeps>[0] = {}) => {
  const built = handlerDeps(options);
  const log: string[] = [];
  const { deps } = built;
  const wrap = <T extends object>(port: T, name: string, methods: readonly (keyof T & string)[]) => {
    for (const method of methods) {
      const original = (port[method] as (...args: unknown[]) => unknown).bind(port);
      Object.assign(port, {
        [method]: (...args: unknown[]) => {
          log.push(`${name}.${method}`);
          const result = original(...args);
          if (result instanceof Promise) {
            void result.then(
              () => log.push(`${name}.${method}.end`),
              () => log.push(`${name}.${method}.end`),
            );
          }
          return result;
        },
      });
    }
  };
  wrap(deps.requests, 'requests', ['idempotencyRecord', 'get']);
  wrap(deps.schedules, 'schedules', ['load', 'recordedEvent']);
  wrap(deps.holds, 'holds', ['forSubject']);
  wrap(deps.uow, 'uow', ['commit']);
  if (deps.suppressions !== undefined) wrap(deps.suppressions, 'suppressions', ['find']);
  Object.assign(deps.uow, {
    prepare: (subjectIds: readonly (string | undefined)[]) => log.push(`uow.prepare ${subjectIds.join(',')}`),
  });
  return { built, log };
};

describe('chain heads read ahead', () => {
  it('intake asks for the head before its three reads, and commits after them', async () => {
    // Prepare
    const { built, log } = logged();

    // Act
    await submitErasureRequest(
      built.deps,
      { subjectId: SUBJECT, dataClasses: ['cloud-video'], reason: 'gdpr-art17-request' },
      'read-ahead-intake',
    );

    // Assess
    expect(log.slice(0, 4)).toEqual([
      `uow.prepare ${SUBJECT}`,
      'requests.idempotencyRecord',
      'schedules.load',
      'holds.forSubject',
    ]);
    expect(log.filter((line) => line.startsWith('uow.') && !line.endsWith('.end'))).toEqual([
      `uow.prepare ${SUBJECT}`,
      'uow.commit',
    ]);
  });

  it('a lifecycle event reads its answer, the schedule and the suppressions in one round trip, the head beside them', async () => {
    // Prepare
    const { built, log } = logged();

    // Act
    await recordLifecycleEvent(built.deps, {
      subjectId: SUBJECT,
      type: 'contract.ended',
      occurredAt: '2026-11-01T00:00:00.000Z',
      attributes: {},
    });

    // Assess: every read started before the first one ended; the commit came after them all.
    const firstEnd = log.findIndex((line) => line.endsWith('.end'));
    expect(log.slice(0, firstEnd).sort()).toEqual(
      ['suppressions.find', `uow.prepare ${SUBJECT}`, 'schedules.recordedEvent', 'schedules.load'].sort(),
    );
    expect(log.indexOf('uow.commit')).toBeGreaterThan(log.indexOf('schedules.load.end'));
  });

  it('the worker asks for it when the connector is done, so the read runs while verification reads the target', async () => {
    // Prepare
    const steps: string[] = [];
    const registry = stubRegistry(
      async () => {
        steps.push('execute');
        return { status: 'done', affectedCount: 2 };
      },
      async () => {
        steps.push('verify');
        return { verified: true };
      },
    );
    const { built } = logged({ overrides: { connectors: registry } });
    await submitErasureRequest(
      built.deps,
      { subjectId: SUBJECT, dataClasses: ['cloud-video'], reason: 'gdpr-art17-request' },
      'read-ahead-worker',
    );
    const [message] = built.ports.sent.splice(0);
    Object.assign(built.deps.uow, {
      prepare: (subjectIds: readonly string[]) => steps.push(`prepare ${subjectIds.join(',')}`),
    });

    // Act
    const worker = makeWorker(() => Promise.resolve(built.deps));
    const { batchItemFailures } = await worker(
      { Records: [sqsRecord('m-1', JSON.stringify(message), { receiveCount: 1 })] },
      lambdaContext('worker'),
    );

    // Assess
    expect(batchItemFailures).toEqual([]);
    expect(steps).toEqual(['execute', `prepare ${SUBJECT}`, 'verify']);
    expect((await built.deps.requests.get(message?.requestId ?? ''))?.request.status).toBe('completed');
  });

  it('ALL-3: the sweep asks for the head of a due subject beside its holds read, and commits after it', async () => {
    // Prepare: a suspended account's deletion, due and listed in the due index.
    const now = '2027-03-01T00:00:00.000Z';
    const occurred = {
      eventId: 'evt_suspended',
      type: 'account.suspended',
      occurredAt: '2026-11-28T00:00:00.000Z',
    } as const;
    const due: ScheduleEntry = {
      subjectId: SUBJECT,
      dataClass: 'suspended-account',
      status: 'pending',
      action: 'delete',
      ruleRef: 'ALL-3',
      dueAt: '2027-02-28T00:00:00.000Z',
      trigger: occurred,
      lastEvent: occurred,
      lastChange: 'scheduled',
    };
    const { built, log } = logged({ now, dueBucketShards: 1 });
    built.ports.state.subjects.set(SUBJECT, { version: 1 });
    built.ports.state.entries.set(`${SUBJECT}\u0000suspended-account`, { entry: due });
    built.ports.schedules.queryDue = async (bucket) =>
      bucket === '2027-02#00' ? [{ kind: 'entry', entry: due }] : [];

    // Act
    const report = await sweepDueDeletions(built.deps, now);

    // Assess: the head was asked for before the holds read started; the entry's commit came after it.
    expect(report.dispatched.map((dispatched) => dispatched.ruleRef)).toEqual(['ALL-3']);
    const prepared = log.indexOf(`uow.prepare ${SUBJECT}`);
    expect(prepared).toBeGreaterThanOrEqual(0);
    expect(prepared).toBeLessThan(log.indexOf('holds.forSubject'));
    expect(log.indexOf('uow.commit', prepared)).toBeGreaterThan(log.indexOf('holds.forSubject.end'));
  });
});
