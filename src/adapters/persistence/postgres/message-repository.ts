import { z } from "zod";
import type { MessageRepository, Tx } from "../../../application/ports/index.js";
import type { DeviceID, OrganizationID, UserID } from "../../../domain/ids.js";
import type { Message } from "../../../domain/message/index.js";
import type { DateTime } from "../../../domain/time.js";
import { asDeviceId, bytes, dt, orgKey, sql, zBytes, zInt } from "./sql.js";
import type { PgUnitOfWork } from "./unit-of-work.js";

/** Row schemas of the queries below, built once (a zod schema is costly to build). */
const INDEX_ROW = z.object({ index: zInt });
const MESSAGE_ROW = z.object({ index: zInt, sender: z.string(), timestamp: zInt, body: zBytes });

/**
 * {@link MessageRepository} on PostgreSQL (`message`). A message's index comes from the recipient's counter
 * (`user_.message_count`), incremented in the same statement that inserts the message; the `UPDATE` holds the
 * recipient's row lock until the transaction ends, so indexes are dense and never reused.
 */
export class PgMessageRepository implements MessageRepository {
  constructor(private readonly uow: PgUnitOfWork) {}

  async post(tx: Tx, organizationId: OrganizationID, recipient: UserID, message: { sender: DeviceID; timestamp: DateTime; body: Buffer }): Promise<number> {
    const row = await this.uow.connectionOf(tx).maybeOne(sql.type(INDEX_ROW)`
      WITH counter AS (
        UPDATE user_ SET message_count = message_count + 1
        WHERE organization = ${orgKey(organizationId)} AND user_id = ${recipient}
        RETURNING _id, message_count
      )
      INSERT INTO message (recipient, index, sender, timestamp, body)
      SELECT _id, message_count, ${message.sender}, ${message.timestamp.epochMicroseconds}, ${bytes(message.body)} FROM counter
      RETURNING index`);
    if (!row) throw new Error(`message to unknown user ${recipient} of ${organizationId}`);
    return row.index;
  }

  async list(organizationId: OrganizationID, recipient: UserID, offset: number): Promise<readonly Message[]> {
    const rows = await this.uow.connectionOf(null).any(sql.type(MESSAGE_ROW)`
      SELECT m.index, m.sender, m.timestamp, m.body
      FROM message m JOIN user_ u ON u._id = m.recipient
      WHERE u.organization = ${orgKey(organizationId)} AND u.user_id = ${recipient} AND m.index > ${offset}
      ORDER BY m.index`);
    return rows.map((r) => ({ index: r.index, sender: asDeviceId(r.sender), timestamp: dt(r.timestamp), body: r.body }));
  }
}
