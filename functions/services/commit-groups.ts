/** One piece of work that may submit an item under its key, once. */
export interface GroupParticipant<T, R> {
  submit(item: T): Promise<R>;
  /** The work is over, whether it submitted or not: the group no longer waits for it. */
  leave(): void;
}

/**
 * Group commit per key (one request's outcomes in one worker batch). Work that may submit under a
 * key enters first. A commit goes out once every participant of its key has submitted or left, or
 * once it has waited `lingerMs` for them, with at most `maxGroup` items; items that arrive while
 * it is in flight go together in the next. So the tasks of one request that run in one batch
 * usually report in one commit, and a slow sibling holds the others back for `lingerMs` at most.
 * A group whose commit fails is committed again item by item, so one bad item fails alone (unless
 * `retryEachAlone` is false: a group of like items, one read for all, fails together).
 */
export class CommitGroups<T, R> {
  private readonly lanes = new Map<string, Lane<T, R>>();

  constructor(
    private readonly commitTogether: (key: string, items: readonly T[]) => Promise<readonly R[]>,
    private readonly options: {
      readonly maxGroup: number;
      readonly lingerMs: number;
      /** @default true */
      readonly retryEachAlone?: boolean;
    },
  ) {
    if (!Number.isInteger(options.maxGroup) || options.maxGroup < 1) {
      throw new RangeError('maxGroup must be at least 1');
    }
  }

  enter(key: string): GroupParticipant<T, R> {
    const lane = this.lane(key);
    lane.pending++;
    let counted = true;
    const over = () => {
      if (!counted) return;
      counted = false;
      lane.pending--;
      lane.wake?.();
    };
    return {
      submit: (item) => {
        over();
        return this.push(key, lane, item);
      },
      leave: () => {
        over();
        this.forget(key, lane);
      },
    };
  }

  private push(key: string, lane: Lane<T, R>, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      lane.waiting.push({ item, resolve, reject });
      lane.wake?.();
      if (!lane.draining) {
        lane.draining = true;
        void this.drain(key, lane);
      }
    });
  }

  private lane(key: string): Lane<T, R> {
    const existing = this.lanes.get(key);
    if (existing !== undefined) return existing;
    const lane: Lane<T, R> = { waiting: [], pending: 0, draining: false };
    this.lanes.set(key, lane);
    return lane;
  }

  /** Drops an idle lane; one that a later participant of the key replaced is left to that one. */
  private forget(key: string, lane: Lane<T, R>): void {
    const idle = lane.pending === 0 && !lane.draining && lane.waiting.length === 0;
    if (idle && this.lanes.get(key) === lane) this.lanes.delete(key);
  }

  private async drain(key: string, lane: Lane<T, R>): Promise<void> {
    while (lane.waiting.length > 0) {
      await this.gather(lane);
      const group = lane.waiting.splice(0, this.options.maxGroup);
      try {
        const results = await this.commitTogether(
          key,
          group.map((waiting) => waiting.item),
        );
        group.forEach((waiting, index) => {
          waiting.resolve(results[index] as R);
        });
      } catch (error) {
        if (group.length === 1 || this.options.retryEachAlone === false) {
          for (const waiting of group) waiting.reject(error);
          continue;
        }
        // One item's failure must not fail the others with it: each is committed on its own.
        for (const waiting of group) {
          try {
            const [result] = await this.commitTogether(key, [waiting.item]);
            waiting.resolve(result as R);
          } catch (alone) {
            waiting.reject(alone);
          }
        }
      }
    }
    // No await since the loop's last check: nothing can have joined the lane in between.
    lane.draining = false;
    this.forget(key, lane);
  }

  /** Waits while participants have neither submitted nor left, for `lingerMs` at most. */
  private async gather(lane: Lane<T, R>): Promise<void> {
    const deadline = Date.now() + this.options.lingerMs;
    while (lane.pending > 0 && lane.waiting.length < this.options.maxGroup) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        lane.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      lane.wake = undefined;
    }
  }
}

interface Lane<T, R> {
  readonly waiting: Waiting<T, R>[];
  /** Participants that have neither submitted nor left. */
  pending: number;
  draining: boolean;
  /** Ends the current wait of `gather` early: someone submitted or left. */
  wake?: (() => void) | undefined;
}

interface Waiting<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}
