import type { InvitationType, OrganizationID } from "../ids.js";

/** What an invitation email says. */
export interface InvitationEmailInput {
  readonly language: "en" | "fr";
  /** USER: sent to the invited person; DEVICE: sent to the greeter for their new device. */
  readonly type: Exclude<InvitationType, "SHAMIR_RECOVERY">;
  readonly organizationId: OrganizationID;
  /** Who invites: the greeter's human label, or their user id when they have none. */
  readonly greeterName: string;
  /** The `parsec://…?action=claim_…&token=…` URL to open with a Parsec client. */
  readonly invitationUrl: string;
}

/** A rendered email, text and HTML. */
export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/** Renders the invitation email in the configured language (pure). */
export const renderInvitationEmail = (input: InvitationEmailInput): RenderedEmail => {
  const org = input.organizationId;
  const greeter = input.greeterName;
  const url = input.invitationUrl;
  const lines =
    input.language === "fr"
      ? input.type === "USER"
        ? {
            subject: `[Parsec] ${greeter} vous invite à rejoindre ${org}`,
            intro: `${greeter} vous invite à rejoindre l'organisation ${org} sur Parsec.`,
            action: "Ouvrez ce lien avec l'application Parsec pour accepter l'invitation :",
          }
        : {
            subject: `[Parsec] Nouvel appareil pour ${org}`,
            intro: `Vous avez demandé à ajouter un nouvel appareil à l'organisation ${org} sur Parsec.`,
            action: "Ouvrez ce lien avec l'application Parsec sur le nouvel appareil :",
          }
      : input.type === "USER"
        ? {
            subject: `[Parsec] ${greeter} invited you to ${org}`,
            intro: `${greeter} invited you to join the organization ${org} on Parsec.`,
            action: "Open this link with the Parsec application to accept the invitation:",
          }
        : {
            subject: `[Parsec] New device for ${org}`,
            intro: `You asked to add a new device to the organization ${org} on Parsec.`,
            action: "Open this link with the Parsec application on the new device:",
          };
  return {
    subject: lines.subject,
    text: `${lines.intro}\n\n${lines.action}\n${url}\n`,
    html: `<!doctype html><html><body><p>${escapeHtml(lines.intro)}</p><p>${escapeHtml(lines.action)}<br><a href="${escapeHtml(url)}">${escapeHtml(url)}</a></p></body></html>`,
  };
};
