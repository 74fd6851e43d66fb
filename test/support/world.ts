import type { Application, AuthenticatedSession } from "../../src/application/index.js";
import type { CreateUserInput } from "../../src/application/user/index.js";
import type { DeviceID, HumanHandle, OrganizationID, RealmID, RealmRole, UserProfile } from "../../src/domain/ids.js";
import type { MaintenanceType, Realm } from "../../src/domain/realm/index.js";
import type { DateTime } from "../../src/domain/time.js";
import {
  authenticate,
  bootstrapOrganization,
  buildTestApp,
  deviceId,
  login,
  orgId,
  userId,
  type BootstrappedOrganization,
  type DeviceKeys,
  type Member,
  type TestApp,
  type TestAppOptions,
} from "./app.js";
import { newUserCertificates, randomEd25519 } from "./certificates.js";

/**
 * Worlds for use-case and handler tests, built on {@link buildTestApp}: a bootstrapped organization with logged-in
 * members, users created through `user_create`, realms seeded in the memory store, hand-made sessions and handler contexts.
 */

/** Unwraps a parse result of known-valid test input, or throws its error. */
export const parsed = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

/** A bootstrapped organization with a session of its first device. */
export interface OrganizationWorld {
  readonly t: TestApp;
  readonly org: BootstrappedOrganization;
  /** `alice@dev1`, the ADMIN created by the bootstrap. */
  readonly alice: Member;
}

/** Builds a {@link TestApp} with `options`, bootstraps `CoolOrg` and logs its first device (alice) in. */
export const bootstrapWorld = async (options: TestAppOptions = {}): Promise<OrganizationWorld> => {
  const t = buildTestApp(options);
  const org = await bootstrapOrganization(t, "CoolOrg");
  return { t, org, alice: await login(t, org, org.deviceId, org.deviceKey) };
};

/** A user to create through `user_create`; every field but `userId` has a default. */
export interface NewUserSpec {
  readonly userId: string;
  /** Default `dev1`. */
  readonly deviceName?: string;
  /** Default `<userId>@example.com` / `User <userId>`. */
  readonly humanHandle?: HumanHandle | null;
  /** Default `Laptop of <userId>`. */
  readonly deviceLabel?: string | null;
  /** Default STANDARD. */
  readonly profile?: UserProfile;
  /** Certificates' timestamp (default: the clock's now). */
  readonly timestamp?: DateTime;
}

/**
 * The `user_create` certificates of a new user signed by `author` (redacted variants without handle or label),
 * with the new device's fresh keys and the certificate fields used.
 */
export const newUser = (t: TestApp, author: DeviceKeys, spec: NewUserSpec) => {
  const deviceKey = randomEd25519();
  const timestamp = spec.timestamp ?? t.clock.now();
  const humanHandle = spec.humanHandle === undefined ? { email: `${spec.userId}@example.com`, label: `User ${spec.userId}` } : spec.humanHandle;
  const deviceLabel = spec.deviceLabel === undefined ? `Laptop of ${spec.userId}` : spec.deviceLabel;
  const did = deviceId(`${spec.userId}@${spec.deviceName ?? "dev1"}`);
  const user = { author: author.deviceId, timestamp, userId: spec.userId, publicKey: randomEd25519().verifyKey, profile: spec.profile ?? "STANDARD" };
  const device = { author: author.deviceId, timestamp, deviceId: did, verifyKey: deviceKey.verifyKey };
  const input: CreateUserInput = newUserCertificates(author.key.signingKey, { ...user, ...device, humanHandle, deviceLabel });
  return { input, deviceKey, deviceId: did, user, device, humanHandle, deviceLabel };
};

/** Creates a user (signed by `author`, an ADMIN) through `user_create` and logs its first device in; throws on failure. */
export const addUser = async (
  w: { readonly t: TestApp; readonly org: BootstrappedOrganization },
  author: Member,
  spec: NewUserSpec,
): Promise<Member> => {
  const request = newUser(w.t, author, spec);
  const outcome = await w.t.app.createUser(author.session, request.input);
  if (outcome.kind !== "ok") throw new Error(`createUser(${spec.userId}): ${JSON.stringify(outcome)}`);
  return login(w.t, w.org, request.deviceId, request.deviceKey);
};

/**
 * A hand-made session of `raw` (`user@device`) in `organizationId`, STANDARD, without handle, label or keys (zeros),
 * API 2.10: enough for the use cases that only read its ids.
 */
export const fakeSession = (raw: string, organizationId: OrganizationID = orgId("CoolOrg")): AuthenticatedSession => ({
  kind: "authenticated",
  organizationId,
  deviceId: deviceId(raw),
  userId: userId(raw.split("@")[0]!),
  profile: "STANDARD",
  humanHandle: null,
  deviceLabel: null,
  verifyKey: Buffer.alloc(32),
  publicKey: Buffer.alloc(32),
  sequesterAuthorityCertificate: null,
  apiVersion: { major: 2, revision: 10 },
  clientApiVersion: { major: 2, revision: 10 },
});

/**
 * What a command handler receives: `session` on `t`'s application, `signal` (default: one never aborted) and a
 * `closeConnection` that does nothing.
 */
export const handlerContext = <S>(t: { readonly app: Application }, session: S, signal: AbortSignal = new AbortController().signal) => ({
  app: t.app,
  session,
  signal,
  closeConnection: () => {},
});

/** A role grant of a user, by name (role null: a removal). */
export type Grant = readonly [string, RealmRole | null];

/**
 * Realm `realmId` at encryption revision 1, created at the clock's now, with `grants` in order, each granted now by
 * `grantedBy` (default `alice@dev1`) with a dummy certificate; `maintenance`, when given, started now by `grantedBy`.
 */
export const realmWithGrants = (
  t: TestApp,
  realmId: RealmID,
  grants: readonly Grant[],
  options: { readonly maintenance?: MaintenanceType | null; readonly grantedBy?: DeviceID } = {},
): Realm => {
  const now = t.clock.now();
  const grantedBy = options.grantedBy ?? deviceId("alice@dev1");
  return {
    id: realmId,
    createdOn: now,
    encryptionRevision: 1,
    maintenance: options.maintenance ? { type: options.maintenance, startedBy: grantedBy, startedOn: now } : null,
    grants: grants.map(([user, role]) => ({ userId: userId(user), role, certificate: Buffer.from("<dummy>"), grantedBy, grantedOn: now })),
  };
};

/** Saves `realm` straight in `t`'s memory store, replacing any realm of the same id. */
export const storeRealm = async (t: TestApp, organizationId: OrganizationID, realm: Realm): Promise<void> => {
  t.persistence.store.realmsOf(organizationId).set(realm.id, realm);
};

/** Saves realm `realmId` with `owner`'s user as its only OWNER (granted by `owner`), straight in the memory store. */
export const storeOwnedRealm = (t: TestApp, owner: AuthenticatedSession, realmId: RealmID): Promise<void> =>
  storeRealm(t, owner.organizationId, realmWithGrants(t, realmId, [[owner.userId, "OWNER"]], { grantedBy: owner.deviceId }));

/** Bootstraps `CoolOrg`, authenticates alice and saves realm `realmId` with alice as its only OWNER. */
export const setupRealmOwner = async (realmId: RealmID): Promise<{ t: TestApp; alice: AuthenticatedSession }> => {
  const t = buildTestApp();
  const org = await bootstrapOrganization(t);
  const alice = await authenticate(t, org);
  await storeOwnedRealm(t, alice, realmId);
  return { t, alice };
};
