/**
 * The validated settings of `parsec backend run`, as plain typed objects.
 * The CLI (src/bootstrap/cli) builds them from flags, `PARSEC_*` environment variables and
 * `PARSEC_CMD_ARGS`; the composition root (src/bootstrap/compose.ts) turns them into adapters.
 * Nothing below bootstrap reads the environment.
 */

import type { BackendAddr } from "../domain/backend-addr.js";

/** One block storage node, or a RAID cluster of nodes (grammar of Parsec's `--blockstore`). */
export type BlockStoreSettings =
  | { readonly type: "MOCKED" }
  | { readonly type: "POSTGRESQL" }
  | {
      readonly type: "S3";
      /** `null` for the provider's default endpoint. */
      readonly endpointUrl: string | null;
      readonly region: string;
      readonly bucket: string;
      readonly key: string;
      readonly secret: string;
    }
  | {
      readonly type: "SWIFT";
      readonly authUrl: string;
      readonly tenant: string;
      readonly container: string;
      readonly user: string;
      readonly password: string;
    }
  | {
      readonly type: "RAID0" | "RAID1" | "RAID5";
      /** Nodes in index order (node 0 first). RAID5 needs at least 3, RAID0/RAID1 at least 2. */
      readonly nodes: readonly BlockStoreSettings[];
    };

/** Where the database lives: in memory, or a PostgreSQL URL. */
export type DatabaseSettings =
  | { readonly type: "MOCKED" }
  | {
      readonly type: "POSTGRESQL";
      readonly url: string;
      /** Connection pool bounds (`--db-min-connections`, `--db-max-connections`). */
      readonly minConnections: number;
      readonly maxConnections: number;
    };

/**
 * How the SMTP connection is secured. Parsec's own help text swaps its two flags; this follows what its code does:
 * `--email-use-ssl` is `IMPLICIT_TLS` (TLS from the first byte, port 465 style), `--email-use-tls` is `STARTTLS`
 * (plain connection upgraded, port 587 style); neither is `NONE` (plain SMTP, STARTTLS not attempted).
 */
export type EmailSecurity = "NONE" | "STARTTLS" | "IMPLICIT_TLS";

/** Where invitation emails go: written to a temporary folder, or sent to an SMTP server. */
export type EmailTransportSettings =
  | { readonly type: "MOCKED" }
  | {
      readonly type: "SMTP";
      readonly host: string;
      /** `--email-port`, default 25. */
      readonly port: number;
      /** `--email-host-user` and `--email-host-password`, given together; `null` sends without logging in. */
      readonly auth: { readonly user: string; readonly password: string } | null;
      readonly security: EmailSecurity;
    };

/** The email settings (`--email-*`). */
export interface EmailSettings {
  readonly transport: EmailTransportSettings;
  /** `From` address (`--email-sender`; required with an SMTP host, `no-reply@parsec.com` otherwise). */
  readonly sender: string;
  /** Language of the emails (`--email-language`, default `en`). */
  readonly language: "en" | "fr";
}

export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";
export type LogFormat = "CONSOLE" | "JSON";

/** Every setting of `parsec backend run`. */
export interface BackendSettings {
  /** Interface to listen on (`--host`, default `127.0.0.1`). */
  readonly host: string;
  /** TCP port (`--port`, default 6777; 0 picks a free port). */
  readonly port: number;
  readonly db: DatabaseSettings;
  readonly blockstore: BlockStoreSettings;
  /** Bearer token of the administration API. */
  readonly administrationToken: string;
  /** Allow `organization_bootstrap` of an organization never created through the administration API. */
  readonly spontaneousOrganizationBootstrap: boolean;
  /** TLS key and certificate paths; both or neither. */
  readonly tls: { readonly keyFile: string; readonly certFile: string } | null;
  readonly log: {
    readonly level: LogLevel;
    readonly format: LogFormat;
    /** Log to this file instead of stderr. */
    readonly file: string | null;
  };
  /** Sentry DSN; `null` disables error reporting. */
  readonly sentryUrl: string | null;
  /** Sentry environment attached to telemetry reports (`--sentry-environment`, default `production`). */
  readonly sentryEnvironment: string;
  /**
   * Address clients use to reach this server, put in invitation URLs (`--backend-addr`). Defaults to
   * `parsec://localhost:<port>` with `--dev`, otherwise to `parsec://<host>:<port>` (`localhost` when listening on
   * every interface), both with `?no_ssl=true` when this server does not serve TLS itself.
   */
  readonly backendAddr: BackendAddr;
  readonly email: EmailSettings;
  /** Debug mode: enables the `ping` command's debug semantics and verbose errors. */
  readonly debug: boolean;
}
