-- A client's C or R reply recorded on the session (sqlite). Keep in step
-- with the other dialect.

-- +goose Up

CREATE TABLE session_confirmations (
    session_id TEXT PRIMARY KEY,
    state      TEXT NOT NULL CHECK (state IN ('confirmed', 'reschedule_requested')),
    at         INTEGER NOT NULL,
    message_id TEXT NOT NULL DEFAULT ''
) STRICT;

-- +goose Down
DROP TABLE session_confirmations;
