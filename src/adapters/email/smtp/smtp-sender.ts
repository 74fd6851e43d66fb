import nodemailer from "nodemailer";
import type { NodemailerError, SMTPTransportOptions, Transporter } from "nodemailer";
import type { EmailFailureKind, EmailSender, EmailSendOutcome, OutgoingEmail } from "../../../application/ports/index.js";
import { toMailOptions } from "../message.js";

/**
 * How the connection to the SMTP server is secured, after what Parsec's code does with its flags:
 * - `none`: plain SMTP, no STARTTLS even when the server offers it (neither flag);
 * - `starttls`: plain connection upgraded with STARTTLS, which the server must offer (Parsec `--email-use-tls`,
 *   usually port 587);
 * - `implicit_tls`: TLS from the first byte (Parsec `--email-use-ssl`, usually port 465).
 *
 * With TLS the server certificate is checked against the system's CAs (plus `NODE_EXTRA_CA_CERTS`).
 */
export type SmtpSecurity = "none" | "starttls" | "implicit_tls";

/** Bounds, in milliseconds, on each wait of one delivery. */
export interface SmtpTimeouts {
  /** Until the TCP (and, with implicit TLS, TLS) connection is up. */
  readonly connectionMs: number;
  /** Until the server's greeting once connected. */
  readonly greetingMs: number;
  /** Of inactivity on the socket during the session. */
  readonly socketMs: number;
}

/** Default {@link SmtpTimeouts}: an invitation request waits at most a few seconds on an unresponsive server. */
export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = { connectionMs: 5_000, greetingMs: 5_000, socketMs: 10_000 };

/** Where and how {@link SmtpEmailSender} delivers. */
export interface SmtpEmailConfig {
  readonly host: string;
  readonly port: number;
  /** Credentials to log in with; `null` sends without authenticating. */
  readonly auth: { readonly user: string; readonly password: string } | null;
  readonly security: SmtpSecurity;
  /** Address of the `From` header and of the envelope sender. */
  readonly sender: string;
  readonly timeouts?: SmtpTimeouts | undefined;
  /** PEM certificates trusted in addition to the system's CAs (a private CA, or a test's self-signed certificate). */
  readonly extraCaCertificates?: readonly string[] | undefined;
}

const isNodemailerError = (error: unknown): error is NodemailerError => error instanceof Error;

/**
 * Sorts a delivery failure into the port's kinds: a permanent (5xx) rejection of `RCPT TO` is `recipient_refused`;
 * everything else (connection refused or timed out, DNS, TLS, authentication, sender refused, temporary 4xx replies,
 * message refused) is `server_unavailable`.
 */
export const classifySmtpFailure = (error: unknown): EmailFailureKind =>
  isNodemailerError(error) && error.code === "EENVELOPE" && error.command === "RCPT TO" && (error.responseCode ?? 0) >= 500
    ? "recipient_refused"
    : "server_unavailable";

const describe = (error: unknown): string => {
  if (!isNodemailerError(error)) return String(error);
  const code = error.originalCode ?? error.code;
  return code === undefined || error.message.includes(code) ? error.message : `${code}: ${error.message}`;
};

/**
 * The SMTP {@link EmailSender}: one connection per email (no pool), to the configured server, with the configured
 * security and credentials. Failures resolve `{ ok: false, kind, reason }`, `reason` naming the server and what
 * went wrong.
 */
export class SmtpEmailSender implements EmailSender {
  private readonly transport: Transporter;

  constructor(private readonly config: SmtpEmailConfig) {
    const timeouts = config.timeouts ?? DEFAULT_SMTP_TIMEOUTS;
    const options: SMTPTransportOptions = {
      host: config.host,
      port: config.port,
      secure: config.security === "implicit_tls",
      requireTLS: config.security === "starttls",
      ignoreTLS: config.security === "none",
      connectionTimeout: timeouts.connectionMs,
      greetingTimeout: timeouts.greetingMs,
      socketTimeout: timeouts.socketMs,
      ...(config.auth === null ? {} : { auth: { user: config.auth.user, pass: config.auth.password } }),
      ...(config.extraCaCertificates === undefined ? {} : { tls: { ca: [...config.extraCaCertificates] } }),
    };
    this.transport = nodemailer.createTransport(options);
  }

  async send(email: OutgoingEmail): Promise<EmailSendOutcome> {
    try {
      await this.transport.sendMail(toMailOptions(email, this.config.sender));
      return { ok: true };
    } catch (error) {
      return { ok: false, kind: classifySmtpFailure(error), reason: `SMTP server ${this.config.host}:${this.config.port}: ${describe(error)}` };
    }
  }
}
