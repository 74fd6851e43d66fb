import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  DeviceID,
  DeviceLabel,
  HumanHandle,
  OrganizationID,
  UserID,
  type DeviceName,
  type UserProfile,
} from "../../src/domain/ids.js";
import type { Parsed } from "../../src/domain/result.js";
import { DateTime } from "../../src/domain/time.js";

/**
 * Parsec's test fixtures (organization CoolOrg, devices alice@dev1 and bob@dev1), read in place from the shared
 * protocol folder `../shared/parsec-protocol/fixtures.json` (never copied into the project).
 *
 * When the shared folder is absent, {@link fixtures} is `null` and suites skip visibly
 * (`describe.skipIf(!fixtures)`); under `CI=true` the absence is an error instead.
 */

/** The shared protocol folder (`/work/shared/parsec-protocol/` next to the project). */
export const sharedProtocolDir = new URL("../../../shared/parsec-protocol/", import.meta.url);

const fixturesUrl = new URL("fixtures.json", sharedProtocolDir);

/** One of the fixed devices: its ids, identity and raw 32-byte keys. */
export interface FixtureDevice {
  readonly deviceId: DeviceID;
  readonly userId: UserID;
  readonly deviceName: DeviceName;
  readonly deviceLabel: DeviceLabel;
  readonly humanHandle: HumanHandle;
  readonly profile: UserProfile;
  /** Ed25519 seed. */
  readonly signingKey: Buffer;
  /** Ed25519 public key. */
  readonly verifyKey: Buffer;
  /** X25519 secret key. */
  readonly privateKey: Buffer;
  /** X25519 public key. */
  readonly publicKey: Buffer;
}

/** The fixtures the tests use. */
export interface ParsecFixtures {
  readonly organization: {
    readonly id: OrganizationID;
    /** Ed25519 seed of the root key. */
    readonly rootSigningKey: Buffer;
    readonly rootVerifyKey: Buffer;
  };
  readonly alice: FixtureDevice;
  readonly bob: FixtureDevice;
  /** Upstream's `timestamp` fixture, 2020-01-01T00:00:00Z. */
  readonly timestamp: DateTime;
}

const ok = <T>(what: string, result: Parsed<T>): T => {
  if (!result.ok) throw new Error(`fixtures.json: ${what}: ${result.error}`);
  return result.value;
};

const hex = (what: string, value: unknown): Buffer => {
  if (typeof value !== "string" || !/^([0-9a-f]{2})+$/.test(value)) throw new Error(`fixtures.json: ${what} is not hex`);
  return Buffer.from(value, "hex");
};

interface RawDevice {
  device_id: string;
  device_label: string;
  human_handle: { email: string; label: string };
  profile: UserProfile;
  signing_key: string;
  verify_key: string;
  private_key: string;
  public_key: string;
}

const device = (name: string, raw: RawDevice | undefined): FixtureDevice => {
  if (!raw) throw new Error(`fixtures.json: device ${name} missing`);
  const deviceId = ok(`${name}.device_id`, DeviceID.parse(raw.device_id));
  return {
    deviceId,
    userId: DeviceID.userId(deviceId),
    deviceName: DeviceID.deviceName(deviceId),
    deviceLabel: ok(`${name}.device_label`, DeviceLabel.parse(raw.device_label)),
    humanHandle: ok(`${name}.human_handle`, HumanHandle.parse(raw.human_handle.email, raw.human_handle.label)),
    profile: raw.profile,
    signingKey: hex(`${name}.signing_key`, raw.signing_key),
    verifyKey: hex(`${name}.verify_key`, raw.verify_key),
    privateKey: hex(`${name}.private_key`, raw.private_key),
    publicKey: hex(`${name}.public_key`, raw.public_key),
  };
};

const load = (): ParsecFixtures | null => {
  const path = fileURLToPath(fixturesUrl);
  if (!existsSync(path)) {
    if (process.env.CI === "true") throw new Error(`Parsec fixtures missing at ${path} (required under CI=true)`);
    console.warn(`[fixtures] ${path} is absent: suites that need Parsec's fixtures are skipped`);
    return null;
  }
  const raw = JSON.parse(readFileSync(path, "utf8")) as {
    organization: { organization_id: string; root_signing_key: string; root_verify_key: string };
    devices: Record<string, RawDevice>;
    timestamp_fixture: string;
  };
  const timestamp = DateTime.parseRfc3339(raw.timestamp_fixture);
  if (!timestamp) throw new Error("fixtures.json: timestamp_fixture is not RFC 3339");
  return {
    organization: {
      id: ok("organization_id", OrganizationID.parse(raw.organization.organization_id)),
      rootSigningKey: hex("root_signing_key", raw.organization.root_signing_key),
      rootVerifyKey: hex("root_verify_key", raw.organization.root_verify_key),
    },
    alice: device("alice", raw.devices.alice),
    bob: device("bob", raw.devices.bob),
    timestamp,
  };
};

/** The fixtures, or `null` when the shared folder is absent (outside CI). */
export const fixtures: ParsecFixtures | null = load();

/** True when {@link fixtures} could be loaded; use as `describe.skipIf(!fixturesAvailable)`. */
export const fixturesAvailable = fixtures !== null;

/**
 * Reads `relativePath` (e.g. `vectors/test_certif.json`) from the shared protocol folder as JSON,
 * or returns `null` when the folder is absent (outside CI; under `CI=true` absence throws).
 */
export const readSharedJson = (relativePath: string): unknown => {
  const path = fileURLToPath(new URL(relativePath, sharedProtocolDir));
  if (!existsSync(path)) {
    if (process.env.CI === "true") throw new Error(`${path} missing (required under CI=true)`);
    return null;
  }
  return JSON.parse(readFileSync(path, "utf8")) as unknown;
};
