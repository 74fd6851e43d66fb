import * as t from "io-ts";
import { commandTables, type ClientFamily } from "../../src/adapters/protocol/index.js";
import { INVITATION_TYPES, REALM_ROLES, USER_PROFILES } from "../../src/domain/ids.js";
import { pack, WireUuid } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";

/**
 * A valid request frame for every command of every client family, built from the command's own io-ts codec, so that
 * commands without an upstream test vector also get seeds for the fuzzers. Leaves are found by trying wire values
 * against the leaf codec (a DateTime, a UUID, ids, bytes of the usual sizes, integers, enumeration names…).
 */

const CANDIDATES: readonly unknown[] = [
  DateTime.fromEpochMicroseconds(1_700_000_000_000_000),
  new WireUuid("a11cec00100000000000000000000000"),
  "alice@dev1",
  "alice",
  "CoolOrg",
  1,
  0,
  1.5,
  true,
  [2, 5],
  ["alice@example.com", "Alice"],
  Buffer.alloc(32, 0xab),
  Buffer.alloc(48, 0xcd),
  Buffer.alloc(64, 0xef),
  ...USER_PROFILES,
  ...REALM_ROLES,
  ...INVITATION_TYPES,
  "IDLE",
  "REENCRYPTION",
  "GARBAGE_COLLECTION",
  "AVAILABLE",
  "ARCHIVED",
  "DELETION_PLANNED",
  "FINISHED",
  new Map(),
  {},
  null,
];

const tagOf = (codec: t.Mixed): string | undefined => (codec as unknown as { _tag?: string })._tag;

/** A wire value (as `unpackWire` gives it) that `codec` accepts, or `undefined` when none is found. */
export const exampleOf = (codec: t.Mixed): unknown => {
  switch (tagOf(codec)) {
    case "ExactType":
    case "RefinementType":
    case "ReadonlyType":
      return exampleOf((codec as unknown as { type: t.Mixed }).type);
    case "IntersectionType": {
      const parts = (codec as unknown as { types: t.Mixed[] }).types.map(exampleOf);
      if (parts.some((p) => p === undefined)) return undefined;
      return Object.assign({}, ...parts) as unknown;
    }
    case "InterfaceType":
    case "PartialType": {
      const out: Record<string, unknown> = {};
      for (const [key, prop] of Object.entries((codec as unknown as { props: t.Props }).props)) {
        const value = exampleOf(prop);
        if (value === undefined) return undefined;
        out[key] = value;
      }
      return out;
    }
    case "UnionType":
      for (const member of (codec as unknown as { types: t.Mixed[] }).types) {
        const value = exampleOf(member);
        if (value !== undefined) return value;
      }
      return undefined;
    case "LiteralType":
      return (codec as unknown as { value: unknown }).value;
    case "KeyofType":
      return Object.keys((codec as unknown as { keys: Record<string, unknown> }).keys)[0];
    case "ArrayType": {
      const item = exampleOf((codec as unknown as { type: t.Mixed }).type);
      return item === undefined ? [] : [item];
    }
    default:
      return CANDIDATES.find((candidate) => codec.decode(candidate)._tag === "Right");
  }
};

/** A synthesized request: its family, command and packed frame. */
export interface SynthesizedRequest {
  readonly family: ClientFamily;
  readonly cmd: string;
  readonly frame: Buffer;
}

/**
 * One valid frame per command of every family (decode, then the codec's own encode and `pack`, so floats and wide
 * integers take their wire forms). Commands whose codec has a leaf no candidate fits are listed in `missing`.
 */
export const synthesizeRequests = (): { readonly requests: SynthesizedRequest[]; readonly missing: string[] } => {
  const requests: SynthesizedRequest[] = [];
  const missing: string[] = [];
  for (const family of Object.keys(commandTables) as ClientFamily[]) {
    for (const [cmd, codecs] of Object.entries(commandTables[family] as unknown as Record<string, { req: t.Mixed }>)) {
      const example = exampleOf(codecs.req);
      const decoded = example === undefined ? undefined : codecs.req.decode(example);
      if (!decoded || decoded._tag === "Left") {
        missing.push(`${family}:${cmd}`);
        continue;
      }
      requests.push({ family, cmd, frame: pack(codecs.req.encode(decoded.right)) });
    }
  }
  return { requests, missing };
};
