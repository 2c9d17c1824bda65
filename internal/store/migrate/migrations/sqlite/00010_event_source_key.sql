-- Schema v10 for SQLite: an event is identified by CloudEvents source + id,
-- not id alone. Keep in step with ../postgres/00010_event_source_key.sql.
-- SQLite cannot change a primary key in place: the table is rebuilt.

-- +goose Up
CREATE TABLE events_v10 (
    id         TEXT    NOT NULL,
    type       TEXT    NOT NULL DEFAULT '',
    source     TEXT    NOT NULL DEFAULT '',
    event_time INTEGER NOT NULL,
    applied    INTEGER NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (source, id)
) STRICT;
INSERT INTO events_v10 (id, type, source, event_time, applied, reason, applied_at)
    SELECT id, type, source, event_time, applied, reason, applied_at FROM events;
DROP TABLE events;
ALTER TABLE events_v10 RENAME TO events;
CREATE INDEX events_id ON events (id);

-- +goose Down
CREATE TABLE events_v1 (
    id         TEXT    PRIMARY KEY,
    type       TEXT    NOT NULL DEFAULT '',
    source     TEXT    NOT NULL DEFAULT '',
    event_time INTEGER NOT NULL,
    applied    INTEGER NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    applied_at INTEGER NOT NULL
) STRICT;
INSERT INTO events_v1 SELECT id, type, source, event_time, applied, reason, applied_at FROM events;
DROP TABLE events;
ALTER TABLE events_v1 RENAME TO events;
