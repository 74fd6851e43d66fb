import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import type { BackendSettings } from "../../src/bootstrap/settings.js";
import type { HumanHandle } from "../../src/domain/ids.js";
import type { DateTime } from "../../src/domain/time.js";
import { deviceCertificate, randomEd25519 } from "../support/certificates.js";
import type { ParsecSession, WireMap } from "../support/client.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { newUserFields, rpc, wire as wireToken, type NewUserWireFields } from "./helpers.js";

/** Building blocks of `users-invitations.test.ts`: a server whose mocked emails are observable, the SAS exchange of both peers. */

export { bounded, rpc, STEP_TIMEOUT_MS } from "./helpers.js";

/** An email the mocked sender wrote, as the server logged it. */
export interface MockedEmail {
  readonly to: string;
  readonly subject: string;
  /** The `.eml` file. */
  readonly file: string;
}

/**
 * {@link startTestServer}'s server, but with a logger at `info` so that the mocked sender's "email written" records
 * (recipient, subject, `.eml` file) are kept in `emails`. Same settings (memory, debug, mocked email, 127.0.0.1:0).
 */
export const startServerWithMailbox = async (overrides: Partial<BackendSettings> = {}): Promise<TestServer & { readonly emails: readonly MockedEmail[] }> => {
  const emails: MockedEmail[] = [];
  const server = await startTestServer(overrides, {
    level: "info",
    onRecord: ({ to, subject, file }) => {
      if (typeof to === "string" && typeof subject === "string" && typeof file === "string") emails.push({ to, subject, file });
    },
  });
  return {
    ...server,
    emails,
    stop: async () => {
      await server.stop();
      for (const folder of new Set(emails.map((email) => dirname(email.file)))) rmSync(folder, { recursive: true, force: true });
    },
  };
};

/** The body of an `.eml` file with quoted-printable soft line breaks and `=3D` undone (enough to search a URL in it). */
export const readableEml = (eml: string): string => eml.replace(/=\r?\n/g, "").replace(/=3D/gi, "=");

/** The invitation token of a reply (ext 2 on the wire) as 32 hex digits; the wire form (ext 2) of a token. */
export { hexOf as tokenHex, wire as wireToken } from "./helpers.js";

/** What one peer posts during a whole SAS exchange; the server handles every value as opaque bytes. */
export interface GreeterMaterial {
  /** X25519-like public key (32 random bytes). */
  readonly publicKey: Buffer;
  readonly nonce: Buffer;
  /** One payload per `invite_4_greeter_communicate` round. */
  readonly payloads: readonly Buffer[];
}

/** What the claimer posts; `hashedNonce` is SHA-256 of `nonce`. */
export interface ClaimerMaterial {
  readonly publicKey: Buffer;
  readonly nonce: Buffer;
  readonly hashedNonce: Buffer;
  readonly payloads: readonly Buffer[];
}

/**
 * Fresh material for both peers. Two communicate rounds, as the Parsec clients do: the claimer sends its data
 * while the greeter posts an empty payload, then the greeter sends its confirmation while the claimer posts an empty one.
 */
export const sasMaterial = (): { greeter: GreeterMaterial; claimer: ClaimerMaterial } => {
  const claimerNonce = randomBytes(64);
  return {
    greeter: { publicKey: randomBytes(32), nonce: randomBytes(64), payloads: [Buffer.alloc(0), randomBytes(300)] },
    claimer: {
      publicKey: randomBytes(32),
      nonce: claimerNonce,
      hashedNonce: createHash("sha256").update(claimerNonce).digest(),
      payloads: [randomBytes(500), Buffer.alloc(0)],
    },
  };
};

/** What the greeter received from the claimer during the exchange. */
export interface GreeterReceived {
  readonly claimerPublicKey: unknown;
  readonly claimerHashedNonce: unknown;
  readonly claimerNonce: unknown;
  readonly payloads: readonly unknown[];
}

/** What the claimer received from the greeter. */
export interface ClaimerReceived {
  readonly greeterPublicKey: unknown;
  readonly greeterNonce: unknown;
  readonly payloads: readonly unknown[];
}

const expectOk = (reply: WireMap, cmd: string): WireMap => {
  if (reply["status"] !== "ok") throw new Error(`${cmd} answered ${JSON.stringify(reply)}`);
  return reply;
};

/** The greeter's side of the SAS exchange (steps 1 to 4), each reply checked `ok`. */
export const runGreeter = async (session: ParsecSession<"authenticated">, token: string, m: GreeterMaterial): Promise<GreeterReceived> => {
  const t = wireToken(token);
  const step = async (cmd: string, fields: WireMap = {}) => expectOk(await rpc(session, cmd, { token: t, ...fields }), cmd);
  const claimerPublicKey = (await step("invite_1_greeter_wait_peer", { greeter_public_key: m.publicKey }))["claimer_public_key"];
  const claimerHashedNonce = (await step("invite_2a_greeter_get_hashed_nonce"))["claimer_hashed_nonce"];
  const claimerNonce = (await step("invite_2b_greeter_send_nonce", { greeter_nonce: m.nonce }))["claimer_nonce"];
  await step("invite_3a_greeter_wait_peer_trust");
  await step("invite_3b_greeter_signify_trust");
  const payloads: unknown[] = [];
  for (const payload of m.payloads) payloads.push((await step("invite_4_greeter_communicate", { payload }))["payload"]);
  return { claimerPublicKey, claimerHashedNonce, claimerNonce, payloads };
};

/**
 * The claimer's side of the SAS exchange (steps 1 to 4), each reply checked `ok`; `greeterUserId` is sent in every
 * request when given (API 2.9+ clients), omitted otherwise.
 */
export const runClaimer = async (session: ParsecSession<"invited">, m: ClaimerMaterial, greeterUserId?: string): Promise<ClaimerReceived> => {
  const step = async (cmd: string, fields: WireMap = {}) =>
    expectOk(await rpc(session, cmd, { ...fields, ...(greeterUserId !== undefined && { greeter_user_id: greeterUserId }) }), cmd);
  const greeterPublicKey = (await step("invite_1_claimer_wait_peer", { claimer_public_key: m.publicKey }))["greeter_public_key"];
  const greeterNonce = (await step("invite_2a_claimer_send_hashed_nonce", { claimer_hashed_nonce: m.hashedNonce }))["greeter_nonce"];
  await step("invite_2b_claimer_send_nonce", { claimer_nonce: m.nonce });
  await step("invite_3a_claimer_signify_trust");
  await step("invite_3b_claimer_wait_peer_trust");
  const payloads: unknown[] = [];
  for (const payload of m.payloads) payloads.push((await step("invite_4_claimer_communicate", { payload }))["payload"]);
  return { greeterPublicKey, greeterNonce, payloads };
};

/** A device's identity and keys, as a Parsec client would create it. */
export interface NewDevice {
  readonly deviceId: string;
  readonly deviceLabel: string;
  readonly signingKey: Buffer;
  readonly verifyKey: Buffer;
}

/** A fresh device `deviceId` with random Ed25519 keys. */
export const newDevice = (deviceId: string, deviceLabel: string): NewDevice => ({ deviceId, deviceLabel, ...randomEd25519() });

/** The four certificates of a `user_create` for a new user and its first device, signed by `author` (redacted variants without handle/label). */
export const userCreateFields = (
  author: { readonly deviceId: string; readonly signingKey: Uint8Array },
  user: { readonly userId: string; readonly humanHandle: HumanHandle; readonly publicKey: Uint8Array; readonly profile: "ADMIN" | "STANDARD" | "OUTSIDER" },
  device: NewDevice,
  timestamp: DateTime,
): NewUserWireFields =>
  newUserFields(author.signingKey, { ...user, ...device, author: author.deviceId, timestamp });

/** The two certificates of a `device_create` (or of a new user's first device), signed by `author`. */
export const deviceCreateFields = (
  author: { readonly deviceId: string; readonly signingKey: Uint8Array },
  device: NewDevice,
  timestamp: DateTime,
): { device_certificate: Buffer; redacted_device_certificate: Buffer } => {
  const cert = (deviceLabel: string | null) =>
    deviceCertificate(author.signingKey, { author: author.deviceId, timestamp, deviceId: device.deviceId, deviceLabel, verifyKey: device.verifyKey });
  return { device_certificate: cert(device.deviceLabel), redacted_device_certificate: cert(null) };
};
