/**
 * The conduit through which a greeter and a claimer run the SAS exchange of an invitation
 * (Parsec v2.16.3 `ConduitState`, `_conduit_talk`, `_conduit_listen`).
 *
 * At each state both peers "talk" (post their payload, possibly empty) then "listen" (wait for the
 * peer's). The peer that listens second sees both payloads, takes the peer's and moves the conduit to
 * the next state, clearing both payloads; the peer that talked second was handed the first one's
 * payload when it talked, and its listen completes once it sees that move. Talking at step 1 always
 * resets the conduit, so either peer may restart the exchange from scratch at any time.
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

/** A conduit: its state and what each side has posted in this state (null: not yet). */
export interface Conduit {
  readonly state: ConduitState;
  readonly greeterPayload: Uint8Array | null;
  readonly claimerPayload: Uint8Array | null;
}

/** What a side remembers between its talk and its listens. */
export interface ConduitListen {
  readonly side: ConduitSide;
  readonly state: ConduitState;
  /** What this side posted. */
  readonly payload: Uint8Array;
  /** The peer's payload when the peer had talked first, else null. */
  readonly peerPayload: Uint8Array | null;
}

/** The conduit of a fresh invitation. */
export const INITIAL_CONDUIT: Conduit = { state: "1_WAIT_PEERS", greeterPayload: null, claimerPayload: null };

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

const own = (conduit: Conduit, side: ConduitSide): Uint8Array | null => (side === "greeter" ? conduit.greeterPayload : conduit.claimerPayload);
const peer = (conduit: Conduit, side: ConduitSide): Uint8Array | null => (side === "greeter" ? conduit.claimerPayload : conduit.greeterPayload);

/**
 * `side` posts `payload` for step `state`. Out of sync (the conduit is in another state, or this side
 * already posted in it) is `invalid_state`, except at step 1, which resets the conduit first.
 * `talked` carries the conduit to store and what the following {@link conduitListen} calls need.
 */
export const conduitTalk = (
  conduit: Conduit,
  side: ConduitSide,
  state: ConduitState,
  payload: Uint8Array,
): { readonly kind: "invalid_state" } | { readonly kind: "talked"; readonly conduit: Conduit; readonly listen: ConduitListen } => {
  let current = conduit;
  if (current.state !== state || own(current, side) !== null) {
    if (state !== "1_WAIT_PEERS") return { kind: "invalid_state" };
    current = INITIAL_CONDUIT;
  }
  const updated: Conduit = side === "greeter" ? { ...current, greeterPayload: payload } : { ...current, claimerPayload: payload };
  return { kind: "talked", conduit: updated, listen: { side, state, payload, peerPayload: peer(current, side) } };
};

/**
 * Checks whether the peer has answered a previous {@link conduitTalk}.
 * - `waiting`: not yet, listen again when the conduit changes;
 * - `received`: the peer's payload; `conduit` is the advanced conduit to store, or null when unchanged;
 * - `invalid_state`: the conduit changed behind this side's back (e.g. the peer restarted at step 1).
 */
export const conduitListen = (
  conduit: Conduit,
  listen: ConduitListen,
):
  | { readonly kind: "invalid_state" }
  | { readonly kind: "waiting" }
  | { readonly kind: "received"; readonly peerPayload: Uint8Array; readonly conduit: Conduit | null } => {
  const ours = own(conduit, listen.side);
  const theirs = peer(conduit, listen.side);
  if (listen.peerPayload === null) {
    if (conduit.state !== listen.state || !samePayload(ours, listen.payload)) return { kind: "invalid_state" };
    if (theirs === null) return { kind: "waiting" };
    return { kind: "received", peerPayload: theirs, conduit: { state: NEXT_STATE[listen.state], greeterPayload: null, claimerPayload: null } };
  }
  if (conduit.state === NEXT_STATE[listen.state] && ours === null) return { kind: "received", peerPayload: listen.peerPayload, conduit: null };
  if (conduit.state !== listen.state || !samePayload(ours, listen.payload) || !samePayload(theirs, listen.peerPayload))
    return { kind: "invalid_state" };
  return { kind: "waiting" };
};
