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

const DOWNLOAD_URL = "https://parsec.cloud/get-parsec";
const DOCUMENTATION_URL = "https://docs.parsec.cloud";

/** The sentences of one email; `{…}` marks where a value goes. */
interface Wording {
  readonly subject: string;
  readonly greeting: string;
  readonly intro: string;
  readonly download: string;
  readonly action: string;
  readonly button: string;
  readonly nextSteps: string;
  readonly documentation: string;
}

const WORDING: Readonly<Record<InvitationEmailInput["language"], Readonly<Record<InvitationEmailInput["type"], Wording>>>> = {
  en: {
    USER: {
      subject: "[Parsec] {greeter} invited you to {organization}",
      greeting: "Hello,",
      intro: "You have received an invitation from {greeter} to join the {organization} organization on Parsec.",
      download: "If you don't already have it, download the Parsec client:",
      action: "Once it is installed, open the following link to proceed with Parsec:",
      button: "Join {organization}",
      nextSteps: "Then get in touch with {greeter} and follow the next steps in the Parsec client.",
      documentation: "For more information, see the Parsec documentation:",
    },
    DEVICE: {
      subject: "[Parsec] New device invitation to {organization}",
      greeting: "Hello {greeter},",
      intro: "You have received an invitation to add a new device to the {organization} organization on Parsec.",
      download: "If you don't already have it, download the Parsec client on the new device:",
      action: "Once it is installed, open the following link on the new device to proceed with Parsec:",
      button: "Add this device",
      nextSteps: "Then start the invitation process from a device already part of the organization and follow the steps in the Parsec client.",
      documentation: "For more information, see the Parsec documentation:",
    },
  },
  fr: {
    USER: {
      subject: "[Parsec] {greeter} vous invite à rejoindre {organization}",
      greeting: "Bonjour,",
      intro: "Vous avez reçu une invitation de {greeter} à rejoindre l'organisation {organization} sur Parsec.",
      download: "Si vous ne l'avez pas encore, téléchargez le client Parsec :",
      action: "Une fois installé, ouvrez le lien suivant pour continuer avec Parsec :",
      button: "Rejoindre {organization}",
      nextSteps: "Prenez ensuite contact avec {greeter} et suivez les étapes suivantes dans le client Parsec.",
      documentation: "Pour en savoir plus, consultez la documentation de Parsec :",
    },
    DEVICE: {
      subject: "[Parsec] Invitation d'un nouvel appareil à {organization}",
      greeting: "Bonjour {greeter},",
      intro: "Vous avez reçu une invitation à ajouter un nouvel appareil à l'organisation {organization} sur Parsec.",
      download: "Si vous ne l'avez pas encore, téléchargez le client Parsec sur le nouvel appareil :",
      action: "Une fois installé, ouvrez le lien suivant sur le nouvel appareil pour continuer avec Parsec :",
      button: "Ajouter cet appareil",
      nextSteps: "Lancez ensuite l'invitation depuis un appareil qui fait déjà partie de l'organisation et suivez les étapes dans le client Parsec.",
      documentation: "Pour en savoir plus, consultez la documentation de Parsec :",
    },
  },
};

const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

const fill = (template: string, values: { readonly greeter: string; readonly organization: string }): string =>
  template.replace(/\{(greeter|organization)\}/g, (_, name: "greeter" | "organization") => values[name]);

const link = (url: string, label = url): string => `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>`;

const BUTTON_STYLE = "display:inline-block;padding:10px 20px;background:#0058cc;color:#ffffff;border-radius:4px;text-decoration:none;font-weight:bold";

/**
 * Renders the invitation email in the configured language (pure), after Parsec's `invitation_mail` templates:
 * who invites to which organization, where to get the client, the invitation URL, the next steps, the documentation.
 * The text and the HTML both carry the greeter's name and the invitation URL; every value is HTML-escaped in the HTML.
 */
export const renderInvitationEmail = (input: InvitationEmailInput): RenderedEmail => {
  const w = WORDING[input.language][input.type];
  const values = { greeter: input.greeterName, organization: input.organizationId };
  const say = (template: string): string => fill(template, values);
  const html = (template: string): string => escapeHtml(say(template));
  const url = input.invitationUrl;
  const text = [
    say(w.greeting),
    say(w.intro),
    `${say(w.download)} ${DOWNLOAD_URL}`,
    `${say(w.action)}\n${url}`,
    say(w.nextSteps),
    `${say(w.documentation)} ${DOCUMENTATION_URL}`,
  ].join("\n\n");
  return {
    subject: say(w.subject),
    text: `${text}\n`,
    html: [
      "<!doctype html>",
      `<html lang="${input.language}">`,
      `<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${html(w.subject)}</title></head>`,
      '<body style="font-family:sans-serif;font-size:14px;line-height:1.4;color:#222222">',
      `<p>${html(w.greeting)}</p>`,
      `<p>${html(w.intro)}</p>`,
      `<p>${html(w.download)} ${link(DOWNLOAD_URL)}</p>`,
      `<p>${html(w.action)}</p>`,
      `<p><a href="${escapeHtml(url)}" style="${BUTTON_STYLE}">${html(w.button)}</a></p>`,
      `<p style="font-size:12px;word-break:break-all">${link(url)}</p>`,
      `<p>${html(w.nextSteps)}</p>`,
      `<p>${html(w.documentation)} ${link(DOCUMENTATION_URL)}</p>`,
      "</body>",
      "</html>",
      "",
    ].join("\n"),
  };
};
