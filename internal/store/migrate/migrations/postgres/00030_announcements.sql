-- Schema v30 for Postgres: support groups' names, staff announcements and
-- each announcement's recipients (the durable fan-out plan). Keep in step
-- with ../sqlite/00030_announcements.sql.

-- +goose Up
CREATE TABLE support_groups (
    id         text        PRIMARY KEY,
    name       text        NOT NULL,
    updated_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE announcements (
    seq                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                   text        NOT NULL UNIQUE,
    group_id             text        NOT NULL,
    template             text        NOT NULL DEFAULT '',
    body                 text        NOT NULL DEFAULT '',
    channels             text        NOT NULL DEFAULT '',
    urgent               boolean     NOT NULL DEFAULT false,
    urgent_reason        text        NOT NULL DEFAULT '',
    lint_override_reason text        NOT NULL DEFAULT '',
    requested_by         text        NOT NULL DEFAULT '',
    event_id             text        NOT NULL DEFAULT '',
    state                text        NOT NULL CHECK (state IN ('queued', 'sending', 'done', 'cancelled')),
    reason               text        NOT NULL DEFAULT '',
    cancelled_by         text        NOT NULL DEFAULT '',
    total                integer     NOT NULL DEFAULT 0,
    planned              boolean     NOT NULL DEFAULT false,
    settled              boolean     NOT NULL DEFAULT false,
    lease_owner          text        NOT NULL DEFAULT '',
    lease_until          timestamptz NOT NULL DEFAULT 'epoch',
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE INDEX announcements_active ON announcements (seq) WHERE NOT settled;
CREATE INDEX announcements_group ON announcements (group_id, seq DESC);

CREATE TABLE announcement_recipients (
    announcement_id text NOT NULL,
    client_id       text NOT NULL,
    channel         text NOT NULL DEFAULT '',
    msg_key         text NOT NULL DEFAULT '',
    state           text NOT NULL CHECK (state IN ('ready', 'queued', 'deferred', 'done', 'skipped', 'cancelled')),
    reason          text NOT NULL DEFAULT '',
    PRIMARY KEY (announcement_id, client_id)
);
CREATE INDEX announcement_recipients_state ON announcement_recipients (announcement_id, state, client_id);

-- +goose Down
DROP TABLE announcement_recipients;
DROP TABLE announcements;
DROP TABLE support_groups;
