/**
 * Crash injection: for every write of every use case, the process dies right after the write
 * (stored, but the caller never hears so), and the product's own retries take over: the client
 * re-sends with the same Idempotency-Key, SQS redelivers the message, the sweep reviews stuck work.
 * In every case the final state is right and the audit chain is complete, verifies, and holds no
 * event twice.
 */
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../domain/audit/index.js';
import { makeHandler as makeWorker } from '../../functions/run-connector-task.js';
import { rejectErasureRequest, submitErasureRequest } from '../../functions/services/erasure-requests.js';
import { placeLegalHold, releaseLegalHold } from '../../functions/services/legal-holds.js';
import { recordLifecycleEvent } from '../../functions/services/lifecycle-events.js';
import { settle } from '../../functions/services/run-task.js';
import { sweepDueDeletions } from '../../functions/services/sweep.js';
import { stubRegistry } from '../helpers/connectors.js';
import { type HandlerDeps, handlerDeps, lambdaContext, sqsRecord } from '../helpers/handler-deps.js';

const SUBJECT = 'subject-crash-7';
const START = Date.parse('2026-11-21T12:00:00.000Z');

interface World {
  readonly built: HandlerDeps;
  /** Moves the clock on, as time passes between a crash and the retries that follow it. */
  advance(hours: number): void;
  /** Delivers every queued message to the worker; failed ones go back on the queue (redelivery). */
  drain(): Promise<void>;
  sweep(): Promise<void>;
}

const world = (): World => {
  let now = START;
  const built = handlerDeps({ overrides: { connectors: stubRegistry(), clock: () => new Date(now) } });
  const worker = makeWorker(() => Promise.resolve(built.deps));
  let delivery = 0;
  return {
    built,
    advance: (hours) => {
      now += hours * 3600_000;
    },
    drain: async () => {
      for (let round = 0; round < 10 && built.ports.sent.length > 0; round++) {
        const messages = built.ports.sent.splice(0);
        const records = messages.map((message) => sqsRecord(`m-${++delivery}`, JSON.stringify(message)));
        const { batchItemFailures } = await worker({ Records: records }, lambdaContext('worker'));
        const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
        records.forEach((record, index) => {
          if (failed.has(record.messageId))
            built.ports.sent.push(messages[index] as (typeof messages)[number]);
        });
      }
    },
    sweep: async () => {
      await sweepDueDeletions(built.deps, new Date(now).toISOString());
    },
  };
};

/** A use case from the first call to its end, as clients, the queue and the sweep drive it. */
interface Scenario {
  readonly name: string;
  /** What a caller does; re-run after a crash, as a client retries. */
  run(w: World): Promise<void>;
  /** The state every run must end in. */
  check(w: World): void;
  /** The entry types every run's trail must hold. @default received, dispatched, verified, completed */
  readonly entries?: readonly string[];
}

const completedRequests = (w: World) =>
  [...w.built.ports.state.requests.values()].filter((request) => request.status === 'completed');

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'an erasure request from the API, run to completion',
    run: async (w) => {
      await submitErasureRequest(
        w.built.deps,
        { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' },
        'crash-key-1',
      );
      await w.drain();
    },
    check: (w) => {
      expect(w.built.ports.state.requests.size).toBe(1);
      expect(completedRequests(w)).toHaveLength(1);
    },
  },
  {
    name: 'a lifecycle event whose deletion is due at once, swept and run',
    run: async (w) => {
      await recordLifecycleEvent(w.built.deps, {
        subjectId: SUBJECT,
        type: 'account.deleted',
        occurredAt: '2026-11-21T11:00:00.000Z',
        attributes: {},
      });
      await w.sweep();
      await w.drain();
    },
    check: (w) => {
      expect(completedRequests(w).map((request) => request.dataClasses)).toContainEqual(['closed-account']);
      expect(
        [...w.built.ports.state.requests.values()].every((request) => request.status === 'completed'),
      ).toBe(true);
    },
  },
  {
    name: 'a request blocked by a hold, released, then run',
    run: async (w) => {
      const holds = await w.built.deps.holds.forSubject(SUBJECT);
      const hold =
        holds.find((candidate) => candidate.releasedAt === undefined) ??
        (w.built.ports.state.holds.size === 0
          ? await placeLegalHold(w.built.deps, { subjectId: SUBJECT, reason: 'litigation-2026-9' })
          : undefined);
      await submitErasureRequest(
        w.built.deps,
        { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' },
        'crash-key-2',
      );
      if (hold !== undefined) await releaseLegalHold(w.built.deps, hold.holdId);
      await w.sweep();
      await w.drain();
    },
    check: (w) => {
      expect(w.built.ports.state.requests.size).toBe(1);
      expect(completedRequests(w)).toHaveLength(1);
      expect([...w.built.ports.state.holds.values()].every((hold) => hold.releasedAt !== undefined)).toBe(
        true,
      );
    },
  },
  {
    name: 'a blocked request rejected by compliance (IMOU-6), the rejection retried with the same reason',
    run: async (w) => {
      if (w.built.ports.state.holds.size === 0) {
        await placeLegalHold(w.built.deps, { subjectId: SUBJECT, reason: 'litigation-2026-9' });
      }
      const { requestId } = await submitErasureRequest(
        w.built.deps,
        { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' },
        'crash-key-3',
      );
      await rejectErasureRequest(w.built.deps, requestId, 'legal-claims-art17-3e');
    },
    check: (w) => {
      const requests = [...w.built.ports.state.requests.values()];
      expect(requests.map((request) => request.status)).toEqual(['rejected']);
      const tasks = [...w.built.ports.state.tasks.values()];
      expect(tasks.length).toBeGreaterThan(0);
      expect(tasks.every((task) => task.status === 'cancelled')).toBe(true);
    },
    entries: ['request.received', 'request.blocked', 'request.rejected'],
  },
];

/**
 * Data minimisation whatever write the crash followed: a request that ended (completed, rejected)
 * and its tasks keep the subject's pseudonym, never its id.
 */
const checkForgotten = (w: World) => {
  const ended = [...w.built.ports.state.requests.values()].filter(
    (request) => request.status === 'completed' || request.status === 'rejected',
  );
  const ids = new Set(ended.map((request) => request.requestId));
  const tasks = [...w.built.ports.state.tasks.values()].filter((task) => ids.has(task.requestId));
  expect(JSON.stringify({ ended, tasks })).not.toContain(SUBJECT);
};

/** The trail after a run: every chain verifies, and no event is in it twice. */
const checkTrail = (w: World) => {
  for (const chain of w.built.ports.state.chains.values()) {
    expect(verifyChain(chain)).toMatchObject({ ok: true });
    const keys = chain.map((entry) => entry.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
  }
};

/** Runs a scenario to its end, recovering from a crash as the product would (retries, the sweep). */
const runToEnd = async (scenario: Scenario, w: World) => {
  for (let attempt = 0; attempt < 6; attempt++) {
    try {
      await scenario.run(w);
    } catch {
      // The caller saw a failure: it retries, later.
    }
    w.advance(2);
    await w.sweep();
    await w.drain();
    try {
      scenario.check(w);
      return;
    } catch {
      // Not there yet: the next round of retries goes on.
    }
  }
  scenario.check(w);
};

describe('a crash right after any write', () => {
  for (const scenario of SCENARIOS) {
    describe(scenario.name, () => {
      it('ends in the right state with a complete trail when nothing fails (the control)', async () => {
        const w = world();
        await runToEnd(scenario, w);
        checkTrail(w);
        checkForgotten(w);
        expect(w.built.ports.commits.length).toBeGreaterThan(2);
      });

      it('ends in the right state with a complete, verifying trail, whichever write the crash follows', async () => {
        const control = world();
        await runToEnd(scenario, control);
        const writes = control.built.ports.commits.filter((commit) => commit.result.committed).length;
        for (let crashAfter = 1; crashAfter <= writes; crashAfter++) {
          // Prepare: the process dies right after its n-th write, once.
          const w = world();
          let written = 0;
          w.built.ports.afterCommit = () => {
            if (++written === crashAfter) throw new Error(`crash after write ${crashAfter}`);
          };

          // Act
          await runToEnd(scenario, w);

          // Assess
          expect(written, `crash after write ${crashAfter}`).toBeGreaterThanOrEqual(crashAfter);
          checkTrail(w);
          checkForgotten(w);
          const types = new Set(w.built.ports.allEntries().map((entry) => entry.type));
          for (const type of scenario.entries ?? [
            'request.received',
            'request.dispatched',
            'task.verified',
            'request.completed',
          ]) {
            expect(types, `crash after write ${crashAfter}: ${type}`).toContain(type);
          }
        }
      });
    });
  }
});

describe('a crash inside a settling or rejecting commit never leaves the subject id behind', () => {
  it('settle: a request whose tasks all reported completes and forgets whose it was in one write, so a crash right after it leaves no id', async () => {
    // Prepare: every task verified and counted (an outcome that fell back to counting alone), the
    // request still dispatched; the process then dies right after settle's first write.
    const w = world();
    const { requestId } = await submitErasureRequest(
      w.built.deps,
      { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' },
      'crash-key-settle',
    );
    w.built.ports.sent.splice(0);
    const tasks = [...w.built.ports.state.tasks.values()].filter((task) => task.requestId === requestId);
    for (const task of tasks) {
      const next = {
        ...task,
        status: 'verified' as const,
        attempts: 1,
        verifiedAt: new Date(START).toISOString(),
      };
      expect(
        await w.built.deps.uow.commit([
          { kind: 'task.outcome', next, expected: { status: 'pending', attempts: 0 } },
        ]),
      ).toEqual({ committed: true });
    }
    let written = 0;
    w.built.ports.afterCommit = () => {
      if (++written === 1) throw new Error('crash after the first write');
    };

    // Act: settle dies after its first write; the sweep (and any later settle) runs afterwards.
    await expect(settle(w.built.deps, requestId)).rejects.toThrow('crash after the first write');
    w.advance(2);
    await w.sweep();
    await settle(w.built.deps, requestId);

    // Assess
    expect(w.built.ports.state.requests.get(requestId)?.status).toBe('completed');
    checkForgotten(w);
  });

  it('rejection: the request is rejected, its tasks cancelled and the subject forgotten in one write, so a crash right after it leaves no id', async () => {
    // Prepare
    const w = world();
    await placeLegalHold(w.built.deps, { subjectId: SUBJECT, reason: 'litigation-2026-9' });
    const { requestId } = await submitErasureRequest(
      w.built.deps,
      { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' },
      'crash-key-reject',
    );
    let written = 0;
    w.built.ports.afterCommit = () => {
      if (++written === 1) throw new Error('crash after the first write');
    };

    // Act: the officer's call dies; nobody retries it.
    await expect(rejectErasureRequest(w.built.deps, requestId, 'legal-claims-art17-3e')).rejects.toThrow(
      'crash after the first write',
    );
    w.advance(2);
    await w.sweep();

    // Assess
    expect(w.built.ports.state.requests.get(requestId)?.status).toBe('rejected');
    expect(
      [...w.built.ports.state.tasks.values()]
        .filter((task) => task.requestId === requestId)
        .map((task) => task.status),
    ).toEqual(expect.arrayContaining(['cancelled']));
    expect(
      [...w.built.ports.state.tasks.values()].some(
        (task) => task.requestId === requestId && task.status === 'pending',
      ),
    ).toBe(false);
    checkForgotten(w);
  });
});
