/** What happened, before it is chained. Holds no personal data: subjects appear only as pseudonyms. */
export interface AuditEvent {
  /** Dotted event name: `request.received`, `task.verified`, `deletion.blocked`, ... */
  readonly type: string;
  readonly at: string;
  /** Makes appends idempotent: the same key is appended once (e.g. `task:<taskId>:verified`). */
  readonly idempotencyKey: string;
  readonly requestId?: string;
  readonly taskId?: string;
  readonly dataClass?: string;
  readonly ruleRef?: string;
  readonly target?: string;
  /** Small scalar facts (counts, statuses, reasons); never identifiers of people. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export interface AuditEntry extends AuditEvent {
  /** One chain per subject pseudonym (or `system`). */
  readonly chainId: string;
  /** 1-based position in the chain. */
  readonly seq: number;
  /** HMAC-SHA-256 pseudonym of the subject id, hex. Absent for system events. */
  readonly subjectPseudonym?: string;
  /** Hash of the previous entry, or the genesis hash for seq 1. */
  readonly prevHash: string;
  /** SHA-256 over the canonical form of every other field. */
  readonly hash: string;
}

export type ChainVerification =
  | { readonly ok: true; readonly length: number; readonly headHash: string }
  | {
      readonly ok: false;
      /** 0-based index into the entries given where the chain first breaks. */
      readonly index: number;
      readonly seq: number | undefined;
      readonly problem: 'modified' | 'missing' | 'inserted' | 'reordered' | 'wrong-chain' | 'truncated';
      readonly message: string;
    };

/** Port implemented by functions/adapters/dynamo-audit-log.ts. */
export interface AuditLog {
  /** Appends to the subject's chain (or `system`); returns the stored entry. Idempotent by key. */
  append(event: AuditEvent, subjectId?: string): Promise<AuditEntry>;
}
