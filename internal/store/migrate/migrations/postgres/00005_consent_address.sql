-- Consent is bound to the address it was given for (invariant 1): a grant
-- for one phone number does not follow the client to another. Keep in step
-- with ../sqlite/00005_consent_address.sql.

-- +goose Up

ALTER TABLE consent_ledger ADD COLUMN address text NOT NULL DEFAULT '';

-- Grants recorded before this migration were given for the address the
-- client has now (nudge kept no other): bind them to it, so an upgrade
-- keeps every consent that is active. Revocations stay unbound: a
-- revocation without an address holds for every address of the channel.
ALTER TABLE consent_ledger DISABLE TRIGGER consent_ledger_no_update_delete;
UPDATE consent_ledger SET address = COALESCE((
    SELECT CASE WHEN consent_ledger.channel = 'sms' THEN c.phone ELSE lower(c.email) END
    FROM clients c WHERE c.id = consent_ledger.client_id), '')
WHERE action = 'granted';
ALTER TABLE consent_ledger ENABLE TRIGGER consent_ledger_no_update_delete;

CREATE INDEX consent_ledger_by_client ON consent_ledger (client_id, seq);

-- +goose Down
DROP INDEX consent_ledger_by_client;
ALTER TABLE consent_ledger DROP COLUMN address;
