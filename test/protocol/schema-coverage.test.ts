import { readFileSync, readdirSync } from "node:fs";
import JSON5 from "json5";
import * as t from "io-ts";
import { describe, expect, it } from "vitest";
import { commandTables, statusesOf, type ClientFamily } from "../../src/adapters/protocol/index.js";
import type { CommandCodecs } from "../../src/adapters/protocol/codecs/struct.js";
import { protocolDir, sharedFolderAvailable } from "./vectors-support.js";

interface SchemaField {
  name: string;
  type: string;
  introduced_in?: string;
}
interface SchemaEntry {
  major_versions: number[];
  req: { cmd: string; fields?: SchemaField[]; unit?: string };
  reps: { status: string; fields?: SchemaField[]; unit?: string }[];
}

const available = sharedFolderAvailable();
const suite = available ? describe : describe.skip;
const families: ClientFamily[] = ["authenticated", "invited", "anonymous"];

const v2Entries = (family: ClientFamily): SchemaEntry[] => {
  const dir = `${protocolDir}/schema/protocol/${family}_cmds`;
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json5"))
    .map((f) => (JSON5.parse(readFileSync(`${dir}/${f}`, "utf8")) as SchemaEntry[]).find((e) => e.major_versions.includes(2))!);
};

/** Required and optional keys of a struct built with `struct` (exact ∘ intersection [type, partial]). */
const keysOf = (codec: t.Mixed): { required: string[]; optional: string[] } => {
  const [req, opt] = (codec as unknown as { type: { types: [t.InterfaceType<t.Props>, t.PartialType<t.Props>] } }).type.types;
  return { required: Object.keys(req.props).sort(), optional: Object.keys(opt.props).sort() };
};

const expectedKeys = (fields: SchemaField[], discriminant: string) => ({
  required: [discriminant, ...fields.filter((f) => !f.introduced_in && !f.type.startsWith("NonRequiredOption")).map((f) => f.name)].sort(),
  optional: fields.filter((f) => f.introduced_in || f.type.startsWith("NonRequiredOption")).map((f) => f.name).sort(),
});

const variantsOf = (codec: t.Mixed): t.Mixed[] =>
  codec instanceof t.UnionType ? (codec as t.UnionType<t.Mixed[]>).types.flatMap(variantsOf) : [codec];

suite("command tables match the v2 schemas", () => {
  for (const family of families) {
    const table = available ? (commandTables[family] as unknown as Record<string, CommandCodecs>) : {};
    const entries = available ? v2Entries(family) : [];

    it(`${family}: same command names`, () => {
      expect(Object.keys(table).sort()).toStrictEqual(entries.map((e) => e.req.cmd).sort());
    });

    for (const entry of entries) {
      it(`${family}/${entry.req.cmd}: request fields and reply statuses/fields`, () => {
        const codecs = table[entry.req.cmd]!;
        if (!entry.req.unit) expect(keysOf(codecs.req)).toStrictEqual(expectedKeys(entry.req.fields ?? [], "cmd"));
        expect(new Set(statusesOf(codecs.rep))).toStrictEqual(new Set(entry.reps.map((r) => r.status)));
        for (const rep of entry.reps) {
          if (rep.unit) continue;
          const variant = variantsOf(codecs.rep).find((v) => statusesOf(v)[0] === rep.status)!;
          expect(keysOf(variant)).toStrictEqual(expectedKeys(rep.fields ?? [], "status"));
        }
      });
    }
  }
});
