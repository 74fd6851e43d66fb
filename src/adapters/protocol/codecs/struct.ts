import * as t from "io-ts";
import { nullable, StringC } from "./primitives.js";

/**
 * Builders for msgpack maps with string keys: requests, reply variants and nested types.
 *
 * A struct has `required` keys (must be present; a `RequiredOption` is present and may be nil) and
 * `optional` keys (`NonRequiredOption`, or a field with `introduced_in` that older peers omit): absent
 * decodes to a missing key, and a missing key is not written (`encodeReply` also leaves out keys set to
 * `undefined`). Unknown keys are dropped on decode and never written.
 */
export type StructC<R extends t.Props, O extends t.Props> = t.ExactC<t.IntersectionC<[t.TypeC<R>, t.PartialC<O>]>>;

/** A map with string keys: `required` props must be present, `optional` ones may be absent. */
export const struct = <R extends t.Props, O extends t.Props = {}>(name: string, required: R, optional?: O): StructC<R, O> =>
  t.exact(t.intersection([t.type(required), t.partial(optional ?? ({} as O))]), name);

/** A request `{cmd: name, ...fields}`. */
export const request = <N extends string, R extends t.Props, O extends t.Props = {}>(
  name: N,
  required: R,
  optional?: O,
): StructC<{ cmd: t.LiteralC<N> } & R, O> => struct(`${name}_req`, { cmd: t.literal(name), ...required }, optional);

/** A reply variant `{status, ...fields}`. */
export const status = <S extends string, R extends t.Props = {}, O extends t.Props = {}>(
  value: S,
  required?: R,
  optional?: O,
): StructC<{ status: t.LiteralC<S> } & R, O> =>
  struct(`status:${value}`, { status: t.literal(value), ...(required ?? ({} as R)) }, optional);

/** A reply variant whose only field is an optional human-readable `reason` (`NonRequiredOption<String>`). */
export const withReason = <S extends string>(value: S) => status(value, {}, { reason: nullable(StringC) });

/**
 * A reply whose `status` the command does not declare (e.g. the generic `invalid_msg_format`,
 * `unknown_command`, `bad_message`), kept with its optional `reason`; other keys pass through as is.
 * Clients must accept it; a server only writes it through the generic replies.
 */
export type UnknownStatusRep = { status: string; reason?: string | null | undefined } & Record<string, unknown>;

/** {@link UnknownStatusRep} for a command whose declared statuses are `known` (those are rejected here). */
export const unknownStatus = (known: ReadonlySet<string>): t.Type<UnknownStatusRep, UnknownStatusRep, unknown> => {
  const shape = t.intersection([t.type({ status: t.string }), t.partial({ reason: nullable(StringC) })]);
  return new t.Type<UnknownStatusRep, UnknownStatusRep, unknown>(
    "unknown_status",
    (u): u is UnknownStatusRep => shape.is(u) && !known.has(u.status),
    (u, c) => {
      if (typeof u !== "object" || u === null || Array.isArray(u)) return t.failure(u, c);
      const s = (u as { status?: unknown }).status;
      if (typeof s === "string" && known.has(s)) return t.failure(u, c, `bad fields for status '${s}'`);
      return shape.validate(u, c) as t.Validation<UnknownStatusRep>;
    },
    (a) => a,
  );
};

/** The statuses declared by reply variants built with {@link status} (unions are walked). */
export const statusesOf = (codec: t.Mixed): string[] => {
  if (codec instanceof t.UnionType) return (codec as t.UnionType<t.Mixed[]>).types.flatMap(statusesOf);
  const props = (codec as unknown as { type: { types: [t.InterfaceType<t.Props>] } }).type.types[0].props;
  return [(props["status"] as t.LiteralC<string>).value];
};

/** The codec of a command's reply: its single variant, or the union of its declared variants. */
export type ReplyC<CS extends [t.Mixed, ...t.Mixed[]]> = CS extends [infer Only extends t.Mixed]
  ? Only
  : CS extends [t.Mixed, t.Mixed, ...t.Mixed[]]
    ? t.UnionC<CS>
    : never;

/** The reply of a command: the declared variants (built with {@link status}, or unions of them for unit variants). */
export const reply = <CS extends [t.Mixed, ...t.Mixed[]]>(name: string, ...variants: CS): ReplyC<CS> =>
  (variants.length === 1 ? variants[0] : t.union(variants as unknown as [t.Mixed, t.Mixed, ...t.Mixed[]], `${name}_rep`)) as ReplyC<CS>;

/** The codecs of one command: its wire name, request codec and reply codec. */
export interface CommandCodecs<N extends string = string, Req extends t.Mixed = t.Mixed, Rep extends t.Mixed = t.Mixed> {
  readonly name: N;
  readonly req: Req;
  readonly rep: Rep;
}

/** Groups a command's codecs. */
export const command = <N extends string, Req extends t.Mixed, Rep extends t.Mixed>(name: N, req: Req, rep: Rep): CommandCodecs<N, Req, Rep> => ({
  name,
  req,
  rep,
});
