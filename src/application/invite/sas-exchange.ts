import type { InvitationToken, UserID } from "../../domain/ids.js";
import type { ConduitState } from "../../domain/invite/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession, InvitedSession } from "../session/session.js";
import { conduitExchange, type ConduitOutcome, type ConduitTarget } from "./conduit-exchange.js";

type Deps = Pick<ApplicationDeps, "uow" | "invitations" | "events">;

const EMPTY = new Uint8Array(0);

/** The conduit of invitation `token` of the greeter's organization, which must be one of the greeter's. */
const greeterTarget = (session: AuthenticatedSession, token: InvitationToken): ConduitTarget => ({
  organizationId: session.organizationId,
  token,
  side: "greeter",
  greeter: session.userId,
});

/** The conduit of the claimer's invitation; `greeterUserId` (API 2.9+, optional) must name its greeter. */
const claimerTarget = (session: InvitedSession, greeterUserId: UserID | null): ConduitTarget => ({
  organizationId: session.organizationId,
  token: session.invitation.token,
  side: "claimer",
  greeter: greeterUserId,
});

/**
 * Runs the conduit steps of one command in order with `payloads` (one per state), stopping at the first
 * non-`ok` outcome; yields the peer's payload of the last step.
 */
const steps = async (
  deps: Deps,
  target: ConduitTarget,
  signal: AbortSignal,
  ...payloads: readonly (readonly [ConduitState, Uint8Array])[]
): Promise<ConduitOutcome<{ readonly peerPayload: Uint8Array }>> => {
  let outcome: ConduitOutcome<{ readonly peerPayload: Uint8Array }> = { kind: "ok", peerPayload: EMPTY };
  for (const [state, payload] of payloads) {
    outcome = await conduitExchange(deps, target, state, payload, signal);
    if (outcome.kind !== "ok") break;
  }
  return outcome;
};

const withField = <K extends string>(
  outcome: ConduitOutcome<{ readonly peerPayload: Uint8Array }>,
  field: K,
): ConduitOutcome<{ readonly [P in K]: Uint8Array }> =>
  outcome.kind === "ok" ? ({ kind: "ok", [field]: outcome.peerPayload } as { kind: "ok" } & { readonly [P in K]: Uint8Array }) : outcome;

const unit = (outcome: ConduitOutcome<{ readonly peerPayload: Uint8Array }>): ConduitOutcome => (outcome.kind === "ok" ? { kind: "ok" } : outcome);

/**
 * The twelve commands of the SAS exchange (Parsec v2.16.3 `invite.py`). Each one waits for the peer's
 * matching command and honours `signal` (outcome `cancelled`: send no reply). Every one may also answer
 * `not_found` (unknown token, another greeter's invitation, or a `greeterUserId` that is not the greeter),
 * `already_deleted` or `invalid_state` (the peer is at another step; step 1 resets the exchange).
 *
 * Greeter side (authenticated), `token` names one of the greeter's invitations:
 * - `greeterWaitPeer` — `invite_1_greeter_wait_peer`: gives the greeter's X25519 public key (32 bytes), gets the claimer's;
 * - `greeterGetHashedNonce` — `invite_2a_greeter_get_hashed_nonce`: gets the claimer's SHA-256 hashed nonce;
 * - `greeterSendNonce` — `invite_2b_greeter_send_nonce`: gives the greeter's nonce, then gets the claimer's;
 * - `greeterWaitPeerTrust` — `invite_3a_greeter_wait_peer_trust`: waits until the claimer confirmed the greeter's SAS code;
 * - `greeterSignifyTrust` — `invite_3b_greeter_signify_trust`: tells the claimer its SAS code was confirmed;
 * - `greeterCommunicate` — `invite_4_greeter_communicate`: swaps one encrypted payload with the claimer (repeatable).
 *
 * Claimer side (invited), on the session's invitation:
 * - `claimerWaitPeer` — `invite_1_claimer_wait_peer`: gives the claimer's public key, gets the greeter's;
 * - `claimerSendHashedNonce` — `invite_2a_claimer_send_hashed_nonce`: gives the hashed nonce, then gets the greeter's nonce;
 * - `claimerSendNonce` — `invite_2b_claimer_send_nonce`: gives the claimer's nonce;
 * - `claimerSignifyTrust` — `invite_3a_claimer_signify_trust`: tells the greeter its SAS code was confirmed;
 * - `claimerWaitPeerTrust` — `invite_3b_claimer_wait_peer_trust`: waits until the greeter confirmed the claimer's SAS code;
 * - `claimerCommunicate` — `invite_4_claimer_communicate`: swaps one encrypted payload with the greeter (repeatable).
 */
export const sasExchangeUseCases = (deps: Deps) => ({
  greeterWaitPeer: async (session: AuthenticatedSession, input: { token: InvitationToken; greeterPublicKey: Uint8Array }, signal: AbortSignal) =>
    withField(await steps(deps, greeterTarget(session, input.token), signal, ["1_WAIT_PEERS", input.greeterPublicKey]), "claimerPublicKey"),

  greeterGetHashedNonce: async (session: AuthenticatedSession, input: { token: InvitationToken }, signal: AbortSignal) =>
    withField(await steps(deps, greeterTarget(session, input.token), signal, ["2_1_CLAIMER_HASHED_NONCE", EMPTY]), "claimerHashedNonce"),

  greeterSendNonce: async (session: AuthenticatedSession, input: { token: InvitationToken; greeterNonce: Uint8Array }, signal: AbortSignal) =>
    withField(
      await steps(deps, greeterTarget(session, input.token), signal, ["2_2_GREETER_NONCE", input.greeterNonce], ["2_3_CLAIMER_NONCE", EMPTY]),
      "claimerNonce",
    ),

  greeterWaitPeerTrust: async (session: AuthenticatedSession, input: { token: InvitationToken }, signal: AbortSignal) =>
    unit(await steps(deps, greeterTarget(session, input.token), signal, ["3_1_CLAIMER_TRUST", EMPTY])),

  greeterSignifyTrust: async (session: AuthenticatedSession, input: { token: InvitationToken }, signal: AbortSignal) =>
    unit(await steps(deps, greeterTarget(session, input.token), signal, ["3_2_GREETER_TRUST", EMPTY])),

  greeterCommunicate: async (session: AuthenticatedSession, input: { token: InvitationToken; payload: Uint8Array }, signal: AbortSignal) =>
    withField(await steps(deps, greeterTarget(session, input.token), signal, ["4_COMMUNICATE", input.payload]), "payload"),

  claimerWaitPeer: async (session: InvitedSession, input: { greeterUserId: UserID | null; claimerPublicKey: Uint8Array }, signal: AbortSignal) =>
    withField(await steps(deps, claimerTarget(session, input.greeterUserId), signal, ["1_WAIT_PEERS", input.claimerPublicKey]), "greeterPublicKey"),

  claimerSendHashedNonce: async (session: InvitedSession, input: { greeterUserId: UserID | null; claimerHashedNonce: Uint8Array }, signal: AbortSignal) =>
    withField(
      await steps(
        deps,
        claimerTarget(session, input.greeterUserId),
        signal,
        ["2_1_CLAIMER_HASHED_NONCE", input.claimerHashedNonce],
        ["2_2_GREETER_NONCE", EMPTY],
      ),
      "greeterNonce",
    ),

  claimerSendNonce: async (session: InvitedSession, input: { greeterUserId: UserID | null; claimerNonce: Uint8Array }, signal: AbortSignal) =>
    unit(await steps(deps, claimerTarget(session, input.greeterUserId), signal, ["2_3_CLAIMER_NONCE", input.claimerNonce])),

  claimerSignifyTrust: async (session: InvitedSession, input: { greeterUserId: UserID | null }, signal: AbortSignal) =>
    unit(await steps(deps, claimerTarget(session, input.greeterUserId), signal, ["3_1_CLAIMER_TRUST", EMPTY])),

  claimerWaitPeerTrust: async (session: InvitedSession, input: { greeterUserId: UserID | null }, signal: AbortSignal) =>
    unit(await steps(deps, claimerTarget(session, input.greeterUserId), signal, ["3_2_GREETER_TRUST", EMPTY])),

  claimerCommunicate: async (session: InvitedSession, input: { greeterUserId: UserID | null; payload: Uint8Array }, signal: AbortSignal) =>
    withField(await steps(deps, claimerTarget(session, input.greeterUserId), signal, ["4_COMMUNICATE", input.payload]), "payload"),
});
