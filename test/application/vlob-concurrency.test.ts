import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { AuthenticatedSession } from "../../src/application/index.js";
import type { Tx, VlobRepository } from "../../src/application/ports/index.js";
import { RealmID, VlobID, type OrganizationID, type UserID } from "../../src/domain/ids.js";
import type { Realm } from "../../src/domain/realm/index.js";
import type { Parsed } from "../../src/domain/result.js";
import { authenticate, bootstrapOrganization, buildTestApp, deviceId, userId } from "../support/app.js";
import { storeRealm } from "../support/world.js";

const valueOf = <T>(parsed: Parsed<T>): T => {
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};

const TRIALS = 1_000;

/**
 * The memory repository behind a database-like facade: `getForUpdate` (the head `vlob_update` checks) takes a snapshot
 * and answers it a turn of the event loop later, so that a use case not serialised by the unit of work would act on a
 * stale version.
 */
const snapshotting = (real: VlobRepository): VlobRepository =>
  Object.assign(Object.create(real) as VlobRepository, {
    getForUpdate: async (tx: Tx, organizationId: OrganizationID, vlobId: VlobID, user: UserID) => {
      const found = await real.getForUpdate(tx, organizationId, vlobId, user);
      const snapshot = found && { realm: { ...found.realm }, head: { ...found.head } };
      await new Promise((resolve) => setImmediate(resolve));
      return snapshot;
    },
  });

/** An organization with a realm where alice and bob are OWNER and CONTRIBUTOR. */
const setup = async () => {
  const t = buildTestApp({ overrides: (deps) => ({ vlobs: snapshotting(deps.vlobs) }) });
  const org = await bootstrapOrganization(t);
  const alice = await authenticate(t, org);
  const bob: AuthenticatedSession = { ...alice, deviceId: deviceId("bob@dev1"), userId: userId("bob") };
  const grantedOn = t.clock.now().addSeconds(-60);
  const grant = (name: string, role: "OWNER" | "CONTRIBUTOR") => ({
    userId: userId(name),
    role,
    certificate: Buffer.from(name),
    grantedBy: alice.deviceId,
    grantedOn,
  });
  const realm: Realm = {
    id: valueOf(RealmID.parse(randomUUID())),
    createdOn: grantedOn,
    encryptionRevision: 1,
    maintenance: null,
    grants: [grant("alice", "OWNER"), grant("bob", "CONTRIBUTOR")],
  };
  await storeRealm(t, org.organizationId, realm);
  const write = (vlobId: VlobID, blob: string) => ({ encryptionRevision: 1, vlobId, timestamp: t.clock.now(), blob: Buffer.from(blob), sequesterBlob: null });
  return { t, alice, bob, realm, write };
};

describe("vlob writes under concurrency", () => {
  it(`two sessions racing vlob_update of one vlob at one version: exactly one ok, the other bad_version (${TRIALS} trials)`, async () => {
    const { t, alice, bob, realm, write } = await setup();
    const winners = { alice: 0, bob: 0 };
    for (let trial = 0; trial < TRIALS; trial++) {
      const vlobId = valueOf(VlobID.parse(randomUUID()));
      expect(await t.app.createVlob(alice, { ...write(vlobId, "v1"), realmId: realm.id })).toEqual({ kind: "ok" });
      const [a, b] = await Promise.all([
        t.app.updateVlob(alice, { ...write(vlobId, "alice"), version: 2 }),
        t.app.updateVlob(bob, { ...write(vlobId, "bob"), version: 2 }),
      ]);
      expect([a.kind, b.kind].sort()).toEqual(["bad_version", "ok"]);
      const winner = a.kind === "ok" ? "alice" : "bob";
      winners[winner] += 1;
      expect(await t.app.readVlob(alice, { encryptionRevision: 1, vlobId, version: null, timestamp: null })).toMatchObject({
        kind: "ok",
        version: 2,
        blob: Buffer.from(winner),
      });
    }
    expect(winners.alice + winners.bob).toBe(TRIALS);
    const polled = await t.app.pollVlobChanges(alice, realm.id, 0);
    expect(polled).toMatchObject({ kind: "ok", currentCheckpoint: 2 * TRIALS });
    if (polled.kind === "ok") expect([...polled.changes.values()].every((version) => version === 2)).toBe(true);
    const checkpoints = t.published.flatMap((e) => (e.type === "realm.vlobs_updated" ? [e.checkpoint] : []));
    expect(checkpoints).toEqual(Array.from({ length: 2 * TRIALS }, (_, i) => i + 1));
  });

  it("many concurrent updates of one vlob at once: versions stay gapless, one winner per version", async () => {
    const { t, alice, bob, realm, write } = await setup();
    const vlobId = valueOf(VlobID.parse(randomUUID()));
    expect(await t.app.createVlob(alice, { ...write(vlobId, "v1"), realmId: realm.id })).toEqual({ kind: "ok" });
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => t.app.updateVlob(i % 2 ? bob : alice, { ...write(vlobId, `try ${i}`), version: 2 + (i % 10) })),
    );
    const ok = outcomes.filter((o) => o.kind === "ok").length;
    expect(outcomes.every((o) => o.kind === "ok" || o.kind === "bad_version")).toBe(true);
    const listed = await t.app.listVlobVersions(alice, vlobId);
    expect(listed.kind === "ok" && [...listed.versions.keys()]).toEqual(Array.from({ length: 1 + ok }, (_, i) => i + 1));
  });

  it("two sessions racing vlob_create of one id: exactly one ok, the other already_exists", async () => {
    const { t, alice, bob, realm, write } = await setup();
    for (let trial = 0; trial < 200; trial++) {
      const vlobId = valueOf(VlobID.parse(randomUUID()));
      const outcomes = await Promise.all([
        t.app.createVlob(alice, { ...write(vlobId, "a"), realmId: realm.id }),
        t.app.createVlob(bob, { ...write(vlobId, "b"), realmId: realm.id }),
      ]);
      expect(outcomes.map((o) => o.kind).sort()).toEqual(["already_exists", "ok"]);
    }
  });
});
