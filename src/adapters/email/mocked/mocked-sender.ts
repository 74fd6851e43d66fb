import { mkdtemp, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nodemailer from "nodemailer";
import type { EmailSender, EmailSendOutcome, OutgoingEmail } from "../../../application/ports/index.js";
import { toMailOptions } from "../message.js";

/** Told about each email the mocked sender wrote: who it was for and the `.eml` file that holds it. */
export type MockedEmailListener = (written: { readonly to: string; readonly subject: string; readonly file: string }) => void;

/** Prefix of the folder {@link MockedEmailSender.create} makes in the temporary directory. */
export const MOCKED_EMAIL_FOLDER_PREFIX = "parsec-emails-";

/**
 * The mocked {@link EmailSender} (Parsec `--email-host=MOCKED`): instead of sending, writes each email as a complete
 * MIME message (headers, text and HTML parts) to `<folder>/<n>.eml`, readable by any mail client, and tells the
 * listener where. Fails with `server_unavailable` only when the file cannot be written.
 */
export class MockedEmailSender implements EmailSender {
  private readonly composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  private written = 0;

  private constructor(
    /** The folder that receives the emails, made fresh by {@link MockedEmailSender.create}. */
    readonly folder: string,
    private readonly sender: string,
    private readonly onWritten: MockedEmailListener,
  ) {}

  /**
   * Makes a fresh folder `parsec-emails-XXXXXX` under `parent` (default: the system temporary directory) and a sender
   * writing there, `From` being `sender`.
   */
  static async create(options: { readonly sender: string; readonly onWritten: MockedEmailListener; readonly parent?: string | undefined }): Promise<MockedEmailSender> {
    const folder = await mkdtemp(join(options.parent ?? tmpdir(), MOCKED_EMAIL_FOLDER_PREFIX));
    return new MockedEmailSender(folder, options.sender, options.onWritten);
  }

  /** Removes the folder if no email was written to it (a server that sent nothing leaves nothing behind). */
  async dispose(): Promise<void> {
    if (this.written === 0) await rmdir(this.folder).catch(() => undefined);
  }

  async send(email: OutgoingEmail): Promise<EmailSendOutcome> {
    this.written += 1;
    const file = join(this.folder, `${String(this.written).padStart(6, "0")}.eml`);
    try {
      const info = await this.composer.sendMail(toMailOptions(email, this.sender));
      await writeFile(file, info.message as Buffer, { flag: "wx" });
    } catch (error) {
      return { ok: false, kind: "server_unavailable", reason: `cannot write the mocked email ${file}: ${error instanceof Error ? error.message : String(error)}` };
    }
    this.onWritten({ to: email.to, subject: email.subject, file });
    return { ok: true };
  }
}
