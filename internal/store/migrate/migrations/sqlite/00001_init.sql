-- Schema v1 for SQLite. Keep in step with ../postgres/00001_init.sql: same
-- tables, columns and meaning. Times are INTEGER unix microseconds (UTC), the
-- precision Postgres keeps, so both stores order events identically. Booleans
-- are INTEGER 0/1. STRICT tables make a wrongly typed bind fail loudly.

-- +goose Up

CREATE TABLE events (
    id         TEXT    PRIMARY KEY,
    type       TEXT    NOT NULL DEFAULT '',
    source     TEXT    NOT NULL DEFAULT '',
    event_time INTEGER NOT NULL,
    applied    INTEGER NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    applied_at INTEGER NOT NULL
) STRICT;

CREATE TABLE clients (
    id                TEXT    PRIMARY KEY,
    first_name        TEXT    NOT NULL DEFAULT '',
    timezone          TEXT    NOT NULL DEFAULT '',
    phone             TEXT    NOT NULL DEFAULT '',
    email             TEXT    NOT NULL DEFAULT '',
    locale            TEXT    NOT NULL DEFAULT '',
    preferred_channel TEXT    NOT NULL DEFAULT '',
    updated_at        INTEGER NOT NULL,
    created_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE consent_ledger (
    seq             INTEGER PRIMARY KEY,
    client_id       TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    purpose         TEXT    NOT NULL,
    action          TEXT    NOT NULL CHECK (action IN ('granted', 'revoked')),
    source          TEXT    NOT NULL DEFAULT '',
    wording_version TEXT    NOT NULL DEFAULT '',
    event_id        TEXT,
    occurred_at     INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    UNIQUE (event_id, channel, purpose)
) STRICT;

CREATE INDEX consent_ledger_current
    ON consent_ledger (client_id, channel, purpose, occurred_at DESC, seq DESC);

-- +goose StatementBegin
CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledger
BEGIN
    SELECT RAISE(ABORT, 'consent_ledger is append-only: UPDATE is not allowed');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON consent_ledger
BEGIN
    SELECT RAISE(ABORT, 'consent_ledger is append-only: DELETE is not allowed');
END;
-- +goose StatementEnd

CREATE TABLE sessions (
    id                     TEXT    PRIMARY KEY,
    client_id              TEXT    NOT NULL,
    starts_at              INTEGER NOT NULL,
    duration_min           INTEGER NOT NULL DEFAULT 0,
    clinician_display_name TEXT    NOT NULL DEFAULT '',
    location_kind          TEXT    NOT NULL DEFAULT '',
    status                 TEXT    NOT NULL CHECK (status IN ('booked', 'cancelled')),
    version                INTEGER NOT NULL,
    cancel_reason          TEXT    NOT NULL DEFAULT '',
    updated_at             INTEGER NOT NULL,
    created_at             INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_client_starts ON sessions (client_id, starts_at);

CREATE TABLE group_memberships (
    group_id   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    active     INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, client_id)
) STRICT;

-- seq (the rowid) orders rows created within the same microsecond.
CREATE TABLE deliveries (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    idempotency_key TEXT    NOT NULL UNIQUE,
    client_id       TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    purpose         TEXT    NOT NULL DEFAULT '',
    template        TEXT    NOT NULL DEFAULT '',
    to_addr         TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL,
    reason          TEXT    NOT NULL DEFAULT '',
    provider_id     TEXT    NOT NULL DEFAULT '',
    session_id      TEXT    NOT NULL DEFAULT '',
    session_version INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX deliveries_provider_id ON deliveries (provider_id) WHERE provider_id <> '';
CREATE INDEX deliveries_client_created ON deliveries (client_id, created_at DESC, seq DESC);
CREATE INDEX deliveries_session_created ON deliveries (session_id, created_at DESC, seq DESC) WHERE session_id <> '';
CREATE INDEX deliveries_state_created ON deliveries (state, created_at DESC, seq DESC);
CREATE INDEX deliveries_created ON deliveries (created_at DESC, seq DESC);

CREATE TABLE suppressions (
    channel    TEXT    NOT NULL,
    address    TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel, address)
) STRICT;

CREATE TABLE audit_log (
    seq    INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL DEFAULT '',
    action TEXT    NOT NULL,
    target TEXT    NOT NULL DEFAULT '',
    detail TEXT    NOT NULL DEFAULT ''
) STRICT;

-- +goose Down
DROP TABLE audit_log;
DROP TABLE suppressions;
DROP TABLE deliveries;
DROP TABLE group_memberships;
DROP TABLE sessions;
DROP TABLE consent_ledger;
DROP TABLE clients;
DROP TABLE events;
