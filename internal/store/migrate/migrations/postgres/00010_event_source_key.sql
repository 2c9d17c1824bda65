-- Schema v10 for Postgres: an event is identified by CloudEvents source + id,
-- not id alone, so two producers that both use id "42" each have their event
-- applied. Keep in step with ../sqlite/00010_event_source_key.sql.

-- +goose Up
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD PRIMARY KEY (source, id);
-- GET /v1/events/{id} looks an id up across sources.
CREATE INDEX events_id ON events (id);

-- +goose Down
DROP INDEX events_id;
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD PRIMARY KEY (id);
