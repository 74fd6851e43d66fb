import type { SendMailOptions } from "nodemailer";
import type { OutgoingEmail } from "../../application/ports/index.js";

/**
 * The nodemailer message of an {@link OutgoingEmail} sent from `sender`: a `multipart/alternative` with the text part
 * first and the HTML part last (the one clients prefer), `From` and envelope sender both `sender`.
 */
export const toMailOptions = (email: OutgoingEmail, sender: string): SendMailOptions => ({
  from: sender,
  to: email.to,
  subject: email.subject,
  text: email.text,
  html: email.html,
  ...(email.replyTo === undefined ? {} : { replyTo: { name: email.replyTo.name, address: email.replyTo.address } }),
});
