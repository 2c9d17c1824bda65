-- Deferrals of pending deliveries (postgres): when each is due again and why,
-- so the ledger shows "deferred until T". Keep in step with the other dialect.

-- +goose Up

CREATE TABLE delivery_deferrals (
    idempotency_key text PRIMARY KEY,
    not_before      timestamptz NOT NULL,
    why             text NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL
);

-- +goose Down
DROP TABLE delivery_deferrals;
