-- Staff accounts, console sessions and failed logins (Postgres).
-- Keep in step with ../sqlite/00035_staff.sql.

-- +goose Up
CREATE TABLE staff_accounts (
    email         text        PRIMARY KEY,
    role          text        NOT NULL CHECK (role IN ('admin', 'staff')),
    password_hash text        NOT NULL,
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- Only the SHA-256 of a session token is kept.
CREATE TABLE staff_sessions (
    token_hash text        PRIMARY KEY,
    email      text        NOT NULL REFERENCES staff_accounts (email) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX staff_sessions_email ON staff_sessions (email);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);

-- Failed logins per email, whether or not an account has it.
CREATE TABLE staff_login_failures (
    email           text        PRIMARY KEY,
    failures        integer     NOT NULL,
    last_failure_at timestamptz NOT NULL,
    locked_until    timestamptz
);

-- +goose Down
DROP TABLE staff_login_failures;
DROP TABLE staff_sessions;
DROP TABLE staff_accounts;
