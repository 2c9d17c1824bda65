-- Staff accounts, console sessions and failed logins (SQLite).
-- Keep in step with ../postgres/00035_staff.sql.

-- +goose Up
CREATE TABLE staff_accounts (
    email         TEXT    PRIMARY KEY,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'staff')),
    password_hash TEXT    NOT NULL,
    disabled_at   INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Only the SHA-256 of a session token is kept.
CREATE TABLE staff_sessions (
    token_hash TEXT    PRIMARY KEY,
    email      TEXT    NOT NULL REFERENCES staff_accounts (email) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX staff_sessions_email ON staff_sessions (email);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);

-- Failed logins per email, whether or not an account has it.
CREATE TABLE staff_login_failures (
    email           TEXT    PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    locked_until    INTEGER
) STRICT;

-- +goose Down
DROP TABLE staff_login_failures;
DROP TABLE staff_sessions;
DROP TABLE staff_accounts;
