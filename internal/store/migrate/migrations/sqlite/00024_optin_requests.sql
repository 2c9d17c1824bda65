-- Double opt-in requests by SMS keyword (sqlite): HOPE, then YES within 24 h.
-- Keep in step with the other dialect.

-- +goose Up

CREATE TABLE optin_requests (
    message_id      TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    address         TEXT NOT NULL,
    keyword         TEXT NOT NULL,
    wording_version TEXT NOT NULL DEFAULT '',
    requested_at    INTEGER NOT NULL,
    confirmed_by    TEXT NOT NULL DEFAULT '',
    confirmed_at    INTEGER,
    PRIMARY KEY (message_id, client_id)
) STRICT;

CREATE INDEX optin_requests_address ON optin_requests (address, requested_at);

-- +goose Down
DROP TABLE optin_requests;
