-- Care pauses for Postgres: a clinician pauses messages to one client.
-- Keep in step with ../sqlite/00020_care_pauses.sql.

-- +goose Up

-- One row per client: the latest pause, kept after it is resumed so the
-- record says who paused and who resumed.
CREATE TABLE care_pauses (
    client_id    text        PRIMARY KEY,
    scope        text        NOT NULL CHECK (scope IN ('non_essential', 'all')),
    until        timestamptz,
    requested_by text        NOT NULL,
    since        timestamptz NOT NULL,
    active       boolean     NOT NULL,
    resumed_by   text        NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL
);

-- +goose Down
DROP TABLE care_pauses;
