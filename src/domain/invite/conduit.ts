/**
 * The conduit through which a greeter and a claimer run the SAS exchange of an invitation (Parsec v2.16.3
 * `ConduitState`, and the talk/listen steps of its `conduit_exchange`).
 *
 * At each state both peers "talk" (post their payload, possibly empty) and get the other's. The peer that talks
 * first posts its payload and waits; the peer that talks second completes the exchange at once: it gets the first
 * peer's payload, the conduit moves to the next state, and the completed exchange is kept (`last`) until the next one
 * completes, so that the first peer — or, if its connection was lost meanwhile, its new connection's next step — can
 * read what it waited for. Completing at the second talk (Parsec lets the first peer's listen move the conduit) means
 * a peer whose connection dropped while waiting never blocks the other: nobody has to be listening for the exchange
 * to move on. Every move increments `generation`, which identifies the exchange a waiting peer talked in.
 *
 * Talking at step 1 always resets the conduit, so either peer may restart the exchange from scratch at any time.
 * Once the exchange has started (a first exchange completed), a peer that talks the step following the conduit's
 * current one (typically: it reconnected after losing a reply,
 * while its previous command still completes server-side) is told to wait (`not_yet`) rather than refused. A peer that
 * gives up waiting (its command was cancelled) withdraws its payload ({@link conduitWithdraw}), so that the other peer
 * never completes an exchange with a payload nobody will follow up.
 */

/** The states of a conduit, in order; step 4 may repeat any number of times. */
export type ConduitState =
  | "1_WAIT_PEERS"
  | "2_1_CLAIMER_HASHED_NONCE"
  | "2_2_GREETER_NONCE"
  | "2_3_CLAIMER_NONCE"
  | "3_1_CLAIMER_TRUST"
  | "3_2_GREETER_TRUST"
  | "4_COMMUNICATE";

/** Which end of the conduit a command comes from. */
export type ConduitSide = "greeter" | "claimer";

/** A completed exchange: the state it was in and both payloads. */
export interface ConduitExchange {
  readonly state: ConduitState;
  readonly greeterPayload: Uint8Array;
  readonly claimerPayload: Uint8Array;
}

/** A conduit: its state, what each side has posted in this state (null: not yet), and the last completed exchange. */
export interface Conduit {
  readonly state: ConduitState;
  readonly greeterPayload: Uint8Array | null;
  readonly claimerPayload: Uint8Array | null;
  /** Moves (completed exchanges and resets) since the invitation was created. */
  readonly generation: number;
  /** The exchange whose completion brought the conduit to `generation`; null initially and after a reset. */
  readonly last: ConduitExchange | null;
}

/** What a side that talked first remembers while it waits for the peer. */
export interface ConduitListen {
  readonly side: ConduitSide;
  readonly state: ConduitState;
  /** What this side posted. */
  readonly payload: Uint8Array;
  /** The conduit's generation when this side posted. */
  readonly generation: number;
}

/** The conduit of a fresh invitation. */
export const INITIAL_CONDUIT: Conduit = { state: "1_WAIT_PEERS", greeterPayload: null, claimerPayload: null, generation: 0, last: null };

const NEXT_STATE: Readonly<Record<ConduitState, ConduitState>> = {
  "1_WAIT_PEERS": "2_1_CLAIMER_HASHED_NONCE",
  "2_1_CLAIMER_HASHED_NONCE": "2_2_GREETER_NONCE",
  "2_2_GREETER_NONCE": "2_3_CLAIMER_NONCE",
  "2_3_CLAIMER_NONCE": "3_1_CLAIMER_TRUST",
  "3_1_CLAIMER_TRUST": "3_2_GREETER_TRUST",
  "3_2_GREETER_TRUST": "4_COMMUNICATE",
  "4_COMMUNICATE": "4_COMMUNICATE",
};

const samePayload = (a: Uint8Array | null, b: Uint8Array | null): boolean =>
  a === null || b === null ? a === b : Buffer.compare(a, b) === 0;

const own = (c: { greeterPayload: Uint8Array | null; claimerPayload: Uint8Array | null }, side: ConduitSide): Uint8Array | null =>
  side === "greeter" ? c.greeterPayload : c.claimerPayload;
const peer = (c: { greeterPayload: Uint8Array | null; claimerPayload: Uint8Array | null }, side: ConduitSide): Uint8Array | null =>
  side === "greeter" ? c.claimerPayload : c.greeterPayload;

/** Outcome of {@link conduitTalk}. */
export type ConduitTalk =
  | { readonly kind: "invalid_state" }
  /** This side posted in the previous state and the peer has not answered it yet: wait for the conduit to move, then talk again. */
  | { readonly kind: "not_yet" }
  /** This side talked second: the exchange completed; `conduit` (moved to the next state) must be stored. */
  | { readonly kind: "completed"; readonly conduit: Conduit; readonly peerPayload: Uint8Array }
  /** This side talked first: `conduit` (with its payload) must be stored, then {@link conduitListen} until the peer answers. */
  | { readonly kind: "posted"; readonly conduit: Conduit; readonly listen: ConduitListen };

/**
 * `side` talks `payload` for step `state`: see the module's TSDoc. Out of sync — the conduit is in another state, or
 * this side already posted in it — is `invalid_state`, except at step 1, which resets the conduit first, and except
 * for the step just after the conduit's current one once an exchange completed (`not_yet`).
 */
export const conduitTalk = (conduit: Conduit, side: ConduitSide, state: ConduitState, payload: Uint8Array): ConduitTalk => {
  let current = conduit;
  if (current.state !== state || own(current, side) !== null) {
    if (state === "1_WAIT_PEERS")
      current = { state, greeterPayload: null, claimerPayload: null, generation: current.generation + 1, last: null };
    else if (current.generation > 0 && NEXT_STATE[current.state] === state && (current.state !== state || peer(current, side) === null))
      return { kind: "not_yet" };
    else return { kind: "invalid_state" };
  }
  const peerPayload = peer(current, side);
  if (peerPayload === null) {
    const posted: Conduit = side === "greeter" ? { ...current, greeterPayload: payload } : { ...current, claimerPayload: payload };
    return { kind: "posted", conduit: posted, listen: { side, state, payload, generation: current.generation } };
  }
  const exchange: ConduitExchange =
    side === "greeter" ? { state, greeterPayload: payload, claimerPayload: peerPayload } : { state, greeterPayload: peerPayload, claimerPayload: payload };
  return {
    kind: "completed",
    peerPayload,
    conduit: { state: NEXT_STATE[state], greeterPayload: null, claimerPayload: null, generation: current.generation + 1, last: exchange },
  };
};

/**
 * Whether the peer has answered a side that talked first ({@link conduitTalk} `posted`):
 * - `waiting`: not yet, listen again when the conduit changes;
 * - `received`: the exchange completed, here is the peer's payload (nothing to store);
 * - `invalid_state`: the conduit moved on another way (the peer restarted at step 1, or this side's exchange is gone).
 */
export const conduitListen = (
  conduit: Conduit,
  listen: ConduitListen,
): { readonly kind: "invalid_state" } | { readonly kind: "waiting" } | { readonly kind: "received"; readonly peerPayload: Uint8Array } => {
  if (conduit.generation === listen.generation)
    return conduit.state === listen.state && samePayload(own(conduit, listen.side), listen.payload) ? { kind: "waiting" } : { kind: "invalid_state" };
  const last = conduit.last;
  if (conduit.generation === listen.generation + 1 && last !== null && last.state === listen.state && samePayload(own(last, listen.side), listen.payload))
    return { kind: "received", peerPayload: peer(last, listen.side)! };
  return { kind: "invalid_state" };
};

/**
 * The conduit once `listen`'s side withdrew the payload it posted and waits no more (its command was cancelled), or
 * null when there is nothing to withdraw (the exchange completed, or the conduit moved on).
 */
export const conduitWithdraw = (conduit: Conduit, listen: ConduitListen): Conduit | null => {
  if (conduit.generation !== listen.generation || conduit.state !== listen.state || !samePayload(own(conduit, listen.side), listen.payload)) return null;
  return listen.side === "greeter" ? { ...conduit, greeterPayload: null } : { ...conduit, claimerPayload: null };
};
