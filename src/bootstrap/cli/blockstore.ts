import { invalid, parsed, type Parsed } from "../../domain/result.js";
import type { BlockStoreSettings } from "../settings.js";

type RaidLevel = "RAID0" | "RAID1" | "RAID5";
type NodeSettings = Exclude<BlockStoreSettings, { type: RaidLevel }>;

const RAID_MINIMUM_NODES: Readonly<Record<RaidLevel, number>> = { RAID0: 2, RAID1: 2, RAID5: 3 };
const S3_FORM = "s3:[<endpoint_url>]:<region>:<bucket>:<key>:<secret>";
const SWIFT_FORM = "swift:<auth_url>:<tenant>:<container>:<user>:<password>";

/**
 * Splits on `:`, where `\:` stands for a colon and `\\` for a backslash inside a part;
 * a backslash before anything else is kept as is.
 */
export function splitEscapedColons(text: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (c === "\\" && (next === ":" || next === "\\")) {
      current += next;
      i += 1;
    } else if (c === ":") {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

const withDefaultHttps = (url: string): string => (/^https?:\/\//i.test(url) ? url : `https://${url}`);

/**
 * For a config with the wrong number of fields: a hint when the cause looks like a URL written without escaping its
 * colons (`https://host…` instead of `https\://host…`, `host:9000` instead of `host\:9000`). Only the scheme is quoted,
 * never a field that could be a secret.
 */
function unescapedUrlHint(fields: readonly string[]): string {
  const scheme = fields.find((field, i) => /^https?$/i.test(field) && (fields[i + 1] ?? "").startsWith("//"));
  if (scheme !== undefined) return `; the colons of a URL must be escaped: write \`${scheme}\\://host\`, and \`\\:\` before a port`;
  const port = fields.findIndex((field, i) => i > 0 && /^\d{1,5}(\/.*)?$/.test(field) && /^\/\/|[.]|localhost$/i.test(fields[i - 1] ?? ""));
  if (port >= 0) return "; a colon inside a field (a URL's port) must be written `\\:`";
  return "";
}

/**
 * Why `name` cannot name a bucket or container, or null: `.`, `..` and names holding `/` would address another
 * place of the account in the request path (`<account>/./<object>` is the account's container `<organization>`).
 */
function containerNameProblem(what: string, name: string): string | null {
  if (name === "." || name === "..") return `<${what}> cannot be \`${name}\``;
  if (name.includes("/")) return `<${what}> cannot hold \`/\``;
  return null;
}

function firstEmpty(names: readonly string[], values: readonly string[]): string | undefined {
  return names.find((_, index) => values[index] === "");
}

function parseNode(value: string): Parsed<NodeSettings> {
  const upper = value.toUpperCase();
  if (upper === "MOCKED") return parsed({ type: "MOCKED" });
  if (upper === "POSTGRESQL") return parsed({ type: "POSTGRESQL" });
  const [kind = "", ...fields] = splitEscapedColons(value);
  switch (kind.toUpperCase()) {
    case "S3": {
      if (fields.length !== 5)
        return invalid(`invalid S3 config (${fields.length} fields after \`s3\`, expected 5), must be \`${S3_FORM}\`${unescapedUrlHint(fields)}`);
      const [endpoint = "", region = "", bucket = "", key = "", secret = ""] = fields;
      const empty = firstEmpty(["region", "bucket", "key", "secret"], [region, bucket, key, secret]);
      if (empty !== undefined) return invalid(`invalid S3 config, <${empty}> is empty in \`${S3_FORM}\``);
      const badBucket = containerNameProblem("bucket", bucket);
      if (badBucket !== null) return invalid(`invalid S3 config, ${badBucket}`);
      return parsed({ type: "S3", endpointUrl: endpoint === "" ? null : withDefaultHttps(endpoint), region, bucket, key, secret });
    }
    case "SWIFT": {
      if (fields.length !== 5)
        return invalid(`invalid SWIFT config (${fields.length} fields after \`swift\`, expected 5), must be \`${SWIFT_FORM}\`${unescapedUrlHint(fields)}`);
      const [authUrl = "", tenant = "", container = "", user = "", password = ""] = fields;
      const empty = firstEmpty(["auth_url", "tenant", "container", "user", "password"], fields);
      if (empty !== undefined) return invalid(`invalid SWIFT config, <${empty}> is empty in \`${SWIFT_FORM}\``);
      const badContainer = containerNameProblem("container", container);
      if (badContainer !== null) return invalid(`invalid SWIFT config, ${badContainer}`);
      return parsed({ type: "SWIFT", authUrl: withDefaultHttps(authUrl), tenant, container, user, password });
    }
    default:
      return invalid(`invalid blockstore type \`${kind}\` (expected MOCKED, POSTGRESQL, s3:…, swift:… or RAID0/RAID1/RAID5:<node>:<config>)`);
  }
}

interface RaidMember {
  readonly level: RaidLevel;
  readonly index: number;
  readonly config: string;
}

function asRaidMember(value: string): Parsed<RaidMember> | null {
  const match = /^(RAID[015]):([^:]*):(.*)$/is.exec(value);
  if (match === null) return null;
  const [, level = "", index = "", config = ""] = match;
  if (!/^\d+$/.test(index)) return invalid(`invalid RAID node index \`${index}\` (must be a non-negative integer)`);
  return parsed({ level: level.toUpperCase() as RaidLevel, index: Number(index), config });
}

function parseRaid(members: readonly RaidMember[]): Parsed<BlockStoreSettings> {
  const levels = [...new Set(members.map((m) => m.level))];
  const level = levels[0] as RaidLevel;
  if (levels.length > 1) return invalid(`cannot mix RAID levels in one cluster (${levels.join("/")})`);
  const minimum = RAID_MINIMUM_NODES[level];
  if (members.length < minimum) return invalid(`${level} needs at least ${minimum} nodes, got ${members.length}`);
  const nodes: NodeSettings[] = [];
  for (let index = 0; index < members.length; index += 1) {
    const configs = members.filter((m) => m.index === index);
    if (configs.length === 0) return invalid(`missing node index ${index} in ${level} config (indexes must run from 0 to ${members.length - 1})`);
    if (configs.length > 1) return invalid(`node index ${index} is given more than once in ${level} config`);
    const node = parseNode((configs[0] as RaidMember).config);
    if (!node.ok) return invalid(`${level} node ${index}: ${node.error}`);
    nodes.push(node.value);
  }
  return parsed({ type: level, nodes });
}

/**
 * Parses the values of Parsec's `--blockstore` option into one {@link BlockStoreSettings}.
 *
 * Grammar of one value: `MOCKED`, `POSTGRESQL`, `s3:[<endpoint_url>]:<region>:<bucket>:<key>:<secret>` (the endpoint
 * may be empty but its colon may not be omitted) or `swift:<auth_url>:<tenant>:<container>:<user>:<password>`; keywords
 * are case-insensitive, `\:` is a colon inside a field, and an endpoint or auth URL without scheme gets `https://`.
 * Several values form a RAID cluster, each written `RAID0|RAID1|RAID5:<node index>:<value>`: one level, indexes
 * exactly 0…n-1, at least 2 nodes (3 for RAID5).
 *
 * @returns the settings, or an error describing the first problem (secrets are never echoed).
 */
export function parseBlockStore(values: readonly string[]): Parsed<BlockStoreSettings> {
  if (values.length === 0) return invalid("no blockstore config given");
  const raid: RaidMember[] = [];
  const plain: string[] = [];
  for (const value of values) {
    const member = asRaidMember(value);
    if (member === null) plain.push(value);
    else if (!member.ok) return member;
    else raid.push(member.value);
  }
  if (raid.length > 0 && plain.length > 0) return invalid("cannot mix RAID node configs with a plain blockstore config");
  if (raid.length > 0) return parseRaid(raid);
  if (plain.length > 1) return invalid("several blockstore configs are only allowed as RAID0/RAID1/RAID5 nodes");
  return parseNode(plain[0] as string);
}
