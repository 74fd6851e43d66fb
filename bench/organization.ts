import { DateTime } from "../src/domain/time.js";
import { bootstrapMaterial } from "../test/support/app.js";
import { admin, anonymous } from "../test/support/client.js";

/**
 * Creates and bootstraps a fresh organization (`<prefix><base-36 time>`) on the server at `url` (administration API
 * with `token`, then anonymous `organization_bootstrap`), for the benchmark and attack scripts.
 * @returns the organization id and the key material of its first device.
 * @throws Error when the bootstrap is not answered `ok`.
 */
export const bootstrapBenchOrganization = async (
  url: string,
  token: string,
  prefix: string,
): Promise<{ organizationId: string; material: ReturnType<typeof bootstrapMaterial> }> => {
  const organizationId = `${prefix}${Date.now().toString(36)}`;
  const bootstrapToken = await admin(url, token).bootstrapToken(organizationId);
  const material = bootstrapMaterial(DateTime.fromEpochMilliseconds(Date.now()));
  const r = material.request;
  const boot = await anonymous(url, organizationId, "organization_bootstrap", {
    bootstrap_token: bootstrapToken,
    root_verify_key: r.rootVerifyKey,
    user_certificate: r.userCertificate,
    device_certificate: r.deviceCertificate,
    redacted_user_certificate: r.redactedUserCertificate,
    redacted_device_certificate: r.redactedDeviceCertificate,
  });
  if (boot.reply?.["status"] !== "ok") throw new Error(`bootstrap failed: ${JSON.stringify(boot.reply)}`);
  return { organizationId, material };
};
