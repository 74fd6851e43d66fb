import { checkNewDeviceCertificates, type InvalidCertification, type InvalidData } from "../../domain/certificates/index.js";
import { deviceFromCertificate } from "../../domain/user/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession } from "../session/session.js";

/** Input of `device_create`: the certificates exactly as received, signed by the session's device. */
export interface CreateDeviceInput {
  readonly deviceCertificate: Buffer;
  /** The device certificate without its label. */
  readonly redactedDeviceCertificate: Buffer;
}

/** Every status of `device_create`; each `reason` is for logs (Parsec sends none). */
export type CreateDeviceOutcome =
  | { readonly kind: "ok" }
  | InvalidCertification
  | { readonly kind: "bad_user_id"; readonly reason: string }
  | InvalidData
  | { readonly kind: "already_exists"; readonly reason: string };

/**
 * `device_create` (authenticated, any profile): adds a device to the author's own user.
 * The certificates are checked by `checkNewDeviceCertificates` (`invalid_certification`, including a timestamp out
 * of the ballpark; `bad_user_id` for a device of another user; `invalid_data`), then the device is inserted in a unit
 * of work (`already_exists` when its id is taken).
 * Source: Parsec v2.16.3 `user.py` (`api_device_create`).
 */
export const createDevice =
  (deps: Pick<ApplicationDeps, "uow" | "users" | "clock">) =>
  async (session: AuthenticatedSession, input: CreateDeviceInput): Promise<CreateDeviceOutcome> => {
    const checked = checkNewDeviceCertificates({ ...input, author: session.deviceId, authorVerifyKey: session.verifyKey, now: deps.clock.now() });
    if (checked.kind !== "ok") return checked;
    const device = deviceFromCertificate(checked.device, input);
    return deps.uow.run(session.organizationId, async (tx): Promise<CreateDeviceOutcome> => {
      const created = await deps.users.createDevice(tx, session.organizationId, device);
      if (created === "user_not_found") throw new Error(`user of the authenticated device ${session.deviceId} is unknown`);
      if (created === "already_exists") return { kind: "already_exists", reason: `Device \`${device.deviceId}\` already exists` };
      return { kind: "ok" };
    });
  };
