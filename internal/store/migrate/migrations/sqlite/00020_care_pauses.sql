-- Care pauses for SQLite. Keep in step with ../postgres/00020_care_pauses.sql.

-- +goose Up

CREATE TABLE care_pauses (
    client_id    TEXT    PRIMARY KEY,
    scope        TEXT    NOT NULL CHECK (scope IN ('non_essential', 'all')),
    until        INTEGER,
    requested_by TEXT    NOT NULL,
    since        INTEGER NOT NULL,
    active       INTEGER NOT NULL,
    resumed_by   TEXT    NOT NULL DEFAULT '',
    updated_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE care_pauses;
