-- Schema v4 for SQLite: messages JetStream gave up on (MAX_DELIVERIES),
-- kept until staff replay them. Keep in step with ../postgres/00004_dead_letters.sql.

-- +goose Up
CREATE TABLE dead_letters (
    id          INTEGER PRIMARY KEY,
    stream      TEXT    NOT NULL,
    stream_seq  INTEGER NOT NULL,
    consumer    TEXT    NOT NULL DEFAULT '',
    subject     TEXT    NOT NULL DEFAULT '',
    data        BLOB    NOT NULL,
    deliveries  INTEGER NOT NULL DEFAULT 0,
    msg_key     TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    replayed_at INTEGER,
    replayed_by TEXT    NOT NULL DEFAULT '',
    UNIQUE (stream, stream_seq)
) STRICT;
CREATE INDEX dead_letters_pending ON dead_letters (id DESC) WHERE replayed_at IS NULL;

-- +goose Down
DROP TABLE dead_letters;
