import type { InvitationToken, OrganizationID, UserID } from "../../domain/ids.js";
import { conduitListen, conduitTalk, type ConduitSide, type ConduitState } from "../../domain/invite/index.js";
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
 * One conduit step (Parsec `conduit_exchange`): posts `payload` for `state` in a unit of work, then waits
 * for the peer's payload, re-reading the conduit in a unit of work each time the invitation changes.
 * Every conduit write publishes `invite.conduit_updated` with its transaction. Resolves `cancelled` as
 * soon as `signal` aborts, and also when it aborted while a unit of work ran (the client no longer waits
 * for this reply); the event subscription and the abort listener are always removed.
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
    const talked = await deps.uow.run(organizationId, async (tx) => {
      const failure = await checkInvitation(deps, tx, target);
      if (failure) return failure;
      const step = conduitTalk(await deps.invitations.getConduit(tx, organizationId, token), target.side, state, payload);
      if (step.kind === "talked") {
        await deps.invitations.saveConduit(tx, organizationId, token, step.conduit);
        await deps.events.publish(tx, { type: "invite.conduit_updated", organizationId, token });
      }
      return step;
    });
    if (talked.kind !== "talked") return talked;
    while (await watch.next(signal)) {
      const heard = await deps.uow.run(organizationId, async (tx) => {
        const failure = await checkInvitation(deps, tx, target);
        if (failure) return failure;
        const step = conduitListen(await deps.invitations.getConduit(tx, organizationId, token), talked.listen);
        if (step.kind === "received" && step.conduit) {
          await deps.invitations.saveConduit(tx, organizationId, token, step.conduit);
          await deps.events.publish(tx, { type: "invite.conduit_updated", organizationId, token });
        }
        return step;
      });
      if (heard.kind === "received") return { kind: "ok", peerPayload: heard.peerPayload };
      if (heard.kind !== "waiting") return heard;
    }
    return { kind: "cancelled" };
  } finally {
    watch.close();
  }
};
