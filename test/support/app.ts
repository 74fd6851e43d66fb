import { createHash, randomBytes } from "node:crypto";
import { MemoryBlockStore } from "../../src/adapters/blockstore/memory/index.js";
import { MemoryEventBus } from "../../src/adapters/events/memory/index.js";
import { createMemoryPersistence } from "../../src/adapters/persistence/memory/index.js";
import { CryptoRandom } from "../../src/adapters/system/index.js";
import {
  createApplication,
  type Application,
  type ApplicationConfig,
  type ApplicationDeps,
  type AuthenticatedAnswer,
  type AuthenticatedSession,
  type BootstrapOrganizationInput,
} from "../../src/application/index.js";
import type { BackendEvent, BlockStore, Clock, EmailSender, OutgoingEmail, RandomSource } from "../../src/application/ports/index.js";
import type { BackendAddr } from "../../src/domain/backend-addr.js";
import { CHALLENGE_SIZE } from "../../src/domain/handshake/index.js";
import {
  DeviceID,
  InvitationToken,
  OrganizationID,
  UserID,
  type HumanHandle,
  type InvitationType,
  type UserProfile,
} from "../../src/domain/ids.js";
import { INITIAL_CONDUIT, type Invitation } from "../../src/domain/invite/index.js";
import { DEFAULT_ORGANIZATION_SETTINGS, type OrganizationDefaults } from "../../src/domain/organization/index.js";
import { pack } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";
import { ed25519Sign, newUserCertificates, randomEd25519 } from "./certificates.js";

/**
 * An {@link Application} on memory adapters for use-case tests: a controllable clock, deterministic or real
 * randomness, config overrides, and helpers to bootstrap an organization with freshly generated keys.
 */

/** Default start of the {@link FakeClock}: 2024-01-01T00:00:00Z. */
export const FAKE_CLOCK_START = DateTime.parseRfc3339("2024-01-01T00:00:00Z")!;

/** A {@link Clock} that only moves when told to. */
export class FakeClock implements Clock {
  constructor(private current: DateTime = FAKE_CLOCK_START) {}

  now(): DateTime {
    return this.current;
  }

  set(dt: DateTime): void {
    this.current = dt;
  }

  /** Moves the clock by `seconds` (fractional or negative allowed). */
  advance(seconds: number): void {
    this.current = this.current.addSeconds(seconds);
  }
}

/** Deterministic {@link RandomSource}: SHA-256 in counter mode over a seed (two instances with one seed agree). */
export class SeededRandom implements RandomSource {
  private counter = 0;

  constructor(private readonly seed: string = "parsec-test-seed") {}

  bytes(size: number): Buffer {
    const blocks: Buffer[] = [];
    for (let produced = 0; produced < size; produced += 32)
      blocks.push(createHash("sha256").update(this.seed).update(`:${this.counter++}`).digest());
    return Buffer.concat(blocks).subarray(0, size);
  }
}

export interface TestAppOptions {
  /** Start of the fake clock (ignored when `clock` is given). */
  readonly start?: DateTime;
  readonly clock?: FakeClock;
  /** `"deterministic"` (default, {@link SeededRandom}), `"real"` (the OS CSPRNG) or any source. */
  readonly random?: "deterministic" | "real" | RandomSource;
  readonly seed?: string;
  readonly spontaneousOrganizationBootstrap?: boolean;
  readonly debug?: boolean;
  readonly organizationDefaults?: Partial<OrganizationDefaults>;
  /** Address put in invitation URLs (default `parsec://parsec.example.com`); null when unconfigured. */
  readonly backendAddr?: BackendAddr | null;
  readonly emailLanguage?: "en" | "fr";
  /** Block store; a fresh memory one by default. */
  readonly blockStore?: BlockStore;
  /** Email sender; by default one that records every email in {@link TestApp.sentEmails}. */
  readonly email?: EmailSender;
  /** Replaces some ports after the memory ones are built (e.g. a failing repository). */
  readonly overrides?: (deps: ApplicationDeps) => Partial<ApplicationDeps>;
}

/** What {@link buildTestApp} returns: the application plus handles on its adapters. */
export interface TestApp {
  readonly app: Application;
  readonly deps: ApplicationDeps;
  readonly clock: FakeClock;
  readonly events: MemoryEventBus;
  /**
   * Every event committed on the bus since the app was built, in order, recorded at commit (subscribers get them on a
   * later turn of the event loop: `await t.events.idle()` before checking what they received).
   */
  readonly published: BackendEvent[];
  /** Errors thrown by bus listeners (the bus isolates them). */
  readonly listenerErrors: unknown[];
  readonly persistence: ReturnType<typeof createMemoryPersistence>;
  /** Emails handed to the default recording sender, in order. */
  readonly sentEmails: OutgoingEmail[];
  /** Failures the use cases reported through the error reporter port, in order. */
  readonly reportedErrors: { message: string; context: Readonly<Record<string, unknown>> }[];
}

/** Builds an {@link Application} on memory adapters. */
export const buildTestApp = (options: TestAppOptions = {}): TestApp => {
  const clock = options.clock ?? new FakeClock(options.start);
  const persistence = createMemoryPersistence(() => clock.now());
  const listenerErrors: unknown[] = [];
  const published: BackendEvent[] = [];
  const events = new MemoryEventBus(
    (err) => listenerErrors.push(err),
    (event) => published.push(event),
  );
  const random =
    options.random === "real" ? new CryptoRandom() : options.random === undefined || options.random === "deterministic" ? new SeededRandom(options.seed) : options.random;
  const config: ApplicationConfig = {
    organizationDefaults: { ...DEFAULT_ORGANIZATION_SETTINGS, ...options.organizationDefaults },
    spontaneousOrganizationBootstrap: options.spontaneousOrganizationBootstrap ?? false,
    debug: options.debug ?? false,
    backendAddr: options.backendAddr === undefined ? { hostname: "parsec.example.com", port: null, useSsl: true } : options.backendAddr,
    emailLanguage: options.emailLanguage ?? "en",
  };
  const sentEmails: OutgoingEmail[] = [];
  const reportedErrors: { message: string; context: Readonly<Record<string, unknown>> }[] = [];
  const email: EmailSender = options.email ?? {
    send: async (message) => {
      sentEmails.push(message);
      return { ok: true };
    },
  };
  const base: ApplicationDeps = {
    uow: persistence.uow,
    organizations: persistence.organizations,
    users: persistence.users,
    invitations: persistence.invitations,
    realms: persistence.realms,
    vlobs: persistence.vlobs,
    blocks: persistence.blocks,
    blockStore: options.blockStore ?? new MemoryBlockStore(),
    errors: { error: (message, context) => void reportedErrors.push({ message, context }) },
    messages: persistence.messages,
    email,
    events,
    clock,
    random,
    config,
  };
  const deps: ApplicationDeps = { ...base, ...options.overrides?.(base) };
  return { app: createApplication(deps), deps, clock, events, published, listenerErrors, persistence, sentEmails, reportedErrors };
};

/** Parses a raw identifier or throws (test inputs are known to be valid). */
export const orgId = (raw: string): OrganizationID => {
  const r = OrganizationID.parse(raw);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
export const deviceId = (raw: string): DeviceID => {
  const r = DeviceID.parse(raw);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
export const userId = (raw: string): UserID => {
  const r = UserID.parse(raw);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

/** An Ed25519 key pair as raw 32-byte seed and verify key. */
export type Ed25519KeyPair = ReturnType<typeof randomEd25519>;

/** Identity of the first user of a bootstrap; every field has a default. */
export interface BootstrapIdentity {
  readonly userId?: string;
  readonly deviceName?: string;
  readonly humanHandle?: HumanHandle | null;
  readonly deviceLabel?: string | null;
  readonly profile?: UserProfile;
  /** Certificates' timestamp (default: the clock's now). */
  readonly timestamp?: DateTime;
  readonly rootKey?: Ed25519KeyPair;
  readonly deviceKey?: Ed25519KeyPair;
}

/** The four certificates of a bootstrap and the keys behind them. */
export interface BootstrapMaterial {
  readonly rootKey: Ed25519KeyPair;
  readonly deviceKey: Ed25519KeyPair;
  /** X25519 public key of the user (random bytes: the server never uses it). */
  readonly userPublicKey: Buffer;
  readonly userId: UserID;
  readonly deviceId: DeviceID;
  readonly humanHandle: HumanHandle | null;
  readonly deviceLabel: string | null;
  readonly timestamp: DateTime;
  /** The request fields, minus organization id and token. */
  readonly request: Omit<BootstrapOrganizationInput, "organizationId" | "bootstrapToken">;
}

/** Signs a valid set of bootstrap certificates with fresh (or given) root and device keys. */
export const bootstrapMaterial = (timestampDefault: DateTime, identity: BootstrapIdentity = {}): BootstrapMaterial => {
  const rootKey = identity.rootKey ?? randomEd25519();
  const deviceKey = identity.deviceKey ?? randomEd25519();
  const uid = userId(identity.userId ?? "alice");
  const did = deviceId(`${uid}@${identity.deviceName ?? "dev1"}`);
  const humanHandle = identity.humanHandle === undefined ? { email: `${uid}@example.com`, label: `User ${uid}` } : identity.humanHandle;
  const deviceLabel = identity.deviceLabel === undefined ? `Laptop of ${uid}` : identity.deviceLabel;
  const timestamp = identity.timestamp ?? timestampDefault;
  const userPublicKey = randomEd25519().verifyKey;
  const profile = identity.profile ?? "ADMIN";
  return {
    rootKey,
    deviceKey,
    userPublicKey,
    userId: uid,
    deviceId: did,
    humanHandle,
    deviceLabel,
    timestamp,
    request: {
      rootVerifyKey: rootKey.verifyKey,
      ...newUserCertificates(rootKey.signingKey, {
        author: null,
        timestamp,
        userId: uid,
        humanHandle,
        publicKey: userPublicKey,
        profile,
        deviceId: did,
        deviceLabel,
        verifyKey: deviceKey.verifyKey,
      }),
      sequesterAuthorityCertificate: null,
    },
  };
};

/** A bootstrapped organization and the secrets of its first device. */
export interface BootstrappedOrganization extends BootstrapMaterial {
  readonly organizationId: OrganizationID;
  readonly bootstrapToken: string;
}

/**
 * Creates `organizationId` through the administration use case (skipped with `spontaneous`, which bootstraps with
 * the empty token) and bootstraps it with fresh keys; throws unless both succeed.
 */
export const bootstrapOrganization = async (
  t: TestApp,
  organizationId: string = "CoolOrg",
  identity: BootstrapIdentity & { readonly spontaneous?: boolean } = {},
): Promise<BootstrappedOrganization> => {
  const id = orgId(organizationId);
  let bootstrapToken = "";
  if (!identity.spontaneous) {
    const created = await t.app.createOrganization({ organizationId: id });
    if (created.kind !== "ok") throw new Error(`createOrganization(${organizationId}): ${created.kind}`);
    bootstrapToken = created.bootstrapToken;
  }
  const material = bootstrapMaterial(t.clock.now(), identity);
  const outcome = await t.app.bootstrapOrganization({ organizationId: id, bootstrapToken, ...material.request });
  if (outcome.kind !== "ok") throw new Error(`bootstrapOrganization(${organizationId}): ${JSON.stringify(outcome)}`);
  return { ...material, organizationId: id, bootstrapToken };
};

/** A fresh 48-byte handshake challenge. */
export const newChallenge = (): Buffer => randomBytes(CHALLENGE_SIZE);

/**
 * The `answer` of an AUTHENTICATED handshake: `signature ‖ payload` where the payload is
 * `msgpack({type: "signed_answer", answer: challenge})` (clients 2.5+ and 3.x) or the raw challenge (2.0–2.4).
 */
export const signChallenge = (signingKey: Uint8Array, challenge: Uint8Array, form: "signed_answer" | "raw" = "signed_answer"): Buffer => {
  const payload = form === "raw" ? Buffer.from(challenge) : pack({ type: "signed_answer", answer: Buffer.from(challenge) });
  return Buffer.concat([ed25519Sign(signingKey, payload), payload]);
};

/** A device that can answer the handshake: its id and Ed25519 key pair. */
export interface DeviceKeys {
  readonly deviceId: DeviceID;
  readonly key: Ed25519KeyPair;
}

/**
 * A valid `authenticateDevice` input of a 2.5 client: `device` (default: the first device of `org`) signs `challenge`
 * (default: a fresh one) as a `signed_answer`.
 */
export const authenticatedAnswer = (
  org: BootstrappedOrganization,
  device: DeviceKeys = { deviceId: org.deviceId, key: org.deviceKey },
  challenge: Uint8Array = newChallenge(),
): AuthenticatedAnswer => ({
  organizationId: org.organizationId,
  deviceId: device.deviceId,
  rootVerifyKey: org.rootKey.verifyKey,
  answer: signChallenge(device.key.signingKey, challenge),
  clientApiVersion: { major: 2, revision: 5 },
  challenge,
});

/** Authenticates the first device of `org` (2.x client) and returns its session; throws on failure. */
export const authenticate = async (t: TestApp, org: BootstrappedOrganization): Promise<AuthenticatedSession> => {
  const outcome = await t.app.authenticateDevice(authenticatedAnswer(org));
  if (outcome.kind !== "ok") throw new Error(`authenticateDevice: ${outcome.kind}`);
  return outcome.session;
};

/** A logged-in device of a test organization: its session and the key it signs with. */
export interface Member extends DeviceKeys {
  readonly session: AuthenticatedSession;
  readonly userId: UserID;
}

/**
 * Opens a session for `device` (signing with `key`) through the handshake use case; throws
 * `authenticateDevice(<device>): <outcome kind>` unless it succeeds.
 */
export const login = async (t: TestApp, org: BootstrappedOrganization, device: DeviceID, key: Ed25519KeyPair): Promise<Member> => {
  const outcome = await t.app.authenticateDevice(authenticatedAnswer(org, { deviceId: device, key }));
  if (outcome.kind !== "ok") throw new Error(`authenticateDevice(${device}): ${outcome.kind}`);
  return { session: outcome.session, key, deviceId: device, userId: outcome.session.userId };
};

/** The device and its user as the handshake reads them (`UserRepository.getAuthentication`), or null when unknown. */
export const storedDevice = async (t: TestApp, organizationId: OrganizationID, device: DeviceID) =>
  (await t.deps.users.getAuthentication(organizationId, device))?.device ?? null;

/** Marks `user` revoked on `on` directly in the memory store (no certificate needed, unlike `user_revoke`). */
export const revokeUserInStore = (t: TestApp, organizationId: OrganizationID, user: UserID, on: DateTime): void => {
  const data = t.persistence.store.organizations.get(organizationId);
  const found = data?.users.get(user);
  if (!data || !found) throw new Error(`no user ${user} in ${organizationId}`);
  data.users.set(user, { ...found, revokedOn: on });
};

/** Writes an invitation straight into the memory store, with any fields (a status or deletion `invite_new` cannot give). */
export const seedInvitation = async (
  t: TestApp,
  organizationId: OrganizationID,
  fields: Partial<Invitation> & { readonly greeterUserId: UserID },
): Promise<Invitation> => {
  const token = InvitationToken.parse(t.deps.random.bytes(16).toString("hex"));
  if (!token.ok) throw new Error(token.error);
  const invitation: Invitation = {
    token: token.value,
    type: "USER" satisfies InvitationType,
    claimerEmail: "zack@example.com",
    createdOn: t.clock.now(),
    status: "IDLE",
    deleted: null,
    ...fields,
  };
  const data = t.persistence.store.organizations.get(organizationId);
  if (!data) throw new Error(`no organization ${organizationId}`);
  data.invitations.set(invitation.token, { invitation, conduit: INITIAL_CONDUIT, presence: new Set() });
  return invitation;
};
