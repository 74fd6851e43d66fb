import type { HumanFindPage, HumanSearch } from "../../domain/user/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession } from "../session/session.js";

/** Outcome of `human_find`: one page of results and the total count, or `not_allowed` for an OUTSIDER. */
export type FindHumansOutcome = ({ readonly kind: "ok" } & HumanFindPage) | { readonly kind: "not_allowed"; readonly reason: string };

/**
 * `human_find` (authenticated, not OUTSIDER): searches the users of the session's organization with the rules of the
 * domain's `findHumans`, answered by the store (query on label, email, or user id of users without human handle; filters; order; paging), judging
 * revocation at the server's current time. Source: Parsec v2.16.3 `user.py` (`api_human_find`).
 */
export const findHumans =
  (deps: Pick<ApplicationDeps, "users" | "clock">) =>
  async (session: AuthenticatedSession, search: HumanSearch): Promise<FindHumansOutcome> => {
    if (session.profile === "OUTSIDER") return { kind: "not_allowed", reason: "OUTSIDER users cannot search users." };
    return { kind: "ok", ...(await deps.users.findHumans(session.organizationId, search, deps.clock.now())) };
  };
