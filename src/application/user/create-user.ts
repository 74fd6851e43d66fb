import { checkNewUserCertificates, type InvalidCertification, type InvalidData } from "../../domain/certificates/index.js";
import { checkUserAdmission, deviceFromCertificate, userFromCertificate, type UserAdmission } from "../../domain/user/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession } from "../session/session.js";

/** Input of `user_create`: the four certificates exactly as received, all signed by the session's device. */
export interface CreateUserInput {
  readonly userCertificate: Buffer;
  readonly deviceCertificate: Buffer;
  /** The user certificate without its human handle (what OUTSIDERs get). */
  readonly redactedUserCertificate: Buffer;
  /** The device certificate without its label. */
  readonly redactedDeviceCertificate: Buffer;
}

/** Every status of `user_create`; each `reason` is for logs (Parsec sends none). */
export type CreateUserOutcome =
  | { readonly kind: "ok" }
  | InvalidCertification
  | InvalidData
  | Exclude<UserAdmission, { kind: "ok" }>;

/**
 * `user_create` (authenticated, ADMIN only): adds a user with its first device.
 * Order of the checks: the author is ADMIN (`not_allowed`, before reading any certificate); the certificates
 * (`invalid_certification`, including a timestamp out of the ballpark, or `invalid_data`, see
 * `checkNewUserCertificates`); then, in one unit of work so that concurrent creations cannot exceed the limit or
 * share an email, the organization's admission rules (`checkUserAdmission`: `not_allowed` for a refused OUTSIDER,
 * `active_users_limit_reached`, `already_exists`) and the insertion.
 * Source: Parsec v2.16.3 `user.py` (`api_user_create`) and `user_queries/create.py`.
 */
export const createUser =
  (deps: Pick<ApplicationDeps, "uow" | "organizations" | "users" | "clock">) =>
  async (session: AuthenticatedSession, input: CreateUserInput): Promise<CreateUserOutcome> => {
    if (session.profile !== "ADMIN") return { kind: "not_allowed", reason: "Only an ADMIN can create users." };
    const now = deps.clock.now();
    const checked = checkNewUserCertificates({ ...input, author: session.deviceId, authorVerifyKey: session.verifyKey, now });
    if (checked.kind !== "ok") return checked;

    const user = userFromCertificate(checked.user, input);
    const device = deviceFromCertificate(checked.device, input);

    return deps.uow.run(session.organizationId, async (tx): Promise<CreateUserOutcome> => {
      const organization = await deps.organizations.get(session.organizationId, tx);
      if (!organization) throw new Error(`organization ${session.organizationId} of an authenticated session is unknown`);
      const facts = await deps.users.admissionFacts(tx, session.organizationId, {
        userId: user.userId,
        email: user.humanHandle?.email ?? null,
        now,
        countActiveUsers: organization.activeUsersLimit !== null,
      });
      const admission = checkUserAdmission({ settings: organization, facts, newUser: user });
      if (admission.kind !== "ok") return admission;
      const created = await deps.users.create(tx, session.organizationId, user, device);
      if (created !== "ok") return { kind: "already_exists", reason: `User cannot be created: ${created}` };
      return { kind: "ok" };
    });
  };
