import { checkRevokedUserCertificate, type InvalidCertification } from "../../domain/certificates/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession } from "../session/session.js";

/** Every status of `user_revoke`; each `reason` is for logs (Parsec sends none). */
export type RevokeUserOutcome =
  | { readonly kind: "ok" }
  | { readonly kind: "not_allowed"; readonly reason: string }
  | InvalidCertification
  | { readonly kind: "not_found" }
  | { readonly kind: "already_revoked"; readonly reason: string };

/**
 * `user_revoke` (authenticated, ADMIN only): revokes a user with a `revoked_user_certificate` signed by the session's
 * device. Order of the checks: the author is ADMIN (`not_allowed`); the certificate verifies, names the author and has
 * a timestamp in the ballpark (`invalid_certification`); it does not target the author's own user (`not_allowed`);
 * then, in a unit of work, the user exists (`not_found`) and has no revocation yet (`already_revoked`).
 * The user's `revokedOn` becomes the certificate's timestamp; `user.revoked` is published with the transaction,
 * so it is delivered after commit (the transport then closes that user's connections).
 * Source: Parsec v2.16.3 `user.py` (`api_user_revoke`) and `user_queries/revoke.py`.
 */
export const revokeUser =
  (deps: Pick<ApplicationDeps, "uow" | "users" | "events" | "clock">) =>
  async (session: AuthenticatedSession, revokedUserCertificate: Buffer): Promise<RevokeUserOutcome> => {
    if (session.profile !== "ADMIN") return { kind: "not_allowed", reason: "Only an ADMIN can revoke users." };
    const checked = checkRevokedUserCertificate({
      author: session.deviceId,
      authorVerifyKey: session.verifyKey,
      revokedUserCertificate,
      now: deps.clock.now(),
    });
    if (checked.kind !== "ok") return checked;
    const { userId, timestamp } = checked.certificate;
    return deps.uow.run(session.organizationId, async (tx): Promise<RevokeUserOutcome> => {
      const revoked = await deps.users.revoke(tx, session.organizationId, userId, {
        revokedOn: timestamp,
        certificate: revokedUserCertificate,
        certifier: session.deviceId,
      });
      if (revoked === "not_found") return { kind: "not_found" };
      if (revoked === "already_revoked") return { kind: "already_revoked", reason: `User \`${userId}\` is already revoked` };
      await deps.events.publish(tx, { type: "user.revoked", organizationId: session.organizationId, userId });
      return { kind: "ok" };
    });
  };
