import type { LifecycleEventType } from '../../domain/events.js';
import { recordLifecycleEvent } from '../../functions/services/lifecycle-events.js';
import type { BenchContext, SectionResult } from './context.js';
import { forEachConcurrently, formatNumber, perSecond, progress, type Row, range, timed } from './stats.js';

/** Event types measured: a light one (one entry) and the most frequent one (every login). */
const EVENT_TYPES: readonly LifecycleEventType[] = ['contract.ended', 'subject.active'];

/** `3 scheduled + 1 notice`, from the decisions of a first event. */
const describeDecisions = (decisions: readonly { change: string }[]): string => {
  const byChange = new Map<string, number>();
  for (const { change } of decisions) byChange.set(change, (byChange.get(change) ?? 0) + 1);
  return [...byChange].map(([change, count]) => `${count} ${change}`).join(' + ');
};

/**
 * 2. Lifecycle events through the service (`recordLifecycleEvent` with the runtime's deps, as the
 * API handler calls it): recorded-event check, schedule load, decision, one TransactWriteItems,
 * audit append. Distinct subjects, so no optimistic-lock retries.
 */
export const benchLifecycleEvents = async ({
  runtime,
  config,
  counter,
}: BenchContext): Promise<SectionResult> => {
  const rows: Row[] = [];
  for (const type of EVENT_TYPES) {
    const samples: number[] = [];
    const reads: number[] = [];
    const writes: number[] = [];
    const readUnits: number[] = [];
    const writeUnits: number[] = [];
    let decided = '';
    for (let rep = 0; rep < config.repeats; rep++) {
      const occurredAt = new Date().toISOString();
      const subjects = range(config.events).map(
        (index) => `bench-event-${type.replace('.', '-')}-${rep}-${String(index).padStart(5, '0')}`,
      );
      counter.reset();
      const { ms } = await timed(() =>
        forEachConcurrently(subjects, config.concurrency, async (subjectId) => {
          const result = await recordLifecycleEvent(runtime.deps, {
            subjectId,
            type,
            occurredAt,
            attributes: {},
          });
          if (result.decisions.length === 0) throw new Error(`${type} decided nothing for a new subject`);
          decided = describeDecisions(result.decisions);
        }),
      );
      samples.push(perSecond(config.events, ms));
      // Exact, unlike the rate: what one event costs DynamoDB (docs/scale.md builds on it).
      const counts = counter.snapshot();
      reads.push(counts.readRequests / config.events);
      writes.push(counts.writeRequests / config.events);
      readUnits.push(counts.readCapacityUnits / config.events);
      writeUnits.push(counts.writeCapacityUnits / config.events);
    }
    progress(`events: ${type}: ${samples.map(formatNumber).join(', ')} events/s`);
    rows.push({
      what: `lifecycle events (${type}: ${decided}), ${config.events} per run, concurrency ${config.concurrency}`,
      samples,
      unit: 'events/s',
    });
    rows.push(
      { what: `DynamoDB read requests per event (${type})`, samples: reads, unit: 'requests' },
      { what: `DynamoDB write requests per event (${type})`, samples: writes, unit: 'requests' },
      { what: `DynamoDB read capacity per event (${type})`, samples: readUnits, unit: 'RCU' },
      { what: `DynamoDB write capacity per event (${type})`, samples: writeUnits, unit: 'WCU' },
    );
  }
  return { rows };
};
