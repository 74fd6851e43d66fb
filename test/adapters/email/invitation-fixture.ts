import type { OutgoingEmail } from "../../../src/application/ports/index.js";
import { invitationUrl } from "../../../src/domain/backend-addr.js";
import { InvitationToken, OrganizationID } from "../../../src/domain/ids.js";
import { renderInvitationEmail, type InvitationEmailInput } from "../../../src/domain/invite/email.js";

const must = <T>(result: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!result.ok) throw new Error(result.error);
  return result.value;
};

/** The URL the fixture invitations point at. */
export const INVITATION_URL = invitationUrl(
  { hostname: "parsec.example.com", port: null, useSsl: true },
  must(OrganizationID.parse("CoolOrg")),
  "USER",
  must(InvitationToken.parse("d864b93ded264aca9a9a33cd42e9ca8c")),
);

/** Who invites in the fixture invitations: non-ASCII and HTML-sensitive on purpose. */
export const GREETER = "Jean-José <Admin> & Co";

/** An invitation email, rendered by the domain, addressed to `to`. */
export function invitationEmail(to: string, overrides: Partial<Pick<InvitationEmailInput, "language" | "type">> = {}): OutgoingEmail {
  const rendered = renderInvitationEmail({
    language: overrides.language ?? "en",
    type: overrides.type ?? "USER",
    organizationId: must(OrganizationID.parse("CoolOrg")),
    greeterName: GREETER,
    invitationUrl: INVITATION_URL,
  });
  return { to, ...rendered, replyTo: { name: GREETER, address: "greeter@example.com" } };
}
