-- Schema v2 for Postgres: the inbound messages behind the staff inbox, the
-- record of applied provider webhook events, and lookups of clients by
-- address. Keep in step with ../sqlite/00002_inbound.sql.

-- +goose Up

-- One row per message a client sent. id is the provider's message id
-- (Twilio MessageSid): the primary key is what makes the inbound webhook
-- idempotent. seq orders rows received within the same microsecond.
CREATE TABLE inbound_messages (
    id           text        PRIMARY KEY,
    seq          bigint      GENERATED ALWAYS AS IDENTITY,
    channel      text        NOT NULL,
    from_addr    text        NOT NULL,
    to_addr      text        NOT NULL DEFAULT '',
    body         text        NOT NULL DEFAULT '',
    kind         text        NOT NULL DEFAULT '',
    client_id    text,
    received_at  timestamptz NOT NULL,
    processed_at timestamptz,
    needs_staff  boolean     NOT NULL DEFAULT false,
    handled      boolean     NOT NULL DEFAULT false,
    handled_by   text        NOT NULL DEFAULT '',
    handled_at   timestamptz
);

CREATE INDEX inbound_messages_received ON inbound_messages (received_at DESC, seq DESC);
CREATE INDEX inbound_messages_open ON inbound_messages (received_at DESC, seq DESC)
    WHERE needs_staff AND NOT handled;

-- Provider webhook events (SendGrid sg_event_id) already applied.
CREATE TABLE provider_events (
    provider    text        NOT NULL,
    event_id    text        NOT NULL,
    outcome     text        NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (provider, event_id)
);

-- Inbound messages and provider events name an address, not a client.
CREATE INDEX clients_phone ON clients (phone) WHERE phone <> '';
CREATE INDEX clients_email ON clients (lower(email)) WHERE email <> '';

-- +goose Down
DROP INDEX clients_email;
DROP INDEX clients_phone;
DROP TABLE provider_events;
DROP TABLE inbound_messages;
