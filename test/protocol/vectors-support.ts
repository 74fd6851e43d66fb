import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Tagged } from "../support/tagged-json.js";

/** One decoded test vector of the shared protocol folder (fields used by these tests). */
export interface Vector {
  id: string;
  kind: "req" | "rep" | "handshake" | "certificate" | "api_version";
  family?: "authenticated" | "invited" | "anonymous";
  cmd?: string;
  handshake_step?: "challenge" | "answer" | "result";
  negative?: boolean;
  msgpack_hex: string;
  expected: Tagged;
}

/** The shared protocol reference folder, read in place. */
export const protocolDir = fileURLToPath(new URL("../../../shared/parsec-protocol", import.meta.url));

/** True when the shared folder is there; otherwise logs why the suites are skipped, and fails on CI. */
export const sharedFolderAvailable = (): boolean => {
  if (existsSync(`${protocolDir}/vectors`)) return true;
  if (process.env["CI"] === "true") throw new Error(`protocol vectors not found at ${protocolDir} (required on CI)`);
  console.warn(`[test/protocol] ${protocolDir}/vectors not found: vector tests are skipped`);
  return false;
};

/** Every vector of every `vectors/*.json` file, in file order. */
export const loadVectors = (): Vector[] =>
  readdirSync(`${protocolDir}/vectors`)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .flatMap((f) => (JSON.parse(readFileSync(`${protocolDir}/vectors/${f}`, "utf8")) as { vectors: Vector[] }).vectors);
