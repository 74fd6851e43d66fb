import type { DeviceID, DeviceLabel, HumanHandle, RealmID, RealmRole, SequesterServiceID, UserID, UserProfile } from "../ids.js";
import type { DateTime } from "../time.js";

/**
 * Typed contents of Parsec certificates (schemas: `parsec-protocol/schema/types/{certif,shamir}/*.json5`).
 *
 * These are read-only views decoded from the bytes a client signed. The bytes themselves are what the
 * server stores and forwards: a certificate is never re-encoded from these values.
 * Keys (`publicKey`, `verifyKey`, …) are copies, safe to keep after the input buffer is reused.
 */

/** Who signed a certificate: a device, or `null` for the organization's root key (first user and device at bootstrap). */
export type CertificateAuthor = DeviceID | null;

/** `user_certificate`: creation of a user. */
export interface UserCertificate {
  readonly type: "user_certificate";
  readonly author: CertificateAuthor;
  readonly timestamp: DateTime;
  readonly userId: UserID;
  /** `null` in the redacted variant and in certificates older than Parsec 1.13. */
  readonly humanHandle: HumanHandle | null;
  /** X25519 public key, 32 bytes. */
  readonly publicKey: Uint8Array;
  /** From `profile`; from the legacy `is_admin` (ADMIN or STANDARD) when `profile` is absent (before Parsec 1.14). */
  readonly profile: UserProfile;
}

/** `device_certificate`: creation of a device. */
export interface DeviceCertificate {
  readonly type: "device_certificate";
  readonly author: CertificateAuthor;
  readonly timestamp: DateTime;
  readonly deviceId: DeviceID;
  /** `null` in the redacted variant and in certificates older than Parsec 1.14. */
  readonly deviceLabel: DeviceLabel | null;
  /** Ed25519 verify key, 32 bytes. */
  readonly verifyKey: Uint8Array;
}

/** `revoked_user_certificate`: revocation of a user, always signed by a device. */
export interface RevokedUserCertificate {
  readonly type: "revoked_user_certificate";
  readonly author: DeviceID;
  readonly timestamp: DateTime;
  readonly userId: UserID;
}

/** `realm_role_certificate`: a user's role in a realm changes. */
export interface RealmRoleCertificate {
  readonly type: "realm_role_certificate";
  readonly author: CertificateAuthor;
  readonly timestamp: DateTime;
  readonly realmId: RealmID;
  readonly userId: UserID;
  /** `null` when the role is removed. */
  readonly role: RealmRole | null;
}

/** Parsec `RealmArchivingConfiguration`: wire form `{type: "AVAILABLE" | "ARCHIVED" | "DELETION_PLANNED", deletion_date?}`. */
export type RealmArchivingConfiguration =
  | { readonly type: "AVAILABLE" }
  | { readonly type: "ARCHIVED" }
  | { readonly type: "DELETION_PLANNED"; readonly deletionDate: DateTime };

/** `realm_archiving_certificate`: a realm's archiving configuration changes; always signed by a device. */
export interface RealmArchivingCertificate {
  readonly type: "realm_archiving_certificate";
  readonly author: DeviceID;
  readonly timestamp: DateTime;
  readonly realmId: RealmID;
  readonly configuration: RealmArchivingConfiguration;
}

/** `sequester_authority_certificate`: the sequester authority's RSA verify key; its author is always the root (`null`). */
export interface SequesterAuthorityCertificate {
  readonly type: "sequester_authority_certificate";
  readonly author: null;
  readonly timestamp: DateTime;
  /** RSA public key, DER SubjectPublicKeyInfo. */
  readonly verifyKeyDer: Uint8Array;
}

/**
 * `sequester_service_certificate`: a sequester service's RSA encryption key. Not Ed25519-signed (no author):
 * it is plain `zlib(msgpack)`, signed by the sequester authority with RSASSA-PSS outside this format.
 */
export interface SequesterServiceCertificate {
  readonly type: "sequester_service_certificate";
  readonly timestamp: DateTime;
  readonly serviceId: SequesterServiceID;
  readonly serviceLabel: string;
  /** RSA public key, DER SubjectPublicKeyInfo. */
  readonly encryptionKeyDer: Uint8Array;
}

/** `shamir_recovery_brief_certificate`: the quorum and the recipients of a Shamir recovery setup. */
export interface ShamirRecoveryBriefCertificate {
  readonly type: "shamir_recovery_brief_certificate";
  readonly author: DeviceID;
  readonly timestamp: DateTime;
  /** Number of shares needed to recover the secret, ≥ 1. */
  readonly threshold: number;
  /** Number of shares (≥ 1) each recipient holds. */
  readonly perRecipientShares: ReadonlyMap<UserID, number>;
}

/** `shamir_recovery_share_certificate`: one recipient's encrypted share. */
export interface ShamirRecoveryShareCertificate {
  readonly type: "shamir_recovery_share_certificate";
  readonly author: DeviceID;
  readonly timestamp: DateTime;
  readonly recipient: UserID;
  /** The share, encrypted for the recipient's public key; opaque to the server. */
  readonly cipheredShare: Uint8Array;
}

/** Every certificate in the Ed25519-signed format `signature(64) ‖ zlib(msgpack)`. */
export type SignedCertificate =
  | UserCertificate
  | DeviceCertificate
  | RevokedUserCertificate
  | RealmRoleCertificate
  | RealmArchivingCertificate
  | SequesterAuthorityCertificate
  | ShamirRecoveryBriefCertificate
  | ShamirRecoveryShareCertificate;

/** The `type` field of a {@link SignedCertificate}. */
export type SignedCertificateType = SignedCertificate["type"];

/** The certificate whose `type` field is `T`. */
export type CertificateOfType<T extends SignedCertificateType> = Extract<SignedCertificate, { type: T }>;
