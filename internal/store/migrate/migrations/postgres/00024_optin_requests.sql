-- Double opt-in requests by SMS keyword (postgres): HOPE, then YES within 24 h.
-- Keep in step with the other dialect.

-- +goose Up

CREATE TABLE optin_requests (
    message_id      text NOT NULL,
    client_id       text NOT NULL,
    address         text NOT NULL,
    keyword         text NOT NULL,
    wording_version text NOT NULL DEFAULT '',
    requested_at    timestamptz NOT NULL,
    confirmed_by    text NOT NULL DEFAULT '',
    confirmed_at    timestamptz,
    PRIMARY KEY (message_id, client_id)
);

CREATE INDEX optin_requests_address ON optin_requests (address, requested_at);

-- +goose Down
DROP TABLE optin_requests;
