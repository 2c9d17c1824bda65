-- Schema v1 for Postgres. Keep in step with ../sqlite/00001_init.sql: same
-- tables, columns and meaning; only the types differ (timestamptz here,
-- INTEGER unix microseconds there).

-- +goose Up

-- Every event nudge applied or declined. The primary key is what makes
-- Apply* idempotent: the row is written in the same transaction as the change.
CREATE TABLE events (
    id         text        PRIMARY KEY,
    type       text        NOT NULL DEFAULT '',
    source     text        NOT NULL DEFAULT '',
    event_time timestamptz NOT NULL,
    applied    boolean     NOT NULL,
    reason     text        NOT NULL DEFAULT '',
    applied_at timestamptz NOT NULL
);

CREATE TABLE clients (
    id                text        PRIMARY KEY,
    first_name        text        NOT NULL DEFAULT '',
    timezone          text        NOT NULL DEFAULT '',
    phone             text        NOT NULL DEFAULT '',
    email             text        NOT NULL DEFAULT '',
    locale            text        NOT NULL DEFAULT '',
    preferred_channel text        NOT NULL DEFAULT '',
    updated_at        timestamptz NOT NULL,
    created_at        timestamptz NOT NULL
);

-- Append-only: the triggers below refuse UPDATE, DELETE and TRUNCATE.
-- event_id is NULL when the entry has no causing event; NULLs never collide.
CREATE TABLE consent_ledger (
    seq             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id       text        NOT NULL,
    channel         text        NOT NULL,
    purpose         text        NOT NULL,
    action          text        NOT NULL CHECK (action IN ('granted', 'revoked')),
    source          text        NOT NULL DEFAULT '',
    wording_version text        NOT NULL DEFAULT '',
    event_id        text,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    UNIQUE (event_id, channel, purpose)
);

CREATE INDEX consent_ledger_current
    ON consent_ledger (client_id, channel, purpose, occurred_at DESC, seq DESC);

-- +goose StatementBegin
CREATE FUNCTION consent_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent_ledger is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER consent_ledger_no_update_delete
    BEFORE UPDATE OR DELETE ON consent_ledger
    FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only();

CREATE TRIGGER consent_ledger_no_truncate
    BEFORE TRUNCATE ON consent_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION consent_ledger_append_only();

CREATE TABLE sessions (
    id                     text        PRIMARY KEY,
    client_id              text        NOT NULL,
    starts_at              timestamptz NOT NULL,
    duration_min           integer     NOT NULL DEFAULT 0,
    clinician_display_name text        NOT NULL DEFAULT '',
    location_kind          text        NOT NULL DEFAULT '',
    status                 text        NOT NULL CHECK (status IN ('booked', 'cancelled')),
    version                integer     NOT NULL,
    cancel_reason          text        NOT NULL DEFAULT '',
    updated_at             timestamptz NOT NULL,
    created_at             timestamptz NOT NULL
);

CREATE INDEX sessions_client_starts ON sessions (client_id, starts_at);

CREATE TABLE group_memberships (
    group_id   text        NOT NULL,
    client_id  text        NOT NULL,
    active     boolean     NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (group_id, client_id)
);

-- seq orders rows created within the same microsecond (newest first lists).
CREATE TABLE deliveries (
    id              text        PRIMARY KEY,
    seq             bigint      GENERATED ALWAYS AS IDENTITY,
    idempotency_key text        NOT NULL UNIQUE,
    client_id       text        NOT NULL,
    channel         text        NOT NULL,
    purpose         text        NOT NULL DEFAULT '',
    template        text        NOT NULL DEFAULT '',
    to_addr         text        NOT NULL DEFAULT '',
    state           text        NOT NULL,
    reason          text        NOT NULL DEFAULT '',
    provider_id     text        NOT NULL DEFAULT '',
    session_id      text        NOT NULL DEFAULT '',
    session_version integer     NOT NULL DEFAULT 0,
    attempts        integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE INDEX deliveries_provider_id ON deliveries (provider_id) WHERE provider_id <> '';
CREATE INDEX deliveries_client_created ON deliveries (client_id, created_at DESC, seq DESC);
CREATE INDEX deliveries_session_created ON deliveries (session_id, created_at DESC, seq DESC) WHERE session_id <> '';
CREATE INDEX deliveries_state_created ON deliveries (state, created_at DESC, seq DESC);
CREATE INDEX deliveries_created ON deliveries (created_at DESC, seq DESC);

CREATE TABLE suppressions (
    channel    text        NOT NULL,
    address    text        NOT NULL,
    reason     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    PRIMARY KEY (channel, address)
);

CREATE TABLE audit_log (
    seq    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     timestamptz NOT NULL,
    actor  text        NOT NULL DEFAULT '',
    action text        NOT NULL,
    target text        NOT NULL DEFAULT '',
    detail text        NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE suppressions;
DROP TABLE deliveries;
DROP TABLE group_memberships;
DROP TABLE sessions;
DROP TABLE consent_ledger;
DROP FUNCTION consent_ledger_append_only();
DROP TABLE clients;
DROP TABLE events;
