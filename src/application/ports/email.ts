/** An email ready to send: both a text and an HTML body. */
export interface OutgoingEmail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/**
 * Sends emails (SMTP, or a mocked sender that writes them to a folder).
 * Resolves `{ ok: false, reason }` when the message could not be handed over; never rejects for that.
 */
export interface EmailSender {
  send(email: OutgoingEmail): Promise<{ ok: true } | { ok: false; reason: string }>;
}
