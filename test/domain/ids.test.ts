import { describe, expect, it } from "vitest";
import { DeviceID, DeviceLabel, DeviceName, HumanHandle, InvitationToken, OrganizationID, RealmID, UserID, isValidEmail } from "../../src/domain/ids.js";

const ok = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe("string identifiers (OrganizationID, UserID, DeviceName)", () => {
  it.each(["CoolOrg", "a", "x".repeat(32), "with-dash_and_underscore", "Ünïcödé", "日本語"])("accepts %s", (raw) => {
    expect(ok(OrganizationID.parse(raw))).toBe(raw.normalize("NFC"));
    expect(UserID.parse(raw).ok).toBe(true);
    expect(DeviceName.parse(raw).ok).toBe(true);
  });

  it.each(["", "x".repeat(33), "with space", "dot.ted", "at@sign", "slash/", "é".repeat(17), 42, null])("refuses %s", (raw) => {
    expect(OrganizationID.parse(raw).ok).toBe(false);
  });

  it("normalises to NFC, so composed and decomposed forms name the same organization", () => {
    expect(ok(OrganizationID.parse("Cafe\u0301"))).toBe(ok(OrganizationID.parse("Caf\u00e9")));
  });
});

describe("DeviceID", () => {
  it("splits into user and device name", () => {
    const id = ok(DeviceID.parse("alice@dev1"));
    expect(DeviceID.userId(id)).toBe("alice");
    expect(DeviceID.deviceName(id)).toBe("dev1");
    expect(DeviceID.of(ok(UserID.parse("bob")), ok(DeviceName.parse("laptop")))).toBe("bob@laptop");
  });

  it.each(["alice", "@dev1", "alice@", "alice@dev1@x", "al ice@dev1"])("refuses %s", (raw) => {
    expect(DeviceID.parse(raw).ok).toBe(false);
  });
});

describe("DeviceLabel and HumanHandle", () => {
  it("accepts labels up to 255 bytes, refuses empty, longer or multi-line ones", () => {
    expect(DeviceLabel.parse("My laptop").ok).toBe(true);
    expect(DeviceLabel.parse("x".repeat(255)).ok).toBe(true);
    expect(DeviceLabel.parse("x".repeat(256)).ok).toBe(false);
    // NUL cannot be stored (PostgreSQL text refuses it).
    expect(DeviceLabel.parse("my\0laptop").ok).toBe(false);
    expect(DeviceLabel.parse("").ok).toBe(false);
    expect(DeviceLabel.parse("a\nb").ok).toBe(false);
  });

  it("validates the email and the label", () => {
    expect(ok(HumanHandle.parse("alice@example.com", "Alicey McAliceFace"))).toEqual({ email: "alice@example.com", label: "Alicey McAliceFace" });
    expect(HumanHandle.display({ email: "a@b.c", label: "A" })).toBe("A <a@b.c>");
    expect(HumanHandle.parse("not-an-email", "A").ok).toBe(false);
    expect(HumanHandle.parse("a@b.c", "").ok).toBe(false);
    expect(HumanHandle.parse("a@b.c", "Evil <label>").ok).toBe(false);
    expect(HumanHandle.parse("a@b.c", "x".repeat(255)).ok).toBe(false);
    expect(HumanHandle.parse("a@b.c", "A\0B").ok).toBe(false);
    expect(HumanHandle.parse("a\0b@b.c", "A").ok).toBe(false);
  });

  it.each([
    ["john.doe@example.com", true],
    ["x+tag@sub.example.org", true],
    ["a@[127.0.0.1]", true],
    ["a@[IPv6:2001:db8::1]", true],
    ["a@[]", false],
    ["a@[\0]", false],
    ["a@[a]b]", false],
    ["a@[1.2.3.4", false],
    ["@example.com", false],
    ["john@", false],
    ["jo..hn@example.com", false],
    ["john@-example.com", false],
    [`${"a".repeat(65)}@example.com`, false],
  ])("email %s valid: %s", (email, valid) => {
    expect(isValidEmail(email)).toBe(valid);
  });
});

describe("UUID identifiers", () => {
  it("accept 32 hex digits or the hyphenated form, in any case, and yield lowercase hex", () => {
    expect(ok(RealmID.parse("9931E631-856A-4470-9C82-5D7F7D339197"))).toBe("9931e631856a44709c825d7f7d339197");
    expect(ok(InvitationToken.parse("9931e631856a44709c825d7f7d339197"))).toBe("9931e631856a44709c825d7f7d339197");
  });

  it("round-trip through their 16 raw bytes", () => {
    const id = ok(RealmID.parse("00112233445566778899aabbccddeeff"));
    expect(RealmID.toBytes(id)).toEqual(Buffer.from("00112233445566778899aabbccddeeff", "hex"));
    expect(ok(RealmID.fromBytes(RealmID.toBytes(id)))).toBe(id);
    expect(RealmID.toHyphenated(id)).toBe("00112233-4455-6677-8899-aabbccddeeff");
  });

  it.each(["", "xyz", "0011223344556677889", "00112233-4455-6677-8899aabbccddeeff", "0011223344556677-8899-aabb-ccdd-eeff0011"])("refuse %s", (raw) => {
    expect(RealmID.parse(raw).ok).toBe(false);
  });

  it("refuse a byte string that is not 16 bytes", () => {
    expect(RealmID.fromBytes(Buffer.alloc(15)).ok).toBe(false);
  });
});
