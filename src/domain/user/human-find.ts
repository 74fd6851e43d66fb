import type { HumanHandle, UserID } from "../ids.js";
import type { DateTime } from "../time.js";
import { isRevoked, type UserSummary } from "./user.js";

/** The search of `human_find`, as validated on the wire: `page` ≥ 1, `perPage` in 1..100. */
export interface HumanSearch {
  /** Words to look for; null or empty lists every user. */
  readonly query: string | null;
  /** Leave out users revoked at the time of the search. */
  readonly omitRevoked: boolean;
  /** Leave out users without a human handle. */
  readonly omitNonHuman: boolean;
  readonly page: number;
  readonly perPage: number;
}

/** One user found by `human_find`; `revoked` is judged at the time of the search. */
export interface HumanFindItem {
  readonly userId: UserID;
  readonly humanHandle: HumanHandle | null;
  readonly revoked: boolean;
}

/** One page of results and the number of matching users over all pages. */
export interface HumanFindPage {
  readonly results: readonly HumanFindItem[];
  readonly total: number;
}

/** True when `text` contains every word of `words`, in that order, ignoring case (SQL `ILIKE '%w1%w2%'`). */
const containsInOrder = (text: string, words: readonly string[]): boolean => {
  const haystack = text.toLowerCase();
  let from = 0;
  for (const word of words) {
    const at = haystack.indexOf(word, from);
    if (at < 0) return false;
    from = at + word.length;
  }
  return true;
};

/** The words of a `human_find` query, lower-cased, in order (whitespace separates them). */
export const humanQueryWords = (query: string): string[] =>
  query
    .toLowerCase()
    .split(/\s+/u)
    .filter((word) => word.length > 0);

/**
 * True when `user` matches `query`: the query is split on whitespace, and its words must appear in order (anything
 * in between, case ignored) in the label or in the email of the human handle, or, for a user without one, in the
 * user id. Special characters have no meaning. Source: Parsec v2.16.3 `postgresql/user_queries/find.py`.
 */
export const matchesHumanQuery = (user: Pick<UserSummary, "userId" | "humanHandle">, query: string): boolean => {
  const words = humanQueryWords(query);
  if (user.humanHandle === null) return containsInOrder(user.userId, words);
  return containsInOrder(user.humanHandle.label, words) || containsInOrder(user.humanHandle.email, words);
};

/** Compares by Unicode code points (the order of PostgreSQL's `C` collation on UTF-8), not by UTF-16 code units. */
const compareStrings = (a: string, b: string): number => {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
};

/**
 * `human_find`'s order: users with a human handle first, by lower-cased label (code point order), then those without one. Parsec leaves
 * ties (same label; users without handle) unordered; they are ordered by user id here so that paging is stable.
 */
export const compareHumans = (a: Pick<UserSummary, "userId" | "humanHandle">, b: Pick<UserSummary, "userId" | "humanHandle">): number => {
  if (a.humanHandle === null || b.humanHandle === null) {
    if (a.humanHandle !== b.humanHandle) return a.humanHandle === null ? 1 : -1;
  } else {
    const byLabel = compareStrings(a.humanHandle.label.toLowerCase(), b.humanHandle.label.toLowerCase());
    if (byLabel !== 0) return byLabel;
  }
  return compareStrings(a.userId, b.userId);
};

/**
 * `human_find` over the users of one organization: filter (query, `omitRevoked`, `omitNonHuman`), sort with
 * {@link compareHumans}, count, then cut page `page` of `perPage` items (an empty page past the end).
 * Revocation is judged at `now`. Source: Parsec v2.16.3 `find_humans`.
 */
export const findHumans = (users: readonly UserSummary[], search: HumanSearch, now: DateTime): HumanFindPage => {
  const found = users
    .filter(
      (user) =>
        (!search.omitNonHuman || user.humanHandle !== null) &&
        (!search.omitRevoked || !isRevoked(user, now)) &&
        (!search.query || matchesHumanQuery(user, search.query)),
    )
    .sort(compareHumans);
  const start = (search.page - 1) * search.perPage;
  return {
    results: found.slice(start, start + search.perPage).map((user) => ({ userId: user.userId, humanHandle: user.humanHandle, revoked: isRevoked(user, now) })),
    total: found.length,
  };
};
