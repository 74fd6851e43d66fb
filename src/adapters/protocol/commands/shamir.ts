import type * as t from "io-ts";
import { BytesC, ShamirRevealTokenC, list, nullable } from "../codecs/primitives.js";
import { command, reply, request, status, struct } from "../codecs/struct.js";

/**
 * Schema `ShamirRecoverySetup`: the secret encrypted under a key split into shares (`ciphered_data`),
 * the token that reveals it, the signed brief certificate and one signed share certificate per recipient.
 */
export const ShamirRecoverySetupC = struct("ShamirRecoverySetup", {
  ciphered_data: BytesC,
  reveal_token: ShamirRevealTokenC,
  brief: BytesC,
  shares: list(BytesC),
});
/** The decoded value of {@link ShamirRecoverySetupC}. */
export type ShamirRecoverySetup = t.TypeOf<typeof ShamirRecoverySetupC>;

/** Authenticated `shamir_recovery_setup` (API 2.9): set up the author's Shamir recovery, or remove it with nil. */
export const shamirRecoverySetup = command(
  "shamir_recovery_setup",
  request("shamir_recovery_setup", { setup: nullable(ShamirRecoverySetupC) }),
  reply("shamir_recovery_setup", status("ok"), status("invalid_certification"), status("invalid_data"), status("already_set")),
);
/** The decoded `shamir_recovery_setup` request: wire field names, domain value types. */
export type ShamirRecoverySetupReq = t.TypeOf<typeof shamirRecoverySetup.req>;
/** A `shamir_recovery_setup` reply, one of its declared variants discriminated by `status`. */
export type ShamirRecoverySetupRep = t.TypeOf<typeof shamirRecoverySetup.rep>;

/** Authenticated `shamir_recovery_others_list` (API 2.9): brief and share certificates of the recoveries the author takes part in. */
export const shamirRecoveryOthersList = command(
  "shamir_recovery_others_list",
  request("shamir_recovery_others_list", {}),
  reply("shamir_recovery_others_list", status("ok", { brief_certificates: list(BytesC), share_certificates: list(BytesC) })),
);
/** The decoded `shamir_recovery_others_list` request: wire field names, domain value types. */
export type ShamirRecoveryOthersListReq = t.TypeOf<typeof shamirRecoveryOthersList.req>;
/** A `shamir_recovery_others_list` reply, one of its declared variants discriminated by `status`. */
export type ShamirRecoveryOthersListRep = t.TypeOf<typeof shamirRecoveryOthersList.rep>;

/** Authenticated `shamir_recovery_self_info` (API 2.9): the author's own brief certificate, nil when not set up. */
export const shamirRecoverySelfInfo = command(
  "shamir_recovery_self_info",
  request("shamir_recovery_self_info", {}),
  reply("shamir_recovery_self_info", status("ok", { self_info: nullable(BytesC) })),
);
/** The decoded `shamir_recovery_self_info` request: wire field names, domain value types. */
export type ShamirRecoverySelfInfoReq = t.TypeOf<typeof shamirRecoverySelfInfo.req>;
/** A `shamir_recovery_self_info` reply, one of its declared variants discriminated by `status`. */
export type ShamirRecoverySelfInfoRep = t.TypeOf<typeof shamirRecoverySelfInfo.rep>;

/** Invited `invite_shamir_recovery_reveal` (API 2.9): the encrypted secret, given the reveal token rebuilt from shares. */
export const inviteShamirRecoveryReveal = command(
  "invite_shamir_recovery_reveal",
  request("invite_shamir_recovery_reveal", { reveal_token: ShamirRevealTokenC }),
  reply("invite_shamir_recovery_reveal", status("ok", { ciphered_data: BytesC }), status("not_found")),
);
/** The decoded `invite_shamir_recovery_reveal` request: wire field names, domain value types. */
export type InviteShamirRecoveryRevealReq = t.TypeOf<typeof inviteShamirRecoveryReveal.req>;
/** A `invite_shamir_recovery_reveal` reply, one of its declared variants discriminated by `status`. */
export type InviteShamirRecoveryRevealRep = t.TypeOf<typeof inviteShamirRecoveryReveal.rep>;
