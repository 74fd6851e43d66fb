-- Events too large for a NOTIFY payload (PostgreSQL refuses 8000 bytes or more), e.g. a large `pinged` string:
-- the publishing transaction stores the event here and notifies `parsec_events` with the row id; listeners read
-- the row after the commit. Rows are deleted by every server process once older than its retention (10 min by
-- default), so this table stays small.
CREATE TABLE event_payload (
    id bigserial PRIMARY KEY,
    -- The event as ASCII JSON (see src/adapters/events/postgres/notification.ts).
    payload text NOT NULL,
    created_on timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX event_payload_created_on ON event_payload (created_on);
