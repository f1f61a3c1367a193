/**
 * SigV4 signing of API calls for a deployed orchestrator: its HTTP API authorises every route
 * but the callbacks and `/livez` with IAM (infra/constructs/erasure-api.ts), so a call carries an
 * `execute-api` signature made with the caller's own AWS credentials (the default chain:
 * environment, SSO, shared config and credentials files, container and instance roles).
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

type SignerInit = ConstructorParameters<typeof SignatureV4>[0];
/** What `credentials` may be: fixed keys or a provider such as the default chain. */
export type AwsCredentials = SignerInit['credentials'];

type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytes = (data: SourceData): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the signer asks for. */
export class NodeSha256 {
  private readonly secret: SourceData | undefined;
  private hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.secret = secret;
    this.hash = NodeSha256.make(secret);
  }
  private static make(secret: SourceData | undefined): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = NodeSha256.make(this.secret);
  }
}

/** The region of an `https://<id>.execute-api.<region>.amazonaws.com` URL, if it is one. */
export const regionOfApiUrl = (url: URL): string | undefined =>
  /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];

export interface SignableCall {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface IamSigning {
  readonly region: string;
  /** @default the default AWS credential chain */
  readonly credentials?: AwsCredentials;
  /** Signing time (tests with known vectors). @default now */
  readonly signingDate?: Date;
  /** @default 'execute-api' */
  readonly service?: string;
}

/** The headers to send: the call's own plus `host`, `x-amz-date`, the session token and `authorization`. */
export const signCall = async (call: SignableCall, signing: IamSigning): Promise<Record<string, string>> => {
  const signer = new SignatureV4({
    service: signing.service ?? 'execute-api',
    region: signing.region,
    credentials: signing.credentials ?? defaultProvider(),
    sha256: NodeSha256,
    // The body's hash is in the signature either way; API Gateway needs no x-amz-content-sha256 header.
    applyChecksum: false,
  });
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of call.url.searchParams) {
    const previous = query[key];
    query[key] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  const signed = await signer.sign(
    {
      method: call.method,
      protocol: call.url.protocol,
      hostname: call.url.hostname,
      ...(call.url.port === '' ? {} : { port: Number(call.url.port) }),
      path: call.url.pathname,
      query,
      headers: { ...call.headers, host: call.url.host },
      ...(call.body === undefined ? {} : { body: call.body }),
    },
    signing.signingDate === undefined ? {} : { signingDate: signing.signingDate },
  );
  return { ...signed.headers };
};
