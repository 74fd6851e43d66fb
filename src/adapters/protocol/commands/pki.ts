import * as t from "io-ts";
import { BooleanC, BytesC, DateTimeC, EnrollmentIDC, StringC, list, nullable } from "../codecs/primitives.js";
import { command, reply, request, status, struct, withReason } from "../codecs/struct.js";

/** Schema `PkiEnrollmentListItem`: a pending enrollment request, as submitted. */
export const PkiEnrollmentListItemC = struct("PkiEnrollmentListItem", {
  enrollment_id: EnrollmentIDC,
  submit_payload: BytesC,
  submit_payload_signature: BytesC,
  submitted_on: DateTimeC,
  submitter_der_x509_certificate: BytesC,
});
/** The decoded value of {@link PkiEnrollmentListItemC}. */
export type PkiEnrollmentListItem = t.TypeOf<typeof PkiEnrollmentListItemC>;

/**
 * Authenticated `pki_enrollment_accept` (API 2.8, admins): accept an enrollment by creating its user
 * and device, with the accept payload signed by the admin's X.509 certificate.
 */
export const pkiEnrollmentAccept = command(
  "pki_enrollment_accept",
  request("pki_enrollment_accept", {
    accept_payload: BytesC,
    accept_payload_signature: BytesC,
    accepter_der_x509_certificate: BytesC,
    enrollment_id: EnrollmentIDC,
    device_certificate: BytesC,
    user_certificate: BytesC,
    redacted_device_certificate: BytesC,
    redacted_user_certificate: BytesC,
  }),
  reply(
    "pki_enrollment_accept",
    status("ok"),
    withReason("not_allowed"),
    withReason("invalid_payload_data"),
    withReason("invalid_certification"),
    withReason("invalid_data"),
    withReason("not_found"),
    withReason("no_longer_available"),
    withReason("already_exists"),
    status("active_users_limit_reached"),
  ),
);
/** The decoded `pki_enrollment_accept` request: wire field names, domain value types. */
export type PkiEnrollmentAcceptReq = t.TypeOf<typeof pkiEnrollmentAccept.req>;
/** A `pki_enrollment_accept` reply, one of its declared variants discriminated by `status`. */
export type PkiEnrollmentAcceptRep = t.TypeOf<typeof pkiEnrollmentAccept.rep>;

/** Authenticated `pki_enrollment_list` (API 2.8, admins): the submitted enrollments. */
export const pkiEnrollmentList = command(
  "pki_enrollment_list",
  request("pki_enrollment_list", {}),
  reply("pki_enrollment_list", status("ok", { enrollments: list(PkiEnrollmentListItemC) }), withReason("not_allowed")),
);
/** The decoded `pki_enrollment_list` request: wire field names, domain value types. */
export type PkiEnrollmentListReq = t.TypeOf<typeof pkiEnrollmentList.req>;
/** A `pki_enrollment_list` reply, one of its declared variants discriminated by `status`. */
export type PkiEnrollmentListRep = t.TypeOf<typeof pkiEnrollmentList.rep>;

/** Authenticated `pki_enrollment_reject` (API 2.8, admins). */
export const pkiEnrollmentReject = command(
  "pki_enrollment_reject",
  request("pki_enrollment_reject", { enrollment_id: EnrollmentIDC }),
  reply(
    "pki_enrollment_reject",
    status("ok"),
    withReason("not_allowed"),
    withReason("not_found"),
    withReason("no_longer_available"),
  ),
);
/** The decoded `pki_enrollment_reject` request: wire field names, domain value types. */
export type PkiEnrollmentRejectReq = t.TypeOf<typeof pkiEnrollmentReject.req>;
/** A `pki_enrollment_reject` reply, one of its declared variants discriminated by `status`. */
export type PkiEnrollmentRejectRep = t.TypeOf<typeof pkiEnrollmentReject.rep>;

/**
 * Anonymous `pki_enrollment_info` (API 2.8): an enrollment's state, flattened into the `ok` reply
 * (discriminant `enrollment_status`: `SUBMITTED`, `ACCEPTED` with the accept payload, `REJECTED`, `CANCELLED`).
 */
export const pkiEnrollmentInfo = command(
  "pki_enrollment_info",
  request("pki_enrollment_info", { enrollment_id: EnrollmentIDC }),
  reply(
    "pki_enrollment_info",
    status("ok", { enrollment_status: t.literal("SUBMITTED"), submitted_on: DateTimeC }),
    status("ok", {
      enrollment_status: t.literal("ACCEPTED"),
      submitted_on: DateTimeC,
      accepted_on: DateTimeC,
      accepter_der_x509_certificate: BytesC,
      accept_payload_signature: BytesC,
      accept_payload: BytesC,
    }),
    status("ok", { enrollment_status: t.literal("REJECTED"), submitted_on: DateTimeC, rejected_on: DateTimeC }),
    status("ok", { enrollment_status: t.literal("CANCELLED"), submitted_on: DateTimeC, cancelled_on: DateTimeC }),
    withReason("not_found"),
  ),
);
/** The decoded `pki_enrollment_info` request: wire field names, domain value types. */
export type PkiEnrollmentInfoReq = t.TypeOf<typeof pkiEnrollmentInfo.req>;
/** A `pki_enrollment_info` reply, one of its declared variants discriminated by `status`. */
export type PkiEnrollmentInfoRep = t.TypeOf<typeof pkiEnrollmentInfo.rep>;

/**
 * Anonymous `pki_enrollment_submit` (API 2.8): request to join an organization with an X.509
 * certificate; `force` replaces a previous submission from the same certificate.
 */
export const pkiEnrollmentSubmit = command(
  "pki_enrollment_submit",
  request("pki_enrollment_submit", {
    enrollment_id: EnrollmentIDC,
    force: BooleanC,
    submitter_der_x509_certificate: BytesC,
    submitter_der_x509_certificate_email: nullable(StringC),
    submit_payload_signature: BytesC,
    submit_payload: BytesC,
  }),
  reply(
    "pki_enrollment_submit",
    status("ok", { submitted_on: DateTimeC }),
    status("already_submitted", { submitted_on: DateTimeC }),
    status("id_already_used"),
    status("email_already_used"),
    status("already_enrolled"),
    withReason("invalid_payload_data"),
  ),
);
/** The decoded `pki_enrollment_submit` request: wire field names, domain value types. */
export type PkiEnrollmentSubmitReq = t.TypeOf<typeof pkiEnrollmentSubmit.req>;
/** A `pki_enrollment_submit` reply, one of its declared variants discriminated by `status`. */
export type PkiEnrollmentSubmitRep = t.TypeOf<typeof pkiEnrollmentSubmit.rep>;
