-- Schema v4 for Postgres: messages JetStream gave up on (MAX_DELIVERIES),
-- kept until staff replay them. Keep in step with ../sqlite/00004_dead_letters.sql.

-- +goose Up
CREATE TABLE dead_letters (
    id          bigserial   PRIMARY KEY,
    stream      text        NOT NULL,
    stream_seq  bigint      NOT NULL,
    consumer    text        NOT NULL DEFAULT '',
    subject     text        NOT NULL DEFAULT '',
    data        bytea       NOT NULL,
    deliveries  bigint      NOT NULL DEFAULT 0,
    msg_key     text        NOT NULL DEFAULT '',
    reason      text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    replayed_at timestamptz,
    replayed_by text        NOT NULL DEFAULT '',
    UNIQUE (stream, stream_seq)
);
CREATE INDEX dead_letters_pending ON dead_letters (id DESC) WHERE replayed_at IS NULL;

-- +goose Down
DROP TABLE dead_letters;
