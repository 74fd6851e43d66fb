import { checkOrganizationBootstrap, type BadTimestamp } from "../../domain/certificates/index.js";
import type { OrganizationID } from "../../domain/ids.js";
import { deviceFromCertificate, userFromCertificate } from "../../domain/user/index.js";
import type { ApplicationDeps } from "../deps.js";
import { createOrganization } from "./administration.js";

/** Input of `organization_bootstrap` (anonymous): the certificates exactly as received. */
export interface BootstrapOrganizationInput {
  readonly organizationId: OrganizationID;
  readonly bootstrapToken: string;
  /** Ed25519 root verify key (32 bytes). */
  readonly rootVerifyKey: Buffer;
  readonly userCertificate: Buffer;
  readonly deviceCertificate: Buffer;
  readonly redactedUserCertificate: Buffer;
  readonly redactedDeviceCertificate: Buffer;
  readonly sequesterAuthorityCertificate: Buffer | null;
}

/** Every status of `organization_bootstrap` (the `reason` fields are for logs). */
export type BootstrapOrganizationOutcome =
  | { kind: "ok" }
  | { kind: "invalid_certification"; reason: string }
  | { kind: "invalid_data"; reason: string }
  | BadTimestamp
  | { kind: "already_bootstrapped" }
  | { kind: "not_found" };

/**
 * `organization_bootstrap`: verifies the first user's certificates against the root key, then — atomically —
 * records the bootstrap if the organization exists (`not_found`), is not bootstrapped (`already_bootstrapped`) and
 * the token matches (`not_found`), and creates the first user and device; of concurrent bootstraps exactly one wins. With spontaneous bootstrap enabled, an
 * unknown organization is first created with an empty bootstrap token.
 * Source: Parsec v2.16.3 `organization.py` (`api_organization_bootstrap`) and `asgi/rpc.py`.
 */
export const bootstrapOrganization = (deps: ApplicationDeps) => {
  const create = createOrganization(deps);
  return async (input: BootstrapOrganizationInput): Promise<BootstrapOrganizationOutcome> => {
    const now = deps.clock.now();
    const checked = checkOrganizationBootstrap({ ...input, now });
    if (checked.kind !== "ok") return checked;

    if (deps.config.spontaneousOrganizationBootstrap && !(await deps.organizations.get(input.organizationId)))
      await create({ organizationId: input.organizationId, bootstrapToken: "" });

    const user = userFromCertificate(checked.user, input);
    const device = deviceFromCertificate(checked.device, input);

    return deps.uow.run(input.organizationId, async (tx): Promise<BootstrapOrganizationOutcome> => {
      const bootstrapped = await deps.organizations.bootstrap(tx, input.organizationId, {
        bootstrapToken: input.bootstrapToken,
        rootVerifyKey: Buffer.from(input.rootVerifyKey),
        bootstrappedOn: now,
        sequesterAuthority: checked.sequesterAuthority
          ? { certificate: input.sequesterAuthorityCertificate!, verifyKeyDer: Buffer.from(checked.sequesterAuthority.verifyKeyDer) }
          : null,
      });
      if (bootstrapped === "already_bootstrapped") return { kind: "already_bootstrapped" };
      if (bootstrapped !== "ok") return { kind: "not_found" };
      // A not-bootstrapped organization has no user yet: a failure here is a bug, and the throw rolls the bootstrap back.
      const created = await deps.users.create(tx, input.organizationId, user, device);
      if (created !== "ok") throw new Error(`first user of ${input.organizationId} cannot be created: ${created}`);
      return { kind: "ok" };
    });
  };
};
