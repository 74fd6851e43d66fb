import { checkOrganizationBootstrap, type BadTimestamp } from "../../domain/certificates/index.js";
import type { OrganizationID } from "../../domain/ids.js";
import { isBootstrapped } from "../../domain/organization/index.js";
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
 * `organization_bootstrap`: verifies the first user's certificates against the root key, then —
 * atomically — checks the organization exists, is not bootstrapped and the token matches, creates the
 * first user and device, and records the root verify key. With spontaneous bootstrap enabled, an
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
      const organization = await deps.organizations.get(input.organizationId, tx);
      if (!organization) return { kind: "not_found" };
      if (isBootstrapped(organization)) return { kind: "already_bootstrapped" };
      if (organization.bootstrapToken !== input.bootstrapToken) return { kind: "not_found" };
      const created = await deps.users.create(tx, input.organizationId, user, device);
      if (created !== "ok") return { kind: "invalid_data", reason: `First user cannot be created: ${created}` };
      await deps.organizations.save(tx, {
        ...organization,
        rootVerifyKey: Buffer.from(input.rootVerifyKey),
        bootstrappedOn: now,
        sequesterAuthority: checked.sequesterAuthority
          ? { certificate: input.sequesterAuthorityCertificate!, verifyKeyDer: Buffer.from(checked.sequesterAuthority.verifyKeyDer) }
          : null,
        sequesterServicesCertificates: checked.sequesterAuthority ? [] : null,
      });
      return { kind: "ok" };
    });
  };
};
