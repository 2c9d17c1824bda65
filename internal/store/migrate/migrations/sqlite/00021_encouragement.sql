-- Encouragement for SQLite. Keep in step with ../postgres/00021_encouragement.sql.

-- +goose Up

CREATE TABLE encouragement_schedules (
    client_id  TEXT    PRIMARY KEY,
    cron       TEXT    NOT NULL,
    days       TEXT    NOT NULL DEFAULT '',
    at_time    TEXT    NOT NULL DEFAULT '',
    themes     TEXT    NOT NULL DEFAULT '',
    source     TEXT    NOT NULL CHECK (source IN ('default', 'event')),
    updated_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE encouragement_lines (
    idempotency_key TEXT    PRIMARY KEY,
    client_id       TEXT    NOT NULL,
    line            TEXT    NOT NULL,
    theme           TEXT    NOT NULL DEFAULT '',
    cycle           INTEGER NOT NULL CHECK (cycle > 0),
    picked_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX encouragement_lines_client ON encouragement_lines (client_id, picked_at);

-- +goose Down
DROP TABLE encouragement_lines;
DROP TABLE encouragement_schedules;
