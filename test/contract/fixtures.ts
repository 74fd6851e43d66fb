import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, expect } from "vitest";
import type {
  BlockRepository,
  InvitationRepository,
  MessageRepository,
  OrganizationRepository,
  RealmRepository,
  Tx,
  UnitOfWork,
  UserRepository,
  VlobRepository,
} from "../../src/application/ports/index.js";
import {
  BlockID,
  DeviceID,
  InvitationToken,
  OrganizationID,
  RealmID,
  UserID,
  VlobID,
  type HumanHandle,
  type RealmRole,
  type UserProfile,
} from "../../src/domain/ids.js";
import type { Organization } from "../../src/domain/organization/index.js";
import type { Realm, RealmRoleGrant } from "../../src/domain/realm/index.js";
import { DateTime } from "../../src/domain/time.js";
import type { Device, User } from "../../src/domain/user/index.js";

/**
 * Shared shapes and builders of the contract suites. Every test works in organizations of its own
 * ({@link newOrganizationId}), so that an adapter on a shared database needs no cleaning between tests.
 */

/** Every persistence port, as one adapter family provides them (memory, PostgreSQL). */
export interface PersistencePorts {
  readonly uow: UnitOfWork;
  readonly organizations: OrganizationRepository;
  readonly users: UserRepository;
  readonly invitations: InvitationRepository;
  readonly messages: MessageRepository;
  readonly realms: RealmRepository;
  readonly vlobs: VlobRepository;
  readonly blocks: BlockRepository;
}

/** What a factory hands to a suite: the ports under test, and how to release them after each test. */
export type Fixture<T> = T & { readonly cleanup?: () => Promise<void> };

/** Builds fresh adapters for one test. */
export type Make<T> = () => Promise<Fixture<T>>;

/** A fixture built before each test of the enclosing `describe` and cleaned up after it; read `current()` inside tests. */
export const useFixture = <T>(make: Make<T>): { current: () => Fixture<T> } => {
  let fixture: Fixture<T> | null = null;
  beforeEach(async () => {
    fixture = await make();
  });
  afterEach(async () => {
    const done = fixture;
    fixture = null;
    await done?.cleanup?.();
  });
  return {
    current: () => {
      if (!fixture) throw new Error("fixture used outside a test");
      return fixture;
    },
  };
};

const parse = <T>(result: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!result.ok) throw new Error(result.error);
  return result.value;
};

export const newOrganizationId = (): OrganizationID => parse(OrganizationID.parse(`Contract-${randomBytes(6).toString("hex")}`));
export const newRealmId = (): RealmID => parse(RealmID.parse(randomBytes(16).toString("hex")));
export const newVlobId = (): VlobID => parse(VlobID.parse(randomBytes(16).toString("hex")));
export const newBlockId = (): BlockID => parse(BlockID.parse(randomBytes(16).toString("hex")));
export const newToken = (): InvitationToken => parse(InvitationToken.parse(randomBytes(16).toString("hex")));
export const uid = (raw: string): UserID => parse(UserID.parse(raw));
export const did = (raw: string): DeviceID => parse(DeviceID.parse(raw));

/** 2024-01-01T00:00:00Z shifted by `seconds` (µs precision kept). */
export const at = (seconds: number): DateTime => DateTime.fromEpochMicroseconds(1_704_067_200_000_000 + Math.round(seconds * 1_000_000));

/** Distinct opaque bytes, e.g. a certificate or an encrypted blob: the repositories store them as they are. */
export const bytes = (label: string, size = 0): Buffer => Buffer.concat([Buffer.from(label), randomBytes(size)]);

export const organization = (id: OrganizationID, overrides: Partial<Organization> = {}): Organization => ({
  id,
  bootstrapToken: randomBytes(32).toString("hex"),
  isExpired: false,
  createdOn: at(0),
  bootstrappedOn: null,
  rootVerifyKey: null,
  userProfileOutsiderAllowed: true,
  activeUsersLimit: null,
  minimumArchivingPeriod: 2_592_000,
  sequesterAuthority: null,
  sequesterServicesCertificates: null,
  ...overrides,
});

export const user = (
  userId: UserID,
  overrides: Partial<User> & { readonly email?: string | null } = {},
): User => {
  const { email, ...rest } = overrides;
  const humanHandle: HumanHandle | null = email === null ? null : { email: email ?? `${userId}@example.com`, label: `User ${userId}` };
  return {
    userId,
    humanHandle,
    profile: "STANDARD",
    publicKey: bytes("pk", 30),
    userCertificate: bytes(`user-certificate-${userId}`, 8),
    redactedUserCertificate: bytes(`redacted-user-certificate-${userId}`, 8),
    userCertifier: null,
    createdOn: at(1),
    revokedOn: null,
    revokedUserCertificate: null,
    revokedUserCertifier: null,
    ...rest,
  };
};

export const device = (deviceId: DeviceID, overrides: Partial<Device> = {}): Device => ({
  deviceId,
  deviceLabel: null,
  verifyKey: bytes("vk", 30),
  deviceCertificate: bytes(`device-certificate-${deviceId}`, 8),
  redactedDeviceCertificate: bytes(`redacted-device-certificate-${deviceId}`, 8),
  deviceCertifier: null,
  createdOn: at(1),
  ...overrides,
});

/** A realm created at `createdOn` whose grants give each listed user a role (certificates are opaque bytes). */
export const realm = (
  id: RealmID,
  roles: readonly { readonly userId: UserID; readonly role: RealmRole | null; readonly by?: DeviceID | null; readonly on?: DateTime }[],
  overrides: Partial<Realm> = {},
): Realm => ({
  id,
  createdOn: at(2),
  encryptionRevision: 1,
  maintenance: null,
  grants: roles.map((grant, i) => ({
    userId: grant.userId,
    role: grant.role,
    certificate: bytes(`realm-role-certificate-${i}`, 8),
    grantedBy: grant.by ?? null,
    grantedOn: grant.on ?? at(2 + i),
  })),
  ...overrides,
});

/** Runs `work` in a unit of work that then throws; checks the run rejects with that very error. */
export const runAndRollBack = async (uow: UnitOfWork, organizationId: OrganizationID, work: (tx: Tx) => Promise<unknown>): Promise<void> => {
  const failure = new Error("contract: roll back");
  await expect(
    uow.run(organizationId, async (tx) => {
      await work(tx);
      throw failure;
    }),
  ).rejects.toBe(failure);
};

/** Lets other pending work run for a while (timers included), so that an interleaving would show. */
export const pause = (ms = 2): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `n` calls of `attempt` at once and waits for them all (a race between transactions: each attempt usually runs
 * its own `uow.run`). Results are in attempt order.
 */
export const race = <T>(n: number, attempt: (i: number) => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: n }, (_, i) => attempt(i)));

/** `n` consecutive integers from `from`. */
export const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

/** A role grant of `userId` (certificate: opaque bytes), for `RealmRepository.addGrant`. */
export const grant = (userId: UserID, role: RealmRole | null, grantedOn: DateTime, grantedBy: DeviceID | null = null): RealmRoleGrant => ({
  userId,
  role,
  certificate: bytes(`realm-role-certificate-${userId}-${role ?? "none"}`, 8),
  grantedBy,
  grantedOn,
});

/** Saves a new organization (not bootstrapped) and returns it. */
export const seedOrganization = async (
  p: Pick<PersistencePorts, "uow" | "organizations">,
  overrides: Partial<Organization> = {},
): Promise<Organization> => {
  const org = organization(overrides.id ?? newOrganizationId(), overrides);
  await p.uow.run(org.id, async (tx) => {
    if ((await p.organizations.create(tx, org)) !== "ok") throw new Error(`seedOrganization ${org.id}: already exists`);
    if (org.rootVerifyKey !== null) {
      const bootstrapped = await p.organizations.bootstrap(tx, org.id, {
        bootstrapToken: org.bootstrapToken,
        rootVerifyKey: org.rootVerifyKey,
        bootstrappedOn: org.bootstrappedOn ?? org.createdOn,
        sequesterAuthority: org.sequesterAuthority,
      });
      if (bootstrapped !== "ok") throw new Error(`seedOrganization ${org.id}: ${bootstrapped}`);
    }
  });
  return org;
};

/** Creates a user with devices `<userId>@dev1` … (the first one with the user); returns what was stored. */
export const seedUser = async (
  p: Pick<PersistencePorts, "uow" | "users">,
  organizationId: OrganizationID,
  userId: string,
  options: { readonly user?: Partial<User> & { readonly email?: string | null }; readonly devices?: number; readonly certifier?: DeviceID | null } = {},
): Promise<{ user: User; devices: Device[] }> => {
  const id = uid(userId);
  const stored = user(id, { userCertifier: options.certifier ?? null, ...options.user });
  const devices = Array.from({ length: options.devices ?? 1 }, (_, i) =>
    device(did(`${id}@dev${i + 1}`), { deviceCertifier: options.certifier ?? null, createdOn: stored.createdOn.addSeconds(i) }),
  );
  await p.uow.run(organizationId, async (tx) => {
    const created = await p.users.create(tx, organizationId, stored, devices[0]!);
    if (created !== "ok") throw new Error(`seedUser ${userId}: ${created}`);
    for (const extra of devices.slice(1)) {
      const added = await p.users.createDevice(tx, organizationId, extra);
      if (added !== "ok") throw new Error(`seedUser ${extra.deviceId}: ${added}`);
    }
  });
  return { user: stored, devices };
};

/**
 * Seeds a new organization and, in it, the users `names` in order (each seeded with `userOptions`, e.g. a profile);
 * returns the ports with the organization's id as `org`.
 */
export const seedOrganizationWithUsers = async <P extends Pick<PersistencePorts, "uow" | "organizations" | "users">>(
  p: P,
  names: readonly string[],
  userOptions: Parameters<typeof seedUser>[3] = {},
): Promise<P & { org: OrganizationID }> => {
  const org = (await seedOrganization(p)).id;
  for (const name of names) await seedUser(p, org, name, userOptions);
  return { ...p, org };
};

/** Creates realm `r` (with its grants) in its organization. */
export const seedRealm = async (p: Pick<PersistencePorts, "uow" | "realms">, organizationId: OrganizationID, r: Realm): Promise<Realm> => {
  await p.uow.run(organizationId, async (tx) => {
    if ((await p.realms.create(tx, organizationId, r)) !== "ok") throw new Error(`seedRealm ${r.id}: already exists`);
  });
  return r;
};

/** The profile-indexed user figures of `OrganizationStats`, for comparisons. */
export const perProfile = (detail: readonly { profile: UserProfile; active: number; revoked: number }[]): Record<string, { active: number; revoked: number }> =>
  Object.fromEntries(detail.map(({ profile, active, revoked }) => [profile, { active, revoked }]));
