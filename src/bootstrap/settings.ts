/**
 * The validated settings of `parsec backend run`, as plain typed objects.
 * The CLI (src/bootstrap/cli) builds them from flags, `PARSEC_*` environment variables and
 * `PARSEC_CMD_ARGS`; the composition root (src/bootstrap/compose.ts) turns them into adapters.
 * Nothing below bootstrap reads the environment.
 */

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
  /** Debug mode: enables the `ping` command's debug semantics and verbose errors. */
  readonly debug: boolean;
}
