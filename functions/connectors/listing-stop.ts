/**
 * A dry run's stop, shared by the connectors that list in pages: once `signal` aborts, no further
 * page is read, and `cut` records that one was left unread (the count is then a lower bound).
 */
export interface ListingStop {
  readonly signal: AbortSignal;
  cut: boolean;
}

/** A stop for `signal`, or none (an erasure or a verification always reads every page). */
export const listingStop = (signal: AbortSignal | undefined): ListingStop | undefined =>
  signal === undefined ? undefined : { signal, cut: false };

/** Called where a next page would be read: true (and the stop marked cut) when it must not be. */
export const stopsBeforeNextPage = (stop: ListingStop | undefined): boolean => {
  if (stop?.signal.aborted !== true) return false;
  stop.cut = true;
  return true;
};
