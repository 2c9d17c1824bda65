-- A client's C or R reply recorded on the session (postgres). Keep in step
-- with the other dialect.

-- +goose Up

CREATE TABLE session_confirmations (
    session_id text PRIMARY KEY,
    state      text NOT NULL CHECK (state IN ('confirmed', 'reschedule_requested')),
    at         timestamptz NOT NULL,
    message_id text NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE session_confirmations;
