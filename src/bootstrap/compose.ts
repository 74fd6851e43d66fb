import type { Logger } from "pino";
import { createApplication, type Application } from "../application/index.js";
import type { EmailSender } from "../application/ports/index.js";
import { DEFAULT_ORGANIZATION_SETTINGS } from "../domain/organization/index.js";
import { MockedEmailSender, SmtpEmailSender, type SmtpSecurity } from "../adapters/email/index.js";
import { MemoryBlockStore } from "../adapters/blockstore/memory/index.js";
import { MemoryEventBus } from "../adapters/events/memory/index.js";
import { createMemoryPersistence } from "../adapters/persistence/memory/index.js";
import { createWireEngine } from "../adapters/protocol/engine.js";
import { CryptoRandom, SystemClock } from "../adapters/system/index.js";
import { DEFAULT_LIMITS, startUwsServer } from "../adapters/transport/uws/index.js";
import type { BackendSettings, BlockStoreSettings, EmailSecurity, EmailSettings } from "./settings.js";

/** A started backend. */
export interface RunningBackend {
  /** The TCP port actually bound (useful with `port: 0`). */
  readonly port: number;
  readonly application: Application;
  /** Stops accepting connections, closes every session with 1001 (going away), resolves when done. */
  stop(): Promise<void>;
}

/** Raised for settings that are valid but name something this build cannot run yet. */
export class UnsupportedSettingError extends Error {
  override readonly name = "UnsupportedSettingError";
}

/** `MOCKED`, `S3`, `RAID1(MOCKED,S3)`… for logs. */
export const describeBlockStore = (b: BlockStoreSettings): string => ("nodes" in b ? `${b.type}(${b.nodes.map(describeBlockStore).join(",")})` : b.type);

const SMTP_SECURITY: Readonly<Record<EmailSecurity, SmtpSecurity>> = { NONE: "none", STARTTLS: "starttls", IMPLICIT_TLS: "implicit_tls" };

/**
 * The email sender the settings name: SMTP, or the mocked one, whose fresh folder is logged at startup and each
 * written email logged as Parsec does.
 */
export const buildEmailSender = async (settings: EmailSettings, logger: Logger): Promise<EmailSender> => {
  const transport = settings.transport;
  if (transport.type === "SMTP") {
    return new SmtpEmailSender({
      host: transport.host,
      port: transport.port,
      auth: transport.auth,
      security: SMTP_SECURITY[transport.security],
      sender: settings.sender,
    });
  }
  const mocked = await MockedEmailSender.create({
    sender: settings.sender,
    onWritten: ({ to, subject, file }) =>
      logger.info({ to, subject, file }, `A request to send an e-mail to ${to} has been triggered and mocked; the mail file can be found here: ${file}`),
  });
  logger.info({ folder: mocked.folder }, `Emails are mocked: they are written to ${mocked.folder}`);
  return mocked;
};

/**
 * The composition root: builds the adapters the settings name, hands them to the application,
 * and starts the uWebSockets.js transport.
 * @throws UnsupportedSettingError for a PostgreSQL database or a non-memory blockstore (not available yet).
 */
export const startBackend = async (settings: BackendSettings, deps: { logger: Logger }): Promise<RunningBackend> => {
  if (settings.db.type !== "MOCKED")
    throw new UnsupportedSettingError("--db: PostgreSQL is not yet supported by this server build; use --db=MOCKED");
  if (settings.blockstore.type !== "MOCKED")
    throw new UnsupportedSettingError(
      `--blockstore: ${describeBlockStore(settings.blockstore)} is not yet supported by this server build; use --blockstore=MOCKED`,
    );

  const email = await buildEmailSender(settings.email, deps.logger);
  const clock = new SystemClock();
  const persistence = createMemoryPersistence(() => clock.now());
  const events = new MemoryEventBus((err, event) => deps.logger.error({ err, event: event.type }, "Event listener failed"));
  const application = createApplication({
    ...persistence,
    blockStore: new MemoryBlockStore(),
    errors: { error: (message, context) => deps.logger.error(context, message) },
    events,
    clock,
    random: new CryptoRandom(),
    config: {
      organizationDefaults: DEFAULT_ORGANIZATION_SETTINGS,
      spontaneousOrganizationBootstrap: settings.spontaneousOrganizationBootstrap,
      debug: settings.debug,
      backendAddr: settings.backendAddr,
      emailLanguage: settings.email.language,
    },
    email,
  });
  const engine = createWireEngine(application);
  const disposeEmail = async () => {
    if (email instanceof MockedEmailSender) await email.dispose();
  };
  const server = await startUwsServer(
    { host: settings.host, port: settings.port, tls: settings.tls, administrationToken: settings.administrationToken, limits: DEFAULT_LIMITS },
    application,
    engine,
    deps.logger,
  ).catch(async (err: unknown) => {
    await disposeEmail();
    throw err;
  });
  return {
    port: server.port,
    application,
    stop: async () => {
      await server.stop();
      await disposeEmail();
    },
  };
};
