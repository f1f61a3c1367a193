/** What the server puts in the page (a JSON script element, never executed): read by app/api.ts. */
export interface PageConfig {
  /** Sent as `Authorization: Bearer <token>` on every /v1 call. */
  readonly token: string;
  /** What the header says the page talks to (the local runtime, or the deployed API's URL). */
  readonly apiLabel: string;
}

/** The id of the element that carries the PageConfig. */
export const CONFIG_ELEMENT_ID = 'erasure-dashboard-config';
