import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { BlockStoreError, type BlockStore } from "../../../application/ports/index.js";
import type { BlockID, OrganizationID } from "../../../domain/ids.js";
import { blockObjectKey, displayUrl, MAX_OBJECT_BYTES } from "../object-key.js";

/** Where and how an {@link S3BlockStore} reaches its bucket (`s3:[<endpoint_url>]:<region>:<bucket>:<key>:<secret>`). */
export interface S3BlockStoreOptions {
  /** An S3-compatible server's URL (path-style requests), or null for AWS's endpoint of `region`. */
  readonly endpointUrl: string | null;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Milliseconds after which a request not answered fails (default 10 000); connecting is bounded by a third of it. */
  readonly requestTimeoutMs?: number;
  /** Sockets kept open to the server at most (default 64). */
  readonly maxSockets?: number;
}

/** `<organization_id>/<block id as a hyphenated UUID>`: the object key Parsec gives a block ({@link blockObjectKey}). */
export const s3ObjectKey = blockObjectKey;

/** The status (or error name) and message of an S3 failure, never the request's credentials. */
const describeFailure = (err: unknown): string => {
  if (err instanceof S3ServiceException) return `${err.name} (HTTP ${err.$metadata.httpStatusCode ?? "?"})${err.message && err.message !== err.name ? `: ${err.message}` : ""}`;
  const e = err as { name?: string; code?: string; message?: string };
  return [e.code ?? e.name, e.message].filter(Boolean).join(": ") || String(err);
};

/** No such object (a missing bucket is a failure, not a missing block). */
const isNotFound = (err: unknown): boolean =>
  err instanceof S3ServiceException && err.name !== "NoSuchBucket" && (err.name === "NoSuchKey" || err.$metadata.httpStatusCode === 404);

/** A conditional write refused because the object exists (`If-None-Match: *`). */
const isAlreadyThere = (err: unknown): boolean =>
  err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 412 || err.name === "PreconditionFailed");

/**
 * The bytes of an object's body stream (Node's answer stream), at most {@link MAX_OBJECT_BYTES}: copied once into a
 * buffer of the announced length, or joined at the end when no length was announced.
 * Rejects with an Error when the body is longer or shorter than announced, or larger than any block.
 */
const readBody = (body: NodeJS.ReadableStream, contentLength: number | undefined): Promise<Buffer> =>
  new Promise<Buffer>((resolve, reject) => {
    if (contentLength !== undefined && contentLength > MAX_OBJECT_BYTES) {
      reject(new Error(`object of ${contentLength} bytes, larger than any block`));
      return;
    }
    const whole = contentLength !== undefined && Number.isSafeInteger(contentLength) && contentLength >= 0 ? Buffer.allocUnsafe(contentLength) : null;
    const limit = whole ? whole.length : MAX_OBJECT_BYTES;
    const chunks: Buffer[] = [];
    let received = 0;
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      (body as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      reject(err);
    };
    body.on("data", (chunk: Buffer) => {
      if (failed) return;
      if (received + chunk.length > limit) return fail(new Error(whole ? "object body longer than its Content-Length" : "object body larger than any block"));
      if (whole) chunk.copy(whole, received);
      else chunks.push(chunk);
      received += chunk.length;
    });
    body.once("error", (err: Error) => fail(err));
    body.once("end", () => {
      if (failed) return;
      if (whole && received !== whole.length) fail(new Error(`object body cut short (${received} of ${whole.length} bytes)`));
      else resolve(whole ?? Buffer.concat(chunks, received));
    });
  });

/** A server that does not implement conditional writes (OpenStack Swift's s3api answers 501 NotImplemented). */
const isConditionalWriteRefused = (err: unknown): boolean =>
  err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 501 || err.name === "NotImplemented");

/**
 * {@link BlockStore} on an S3 bucket (`--blockstore s3:…`) with `@aws-sdk/client-s3`: objects named as Parsec names
 * them ({@link s3ObjectKey}), so an existing Parsec bucket is served as it is. Path-style requests and checksums only
 * where a request requires one (what S3-compatible servers accept), kept-alive connections, a bounded number of
 * sockets, a timeout per request and no retry (the client retries the command). A block is written with
 * `If-None-Match: *`: where the server honours it, the first write of a block id wins; a server that answers it is
 * not implemented (Swift's s3api) gets plain writes from then on (there, only the block metadata, checked before the
 * write, keeps a second write of an id away). Failures are
 * {@link BlockStoreError}s naming the bucket, never the credentials.
 */
export class S3BlockStore implements BlockStore {
  private readonly client: S3Client;
  /** Whether writes are sent with `If-None-Match: *`; turned off for good when the server answers it is not implemented. */
  private conditionalWrites = true;
  /** The bucket, and the endpoint when not AWS's, for messages. */
  readonly description: string;

  /** Bound of one request, answer body included, in milliseconds. */
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: S3BlockStoreOptions) {
    const requestTimeout = options.requestTimeoutMs ?? 10_000;
    this.requestTimeoutMs = requestTimeout;
    const agent = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.client = new S3Client({
      region: options.region,
      ...(options.endpointUrl !== null && { endpoint: options.endpointUrl, forcePathStyle: true }),
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({
        httpAgent: new HttpAgent(agent),
        httpsAgent: new HttpsAgent(agent),
        requestTimeout,
        // Without it, a request past its timeout only logs a warning and goes on waiting.
        throwOnRequestTimeout: true,
        // requestTimeout stops counting once the headers are in: a body that stalls would hold its socket for good.
        socketTimeout: requestTimeout,
        connectionTimeout: Math.ceil(requestTimeout / 3),
      }),
    });
    this.description = `S3 bucket ${options.bucket}${options.endpointUrl !== null ? ` at ${displayUrl(options.endpointUrl).replace(/\/$/, "")}` : ` (${options.region})`}`;
  }

  /**
   * For start-up: whether the bucket exists and the credentials may use it (`HeadBucket`).
   * @throws BlockStoreError saying what is wrong (no such bucket, access denied, server unreachable).
   */
  async checkReady(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
    } catch (err) {
      const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
      const reason =
        status === 404 ? "no such bucket" : status === 403 ? "access denied (check the key and secret)" : status === 301 ? "the bucket is in another region" : describeFailure(err);
      throw new BlockStoreError(`${this.description}: ${reason}`, { cause: err });
    }
  }

  /**
   * `work` with the whole exchange (answer body included) bounded by the request timeout: the SDK's own timeout only
   * watches the socket until the answer's headers, so a body that stalls after them would hold the call forever.
   */
  private async withinDeadline<T>(work: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // Settles at the deadline even if `work` ignores the abort.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const reason = Object.assign(new Error(`no complete answer within ${this.requestTimeoutMs} ms`), { name: "TimeoutError" });
        controller.abort(reason);
        reject(reason);
      }, this.requestTimeoutMs);
    });
    const running = work(controller.signal);
    // A late failure of the abandoned work is expected, not unhandled.
    running.catch(() => undefined);
    try {
      return await Promise.race([running, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async read(organizationId: OrganizationID, blockId: BlockID): Promise<Buffer | null> {
    try {
      return await this.withinDeadline(async (abortSignal) => {
        const object = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: s3ObjectKey(organizationId, blockId) }), { abortSignal });
        if (!object.Body) throw new Error("no body in the answer");
        const body = object.Body as typeof object.Body & { destroy?: (err: Error) => void };
        // Aborting after the headers does not end the body stream: destroy it, which closes the connection.
        const onAbort = () => body.destroy?.(abortSignal.reason as Error);
        abortSignal.addEventListener("abort", onAbort, { once: true });
        try {
          return await readBody(body as unknown as NodeJS.ReadableStream, object.ContentLength);
        } finally {
          abortSignal.removeEventListener("abort", onAbort);
        }
      });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw new BlockStoreError(`${this.description}: read failed: ${describeFailure(err)}`, { cause: err });
    }
  }

  async create(organizationId: OrganizationID, blockId: BlockID, data: Buffer): Promise<void> {
    const conditional = this.conditionalWrites;
    try {
      await this.withinDeadline((abortSignal) =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.options.bucket,
            Key: s3ObjectKey(organizationId, blockId),
            Body: data,
            ContentLength: data.length,
            ...(conditional && { IfNoneMatch: "*" }),
          }),
          { abortSignal },
        ),
      );
    } catch (err) {
      if (conditional && isAlreadyThere(err)) return;
      if (conditional && isConditionalWriteRefused(err)) {
        // Swift's S3 API (and other S3-compatible servers) answer 501: plain writes from now on.
        this.conditionalWrites = false;
        return this.create(organizationId, blockId, data);
      }
      throw new BlockStoreError(`${this.description}: write failed: ${describeFailure(err)}`, { cause: err });
    }
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    this.client.destroy();
  }
}
