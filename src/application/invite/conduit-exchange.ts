import type { InvitationToken, OrganizationID, UserID } from "../../domain/ids.js";
import { conduitListen, conduitTalk, conduitWithdraw, type ConduitSide, type ConduitState } from "../../domain/invite/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { EventBus, Tx } from "../ports/index.js";

/** Why a step of the SAS exchange failed (the error statuses of every `invite_{1..4}_*` command). */
export type ConduitFailure = { readonly kind: "not_found" } | { readonly kind: "already_deleted" } | { readonly kind: "invalid_state" };

/** The client sent another request or went away while the step waited: no reply is sent. */
export type Cancelled = { readonly kind: "cancelled" };

/** The outcome of one SAS-exchange command: `ok` with the command's fields, a {@link ConduitFailure}, or {@link Cancelled}. */
export type ConduitOutcome<Fields extends object = {}> = ({ readonly kind: "ok" } & Fields) | ConduitFailure | Cancelled;

/** Which conduit a command talks on, and from which side. */
export interface ConduitTarget {
  readonly organizationId: OrganizationID;
  readonly token: InvitationToken;
  readonly side: ConduitSide;
  /** The user the invitation must have as greeter (`not_found` otherwise); null when the claimer did not say. */
  readonly greeter: UserID | null;
}

type Deps = Pick<ApplicationDeps, "uow" | "invitations" | "events">;

/**
 * Wakes a waiting step whenever the conduit or the status of one invitation changes (Parsec waits on
 * `invite.conduit_updated` and `invite.status_changed`), or when events may have been lost (the bus's gap: the
 * step re-reads the conduit). Subscribed before the step talks, so that no change between the talk and the wait is
 * missed.
 */
const watchInvitation = (events: EventBus, organizationId: OrganizationID, token: InvitationToken) => {
  let changed = false;
  let wake: (() => void) | null = null;
  const signalChange = () => {
    changed = true;
    wake?.();
  };
  const unsubscribe = events.subscribe(organizationId, {
    event: (event) => {
      if ((event.type === "invite.conduit_updated" || event.type === "invite.status_changed") && event.token === token) signalChange();
    },
    gap: signalChange,
  });
  return {
    /** Resolves true at the next change (at once if one happened since the last call), false when `signal` aborts first. */
    next(signal: AbortSignal): Promise<boolean> {
      if (signal.aborted) return Promise.resolve(false);
      if (changed) {
        changed = false;
        return Promise.resolve(true);
      }
      return new Promise<boolean>((resolve) => {
        const onAbort = () => {
          wake = null;
          resolve(false);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        wake = () => {
          wake = null;
          changed = false;
          signal.removeEventListener("abort", onAbort);
          resolve(true);
        };
      });
    },
    close: unsubscribe,
  };
};

/** `not_found` (unknown token, another greeter's or a Shamir recovery invitation), `already_deleted`, or null when usable. */
const checkInvitation = async (deps: Deps, tx: Tx, target: ConduitTarget): Promise<ConduitFailure | null> => {
  const invitation = await deps.invitations.get(target.organizationId, target.token, tx);
  if (!invitation || invitation.type === "SHAMIR_RECOVERY") return { kind: "not_found" };
  if (target.greeter !== null && invitation.greeterUserId !== target.greeter) return { kind: "not_found" };
  if (invitation.deleted) return { kind: "already_deleted" };
  return null;
};

/**
 * One conduit step (Parsec `conduit_exchange`, domain `conduitTalk`/`conduitListen`): in a unit of work holding the
 * invitation's row, talks `payload` for `state`. Talking second completes the exchange at once and answers with the
 * peer's payload; talking first posts the payload, then waits for the peer's, re-reading the conduit each time the
 * invitation changes (or events may have been lost). A talk one step ahead of the conduit, by a side that already
 * posted in the current step (`not_yet`: typically a claimer that reconnected after its previous step's reply was
 * lost), waits for the peer to complete the current step, then talks. Every conduit write publishes
 * `invite.conduit_updated` with its transaction. Resolves `cancelled` as soon as `signal` aborts, and also when it
 * aborted while a unit of work ran (the client no longer waits for this reply); the event subscription and the abort
 * listener are always removed.
 */
export const conduitExchange = async (
  deps: Deps,
  target: ConduitTarget,
  state: ConduitState,
  payload: Uint8Array,
  signal: AbortSignal,
): Promise<ConduitOutcome<{ readonly peerPayload: Uint8Array }>> => {
  const outcome = await exchange(deps, target, state, payload, signal);
  return signal.aborted ? { kind: "cancelled" } : outcome;
};

const exchange = async (
  deps: Deps,
  target: ConduitTarget,
  state: ConduitState,
  payload: Uint8Array,
  signal: AbortSignal,
): Promise<ConduitOutcome<{ readonly peerPayload: Uint8Array }>> => {
  if (signal.aborted) return { kind: "cancelled" };
  const { organizationId, token } = target;
  const watch = watchInvitation(deps.events, organizationId, token);
  try {
    const talk = () =>
      deps.uow.run(organizationId, async (tx) => {
        const failure = await checkInvitation(deps, tx, target);
        if (failure) return failure;
        const step = conduitTalk(await deps.invitations.getConduit(tx, organizationId, token), target.side, state, payload);
        if (step.kind === "posted" || step.kind === "completed") {
          await deps.invitations.saveConduit(tx, organizationId, token, step.conduit);
          await deps.events.publish(tx, { type: "invite.conduit_updated", organizationId, token });
        }
        return step;
      });
    let talked = await talk();
    while (talked.kind === "not_yet") {
      if (!(await watch.next(signal))) return { kind: "cancelled" };
      talked = await talk();
    }
    if (talked.kind === "completed") return { kind: "ok", peerPayload: talked.peerPayload };
    if (talked.kind !== "posted") return talked;
    const listen = talked.listen;
    while (await watch.next(signal)) {
      const heard = await deps.uow.run(organizationId, async (tx) => {
        const failure = await checkInvitation(deps, tx, target);
        if (failure) return failure;
        return conduitListen(await deps.invitations.getConduit(tx, organizationId, token), listen);
      });
      if (heard.kind === "received") return { kind: "ok", peerPayload: heard.peerPayload };
      if (heard.kind !== "waiting") return heard;
    }
    // Cancelled while waiting: withdraw the payload, unless the peer answered meanwhile.
    await deps.uow.run(organizationId, async (tx) => {
      if (await checkInvitation(deps, tx, target)) return;
      const withdrawn = conduitWithdraw(await deps.invitations.getConduit(tx, organizationId, token), listen);
      if (withdrawn) {
        await deps.invitations.saveConduit(tx, organizationId, token, withdrawn);
        await deps.events.publish(tx, { type: "invite.conduit_updated", organizationId, token });
      }
    });
    return { kind: "cancelled" };
  } finally {
    watch.close();
  }
};
