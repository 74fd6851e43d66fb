import type { UserID } from "../../domain/ids.js";
import { assembleTrustchain, type TrustchainCertificates } from "../../domain/user/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession } from "../session/session.js";

/** Outcome of `user_get`: certificates exactly as stored (redacted ones for an OUTSIDER caller). */
export type GetUserOutcome =
  | {
      readonly kind: "ok";
      readonly userCertificate: Buffer;
      readonly revokedUserCertificate: Buffer | null;
      /** One per device of the user, in creation order. */
      readonly deviceCertificates: readonly Buffer[];
      /** Every certificate needed to verify the ones above back to the root key. */
      readonly trustchain: TrustchainCertificates;
    }
  | { readonly kind: "not_found" };

/**
 * `user_get` (authenticated, any profile): a user's certificate, its revocation certificate, its devices'
 * certificates and their trustchain (domain `trustchainRoots`, `walkTrustchain`, `assembleTrustchain`). An OUTSIDER
 * caller receives the redacted user and device certificates, in the trustchain too; `not_found` for an unknown user
 * (of the session's organization). Source: Parsec v2.16.3 `user.py` (`api_user_get`) and `user_queries/get.py`.
 */
export const getUser =
  (deps: Pick<ApplicationDeps, "users">) =>
  async (session: AuthenticatedSession, userId: UserID): Promise<GetUserOutcome> => {
    const found = await deps.users.getUserWithDevicesAndTrustchain(session.organizationId, userId);
    if (!found) return { kind: "not_found" };
    const redacted = session.profile === "OUTSIDER";
    return {
      kind: "ok",
      userCertificate: redacted ? found.user.redactedUserCertificate : found.user.userCertificate,
      revokedUserCertificate: found.user.revokedUserCertificate,
      deviceCertificates: found.devices.map((d) => (redacted ? d.redactedDeviceCertificate : d.deviceCertificate)),
      trustchain: assembleTrustchain(found.trustchain, redacted),
    };
  };
