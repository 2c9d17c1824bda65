package storetest

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/migrate"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
	"github.com/nudgehq/nudge/internal/vocab"
)

// testConsentAddressBackfill upgrades a database that has consent from
// before consent was bound to addresses (migration 00005): grants are bound
// to the client's current address, so every active consent stays active;
// revocations stay unbound (they hold for every address); and the ledger
// is append-only again afterwards.
func testConsentAddressBackfill(t *testing.T, d migrate.Dialect, s Migrator) {
	ctx := t.Context()
	withDB, ok := s.(interface{ DB() *sql.DB })
	if !ok {
		t.Fatal("store has no DB() *sql.DB; every store of this suite is a database/sql store")
	}
	db := withDB.DB()
	noErr(t, "migrate up to 4", migrate.UpTo(ctx, db, d, 4))
	exec := func(q string, args ...any) {
		t.Helper()
		if d == migrate.Postgres {
			for i := 1; strings.Contains(q, "?"); i++ {
				q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
			}
		}
		for i, a := range args {
			if tm, ok := a.(time.Time); ok && d == migrate.SQLite {
				args[i] = tm.UnixMicro()
			}
		}
		_, err := db.ExecContext(ctx, q, args...)
		noErr(t, q, err)
	}
	exec(`INSERT INTO clients (id, first_name, timezone, phone, email, locale, preferred_channel, updated_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, "c-ana", "Ana", "UTC", "+14155550101", "Ana@Example.org", "", "", at(0), at(0))
	for i, e := range []struct{ channel, purpose, action string }{
		{"sms", "reminders", "granted"}, {"email", "reminders", "granted"}, {"sms", "journal", "granted"}, {"sms", "journal", "revoked"},
	} {
		exec(`INSERT INTO consent_ledger (client_id, channel, purpose, action, source, wording_version, event_id, occurred_at, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, "c-ana", e.channel, e.purpose, e.action, "intake", "v1", fmt.Sprint("e", i), at(i), at(i))
	}
	noErr(t, "migrate up", s.MigrateUp(ctx))

	for _, c := range []struct {
		ch   vocab.Channel
		p    vocab.Purpose
		want bool
	}{{vocab.SMS, vocab.Reminders, true}, {vocab.Email, vocab.Reminders, true}, {vocab.SMS, vocab.Journal, false}} {
		ok, err := s.HasConsent(ctx, "c-ana", c.ch, c.p)
		noErr(t, "HasConsent", err)
		wantEqual(t, fmt.Sprintf("%s/%s after the upgrade", c.ch, c.p), ok, c.want)
	}
	ledger, err := s.ConsentLedger(ctx, "c-ana")
	noErr(t, "ledger", err)
	wantEqual(t, "sms grant bound", ledger[0].Address, "+14155550101")
	wantEqual(t, "email grant bound, lower case", ledger[1].Address, "ana@example.org")
	wantEqual(t, "revocation unbound", ledger[3].Address, "")
	if _, err := db.ExecContext(ctx, `UPDATE consent_ledger SET action = 'granted'`); err == nil {
		t.Fatal("the ledger is not append-only after the upgrade")
	}
	// A changed phone after the upgrade has no consent.
	_, err = s.ApplyClientUpsert(ctx, ev("u2", "client.upserted", at(10)), store.Client{ID: "c-ana", FirstName: "Ana", Timezone: "UTC", Phone: "+14155550102"})
	noErr(t, "upsert", err)
	if ok, _ := s.HasConsent(ctx, "c-ana", vocab.SMS, vocab.Reminders); ok {
		t.Fatal("consent followed the client to a new number after the upgrade")
	}
}

// runConsentAddressBackfill is RunSchema's case for migration 00005.
func runConsentAddressBackfill(t *testing.T, d migrate.Dialect, newDSN func(t *testing.T) string, open Opener) {
	t.Run("ConsentAddressBackfill", func(t *testing.T) {
		t.Parallel()
		s, err := open(t.Context(), newDSN(t), sqlstore.WithSchema(sqlstore.SkipSchemaCheck))
		noErr(t, "open", err)
		t.Cleanup(func() { s.Close() })
		testConsentAddressBackfill(t, d, s)
	})
}
