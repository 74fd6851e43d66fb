import { fileURLToPath } from "node:url";

/** A self-signed Ed25519 key and certificate for `localhost` / 127.0.0.1, committed for tests (test/fixtures/tls). */
export const TLS_KEY = fileURLToPath(new URL("../fixtures/tls/key.pem", import.meta.url));
export const TLS_CERT = fileURLToPath(new URL("../fixtures/tls/cert.pem", import.meta.url));
/** A certificate of another key (does not match {@link TLS_KEY}). */
export const TLS_OTHER_CERT = fileURLToPath(new URL("../fixtures/tls/other-cert.pem", import.meta.url));
