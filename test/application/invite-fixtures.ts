import type { AuthenticatedSession, InvitedSession } from "../../src/application/index.js";
import type { InvitationToken, InvitationType } from "../../src/domain/ids.js";
import type { User } from "../../src/domain/user/index.js";
import { authenticate, bootstrapOrganization, buildTestApp, userId, type BootstrappedOrganization, type TestApp, type TestAppOptions } from "../support/app.js";
import { ObservedEventBus } from "../support/event-bus.js";

/** A bootstrapped CoolOrg with alice (ADMIN, `alice@example.com`) authenticated, on an observed event bus (live subscriptions counted, gaps and lost events simulated). */
export interface InviteWorld {
  readonly t: TestApp;
  readonly org: BootstrappedOrganization;
  readonly alice: AuthenticatedSession;
  readonly bus: ObservedEventBus;
}

export const setupInvites = async (options: TestAppOptions = {}, identity: Parameters<typeof bootstrapOrganization>[2] = {}): Promise<InviteWorld> => {
  let bus: ObservedEventBus | null = null;
  const t = buildTestApp({
    ...options,
    overrides: (deps) => {
      bus = new ObservedEventBus(deps.events);
      return { ...options.overrides?.(deps), events: bus };
    },
  });
  const org = await bootstrapOrganization(t, "CoolOrg", identity);
  const alice = await authenticate(t, org);
  return { t, org, alice, bus: bus! };
};

/** Another user of alice's organization: a session (use cases need no more) and, optionally, a stored user. */
export const otherUser = (
  w: InviteWorld,
  name: string,
  fields: { profile?: AuthenticatedSession["profile"]; stored?: boolean; revokedOn?: User["revokedOn"] } = {},
): AuthenticatedSession => {
  const uid = userId(name);
  const humanHandle = { email: `${name}@example.com`, label: `User ${name}` };
  const session: AuthenticatedSession = {
    ...w.alice,
    userId: uid,
    deviceId: `${name}@dev1` as AuthenticatedSession["deviceId"],
    profile: fields.profile ?? "STANDARD",
    humanHandle,
  };
  if (fields.stored) {
    const data = w.t.persistence.store.organizations.get(w.org.organizationId)!;
    const alice = data.users.get(w.alice.userId)!;
    data.users.set(uid, { ...alice, userId: uid, humanHandle, profile: session.profile, revokedOn: fields.revokedOn ?? null });
  }
  return session;
};

/** Creates an invitation through `invite_new` (no email) and returns its token. */
export const newInvitation = async (w: InviteWorld, greeter: AuthenticatedSession = w.alice, type: "USER" | "DEVICE" = "DEVICE", claimerEmail = "zack@example.com") => {
  const outcome = await w.t.app.inviteNew(greeter, type === "USER" ? { type, claimerEmail, sendEmail: false } : { type, sendEmail: false });
  if (outcome.kind !== "ok") throw new Error(`inviteNew: ${outcome.kind}`);
  return outcome.token;
};

/** The claimer's session for `token`, through the INVITED handshake use case. */
export const claimerSession = async (w: InviteWorld, token: InvitationToken, type: InvitationType = "DEVICE"): Promise<InvitedSession> => {
  const outcome = await w.t.app.admitInvited({ organizationId: w.org.organizationId, invitationType: type, token, clientApiVersion: { major: 2, revision: 5 } });
  if (outcome.kind !== "ok") throw new Error(`admitInvited: ${outcome.kind}`);
  return outcome.session;
};

/** The `invite.status_changed` events published so far, as `[token, status]`. */
export const statusEvents = (w: InviteWorld) =>
  w.t.published.flatMap((e) => (e.type === "invite.status_changed" ? [[e.token, e.status, e.greeter] as const] : []));
