/** An email ready to send: both a text and an HTML body. */
export interface OutgoingEmail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** Where replies go (Parsec puts the greeter there for a user invitation); the sender address when absent. */
  readonly replyTo?: { readonly name: string; readonly address: string } | undefined;
}

/**
 * Why an email was not handed over, as Parsec's `invite_new` reports it (`email_sent`):
 * - `server_unavailable`: the mail server could not be reached or refused the session (connection refused or timed
 *   out, TLS failure, bad credentials, sender refused, temporary 4xx reply, mocked folder not writable);
 * - `recipient_refused`: the server permanently rejected the recipient address (5xx reply to `RCPT TO`).
 */
export type EmailFailureKind = "server_unavailable" | "recipient_refused";

/** The outcome of {@link EmailSender.send}; `reason` is a human-readable detail for logs. */
export type EmailSendOutcome = { readonly ok: true } | { readonly ok: false; readonly kind: EmailFailureKind; readonly reason: string };

/**
 * Sends emails (SMTP, or a mocked sender that writes them to a folder).
 * Resolves a failure outcome when the message could not be handed over; never rejects for that.
 */
export interface EmailSender {
  send(email: OutgoingEmail): Promise<EmailSendOutcome>;
}
