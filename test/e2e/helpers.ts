import { createServer } from "node:net";
import { WireUuid } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";
import { newUserCertificates, type NewUserCertificatesFields } from "../support/certificates.js";
import { admin, anonymous, type AuthenticatedConnectOptions, type ParsecSession, type WireMap } from "../support/client.js";
import type { FixtureDevice, ParsecFixtures } from "../support/fixtures.js";
import type { TestServer } from "../support/server.js";

/** Shared building blocks of the end-to-end suites: bootstrap requests from the fixtures, connection options. */

let counter = 0;
/** A fresh organization id (unique within the process). */
export const uniqueOrganizationId = (prefix = "Org"): string => `${prefix}${process.pid}x${++counter}`;

/** Now, at Parsec's resolution. */
export const now = (): DateTime => DateTime.fromEpochMilliseconds(Date.now());

/** Knobs of {@link bootstrapFields}. */
export interface BootstrapOptions {
  readonly bootstrapToken: string;
  /** Certificates' timestamp (default: now). */
  readonly timestamp?: DateTime;
  /** Key signing the four certificates (default: the fixture root signing key). */
  readonly signingKey?: Buffer;
  /** `root_verify_key` sent (default: the fixture root verify key). */
  readonly rootVerifyKey?: Buffer;
  /** First user (default: alice, ADMIN). */
  readonly device?: FixtureDevice;
}

/**
 * The fields of an `organization_bootstrap` request for the fixture organization: the first user's certificates
 * signed by the root key (author nil), with redacted variants lacking the human handle and device label.
 */
export const bootstrapFields = (f: ParsecFixtures, options: BootstrapOptions): WireMap => {
  const who = options.device ?? f.alice;
  return {
    bootstrap_token: options.bootstrapToken,
    root_verify_key: options.rootVerifyKey ?? f.organization.rootVerifyKey,
    ...newUserFields(options.signingKey ?? f.organization.rootSigningKey, { ...who, author: null, timestamp: options.timestamp ?? now() }),
  };
};

/** The four certificates of a new user and its first device (see {@link newUserCertificates}) under their wire names. */
export type NewUserWireFields = {
  readonly user_certificate: Buffer;
  readonly device_certificate: Buffer;
  readonly redacted_user_certificate: Buffer;
  readonly redacted_device_certificate: Buffer;
};

/**
 * The certificate fields of an `organization_bootstrap` or `user_create` request: {@link newUserCertificates} of `f`
 * signed by `signingKey`, under their wire names.
 */
export const newUserFields = (signingKey: Uint8Array, f: NewUserCertificatesFields): NewUserWireFields => {
  const c = newUserCertificates(signingKey, f);
  return {
    user_certificate: c.userCertificate,
    device_certificate: c.deviceCertificate,
    redacted_user_certificate: c.redactedUserCertificate,
    redacted_device_certificate: c.redactedDeviceCertificate,
  };
};

/** Creates `organizationId` through the administration API and bootstraps it with alice; throws unless both succeed. */
export const createBootstrappedOrganization = async (server: TestServer, f: ParsecFixtures, organizationId = uniqueOrganizationId()): Promise<string> => {
  const bootstrapToken = await admin(server.url, server.administrationToken).bootstrapToken(organizationId);
  const { httpStatus, reply } = await anonymous(server.url, organizationId, "organization_bootstrap", bootstrapFields(f, { bootstrapToken }));
  if (httpStatus !== 200 || reply?.["status"] !== "ok") throw new Error(`Bootstrap of ${organizationId} failed: ${httpStatus} ${JSON.stringify(reply)}`);
  return organizationId;
};

/** Connection options of alice (fixture keys) to `organizationId` on `server`. */
export const aliceOptions = (
  server: Pick<TestServer, "wsUrl">,
  f: ParsecFixtures,
  organizationId: string,
  overrides: Partial<AuthenticatedConnectOptions> = {},
): AuthenticatedConnectOptions => ({
  url: server.wsUrl,
  organizationId,
  deviceId: f.alice.deviceId,
  signingKey: f.alice.signingKey,
  rootVerifyKey: f.organization.rootVerifyKey,
  timeoutMs: 5_000,
  ...overrides,
});

/** A TCP port that was free a moment ago on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });

/** Resolves with `promise`'s value, or rejects after `ms` milliseconds. */
export const within = <T>(ms: number, promise: Promise<T>, what = "operation"): Promise<T> => {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not complete within ${ms} ms`)), ms);
    }),
  ]);
};

/** Bound on every single wait of the step-by-step suites: a hang fails fast. */
export const STEP_TIMEOUT_MS = 5_000;

/** `promise`, or a rejection after {@link STEP_TIMEOUT_MS}. */
export const bounded = <T>(promise: Promise<T>, what: string): Promise<T> => within(STEP_TIMEOUT_MS, promise, what);

/** `session.send(cmd, fields)` (raw wire values), bounded. */
export const rpc = (session: ParsecSession<"authenticated" | "invited">, cmd: string, fields: WireMap = {}): Promise<WireMap> =>
  bounded(session.send(cmd, fields), cmd);

/** The wire form (msgpack ext 2) of a UUID-based id or token given as 32 hex digits. */
export const wire = (hex: string): WireUuid => new WireUuid(hex);

/** The hex form of an ext-2 value (UUID-based id or token) received from the server. */
export const hexOf = (value: unknown): string => {
  if (!(value instanceof WireUuid)) throw new Error(`Expected an ext-2 UUID, got ${String(value)}`);
  return value.hex;
};
