import { findHumans as findHumansIn, type HumanFindPage, type HumanSearch } from "../../domain/user/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession } from "../session/session.js";

/** Outcome of `human_find`: one page of results and the total count, or `not_allowed` for an OUTSIDER. */
export type FindHumansOutcome = ({ readonly kind: "ok" } & HumanFindPage) | { readonly kind: "not_allowed"; readonly reason: string };

/**
 * `human_find` (authenticated, not OUTSIDER): searches the users of the session's organization with the domain rule
 * `findHumans` (query on label, email, or user id of users without human handle; filters; order; paging), judging
 * revocation at the server's current time. Source: Parsec v2.16.3 `user.py` (`api_human_find`).
 */
export const findHumans =
  (deps: Pick<ApplicationDeps, "users" | "clock">) =>
  async (session: AuthenticatedSession, search: HumanSearch): Promise<FindHumansOutcome> => {
    if (session.profile === "OUTSIDER") return { kind: "not_allowed", reason: "OUTSIDER users cannot search users." };
    const users = await deps.users.listUserSummaries(session.organizationId);
    return { kind: "ok", ...findHumansIn(users, search, deps.clock.now()) };
  };
