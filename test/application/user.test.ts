import { describe, expect, it } from "vitest";
import type { BackendEvent, Tx } from "../../src/application/ports/index.js";
import type { CreateUserInput } from "../../src/application/user/index.js";
import { userHandlers } from "../../src/adapters/protocol/handlers/user.js";
import type { DateTime } from "../../src/domain/time.js";
import type { User } from "../../src/domain/user/index.js";
import { bootstrapOrganization, buildTestApp, deviceId, login, storedDevice, userId, type Member, type TestApp } from "../support/app.js";
import { addUser, bootstrapWorld, handlerContext, newUser, type OrganizationWorld } from "../support/world.js";
import { deviceCertificate, randomEd25519, revokedUserCertificate, signPayload, userCertificate } from "../support/certificates.js";

type World = OrganizationWorld;

/** A fresh `CoolOrg` whose ADMIN alice is logged in. */
const setup = bootstrapWorld;

/** The `device_create` certificates of a new device of `author`'s user, signed by `author`. */
const newDevice = (t: TestApp, author: Member, deviceName: string, overrides: { deviceLabel?: string | null; timestamp?: DateTime } = {}) => {
  const key = randomEd25519();
  const fields = {
    author: author.deviceId,
    timestamp: overrides.timestamp ?? t.clock.now(),
    deviceId: `${author.userId}@${deviceName}`,
    verifyKey: key.verifyKey,
  };
  const deviceLabel = overrides.deviceLabel === undefined ? `Phone ${deviceName}` : overrides.deviceLabel;
  return {
    key,
    deviceId: deviceId(fields.deviceId),
    fields,
    input: {
      deviceCertificate: deviceCertificate(author.key.signingKey, { ...fields, deviceLabel }),
      redactedDeviceCertificate: deviceCertificate(author.key.signingKey, { ...fields, deviceLabel: null }),
    },
  };
};

/** Adds a device through `device_create` and logs it in. */
const addDevice = async (w: World, author: Member, deviceName: string): Promise<Member> => {
  const request = newDevice(w.t, author, deviceName);
  const outcome = await w.t.app.createDevice(author.session, request.input);
  if (outcome.kind !== "ok") throw new Error(`createDevice(${deviceName}): ${JSON.stringify(outcome)}`);
  return login(w.t, w.org, request.deviceId, request.key);
};

const revocation = (t: TestApp, author: Member, target: string, timestamp: DateTime = t.clock.now()): Buffer =>
  revokedUserCertificate(author.key.signingKey, { author: author.deviceId, timestamp, userId: target });

/** Revokes `target` through `user_revoke`; throws unless it succeeds. */
const revoke = async (w: World, author: Member, target: string): Promise<Buffer> => {
  const certificate = revocation(w.t, author, target);
  const outcome = await w.t.app.revokeUser(author.session, certificate);
  if (outcome.kind !== "ok") throw new Error(`revokeUser(${target}): ${JSON.stringify(outcome)}`);
  return certificate;
};

/** The users of `w`'s organization as the memory store holds them. */
const users = (w: World): ReadonlyMap<string, User> => w.t.persistence.store.organizations.get(w.org.organizationId)!.users;

const setLimit = async (w: World, activeUsersLimit: number | null): Promise<void> => {
  expect(await w.t.app.patchOrganization(w.org.organizationId, { activeUsersLimit })).toEqual({ kind: "ok" });
};

/** Buffers sorted by content, to compare sets of certificates whose order Parsec leaves open. */
const sorted = (buffers: readonly Buffer[]): Buffer[] => [...buffers].sort(Buffer.compare);

describe("user_create: ok", () => {
  it.each(["ADMIN", "STANDARD", "OUTSIDER"] as const)("creates a %s user and its first device exactly as received", async (profile) => {
    const w = await setup();
    w.t.clock.advance(3);
    const request = newUser(w.t, w.alice, { userId: "bob", profile });
    expect(await w.t.app.createUser(w.alice.session, request.input)).toEqual({ kind: "ok" });

    expect(await storedDevice(w.t, w.org.organizationId, request.deviceId)).toEqual({
      user: {
        userId: "bob",
        humanHandle: request.humanHandle,
        profile,
        publicKey: request.user.publicKey,
        userCertificate: request.input.userCertificate,
        redactedUserCertificate: request.input.redactedUserCertificate,
        userCertifier: w.alice.deviceId,
        createdOn: request.user.timestamp,
        revokedOn: null,
        revokedUserCertificate: null,
        revokedUserCertifier: null,
      },
      device: {
        deviceId: request.deviceId,
        deviceLabel: request.deviceLabel,
        verifyKey: request.deviceKey.verifyKey,
        deviceCertificate: request.input.deviceCertificate,
        redactedDeviceCertificate: request.input.redactedDeviceCertificate,
        deviceCertifier: w.alice.deviceId,
        createdOn: request.user.timestamp,
      },
    });
    const bob = await login(w.t, w.org, request.deviceId, request.deviceKey);
    expect(bob.session).toMatchObject({ userId: "bob", profile, humanHandle: request.humanHandle });
  });

  it("accepts a user without human handle nor device label (full and redacted certificates may then be the same)", async () => {
    const w = await setup();
    const request = newUser(w.t, w.alice, { userId: "bob", humanHandle: null, deviceLabel: null });
    const outcome = await w.t.app.createUser(w.alice.session, {
      ...request.input,
      userCertificate: request.input.redactedUserCertificate,
      deviceCertificate: request.input.redactedDeviceCertificate,
    });
    expect(outcome).toEqual({ kind: "ok" });
    const found = await storedDevice(w.t, w.org.organizationId, request.deviceId);
    expect(found?.user.humanHandle).toBeNull();
    expect(found?.device.deviceLabel).toBeNull();
  });

  it("accepts certificates up to the edges of the ballpark", async () => {
    const w = await setup();
    const early = newUser(w.t, w.alice, { userId: "bob", timestamp: w.t.clock.now().addSeconds(299) });
    expect(await w.t.app.createUser(w.alice.session, early.input)).toEqual({ kind: "ok" });
    const late = newUser(w.t, w.alice, { userId: "carol", timestamp: w.t.clock.now().addSeconds(-319) });
    expect(await w.t.app.createUser(w.alice.session, late.input)).toEqual({ kind: "ok" });
  });

  it("publishes no event", async () => {
    const w = await setup();
    await addUser(w, w.alice, { userId: "bob" });
    expect(w.t.published).toEqual([]);
  });
});

describe("user_create: not_allowed", () => {
  it.each(["STANDARD", "OUTSIDER"] as const)("refuses a %s author before reading the certificates", async (profile) => {
    const w = await setup();
    const author = await addUser(w, w.alice, { userId: "bob", profile });
    const garbage = Buffer.from("<certificate>");
    const outcome = await w.t.app.createUser(author.session, {
      userCertificate: garbage,
      deviceCertificate: garbage,
      redactedUserCertificate: garbage,
      redactedDeviceCertificate: garbage,
    });
    expect(outcome.kind).toBe("not_allowed");
    const valid = newUser(w.t, author, { userId: "carol" });
    expect((await w.t.app.createUser(author.session, valid.input)).kind).toBe("not_allowed");
    expect(await storedDevice(w.t, w.org.organizationId, valid.deviceId)).toBeNull();
  });

  it("refuses an OUTSIDER user when the organization does not allow outsiders, and only then", async () => {
    const w = await setup();
    expect(await w.t.app.patchOrganization(w.org.organizationId, { userProfileOutsiderAllowed: false })).toEqual({ kind: "ok" });
    const outsider = newUser(w.t, w.alice, { userId: "olivia", profile: "OUTSIDER" });
    expect(await w.t.app.createUser(w.alice.session, outsider.input)).toEqual({
      kind: "not_allowed",
      reason: "The organization does not allow users with the OUTSIDER profile.",
    });
    expect(await storedDevice(w.t, w.org.organizationId, outsider.deviceId)).toBeNull();
    expect((await w.t.app.createUser(w.alice.session, newUser(w.t, w.alice, { userId: "bob", profile: "STANDARD" }).input)).kind).toBe("ok");

    expect(await w.t.app.patchOrganization(w.org.organizationId, { userProfileOutsiderAllowed: true })).toEqual({ kind: "ok" });
    expect(await w.t.app.createUser(w.alice.session, outsider.input)).toEqual({ kind: "ok" });
  });
});

describe("user_create: invalid_certification", () => {
  it("certificates signed by another key than the author's", async () => {
    const w = await setup();
    const intruder: Member = { ...w.alice, key: randomEd25519() };
    const forged = newUser(w.t, intruder, { userId: "bob" });
    const good = newUser(w.t, w.alice, { userId: "bob" });
    for (const field of ["userCertificate", "deviceCertificate", "redactedUserCertificate", "redactedDeviceCertificate"] as const) {
      const outcome = await w.t.app.createUser(w.alice.session, { ...good.input, [field]: forged.input[field] });
      expect(outcome.kind).toBe("invalid_certification");
    }
  });

  it("certificates that name another author than the session's device", async () => {
    const w = await setup();
    const bob = await addUser(w, w.alice, { userId: "bob", profile: "ADMIN" });
    const claimsBob = newUser(w.t, { ...bob, key: w.alice.key }, { userId: "carol" });
    expect((await w.t.app.createUser(w.alice.session, claimsBob.input)).kind).toBe("invalid_certification");
  });

  it("garbage, empty or wrongly typed certificates", async () => {
    const w = await setup();
    const good = newUser(w.t, w.alice, { userId: "bob" });
    for (const input of [
      { ...good.input, userCertificate: Buffer.from("garbage") },
      { ...good.input, deviceCertificate: Buffer.alloc(0) },
      { ...good.input, redactedUserCertificate: signPayload(w.alice.key.signingKey, Buffer.from("not zlib")) },
      { ...good.input, userCertificate: good.input.deviceCertificate },
      { ...good.input, redactedDeviceCertificate: good.input.redactedUserCertificate },
    ]) {
      expect((await w.t.app.createUser(w.alice.session, input)).kind).toBe("invalid_certification");
    }
    expect(users(w).size).toBe(1);
  });

  it("a timestamp out of the ballpark (too old or too far ahead) is invalid_certification, not bad_timestamp", async () => {
    const w = await setup();
    const old = newUser(w.t, w.alice, { userId: "bob", timestamp: w.t.clock.now().addSeconds(-320) });
    expect(await w.t.app.createUser(w.alice.session, old.input)).toEqual({ kind: "invalid_certification", reason: "Invalid timestamp in certificate." });
    const ahead = newUser(w.t, w.alice, { userId: "bob", timestamp: w.t.clock.now().addSeconds(300) });
    expect(await w.t.app.createUser(w.alice.session, ahead.input)).toEqual({ kind: "invalid_certification", reason: "Invalid timestamp in certificate." });
    expect(users(w).size).toBe(1);
  });
});

describe("user_create: invalid_data", () => {
  it("user and device certificates with different timestamps", async () => {
    const w = await setup();
    const r = newUser(w.t, w.alice, { userId: "bob" });
    const later = { ...r.device, timestamp: r.device.timestamp.addSeconds(1) };
    const outcome = await w.t.app.createUser(w.alice.session, {
      ...r.input,
      deviceCertificate: deviceCertificate(w.alice.key.signingKey, { ...later, deviceLabel: r.deviceLabel }),
      redactedDeviceCertificate: deviceCertificate(w.alice.key.signingKey, { ...later, deviceLabel: null }),
    });
    expect(outcome).toEqual({ kind: "invalid_data", reason: "Device and User certificates must have the same timestamp." });
  });

  it("a first device of another user", async () => {
    const w = await setup();
    const r = newUser(w.t, w.alice, { userId: "bob" });
    const other = { ...r.device, deviceId: "mallory@dev1" };
    const outcome = await w.t.app.createUser(w.alice.session, {
      ...r.input,
      deviceCertificate: deviceCertificate(w.alice.key.signingKey, { ...other, deviceLabel: r.deviceLabel }),
      redactedDeviceCertificate: deviceCertificate(w.alice.key.signingKey, { ...other, deviceLabel: null }),
    });
    expect(outcome).toEqual({ kind: "invalid_data", reason: "Device and User must have the same user ID." });
  });

  it("redacted certificates that carry personal data or differ from the full ones", async () => {
    const w = await setup();
    const r = newUser(w.t, w.alice, { userId: "bob" });
    const sign = w.alice.key.signingKey;
    const variants: [Partial<CreateUserInput>, string][] = [
      [{ redactedUserCertificate: r.input.userCertificate }, "Redacted User certificate must not contain a human_handle field."],
      [{ redactedDeviceCertificate: r.input.deviceCertificate }, "Redacted Device certificate must not contain a device_label field."],
      [
        { redactedUserCertificate: userCertificate(sign, { ...r.user, humanHandle: null, profile: "OUTSIDER" }) },
        "Redacted User certificate differs from User certificate.",
      ],
      [
        { redactedUserCertificate: userCertificate(sign, { ...r.user, humanHandle: null, publicKey: randomEd25519().verifyKey }) },
        "Redacted User certificate differs from User certificate.",
      ],
      [
        { redactedDeviceCertificate: deviceCertificate(sign, { ...r.device, deviceLabel: null, verifyKey: randomEd25519().verifyKey }) },
        "Redacted Device certificate differs from Device certificate.",
      ],
    ];
    for (const [change, reason] of variants) expect(await w.t.app.createUser(w.alice.session, { ...r.input, ...change })).toEqual({ kind: "invalid_data", reason });
    expect(users(w).size).toBe(1);
  });
});

describe("user_create: already_exists", () => {
  it("the user id is taken", async () => {
    const w = await setup();
    await addUser(w, w.alice, { userId: "bob" });
    const again = newUser(w.t, w.alice, { userId: "bob", humanHandle: { email: "other@example.com", label: "Other" } });
    expect(await w.t.app.createUser(w.alice.session, again.input)).toEqual({ kind: "already_exists", reason: "User `bob` already exists" });
  });

  it("the user id of a revoked user stays taken", async () => {
    const w = await setup();
    await addUser(w, w.alice, { userId: "bob" });
    await revoke(w, w.alice, "bob");
    const again = newUser(w.t, w.alice, { userId: "bob", humanHandle: null });
    expect((await w.t.app.createUser(w.alice.session, again.input)).kind).toBe("already_exists");
  });

  it("a non-revoked user has the same email (whatever the label)", async () => {
    const w = await setup();
    await addUser(w, w.alice, { userId: "bob", humanHandle: { email: "bob@example.com", label: "Bob" } });
    const twin = newUser(w.t, w.alice, { userId: "bob2", humanHandle: { email: "bob@example.com", label: "Another Bob" } });
    expect(await w.t.app.createUser(w.alice.session, twin.input)).toEqual({
      kind: "already_exists",
      reason: "Human handle `bob@example.com` already corresponds to a non-revoked user",
    });
    const sameLabel = newUser(w.t, w.alice, { userId: "bob3", humanHandle: { email: "bob3@example.com", label: "Bob" } });
    expect(await w.t.app.createUser(w.alice.session, sameLabel.input)).toEqual({ kind: "ok" });
  });

  it("the email of a revoked user is free again, unless the revocation is still in the future", async () => {
    const w = await setup();
    await addUser(w, w.alice, { userId: "bob" });
    await addUser(w, w.alice, { userId: "carol" });
    await revoke(w, w.alice, "bob");
    const newBob = newUser(w.t, w.alice, { userId: "bob2", humanHandle: { email: "bob@example.com", label: "Bob again" } });
    expect(await w.t.app.createUser(w.alice.session, newBob.input)).toEqual({ kind: "ok" });

    const future = revocation(w.t, w.alice, "carol", w.t.clock.now().addSeconds(60));
    expect(await w.t.app.revokeUser(w.alice.session, future)).toEqual({ kind: "ok" });
    const newCarol = newUser(w.t, w.alice, { userId: "carol2", humanHandle: { email: "carol@example.com", label: "Carol" } });
    expect((await w.t.app.createUser(w.alice.session, newCarol.input)).kind).toBe("already_exists");
    w.t.clock.advance(60);
    const laterCarol = newUser(w.t, w.alice, { userId: "carol2", humanHandle: { email: "carol@example.com", label: "Carol" } });
    expect(await w.t.app.createUser(w.alice.session, laterCarol.input)).toEqual({ kind: "ok" });
  });
});

describe("user_create: active_users_limit_reached", () => {
  it("refuses once the limit of non-revoked users is reached, accepts again when the limit is raised", async () => {
    const w = await setup();
    await setLimit(w, 1);
    const bob = newUser(w.t, w.alice, { userId: "bob" });
    expect(await w.t.app.createUser(w.alice.session, bob.input)).toEqual({
      kind: "active_users_limit_reached",
      reason: "The organization's active users limit is reached.",
    });
    expect(users(w).size).toBe(1);
    await setLimit(w, 2);
    expect(await w.t.app.createUser(w.alice.session, bob.input)).toEqual({ kind: "ok" });
    expect((await w.t.app.createUser(w.alice.session, newUser(w.t, w.alice, { userId: "carol" }).input)).kind).toBe("active_users_limit_reached");
  });

  it("does not count revoked users (even those revoked in the future)", async () => {
    const w = await setup();
    await addUser(w, w.alice, { userId: "bob" });
    await addUser(w, w.alice, { userId: "carol" });
    await setLimit(w, 2);
    expect((await w.t.app.createUser(w.alice.session, newUser(w.t, w.alice, { userId: "dave" }).input)).kind).toBe("active_users_limit_reached");
    await revoke(w, w.alice, "bob");
    expect(await w.t.app.revokeUser(w.alice.session, revocation(w.t, w.alice, "carol", w.t.clock.now().addSeconds(100)))).toEqual({ kind: "ok" });
    expect(await w.t.app.createUser(w.alice.session, newUser(w.t, w.alice, { userId: "dave" }).input)).toEqual({ kind: "ok" });
    expect((await w.t.app.createUser(w.alice.session, newUser(w.t, w.alice, { userId: "erin" }).input)).kind).toBe("active_users_limit_reached");
  });

  it("is checked before uniqueness, as Parsec does", async () => {
    const w = await setup();
    await setLimit(w, 1);
    expect((await w.t.app.createUser(w.alice.session, newUser(w.t, w.alice, { userId: "alice" }).input)).kind).toBe("active_users_limit_reached");
  });

  it("a limit of 0 refuses every new user", async () => {
    const w = await setup();
    await setLimit(w, 0);
    expect((await w.t.app.createUser(w.alice.session, newUser(w.t, w.alice, { userId: "bob" }).input)).kind).toBe("active_users_limit_reached");
  });
});

describe("user_create: concurrency", () => {
  it("20 concurrent creations with a limit of 5 active users: exactly 4 succeed (alice is the 5th)", async () => {
    const w = await setup();
    await setLimit(w, 5);
    const requests = Array.from({ length: 20 }, (_, i) => newUser(w.t, w.alice, { userId: `user${i}` }));
    const outcomes = await Promise.all(requests.map((r) => w.t.app.createUser(w.alice.session, r.input)));
    expect(outcomes.filter((o) => o.kind === "ok")).toHaveLength(4);
    expect(outcomes.filter((o) => o.kind === "active_users_limit_reached")).toHaveLength(16);
    expect(users(w).size).toBe(5);
  });

  it("concurrent creations with one email: exactly one succeeds", async () => {
    const w = await setup();
    const handle = { email: "zack@example.com", label: "Zack" };
    const requests = Array.from({ length: 10 }, (_, i) => newUser(w.t, w.alice, { userId: `zack${i}`, humanHandle: handle }));
    const outcomes = await Promise.all(requests.map((r) => w.t.app.createUser(w.alice.session, r.input)));
    expect(outcomes.filter((o) => o.kind === "ok")).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "already_exists")).toHaveLength(9);
  });

  it("concurrent creations in different organizations do not share a limit", async () => {
    const t = buildTestApp({ organizationDefaults: { activeUsersLimit: 2 } });
    const worlds: World[] = [];
    for (const name of ["OrgA", "OrgB"]) {
      const org = await bootstrapOrganization(t, name);
      worlds.push({ t, org, alice: await login(t, org, org.deviceId, org.deviceKey) });
    }
    const outcomes = await Promise.all(
      worlds.flatMap((w) => [0, 1, 2].map((i) => w.t.app.createUser(w.alice.session, newUser(w.t, w.alice, { userId: `u${i}` }).input))),
    );
    expect(outcomes.filter((o) => o.kind === "ok")).toHaveLength(2);
  });
});

describe("device_create", () => {
  it.each([true, false])("ok (with labels: %s): stores the device exactly as received; it can then log in", async (withLabel) => {
    const w = await setup();
    const r = newDevice(w.t, w.alice, "dev2", withLabel ? {} : { deviceLabel: null });
    expect(await w.t.app.createDevice(w.alice.session, r.input)).toEqual({ kind: "ok" });
    const found = await storedDevice(w.t, w.org.organizationId, r.deviceId);
    expect(found?.device).toEqual({
      deviceId: r.deviceId,
      deviceLabel: withLabel ? "Phone dev2" : null,
      verifyKey: r.key.verifyKey,
      deviceCertificate: r.input.deviceCertificate,
      redactedDeviceCertificate: r.input.redactedDeviceCertificate,
      deviceCertifier: w.alice.deviceId,
      createdOn: r.fields.timestamp,
    });
    const dev2 = await login(w.t, w.org, r.deviceId, r.key);
    expect(dev2.session.userId).toBe("alice");
    expect(w.t.published).toEqual([]);
  });

  it("ok for any profile, OUTSIDER included", async () => {
    const w = await setup();
    const olivia = await addUser(w, w.alice, { userId: "olivia", profile: "OUTSIDER" });
    expect(await w.t.app.createDevice(olivia.session, newDevice(w.t, olivia, "dev2").input)).toEqual({ kind: "ok" });
  });

  it("invalid_certification: signed by another key, naming another author, garbage, or out of the ballpark", async () => {
    const w = await setup();
    const bob = await addUser(w, w.alice, { userId: "bob" });
    const good = newDevice(w.t, w.alice, "dev2");
    const forged = newDevice(w.t, { ...w.alice, key: randomEd25519() }, "dev2");
    const otherAuthor = deviceCertificate(w.alice.key.signingKey, { ...good.fields, author: bob.deviceId, deviceLabel: null });
    for (const input of [
      { ...good.input, deviceCertificate: forged.input.deviceCertificate },
      { ...good.input, redactedDeviceCertificate: forged.input.redactedDeviceCertificate },
      { ...good.input, redactedDeviceCertificate: otherAuthor },
      { ...good.input, deviceCertificate: Buffer.from("garbage") },
    ])
      expect((await w.t.app.createDevice(w.alice.session, input)).kind).toBe("invalid_certification");
    const old = newDevice(w.t, w.alice, "dev2", { timestamp: w.t.clock.now().addSeconds(-320) });
    expect(await w.t.app.createDevice(w.alice.session, old.input)).toEqual({ kind: "invalid_certification", reason: "Invalid timestamp in certification." });
    expect(await storedDevice(w.t, w.org.organizationId, good.deviceId)).toBeNull();
  });

  it("bad_user_id: a device for another user", async () => {
    const w = await setup();
    await addUser(w, w.alice, { userId: "bob" });
    const r = newDevice(w.t, w.alice, "dev2");
    const fields = { ...r.fields, deviceId: "bob@dev2" };
    const outcome = await w.t.app.createDevice(w.alice.session, {
      deviceCertificate: deviceCertificate(w.alice.key.signingKey, { ...fields, deviceLabel: null }),
      redactedDeviceCertificate: deviceCertificate(w.alice.key.signingKey, { ...fields, deviceLabel: null }),
    });
    expect(outcome).toEqual({ kind: "bad_user_id", reason: "Device must be handled by it own user." });
  });

  it("invalid_data: the redacted certificate carries the label or differs", async () => {
    const w = await setup();
    const r = newDevice(w.t, w.alice, "dev2");
    expect(await w.t.app.createDevice(w.alice.session, { ...r.input, redactedDeviceCertificate: r.input.deviceCertificate })).toEqual({
      kind: "invalid_data",
      reason: "Redacted Device certificate must not contain a device_label field.",
    });
    for (const change of [{ timestamp: r.fields.timestamp.addSeconds(1) }, { deviceId: "alice@dev3" }, { verifyKey: randomEd25519().verifyKey }]) {
      const redacted = deviceCertificate(w.alice.key.signingKey, { ...r.fields, ...change, deviceLabel: null });
      expect(await w.t.app.createDevice(w.alice.session, { ...r.input, redactedDeviceCertificate: redacted })).toEqual({
        kind: "invalid_data",
        reason: "Redacted Device certificate differs from Device certificate.",
      });
    }
  });

  it("already_exists: the device id is taken (the author's own, or one created before)", async () => {
    const w = await setup();
    expect(await w.t.app.createDevice(w.alice.session, newDevice(w.t, w.alice, "dev1").input)).toEqual({
      kind: "already_exists",
      reason: "Device `alice@dev1` already exists",
    });
    await addDevice(w, w.alice, "dev2");
    expect((await w.t.app.createDevice(w.alice.session, newDevice(w.t, w.alice, "dev2").input)).kind).toBe("already_exists");
  });

  it("concurrent creations of one device id: exactly one succeeds", async () => {
    const w = await setup();
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => w.t.app.createDevice(w.alice.session, newDevice(w.t, w.alice, "dev2").input)));
    expect(outcomes.map((o) => o.kind).sort()).toEqual(["already_exists", "already_exists", "already_exists", "already_exists", "ok"]);
  });
});

describe("user_revoke: ok", () => {
  it("records the certificate's timestamp, the certificate and its certifier", async () => {
    const w = await setup();
    await addUser(w, w.alice, { userId: "bob" });
    const on = w.t.clock.now().addSeconds(-10);
    const certificate = revocation(w.t, w.alice, "bob", on);
    expect(await w.t.app.revokeUser(w.alice.session, certificate)).toEqual({ kind: "ok" });
    expect(users(w).get("bob")).toMatchObject({ revokedOn: on, revokedUserCertificate: certificate, revokedUserCertifier: w.alice.deviceId });
  });

  it("publishes user.revoked with the transaction: delivered once, after commit, after the use case resolved", async () => {
    const publications: { event: BackendEvent; tx: Tx }[] = [];
    const w = await setup({
      overrides: (deps) => ({
        events: {
          publish: async (tx, event) => {
            publications.push({ event, tx });
            await deps.events.publish(tx, event);
          },
          publishNow: (event) => deps.events.publishNow(event),
          subscribe: (organizationId, subscriber) => deps.events.subscribe(organizationId, subscriber),
        },
      }),
    });
    await addUser(w, w.alice, { userId: "bob" });
    const seenAtDelivery: unknown[] = [];
    w.t.events.subscribe(w.org.organizationId, {
      event: (event) => {
        if (event.type === "user.revoked") seenAtDelivery.push(users(w).get(event.userId)?.revokedOn);
      },
    });
    await revoke(w, w.alice, "bob");
    const expected = { type: "user.revoked", organizationId: w.org.organizationId, userId: "bob" };
    expect(publications).toHaveLength(1);
    expect(publications[0]!.event).toEqual(expected);
    expect(publications[0]!.tx).toBeDefined();
    expect(w.t.published).toEqual([expected]);
    expect(seenAtDelivery).toEqual([]);
    await w.t.events.idle();
    expect(seenAtDelivery).toEqual([w.t.clock.now()]);
  });

  it("neither records nor publishes when the unit of work rolls back after the revocation", async () => {
    let failing = false;
    const w = await setup({
      overrides: (deps) => ({
        uow: {
          run: (organizationId, work) =>
            deps.uow.run(organizationId, async (tx) => {
              const result = await work(tx);
              if (failing) throw new Error("storage failure before commit");
              return result;
            }),
        },
      }),
    });
    await addUser(w, w.alice, { userId: "bob" });
    failing = true;
    await expect(w.t.app.revokeUser(w.alice.session, revocation(w.t, w.alice, "bob"))).rejects.toThrow("storage failure before commit");
    expect(w.t.published).toEqual([]);
    expect(users(w).get("bob")).toMatchObject({ revokedOn: null, revokedUserCertificate: null, revokedUserCertifier: null });
  });

  it("the revoked user's devices can no longer log in; others still can", async () => {
    const w = await setup();
    const bob = await addUser(w, w.alice, { userId: "bob" });
    const bob2 = await addDevice(w, bob, "dev2");
    await addUser(w, w.alice, { userId: "carol" });
    await revoke(w, w.alice, "bob");
    for (const device of [bob, bob2]) await expect(login(w.t, w.org, device.deviceId, device.key)).rejects.toThrow("revoked_device");
    await expect(login(w.t, w.org, w.alice.deviceId, w.alice.key)).resolves.toBeDefined();
  });

  it("a revocation dated in the future takes effect at its date", async () => {
    const w = await setup();
    const bob = await addUser(w, w.alice, { userId: "bob" });
    expect(await w.t.app.revokeUser(w.alice.session, revocation(w.t, w.alice, "bob", w.t.clock.now().addSeconds(30)))).toEqual({ kind: "ok" });
    await expect(login(w.t, w.org, bob.deviceId, bob.key)).resolves.toBeDefined();
    w.t.clock.advance(30);
    await expect(login(w.t, w.org, bob.deviceId, bob.key)).rejects.toThrow("revoked_device");
  });

  it("another ADMIN can revoke the first admin", async () => {
    const w = await setup();
    const adam = await addUser(w, w.alice, { userId: "adam", profile: "ADMIN" });
    expect(await w.t.app.revokeUser(adam.session, revocation(w.t, adam, "alice"))).toEqual({ kind: "ok" });
  });
});

describe("user_revoke: errors", () => {
  it("not_allowed: the author is not ADMIN (checked before the certificate)", async () => {
    const w = await setup();
    for (const profile of ["STANDARD", "OUTSIDER"] as const) {
      const author = await addUser(w, w.alice, { userId: `x${profile.toLowerCase()}`, profile });
      expect((await w.t.app.revokeUser(author.session, revocation(w.t, author, "alice"))).kind).toBe("not_allowed");
      expect((await w.t.app.revokeUser(author.session, Buffer.from("garbage"))).kind).toBe("not_allowed");
    }
    expect(users(w).get("alice")?.revokedOn).toBeNull();
  });

  it("not_allowed: an ADMIN cannot revoke its own user", async () => {
    const w = await setup();
    expect(await w.t.app.revokeUser(w.alice.session, revocation(w.t, w.alice, "alice"))).toEqual({ kind: "not_allowed", reason: "Cannot revoke your own user." });
    expect(w.t.published).toEqual([]);
  });

  it("invalid_certification: signed by another device, garbage, wrong type, out of the ballpark", async () => {
    const w = await setup();
    await addUser(w, w.alice, { userId: "bob" });
    const alice2 = await addDevice(w, w.alice, "dev2");
    expect((await w.t.app.revokeUser(w.alice.session, revocation(w.t, alice2, "bob"))).kind).toBe("invalid_certification");
    const signedByDev2ClaimingDev1 = revokedUserCertificate(alice2.key.signingKey, { author: w.alice.deviceId, timestamp: w.t.clock.now(), userId: "bob" });
    expect((await w.t.app.revokeUser(w.alice.session, signedByDev2ClaimingDev1)).kind).toBe("invalid_certification");
    expect((await w.t.app.revokeUser(w.alice.session, Buffer.from("garbage"))).kind).toBe("invalid_certification");
    expect((await w.t.app.revokeUser(w.alice.session, newDevice(w.t, w.alice, "dev3").input.deviceCertificate)).kind).toBe("invalid_certification");
    for (const offset of [-320, 300])
      expect(await w.t.app.revokeUser(w.alice.session, revocation(w.t, w.alice, "bob", w.t.clock.now().addSeconds(offset)))).toEqual({
        kind: "invalid_certification",
        reason: "Invalid timestamp in certification.",
      });
    expect(users(w).get("bob")?.revokedOn).toBeNull();
    expect(w.t.published).toEqual([]);
  });

  it("not_found: unknown user, or a user of another organization", async () => {
    const w = await setup();
    expect(await w.t.app.revokeUser(w.alice.session, revocation(w.t, w.alice, "mallory"))).toEqual({ kind: "not_found" });
    const other = await bootstrapOrganization(w.t, "OtherOrg", { userId: "zack" });
    const zack = await login(w.t, other, other.deviceId, other.deviceKey);
    await addUser({ t: w.t, org: other }, zack, { userId: "yolanda" });
    expect(await w.t.app.revokeUser(w.alice.session, revocation(w.t, w.alice, "yolanda"))).toEqual({ kind: "not_found" });
    expect(w.t.published).toEqual([]);
  });

  it("already_revoked: a second revocation, even with another certificate", async () => {
    const w = await setup();
    const adam = await addUser(w, w.alice, { userId: "adam", profile: "ADMIN" });
    await addUser(w, w.alice, { userId: "bob" });
    const first = await revoke(w, w.alice, "bob");
    expect(await w.t.app.revokeUser(w.alice.session, first)).toEqual({ kind: "already_revoked", reason: "User `bob` is already revoked" });
    w.t.clock.advance(1);
    expect((await w.t.app.revokeUser(adam.session, revocation(w.t, adam, "bob"))).kind).toBe("already_revoked");
    expect(users(w).get("bob")?.revokedUserCertificate).toEqual(first);
    expect(w.t.published).toHaveLength(1);
  });

  it("concurrent revocations of one user: exactly one succeeds and one event is published", async () => {
    const w = await setup();
    await addUser(w, w.alice, { userId: "bob" });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => w.t.app.revokeUser(w.alice.session, revocation(w.t, w.alice, "bob"))));
    expect(outcomes.filter((o) => o.kind === "ok")).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "already_revoked")).toHaveLength(4);
    expect(w.t.published.filter((e) => e.type === "user.revoked")).toHaveLength(1);
  });
});

describe("user_get", () => {
  /**
   * root → alice@dev1 → bob (ADMIN) → bob@dev2 → carol (ADMIN) ; alice@dev1 → mallory, revoked by carol@dev1 ;
   * alice@dev1 → olivia (OUTSIDER).
   */
  const chain = async () => {
    const w = await setup();
    const bob = await addUser(w, w.alice, { userId: "bob", profile: "ADMIN" });
    const bob2 = await addDevice(w, bob, "dev2");
    const carol = await addUser(w, bob2, { userId: "carol", profile: "ADMIN" });
    await addUser(w, w.alice, { userId: "mallory" });
    const malloryRevocation = await revoke(w, carol, "mallory");
    const olivia = await addUser(w, w.alice, { userId: "olivia", profile: "OUTSIDER" });
    const stored = (id: string) => users(w).get(id)!;
    const device = (id: string) => w.t.persistence.store.organizations.get(w.org.organizationId)!.devices.get(deviceId(id))!;
    return { w, bob, bob2, carol, olivia, malloryRevocation, stored, device };
  };

  it("ok for the root user: its certificates and an empty trustchain", async () => {
    const w = await setup();
    expect(await w.t.app.getUser(w.alice.session, userId("alice"))).toEqual({
      kind: "ok",
      userCertificate: w.org.request.userCertificate,
      revokedUserCertificate: null,
      deviceCertificates: [w.org.request.deviceCertificate],
      trustchain: { users: [], devices: [], revokedUsers: [] },
    });
  });

  it("lists every device of the user in creation order; devices certified by the user's own device bring it in the trustchain", async () => {
    const w = await setup();
    await addDevice(w, w.alice, "dev3");
    await addDevice(w, w.alice, "dev2");
    const got = await w.t.app.getUser(w.alice.session, userId("alice"));
    const devices = w.t.persistence.store.organizations.get(w.org.organizationId)!.devices;
    expect(got).toEqual({
      kind: "ok",
      userCertificate: w.org.request.userCertificate,
      revokedUserCertificate: null,
      deviceCertificates: ["alice@dev1", "alice@dev3", "alice@dev2"].map((id) => devices.get(deviceId(id))!.deviceCertificate),
      trustchain: { users: [w.org.request.userCertificate], devices: [w.org.request.deviceCertificate], revokedUsers: [] },
    });
  });

  it("trustchain of carol: every device and user back to the root, each once", async () => {
    const { w, stored, device } = await chain();
    const got = await w.t.app.getUser(w.alice.session, userId("carol"));
    if (got.kind !== "ok") throw new Error(got.kind);
    expect(got.userCertificate).toEqual(stored("carol").userCertificate);
    expect(got.deviceCertificates).toEqual([device("carol@dev1").deviceCertificate]);
    expect(got.revokedUserCertificate).toBeNull();
    expect(sorted(got.trustchain.devices)).toEqual(sorted(["bob@dev2", "bob@dev1", "alice@dev1"].map((id) => device(id).deviceCertificate)));
    expect(sorted(got.trustchain.users)).toEqual(sorted(["bob", "alice"].map((id) => stored(id).userCertificate)));
    expect(got.trustchain.revokedUsers).toEqual([]);
  });

  it("trustchain of a revoked user includes the revoker's chain; the revocation certificate is returned", async () => {
    const { w, stored, device, malloryRevocation } = await chain();
    const got = await w.t.app.getUser(w.alice.session, userId("mallory"));
    if (got.kind !== "ok") throw new Error(got.kind);
    expect(got.revokedUserCertificate).toEqual(malloryRevocation);
    expect(sorted(got.trustchain.devices)).toEqual(sorted(["alice@dev1", "carol@dev1", "bob@dev2", "bob@dev1"].map((id) => device(id).deviceCertificate)));
    expect(sorted(got.trustchain.users)).toEqual(sorted(["alice", "carol", "bob"].map((id) => stored(id).userCertificate)));
    expect(got.trustchain.revokedUsers).toEqual([]);
  });

  it("trustchain carries the revocation certificates of revoked certifiers", async () => {
    const { w, stored } = await chain();
    const bobRevocation = await revoke(w, w.alice, "bob");
    const got = await w.t.app.getUser(w.alice.session, userId("carol"));
    if (got.kind !== "ok") throw new Error(got.kind);
    expect(got.trustchain.revokedUsers).toEqual([bobRevocation]);
    expect(stored("bob").revokedUserCertifier).toBe(w.alice.deviceId);
  });

  it("an OUTSIDER gets the redacted user and device certificates, in the trustchain too", async () => {
    const { w, olivia, stored, device, malloryRevocation } = await chain();
    const carol = await w.t.app.getUser(olivia.session, userId("carol"));
    if (carol.kind !== "ok") throw new Error(carol.kind);
    expect(carol.userCertificate).toEqual(stored("carol").redactedUserCertificate);
    expect(carol.deviceCertificates).toEqual([device("carol@dev1").redactedDeviceCertificate]);
    expect(sorted(carol.trustchain.devices)).toEqual(sorted(["bob@dev2", "bob@dev1", "alice@dev1"].map((id) => device(id).redactedDeviceCertificate)));
    expect(sorted(carol.trustchain.users)).toEqual(sorted(["bob", "alice"].map((id) => stored(id).redactedUserCertificate)));
    const mallory = await w.t.app.getUser(olivia.session, userId("mallory"));
    expect(mallory.kind === "ok" && mallory.revokedUserCertificate).toEqual(malloryRevocation);
    const self = await w.t.app.getUser(olivia.session, userId("olivia"));
    expect(self.kind === "ok" && self.userCertificate).toEqual(stored("olivia").redactedUserCertificate);
  });

  it("not_found: unknown user, or a user of another organization", async () => {
    const w = await setup();
    expect(await w.t.app.getUser(w.alice.session, userId("dummy"))).toEqual({ kind: "not_found" });
    const other = await bootstrapOrganization(w.t, "OtherOrg", { userId: "zack" });
    const zack = await login(w.t, other, other.deviceId, other.deviceKey);
    expect(await w.t.app.getUser(zack.session, userId("alice"))).toEqual({ kind: "not_found" });
  });
});

describe("human_find", () => {
  const LABELS = ["Richard", "Roger", "Blacky3", "Mike", "blacky", "Blacky4", "Blacky2"];
  const search = (overrides: Partial<Parameters<TestApp["app"]["findHumans"]>[1]> = {}) => ({
    query: null,
    omitRevoked: false,
    omitNonHuman: false,
    page: 1,
    perPage: 100,
    ...overrides,
  });
  const populated = async () => {
    const w = await setup();
    for (const label of LABELS) await addUser(w, w.alice, { userId: label.toLowerCase() + "_id", humanHandle: { email: `${label.toLowerCase()}@cobra.com`, label } });
    return w;
  };
  const ids = (outcome: Awaited<ReturnType<TestApp["app"]["findHumans"]>>) => (outcome.kind === "ok" ? outcome.results.map((r) => r.userId) : outcome.kind);

  it("not_allowed for an OUTSIDER", async () => {
    const w = await setup();
    const olivia = await addUser(w, w.alice, { userId: "olivia", profile: "OUTSIDER" });
    expect(await w.t.app.findHumans(olivia.session, search({ query: "whatever" }))).toEqual({ kind: "not_allowed", reason: "OUTSIDER users cannot search users." });
  });

  it("lists every user sorted by case-insensitive label, with handle and revocation", async () => {
    const w = await populated();
    const outcome = await w.t.app.findHumans(w.alice.session, search());
    expect(ids(outcome)).toEqual(["blacky_id", "blacky2_id", "blacky3_id", "blacky4_id", "mike_id", "richard_id", "roger_id", "alice"]);
    expect(outcome.kind === "ok" && outcome.total).toBe(8);
    expect(outcome.kind === "ok" && outcome.results[0]).toEqual({ userId: "blacky_id", humanHandle: { email: "blacky@cobra.com", label: "blacky" }, revoked: false });
  });

  it("pages after sorting; a page past the end is empty with the same total", async () => {
    const w = await populated();
    expect(ids(await w.t.app.findHumans(w.alice.session, search({ perPage: 3 })))).toEqual(["blacky_id", "blacky2_id", "blacky3_id"]);
    const second = await w.t.app.findHumans(w.alice.session, search({ page: 2, perPage: 3 }));
    expect(second).toMatchObject({ kind: "ok", total: 8 });
    expect(ids(second)).toEqual(["blacky4_id", "mike_id", "richard_id"]);
    expect(ids(await w.t.app.findHumans(w.alice.session, search({ page: 3, perPage: 3 })))).toEqual(["roger_id", "alice"]);
    expect(await w.t.app.findHumans(w.alice.session, search({ page: 4, perPage: 3 }))).toEqual({ kind: "ok", results: [], total: 8 });
    const queried = await w.t.app.findHumans(w.alice.session, search({ query: "BlaCkY", perPage: 1 }));
    expect(queried).toMatchObject({ kind: "ok", total: 4 });
    expect(ids(queried)).toEqual(["blacky_id"]);
  });

  it("matches label or email, case-insensitively, words in order separated by any whitespace", async () => {
    const w = await setup();
    for (const [id, label] of [["bruce_le", "Bruce Le"], ["bruce_li", "Bruce Li"], ["bruce_lai", "Bruce Lai"]] as const)
      await addUser(w, w.alice, { userId: id, humanHandle: { email: `${id.replace("_", ".")}@bruceploitation.com`, label } });
    const all = ["bruce_lai", "bruce_le", "bruce_li"];
    for (const query of ["Bruce", "bruce.l", "BRUCE L", "Bruce  L", "Bruce\nL", "Bruce\tL", "bruceploitation"])
      expect(ids(await w.t.app.findHumans(w.alice.session, search({ query })))).toEqual(all);
    expect(ids(await w.t.app.findHumans(w.alice.session, search({ query: "ploitation bruce" })))).toEqual([]);
    expect(ids(await w.t.app.findHumans(w.alice.session, search({ query: "lai" })))).toEqual(["bruce_lai"]);
    expect(ids(await w.t.app.findHumans(w.alice.session, search({ query: "bruce_li" })))).toEqual([]);
  });

  it("special characters have no meaning; a blank query matches everybody", async () => {
    const w = await setup();
    for (const query of ["(", "%lice", "alic_", "alice\\", ".*"]) expect(await w.t.app.findHumans(w.alice.session, search({ query }))).toEqual({ kind: "ok", results: [], total: 0 });
    expect(ids(await w.t.app.findHumans(w.alice.session, search({ query: "lic" })))).toEqual(["alice"]);
    expect(ids(await w.t.app.findHumans(w.alice.session, search({ query: " " })))).toEqual(["alice"]);
    expect(ids(await w.t.app.findHumans(w.alice.session, search({ query: "" })))).toEqual(["alice"]);
  });

  it("matches unicode labels", async () => {
    const w = await setup();
    await addUser(w, w.alice, { userId: "hwang", humanHandle: { email: "hwang@example.com", label: "황정리" } });
    await addUser(w, w.alice, { userId: "cuneyt", humanHandle: { email: "cuneyt@example.com", label: "Cüneyt Arkin" } });
    expect(ids(await w.t.app.findHumans(w.alice.session, search({ query: "황" })))).toEqual(["hwang"]);
    expect(ids(await w.t.app.findHumans(w.alice.session, search({ query: "CÜNEYT" })))).toEqual(["cuneyt"]);
  });

  it("users without human handle come last (by user id), match on their user id, and go with omit_non_human", async () => {
    const w = await populated();
    for (const id of ["titeuf", "easy", "mike2"]) await addUser(w, w.alice, { userId: id, humanHandle: null });
    const all = await w.t.app.findHumans(w.alice.session, search());
    expect(ids(all).slice(-3)).toEqual(["easy", "mike2", "titeuf"]);
    expect(all.kind === "ok" && all.results.at(-1)).toEqual({ userId: "titeuf", humanHandle: null, revoked: false });
    expect(ids(await w.t.app.findHumans(w.alice.session, search({ query: "mike" })))).toEqual(["mike_id", "mike2"]);
    expect(ids(await w.t.app.findHumans(w.alice.session, search({ query: "mike", omitNonHuman: true })))).toEqual(["mike_id"]);
    const humans = await w.t.app.findHumans(w.alice.session, search({ omitNonHuman: true }));
    expect(humans.kind === "ok" && humans.total).toBe(8);
  });

  it("flags revoked users, omit_revoked leaves them out; users sharing a label are ordered by user id", async () => {
    const w = await setup();
    const handle = { email: "santo@example.com", label: "Rodolfo Guzman Huerta" };
    await addUser(w, w.alice, { userId: "nick1", humanHandle: handle });
    await revoke(w, w.alice, "nick1");
    await addUser(w, w.alice, { userId: "nick2", humanHandle: handle });
    await revoke(w, w.alice, "nick2");
    await addUser(w, w.alice, { userId: "nick3", humanHandle: handle });
    expect(await w.t.app.findHumans(w.alice.session, search({ query: "Guzman Huerta" }))).toEqual({
      kind: "ok",
      total: 3,
      results: [
        { userId: "nick1", humanHandle: handle, revoked: true },
        { userId: "nick2", humanHandle: handle, revoked: true },
        { userId: "nick3", humanHandle: handle, revoked: false },
      ],
    });
    expect(await w.t.app.findHumans(w.alice.session, search({ query: "Guzman Huerta", omitRevoked: true }))).toEqual({
      kind: "ok",
      total: 1,
      results: [{ userId: "nick3", humanHandle: handle, revoked: false }],
    });
  });

  it("judges revocation at the time of the search (a future revocation is not yet one)", async () => {
    const w = await setup();
    await addUser(w, w.alice, { userId: "bob" });
    expect(await w.t.app.revokeUser(w.alice.session, revocation(w.t, w.alice, "bob", w.t.clock.now().addSeconds(30)))).toEqual({ kind: "ok" });
    const before = await w.t.app.findHumans(w.alice.session, search({ query: "bob", omitRevoked: true }));
    expect(before).toEqual({ kind: "ok", total: 1, results: [{ userId: "bob", humanHandle: { email: "bob@example.com", label: "User bob" }, revoked: false }] });
    w.t.clock.advance(30);
    expect(await w.t.app.findHumans(w.alice.session, search({ query: "bob", omitRevoked: true }))).toEqual({ kind: "ok", total: 0, results: [] });
  });

  it("sees only the caller's organization", async () => {
    const w = await setup();
    const other = await bootstrapOrganization(w.t, "OtherOrg", { userId: "zack" });
    const zack = await login(w.t, other, other.deviceId, other.deviceKey);
    expect(await w.t.app.findHumans(zack.session, search({ query: "alice" }))).toEqual({ kind: "ok", results: [], total: 0 });
    expect(ids(await w.t.app.findHumans(zack.session, search()))).toEqual(["zack"]);
  });
});

describe("wire replies (userHandlers)", () => {
  const ctx = handlerContext;

  it("user_create: ok without fields, errors with reason null", async () => {
    const w = await setup();
    const r = newUser(w.t, w.alice, { userId: "bob" });
    const req = {
      cmd: "user_create" as const,
      user_certificate: r.input.userCertificate,
      device_certificate: r.input.deviceCertificate,
      redacted_user_certificate: r.input.redactedUserCertificate,
      redacted_device_certificate: r.input.redactedDeviceCertificate,
    };
    expect(await userHandlers.user_create(ctx(w.t, w.alice.session), req)).toEqual({ status: "ok" });
    expect(await userHandlers.user_create(ctx(w.t, w.alice.session), req)).toEqual({ status: "already_exists", reason: null });
    await setLimit(w, 1);
    expect(await userHandlers.user_create(ctx(w.t, w.alice.session), req)).toEqual({ status: "active_users_limit_reached", reason: null });
  });

  it("device_create, user_revoke: statuses and reason null; user_revoke not_found without reason", async () => {
    const w = await setup();
    const d = newDevice(w.t, w.alice, "dev1");
    expect(
      await userHandlers.device_create(ctx(w.t, w.alice.session), {
        cmd: "device_create",
        device_certificate: d.input.deviceCertificate,
        redacted_device_certificate: d.input.redactedDeviceCertificate,
      }),
    ).toEqual({ status: "already_exists", reason: null });
    const send = (certificate: Buffer) => userHandlers.user_revoke(ctx(w.t, w.alice.session), { cmd: "user_revoke", revoked_user_certificate: certificate });
    expect(await send(revocation(w.t, w.alice, "ghost"))).toEqual({ status: "not_found" });
    expect(await send(revocation(w.t, w.alice, "alice"))).toEqual({ status: "not_allowed", reason: null });
    expect(await send(Buffer.from("garbage"))).toEqual({ status: "invalid_certification", reason: null });
    await addUser(w, w.alice, { userId: "bob" });
    expect(await send(revocation(w.t, w.alice, "bob"))).toEqual({ status: "ok" });
    expect(await send(revocation(w.t, w.alice, "bob"))).toEqual({ status: "already_revoked", reason: null });
  });

  it("user_get and human_find: field names of the schema; page and per_page echoed", async () => {
    const w = await setup();
    expect(await userHandlers.user_get(ctx(w.t, w.alice.session), { cmd: "user_get", user_id: userId("alice") })).toEqual({
      status: "ok",
      user_certificate: w.org.request.userCertificate,
      revoked_user_certificate: null,
      device_certificates: [w.org.request.deviceCertificate],
      trustchain: { devices: [], users: [], revoked_users: [] },
    });
    expect(await userHandlers.user_get(ctx(w.t, w.alice.session), { cmd: "user_get", user_id: userId("nobody") })).toEqual({ status: "not_found" });
    expect(
      await userHandlers.human_find(ctx(w.t, w.alice.session), { cmd: "human_find", query: null, omit_revoked: false, omit_non_human: false, page: 2, per_page: 7 }),
    ).toEqual({ status: "ok", results: [], page: 2, per_page: 7, total: 1 });
    expect(
      await userHandlers.human_find(ctx(w.t, w.alice.session), { cmd: "human_find", query: "ali", omit_revoked: false, omit_non_human: true, page: 1, per_page: 1 }),
    ).toEqual({ status: "ok", results: [{ user_id: "alice", human_handle: w.org.humanHandle, revoked: false }], page: 1, per_page: 1, total: 1 });
    const olivia = await addUser(w, w.alice, { userId: "olivia", profile: "OUTSIDER" });
    expect(
      await userHandlers.human_find(ctx(w.t, olivia.session), { cmd: "human_find", query: null, omit_revoked: false, omit_non_human: false, page: 1, per_page: 1 }),
    ).toEqual({ status: "not_allowed", reason: null });
  });
});
