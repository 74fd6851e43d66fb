import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthenticatedSession } from "../../src/application/index.js";
import { RealmID, VlobID } from "../../src/domain/ids.js";
import { bootstrapMaterial, login, orgId, type Member } from "../support/app.js";
import { realmRoleCertificate } from "../support/certificates.js";
import { buildPostgresTestApp, type PostgresTestApp } from "../support/postgres-app.js";
import { addUser, parsed } from "../support/world.js";
import { randomBytes } from "node:crypto";

/**
 * Races on PostgreSQL, through the use cases on the real adapters (transactions, row locks, constraints): 1,000 trials
 * of each, run 10 at a time on separate objects so that trials also interleave with one another. Every outcome must be
 * a protocol status (an internal error rejects the trial), and exactly the expected number of winners.
 */

const TRIALS = 1_000;
const PARALLEL = 10;

/** Runs `trial(i)` for i in 0..TRIALS-1, `PARALLEL` lanes at a time, lane `l` taking i ≡ l (mod PARALLEL) in order. */
const trials = async (trial: (i: number, lane: number) => Promise<void>): Promise<void> => {
  await Promise.all(
    Array.from({ length: PARALLEL }, async (_, lane) => {
      for (let i = lane; i < TRIALS; i += PARALLEL) await trial(i, lane);
    }),
  );
};

const count = <T extends { kind: string }>(outcomes: readonly T[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
  return counts;
};

const newRealmId = () => parsed(RealmID.parse(randomBytes(16).toString("hex")));
const newVlobId = () => parsed(VlobID.parse(randomBytes(16).toString("hex")));

/**
 * The suite, on `vlob_update`'s one-statement path (the server's) or, with `locked`, on its locked transaction (the
 * path taken when the statement meets contention), where only the races involving `vlob_update` run.
 */
const races = (locked: boolean) => () => {
  let t: PostgresTestApp;
  let alice: Member;
  let bob: Member;
  let org: Awaited<ReturnType<typeof bootstrapOrg>>;

  const bootstrapOrg = async (name: string) => {
    const created = await t.app.createOrganization({ organizationId: orgId(name) });
    if (created.kind !== "ok") throw new Error(created.kind);
    const material = bootstrapMaterial(t.clock.now());
    const outcome = await t.app.bootstrapOrganization({ organizationId: orgId(name), bootstrapToken: created.bootstrapToken, ...material.request });
    if (outcome.kind !== "ok") throw new Error(JSON.stringify(outcome));
    return { ...material, organizationId: orgId(name), bootstrapToken: created.bootstrapToken };
  };

  /** A realm created by `owner` (OWNER), at the clock's time. */
  const createRealm = async (owner: Member) => {
    const realmId = newRealmId();
    const certificate = realmRoleCertificate(owner.key.signingKey, {
      author: owner.deviceId,
      timestamp: t.clock.now(),
      realmId,
      userId: owner.userId,
      role: "OWNER",
    });
    expect(await t.app.createRealm(owner.session, certificate)).toEqual({ kind: "ok" });
    return realmId;
  };

  const grant = (author: Member, realmId: RealmID, to: Member, role: "OWNER" | "MANAGER" | "CONTRIBUTOR" | "READER" | null) =>
    t.app.updateRealmRoles(author.session, {
      roleCertificate: realmRoleCertificate(author.key.signingKey, { author: author.deviceId, timestamp: t.clock.now(), realmId, userId: to.userId, role }),
      recipientMessage: null,
    });

  const write = (session: AuthenticatedSession, vlobId: VlobID, version: number) =>
    t.app.updateVlob(session, { vlobId, version, encryptionRevision: 1, timestamp: t.clock.now(), blob: randomBytes(32), sequesterBlob: null });

  beforeAll(async () => {
    t = await buildPostgresTestApp({ random: "real", maxConnections: 25, lockedVlobUpdates: locked });
    org = await bootstrapOrg("RaceOrg");
    alice = await login(t, org, org.deviceId, org.deviceKey);
    bob = await addUser({ t, org }, alice, { userId: "bob" });
  }, 60_000);

  afterAll(async () => {
    expect(t?.busErrors ?? []).toEqual([]);
    // The locks are taken in one order: no deadlock ever had to be retried.
    expect(t?.retries ?? []).toEqual([]);
    await t?.close();
  });

  it("vlob_update at one version: exactly one ok, the other bad_version", async () => {
    const vlobs = await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        const realmId = await createRealm(alice);
        t.clock.advance(0.001);
        const vlobId = newVlobId();
        const created = await t.app.createVlob(alice.session, { realmId, vlobId, encryptionRevision: 1, timestamp: t.clock.now(), blob: randomBytes(32), sequesterBlob: null });
        expect(created).toEqual({ kind: "ok" });
        return { vlobId, version: 1 };
      }),
    );
    await trials(async (_, lane) => {
      const target = vlobs[lane]!;
      const next = target.version + 1;
      const outcomes = await Promise.all([write(alice.session, target.vlobId, next), write(alice.session, target.vlobId, next)]);
      expect(count(outcomes)).toEqual({ ok: 1, bad_version: 1 });
      target.version = next;
    });
    for (const { vlobId, version } of vlobs) {
      const listed = await t.app.listVlobVersions(alice.session, vlobId);
      expect(listed.kind === "ok" && [...listed.versions.keys()]).toEqual(Array.from({ length: version }, (_, i) => i + 1));
    }
  }, 120_000);

  // Not involving vlob_update: once, on the default path.
  if (!locked) it("realm_create with one id: exactly one ok, the others already_exists", async () => {
    await trials(async () => {
      const realmId = newRealmId();
      const certificate = realmRoleCertificate(alice.key.signingKey, { author: alice.deviceId, timestamp: t.clock.now(), realmId, userId: alice.userId, role: "OWNER" });
      const outcomes = await Promise.all([1, 2, 3].map(() => t.app.createRealm(alice.session, certificate)));
      expect(count(outcomes)).toEqual({ ok: 1, already_exists: 2 });
    });
  }, 120_000);

  // Not involving vlob_update: once, on the default path.
  if (!locked) it("organization_bootstrap of one organization: exactly one ok, the other already_bootstrapped", async () => {
    await trials(async (i) => {
      const organizationId = orgId(`BootRace${i}`);
      const created = await t.app.createOrganization({ organizationId });
      if (created.kind !== "ok") throw new Error(created.kind);
      const contenders = [bootstrapMaterial(t.clock.now()), bootstrapMaterial(t.clock.now())];
      const outcomes = await Promise.all(
        contenders.map((m) => t.app.bootstrapOrganization({ organizationId, bootstrapToken: created.bootstrapToken, ...m.request })),
      );
      expect(count(outcomes)).toEqual({ ok: 1, already_bootstrapped: 1 });
      // The winner's root key is the organization's, and only the winner's first device can log in.
      const winner = contenders[outcomes.findIndex((o) => o.kind === "ok")]!;
      const organization = await t.app.getOrganization(organizationId);
      expect(organization.kind === "ok" && organization.organization.rootVerifyKey).toEqual(winner.rootKey.verifyKey);
    });
  }, 180_000);

  it("realm_update_roles against a vlob write by the user losing write rights: never both", async () => {
    const lanes = await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        const realmId = await createRealm(alice);
        t.clock.advance(0.001);
        expect(await grant(alice, realmId, bob, "CONTRIBUTOR")).toEqual({ kind: "ok" });
        t.clock.advance(0.001);
        const vlobId = newVlobId();
        const created = await t.app.createVlob(bob.session, { realmId, vlobId, encryptionRevision: 1, timestamp: t.clock.now(), blob: randomBytes(32), sequesterBlob: null });
        expect(created).toEqual({ kind: "ok" });
        return { realmId, vlobId, version: 1 };
      }),
    );
    const tally: Record<string, number> = {};
    await trials(async (_, lane) => {
      const target = lanes[lane]!;
      t.clock.advance(0.001);
      // The role certificate is older than the write: whichever commits first, the other must be refused.
      const demotion = grant(alice, target.realmId, bob, "READER");
      t.clock.advance(0.001);
      const writing = write(bob.session, target.vlobId, target.version + 1);
      const [demoted, written] = await Promise.all([demotion, writing]);
      const key = `${demoted.kind}/${written.kind}`;
      tally[key] = (tally[key] ?? 0) + 1;
      expect([demoted.kind, written.kind].filter((k) => k === "ok")).toHaveLength(1);
      if (written.kind === "ok") {
        target.version += 1;
        expect(demoted.kind).toBe("require_greater_timestamp");
      } else {
        expect(written.kind).toBe("not_allowed");
        t.clock.advance(0.001);
        expect(await grant(alice, target.realmId, bob, "CONTRIBUTOR")).toEqual({ kind: "ok" });
      }
    });
    // Both orders happen (otherwise the race was not raced).
    expect(Object.keys(tally).sort()).toEqual(["ok/not_allowed", "require_greater_timestamp/ok"]);
  }, 180_000);

  // Not involving vlob_update: once, on the default path.
  if (!locked) it("invite_new for one email: every call gets the same invitation", async () => {
    await trials(async (i) => {
      const email = `claimer${i}@example.com`;
      const outcomes = await Promise.all([1, 2, 3].map(() => t.app.inviteNew(alice.session, { type: "USER", claimerEmail: email, sendEmail: false })));
      const tokens = new Set(outcomes.map((o) => (o.kind === "ok" ? o.token : o.kind)));
      expect(tokens.size).toBe(1);
      expect(outcomes.every((o) => o.kind === "ok")).toBe(true);
    });
    const listed = await t.app.listInvitations(alice.session);
    expect(listed.invitations.filter((inv) => inv.claimerEmail?.startsWith("claimer")).length).toBe(TRIALS);
  }, 120_000);
};

describe("races on PostgreSQL (1,000 trials each, never an internal error)", races(false));
describe("races on PostgreSQL, vlob_update on its locked path", races(true));
