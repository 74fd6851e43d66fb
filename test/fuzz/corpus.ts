import { pack } from "../../src/domain/serialization/msgpack.js";
import { inflateSync } from "node:zlib";
import { DateTime } from "../../src/domain/time.js";
import { deviceCertificate, ed25519Sign, ed25519VerifyKey, revokedUserCertificate, userCertificate } from "../support/certificates.js";
import { loadVectors, sharedFolderAvailable, type Vector } from "../protocol/vectors-support.js";
import { synthesizeRequests } from "./synthesize.js";

/**
 * The fuzzers' seed corpus, read at run time from the shared protocol folder (`../shared/parsec-protocol/vectors`,
 * never copied into the project) and completed with frames synthesized from the codecs for commands that have no
 * vector. Grouped by what each decoder reads.
 */

/** A certificate vector's extra fields. */
interface CertificateVector extends Vector {
  readonly certificate_type: string;
  readonly raw_hex: string;
  readonly signed: boolean;
}

/** The seeds of every fuzz target family. */
export interface FuzzCorpus {
  /** Every msgpack message of every vector (requests, replies, handshake messages, certificate payloads). */
  readonly messages: Buffer[];
  /** Client handshake answers: the invited vectors, plus an authenticated answer signed by a fixed test key. */
  readonly handshakeAnswers: Buffer[];
  /** Request frames per client family: the vectors (negative ones included) and one synthesized frame per command. */
  readonly requests: { readonly authenticated: Buffer[]; readonly invited: Buffer[]; readonly anonymous: Buffer[] };
  /** Complete signed certificates (`signature ‖ zlib(msgpack)`) as in the vectors. */
  readonly signedCertificates: Buffer[];
  /** Certificate payloads (the inflated msgpack maps), signed certificates' and the sequester service certificate's. */
  readonly certificatePayloads: Buffer[];
}

const hex = (h: string): Buffer => Buffer.from(h, "hex");

/** The fixed key that signs the synthesized authenticated handshake answer (not a fixture: any key will do). */
const HANDSHAKE_SEED_KEY = Buffer.alloc(32, 0x42);

const authenticatedAnswerSeed = (): Buffer => {
  const payload = pack({ type: "signed_answer", answer: Buffer.alloc(48, 0x11) });
  return pack({
    handshake: "answer",
    type: "AUTHENTICATED",
    client_api_version: [2, 5],
    organization_id: "CoolOrg",
    device_id: "alice@dev1",
    rvk: ed25519VerifyKey(HANDSHAKE_SEED_KEY),
    answer: Buffer.concat([ed25519Sign(HANDSHAKE_SEED_KEY, payload), payload]),
  });
};

/** A user, a device and a revoked-user certificate signed by {@link HANDSHAKE_SEED_KEY}, whatever the shared folder holds. */
const certificateSeeds = (): Buffer[] => {
  const timestamp = DateTime.fromEpochMicroseconds(1_700_000_000_000_000);
  const common = { author: "alice@dev1", timestamp };
  return [
    userCertificate(HANDSHAKE_SEED_KEY, { ...common, userId: "bob", humanHandle: null, publicKey: Buffer.alloc(32, 1), profile: "STANDARD" }),
    deviceCertificate(HANDSHAKE_SEED_KEY, { ...common, deviceId: "bob@dev1", deviceLabel: "Laptop", verifyKey: Buffer.alloc(32, 2) }),
    revokedUserCertificate(HANDSHAKE_SEED_KEY, { ...common, userId: "bob" }),
  ];
};

/**
 * Loads the corpus. Without the shared folder (outside CI, where its absence throws) only the synthesized seeds are
 * there; {@link FuzzCorpus} is never empty for any target.
 */
export const loadCorpus = (): FuzzCorpus => {
  const vectors = sharedFolderAvailable() ? loadVectors() : [];
  const requests = { authenticated: [] as Buffer[], invited: [] as Buffer[], anonymous: [] as Buffer[] };
  for (const v of vectors) if (v.kind === "req" && v.family) requests[v.family].push(hex(v.msgpack_hex));
  for (const r of synthesizeRequests().requests) requests[r.family].push(r.frame);
  const certificates = vectors.filter((v): v is CertificateVector => v.kind === "certificate");
  const synthesizedCertificates = certificateSeeds();
  return {
    messages: vectors.map((v) => hex(v.msgpack_hex)),
    handshakeAnswers: [
      ...vectors.filter((v) => v.kind === "handshake" && v.handshake_step === "answer").map((v) => hex(v.msgpack_hex)),
      authenticatedAnswerSeed(),
    ],
    requests,
    signedCertificates: [...certificates.filter((v) => v.signed).map((v) => hex(v.raw_hex)), ...synthesizedCertificates],
    certificatePayloads: [...certificates.map((v) => hex(v.msgpack_hex)), ...synthesizedCertificates.map((c) => inflateSync(c.subarray(64)))],
  };
};
