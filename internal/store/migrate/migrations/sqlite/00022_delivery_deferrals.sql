-- Deferrals of pending deliveries (sqlite): when each is due again and why,
-- so the ledger shows "deferred until T". Keep in step with the other dialect.

-- +goose Up

CREATE TABLE delivery_deferrals (
    idempotency_key TEXT PRIMARY KEY,
    not_before      INTEGER NOT NULL,
    why             TEXT NOT NULL DEFAULT '',
    updated_at      INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE delivery_deferrals;
