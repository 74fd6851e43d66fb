import type { DeviceID } from "../ids.js";
import type { DateTime } from "../time.js";

/**
 * A message posted to a user (e.g. a realm sharing notice), encrypted for the recipient and opaque to the server.
 * Source: Parsec v2.16.3 `message.py`; `index` is the 1-based position in the recipient's inbox (the wire `count`).
 */
export interface Message {
  readonly index: number;
  readonly sender: DeviceID;
  readonly timestamp: DateTime;
  readonly body: Buffer;
}
