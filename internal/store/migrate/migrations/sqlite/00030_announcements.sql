-- Schema v30 for SQLite: support groups' names, staff announcements and
-- each announcement's recipients (the durable fan-out plan). Keep in step
-- with ../postgres/00030_announcements.sql.

-- +goose Up
CREATE TABLE support_groups (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE announcements (
    seq                  INTEGER PRIMARY KEY,
    id                   TEXT    NOT NULL UNIQUE,
    group_id             TEXT    NOT NULL,
    template             TEXT    NOT NULL DEFAULT '',
    body                 TEXT    NOT NULL DEFAULT '',
    channels             TEXT    NOT NULL DEFAULT '',
    urgent               INTEGER NOT NULL DEFAULT 0,
    urgent_reason        TEXT    NOT NULL DEFAULT '',
    lint_override_reason TEXT    NOT NULL DEFAULT '',
    requested_by         TEXT    NOT NULL DEFAULT '',
    event_id             TEXT    NOT NULL DEFAULT '',
    state                TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'done', 'cancelled')),
    reason               TEXT    NOT NULL DEFAULT '',
    cancelled_by         TEXT    NOT NULL DEFAULT '',
    total                INTEGER NOT NULL DEFAULT 0,
    planned              INTEGER NOT NULL DEFAULT 0,
    settled              INTEGER NOT NULL DEFAULT 0,
    lease_owner          TEXT    NOT NULL DEFAULT '',
    lease_until          INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;
CREATE INDEX announcements_active ON announcements (seq) WHERE settled = 0;
CREATE INDEX announcements_group ON announcements (group_id, seq DESC);

CREATE TABLE announcement_recipients (
    announcement_id TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    channel         TEXT NOT NULL DEFAULT '',
    msg_key         TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL CHECK (state IN ('ready', 'queued', 'deferred', 'done', 'skipped', 'cancelled')),
    reason          TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (announcement_id, client_id)
) STRICT;
CREATE INDEX announcement_recipients_state ON announcement_recipients (announcement_id, state, client_id);

-- +goose Down
DROP TABLE announcement_recipients;
DROP TABLE announcements;
DROP TABLE support_groups;
