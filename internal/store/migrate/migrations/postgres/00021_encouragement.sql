-- Encouragement for Postgres: each client's schedule and the lines chosen
-- for them. Keep in step with ../sqlite/00021_encouragement.sql.

-- +goose Up

CREATE TABLE encouragement_schedules (
    client_id  text        PRIMARY KEY,
    cron       text        NOT NULL,
    days       text        NOT NULL DEFAULT '',
    at_time    text        NOT NULL DEFAULT '',
    themes     text        NOT NULL DEFAULT '',
    source     text        NOT NULL CHECK (source IN ('default', 'event')),
    updated_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);

-- One row per encouragement notification: the line its text carries.
CREATE TABLE encouragement_lines (
    idempotency_key text        PRIMARY KEY,
    client_id       text        NOT NULL,
    line            text        NOT NULL,
    theme           text        NOT NULL DEFAULT '',
    cycle           integer     NOT NULL CHECK (cycle > 0),
    picked_at       timestamptz NOT NULL
);

CREATE INDEX encouragement_lines_client ON encouragement_lines (client_id, picked_at);

-- +goose Down
DROP TABLE encouragement_lines;
DROP TABLE encouragement_schedules;
