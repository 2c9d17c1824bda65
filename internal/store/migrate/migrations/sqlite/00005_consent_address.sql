-- Consent is bound to the address it was given for (invariant 1). Keep in
-- step with ../postgres/00005_consent_address.sql.

-- +goose Up

ALTER TABLE consent_ledger ADD COLUMN address TEXT NOT NULL DEFAULT '';

-- Grants recorded before this migration were given for the address the
-- client has now: bind them to it. The append-only trigger is lifted for
-- this one statement only.
DROP TRIGGER consent_ledger_no_update;
UPDATE consent_ledger SET address = COALESCE((
    SELECT CASE WHEN consent_ledger.channel = 'sms' THEN c.phone ELSE lower(c.email) END
    FROM clients c WHERE c.id = consent_ledger.client_id), '')
WHERE action = 'granted';
-- +goose StatementBegin
CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledger
BEGIN
    SELECT RAISE(ABORT, 'consent_ledger is append-only: UPDATE is not allowed');
END;
-- +goose StatementEnd

CREATE INDEX consent_ledger_by_client ON consent_ledger (client_id, seq);

-- +goose Down
DROP INDEX consent_ledger_by_client;
ALTER TABLE consent_ledger DROP COLUMN address;
