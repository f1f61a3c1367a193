import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  ConnectorInvocation,
  ConnectorOutcome,
  ConnectorTarget,
  ExportedRecords,
  ExportInvocation,
  PreviewLimits,
  PreviewResult,
  VerificationResult,
  WindowInvocation,
  WindowOutcome,
} from '../../domain/connectors/types.js';
import { createDynamoDbItemsConnector } from './dynamodb-items.js';
import { ConnectorPermanentError } from './errors.js';
import { createHttpWebhookConnector } from './http-webhook.js';
import { createS3PrefixConnector } from './s3-prefix.js';

/** The least a target needs: built-in targets and the targets of custom connectors alike. */
export interface TargetLike {
  readonly name: string;
  readonly kind: string;
}

/**
 * `Connector<T>` of domain/connectors/types.ts, widened to any `kind` so that a deployment can
 * add connectors for its own systems. Every built-in `Connector<T>` is one.
 */
export interface ConnectorPlugin<T extends TargetLike = TargetLike> {
  readonly kind: T['kind'];
  execute(target: T, invocation: ConnectorInvocation): Promise<ConnectorOutcome>;
  verify(target: T, invocation: ConnectorInvocation): Promise<VerificationResult>;
  /** Optional: reads the subject's data for a portability export (ALU-6). */
  export?(target: T, invocation: ExportInvocation): Promise<ExportedRecords>;
  /**
   * Optional: counts what `execute` would erase, changing nothing (dry runs, `Connector.preview`).
   * `limits.signal` aborts when the dry run must answer: stop reading and answer `partial`.
   */
  preview?(target: T, invocation: ConnectorInvocation, limits?: PreviewLimits): Promise<PreviewResult>;
  /** Optional: a rolling-window run across every subject (`Connector.expire`). */
  expire?(target: T, invocation: WindowInvocation): Promise<WindowOutcome>;
}

export interface ConnectorRegistryDeps {
  readonly s3: S3Client;
  readonly documents: DynamoDBDocumentClient;
  /** @default the global fetch */
  readonly fetch?: typeof fetch;
  /** Resolves a webhook target's `signingSecretName` to the secret's value. */
  readonly secretFor: (name: string) => Promise<string> | string;
  /** Public base URL of the API, for webhook callbacks (`/v1/tasks/{taskId}/callback`). */
  readonly callbackBaseUrl?: string;
  /** Backoff between DynamoDB batch retries. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Connectors for kinds of your own, registered after the built-in ones. */
  readonly connectors?: readonly ConnectorPlugin[];
}

export interface ConnectorRegistry {
  /** The connector for `target.kind`; a `ConnectorPermanentError` when none is registered. */
  connectorFor(target: ConnectorTarget | TargetLike): ConnectorPlugin;
  execute(target: ConnectorTarget | TargetLike, invocation: ConnectorInvocation): Promise<ConnectorOutcome>;
  verify(target: ConnectorTarget | TargetLike, invocation: ConnectorInvocation): Promise<VerificationResult>;
  /** A window run; a `ConnectorPermanentError` when the target's connector has none. */
  expire(target: ConnectorTarget | TargetLike, invocation: WindowInvocation): Promise<WindowOutcome>;
  /** Adds a connector for a new kind. Replacing a registered kind is refused (it would be silent). */
  register(connector: ConnectorPlugin): void;
  /** Registered kinds, for configuration checks at start-up. */
  kinds(): readonly string[];
}

/** Builds the built-in connectors (s3-prefix, dynamodb-items, http-webhook) plus `deps.connectors`. */
export const createConnectorRegistry = (deps: ConnectorRegistryDeps): ConnectorRegistry => {
  const byKind = new Map<string, ConnectorPlugin>();

  const register = (connector: ConnectorPlugin): void => {
    if (byKind.has(connector.kind)) {
      throw new Error(`A connector for kind '${connector.kind}' is already registered`);
    }
    byKind.set(connector.kind, connector);
  };

  register(createS3PrefixConnector({ s3: deps.s3 }));
  register(
    createDynamoDbItemsConnector({
      documents: deps.documents,
      ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
      ...(deps.now === undefined ? {} : { now: deps.now }),
    }),
  );
  register(
    createHttpWebhookConnector({
      secretFor: deps.secretFor,
      ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
      ...(deps.callbackBaseUrl === undefined ? {} : { callbackBaseUrl: deps.callbackBaseUrl }),
      ...(deps.now === undefined ? {} : { now: deps.now }),
    }),
  );
  for (const connector of deps.connectors ?? []) register(connector);

  const connectorFor = (target: TargetLike): ConnectorPlugin => {
    const connector = byKind.get(target.kind);
    if (connector === undefined) {
      throw new ConnectorPermanentError(
        `No connector registered for kind '${target.kind}' (target '${target.name}')`,
        {
          target: target.name,
          code: 'UnknownConnectorKind',
        },
      );
    }
    return connector;
  };

  return {
    connectorFor,
    execute: (target, invocation) => connectorFor(target).execute(target, invocation),
    verify: (target, invocation) => connectorFor(target).verify(target, invocation),
    expire: (target, invocation) => {
      const connector = connectorFor(target);
      if (connector.expire === undefined) {
        throw new ConnectorPermanentError(
          `The ${target.kind} connector of target '${target.name}' cannot run rolling windows`,
          { target: target.name, code: 'UnsupportedAction' },
        );
      }
      return connector.expire(target, invocation);
    },
    register,
    kinds: () => [...byKind.keys()],
  };
};
