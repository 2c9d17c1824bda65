-- Schema v3 for SQLite: appointment reminders as the scheduler placed
-- them. Keep in step with ../postgres/00003_reminders.sql.

-- +goose Up

CREATE TABLE reminders (
    idempotency_key TEXT    PRIMARY KEY,
    session_id      TEXT    NOT NULL,
    session_version INTEGER NOT NULL,
    client_id       TEXT    NOT NULL,
    offset_seconds  INTEGER NOT NULL CHECK (offset_seconds > 0),
    channel         TEXT    NOT NULL,
    fire_at         INTEGER NOT NULL,
    not_after       INTEGER,
    state           TEXT    NOT NULL CHECK (state IN ('scheduled', 'cancelled', 'skipped')),
    reason          TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX reminders_session ON reminders (session_id, fire_at);
CREATE INDEX reminders_upcoming ON reminders (fire_at) WHERE state = 'scheduled';

-- +goose Down
DROP TABLE reminders;
