-- Schema v3 for Postgres: appointment reminders as the scheduler placed
-- them, so staff can see what is scheduled, moved, skipped or cancelled.
-- Keep in step with ../sqlite/00003_reminders.sql.

-- +goose Up

-- One row per reminder notification: idempotency_key is the same key the
-- deliveries ledger uses ("reminder:S1:v2:48h:sms"), which is how the read
-- API tells whether a scheduled reminder was sent.
CREATE TABLE reminders (
    idempotency_key text        PRIMARY KEY,
    session_id      text        NOT NULL,
    session_version integer     NOT NULL,
    client_id       text        NOT NULL,
    offset_seconds  bigint      NOT NULL CHECK (offset_seconds > 0),
    channel         text        NOT NULL,
    fire_at         timestamptz NOT NULL,
    not_after       timestamptz,
    state           text        NOT NULL CHECK (state IN ('scheduled', 'cancelled', 'skipped')),
    reason          text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE INDEX reminders_session ON reminders (session_id, fire_at);
CREATE INDEX reminders_upcoming ON reminders (fire_at) WHERE state = 'scheduled';

-- +goose Down
DROP TABLE reminders;
