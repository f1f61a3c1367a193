/**
 * KeyedQueue, the per-chain queue of DynamoUnitOfWork: work sharing a key runs one at a time in
 * call order, work on other keys runs beside it, a failure frees its keys, and calls on several
 * keys never wait on each other in a circle. Against DynamoDB Local (no lost race within one
 * function, another chain not held up): test/integration/unit-of-work.test.ts, "audit appends".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../functions/adapters/dynamo-unit-of-work.js';

/** A promise and the function that resolves it. */
const deferred = () => {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
};

describe('KeyedQueue', () => {
  it('runs work on one key one at a time, in call order', async () => {
    // Prepare
    const queue = new KeyedQueue();
    const log: string[] = [];
    const first = deferred();

    // Act
    const runs = [
      queue.run(['chain-a'], async () => {
        log.push('first starts');
        await first.promise;
        log.push('first ends');
      }),
      queue.run(['chain-a'], async () => {
        log.push('second starts');
      }),
    ];
    await Promise.resolve();
    log.push('first released');
    first.resolve();
    await Promise.all(runs);

    // Assess
    expect(log).toEqual(['first starts', 'first released', 'first ends', 'second starts']);
  });

  it('starts work with nothing ahead of it at once, and work on another key beside work in flight', async () => {
    // Prepare
    const queue = new KeyedQueue();
    const held = deferred();
    let started = 0;

    // Act: the first call's work starts in the same tick; the other key's does not wait for it.
    const first = queue.run(['chain-a'], async () => {
      started++;
      await held.promise;
    });
    const startedAtOnce = started;
    await queue.run(['chain-b'], async () => {
      started++;
    });
    held.resolve();
    await first;

    // Assess
    expect(startedAtOnce).toBe(1);
    expect(started).toBe(2);
  });

  it('frees the keys of work that failed: the next call runs, the failure reaches its own caller only', async () => {
    // Prepare
    const queue = new KeyedQueue();

    // Act
    const failed = queue.run(['chain-a'], async () => {
      throw new Error('transaction refused');
    });
    const next = queue.run(['chain-a'], async () => 'committed');

    // Assess
    await expect(failed).rejects.toThrow('transaction refused');
    await expect(next).resolves.toBe('committed');
  });

  it('never deadlocks calls on several keys, and never runs two calls sharing a key at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 0, maxLength: 3 }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (calls) => {
          // Prepare
          const queue = new KeyedQueue();
          const busy = new Set<string>();
          const order: number[] = [];

          // Act
          await Promise.all(
            calls.map((keys, index) =>
              queue.run(keys, async () => {
                for (const key of keys) {
                  expect(busy.has(key)).toBe(false);
                  busy.add(key);
                }
                await new Promise((resolve) => setTimeout(resolve, 0));
                for (const key of keys) busy.delete(key);
                order.push(index);
              }),
            ),
          );

          // Assess: every call ran, and calls sharing a key ran in call order.
          expect([...order].sort((x, y) => x - y)).toEqual(calls.map((_, index) => index));
          calls.forEach((keys, index) => {
            calls.slice(index + 1).forEach((later, offset) => {
              if (keys.some((key) => later.includes(key))) {
                expect(order.indexOf(index)).toBeLessThan(order.indexOf(index + 1 + offset));
              }
            });
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});
