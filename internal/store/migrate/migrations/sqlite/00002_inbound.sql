-- Schema v2 for SQLite: the inbound messages behind the staff inbox, the
-- record of applied provider webhook events, and lookups of clients by
-- address. Keep in step with ../postgres/00002_inbound.sql.

-- +goose Up

-- seq (the rowid) orders rows received within the same microsecond.
CREATE TABLE inbound_messages (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    channel      TEXT    NOT NULL,
    from_addr    TEXT    NOT NULL,
    to_addr      TEXT    NOT NULL DEFAULT '',
    body         TEXT    NOT NULL DEFAULT '',
    kind         TEXT    NOT NULL DEFAULT '',
    client_id    TEXT,
    received_at  INTEGER NOT NULL,
    processed_at INTEGER,
    needs_staff  INTEGER NOT NULL DEFAULT 0,
    handled      INTEGER NOT NULL DEFAULT 0,
    handled_by   TEXT    NOT NULL DEFAULT '',
    handled_at   INTEGER
) STRICT;

CREATE INDEX inbound_messages_received ON inbound_messages (received_at DESC, seq DESC);
CREATE INDEX inbound_messages_open ON inbound_messages (received_at DESC, seq DESC)
    WHERE needs_staff AND NOT handled;

CREATE TABLE provider_events (
    provider    TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    outcome     TEXT    NOT NULL DEFAULT '',
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (provider, event_id)
) STRICT;

CREATE INDEX clients_phone ON clients (phone) WHERE phone <> '';
CREATE INDEX clients_email ON clients (lower(email)) WHERE email <> '';

-- +goose Down
DROP INDEX clients_email;
DROP INDEX clients_phone;
DROP TABLE provider_events;
DROP TABLE inbound_messages;
