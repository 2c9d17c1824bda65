package storetest

import (
	"database/sql"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func consent(action store.ConsentAction, channel vocab.Channel, purpose vocab.Purpose, occurred time.Time) store.ConsentEntry {
	return store.ConsentEntry{
		ClientID: "c-ana", Channel: channel, Purpose: purpose, Action: action,
		Source: "booking-system", WordingVersion: "v3", OccurredAt: occurred,
	}
}

func hasConsent(t *testing.T, s store.Store, channel vocab.Channel, purpose vocab.Purpose) bool {
	t.Helper()
	ok, err := s.HasConsent(t.Context(), "c-ana", channel, purpose)
	noErr(t, "HasConsent", err)
	return ok
}

func ledgerLen(t *testing.T, s store.Store) int {
	t.Helper()
	l, err := s.ConsentLedger(t.Context(), "c-ana")
	noErr(t, "ConsentLedger", err)
	return len(l)
}

func testConsentLedger(t *testing.T, s store.Store) {
	ctx := t.Context()
	if hasConsent(t, s, vocab.SMS, vocab.Reminders) {
		t.Fatal("consent without any entry")
	}
	res, err := s.AppendConsent(ctx, ev("g1", "consent.granted", at(0)),
		consent(store.ConsentGranted, vocab.SMS, vocab.Reminders, at(0)))
	wantResult(t, "grant", res, err, applied)
	if !hasConsent(t, s, vocab.SMS, vocab.Reminders) {
		t.Fatal("no consent after grant")
	}
	if hasConsent(t, s, vocab.Email, vocab.Reminders) || hasConsent(t, s, vocab.SMS, vocab.Encouragement) {
		t.Fatal("a grant leaked to another channel or purpose")
	}

	res, err = s.AppendConsent(ctx, ev("g2", "consent.granted", at(1)),
		consent(store.ConsentGranted, vocab.Email, vocab.Announcements, at(1)))
	wantResult(t, "email grant", res, err, applied)
	revoke := consent(store.ConsentRevoked, vocab.SMS, vocab.Reminders, at(2))
	revoke.Source, revoke.WordingVersion = "sms:STOP", ""
	res, err = s.AppendConsent(ctx, ev("r1", "consent.revoked", at(2)), revoke)
	wantResult(t, "revoke", res, err, applied)
	if hasConsent(t, s, vocab.SMS, vocab.Reminders) {
		t.Fatal("consent after revoke")
	}

	ledger, err := s.ConsentLedger(ctx, "c-ana")
	noErr(t, "ledger", err)
	wantEqual(t, "ledger length", len(ledger), 3)
	for i, e := range ledger {
		if i > 0 && ledger[i-1].Seq >= e.Seq {
			t.Fatalf("ledger not in recording order: %+v", ledger)
		}
		if e.RecordedAt.IsZero() || e.Seq == 0 {
			t.Fatalf("entry %d lacks Seq or RecordedAt: %+v", i, e)
		}
	}
	wantEqual(t, "event id defaults to the event's", ledger[0].EventID, "g1")
	wantEqual(t, "revoke source", ledger[2].Source, "sms:STOP")
	wantTime(t, "occurred at", ledger[2].OccurredAt, at(2))

	states, err := s.Consents(ctx, "c-ana")
	noErr(t, "Consents", err)
	want := []store.ConsentState{
		{Channel: vocab.Email, Purpose: vocab.Announcements, Active: true, Source: "booking-system", WordingVersion: "v3", Since: at(1)},
		{Channel: vocab.SMS, Purpose: vocab.Reminders, Active: false, Source: "sms:STOP", Since: at(2)},
	}
	wantEqual(t, "states", len(states), len(want))
	for i := range want {
		wantTime(t, "Since", states[i].Since, want[i].Since)
		states[i].Since = want[i].Since
		wantEqual(t, "state", states[i], want[i])
	}

	other, err := s.ConsentLedger(ctx, "c-nobody")
	noErr(t, "ledger of unknown client", err)
	wantEqual(t, "empty ledger", len(other), 0)
}

// A grant that happened before a revoke but arrives after it is kept for
// the record and does not reactivate consent.
func testConsentOutOfOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	res, err := s.AppendConsent(ctx, ev("r1", "consent.revoked", at(10)),
		consent(store.ConsentRevoked, vocab.SMS, vocab.Encouragement, at(10)))
	wantResult(t, "revoke first", res, err, applied)
	res, err = s.AppendConsent(ctx, ev("g1", "consent.granted", at(5)),
		consent(store.ConsentGranted, vocab.SMS, vocab.Encouragement, at(5)))
	wantResult(t, "older grant", res, err, stale)
	wantEqual(t, "ledger keeps both", ledgerLen(t, s), 2)
	if hasConsent(t, s, vocab.SMS, vocab.Encouragement) {
		t.Fatal("an older grant reactivated consent")
	}

	// Equal OccurredAt: the entry recorded last wins.
	res, err = s.AppendConsent(ctx, ev("g2", "consent.granted", at(10)),
		consent(store.ConsentGranted, vocab.SMS, vocab.Encouragement, at(10)))
	wantResult(t, "tie", res, err, applied)
	if !hasConsent(t, s, vocab.SMS, vocab.Encouragement) {
		t.Fatal("tie not broken by recording order")
	}
}

func testConsentReplay(t *testing.T, s store.Store) {
	ctx := t.Context()
	e := consent(store.ConsentGranted, vocab.SMS, vocab.Journal, at(0))
	res, err := s.AppendConsent(ctx, ev("g1", "consent.granted", at(0)), e)
	wantResult(t, "grant", res, err, applied)
	res, err = s.AppendConsent(ctx, ev("g1", "consent.granted", at(0)), e)
	wantResult(t, "replay", res, err, duplicate)
	wantEqual(t, "ledger after replay", ledgerLen(t, s), 1)
}

// The delivery engine records inbound replies without an event id: those
// entries are never deduplicated, unless they carry a message id, which is
// unique per channel and purpose (one STOP revokes every purpose).
func testConsentWithoutEvent(t *testing.T, s store.Store) {
	ctx := t.Context()
	stop := consent(store.ConsentRevoked, vocab.SMS, vocab.Reminders, at(0))
	stop.Source = "sms:STOP"
	for i := range 2 {
		res, err := s.AppendConsent(ctx, store.EventRef{}, stop)
		wantResult(t, "anonymous append", res, err, applied)
		wantEqual(t, "ledger grows", ledgerLen(t, s), i+1)
	}

	stop.EventID = "SM123"
	for _, purpose := range []vocab.Purpose{vocab.Reminders, vocab.Encouragement} {
		stop.Purpose = purpose
		res, err := s.AppendConsent(ctx, store.EventRef{}, stop)
		wantResult(t, "STOP for "+string(purpose), res, err, applied)
	}
	res, err := s.AppendConsent(ctx, store.EventRef{}, stop)
	wantResult(t, "replayed inbound message", res, err, duplicate)
	wantEqual(t, "ledger", ledgerLen(t, s), 4)
}

func testConsentInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	for name, mutate := range map[string]func(*store.ConsentEntry){
		"empty client": func(e *store.ConsentEntry) { e.ClientID = "" },
		"channel":      func(e *store.ConsentEntry) { e.Channel = "fax" },
		"purpose":      func(e *store.ConsentEntry) { e.Purpose = "reminder" },
		"action":       func(e *store.ConsentEntry) { e.Action = "maybe" },
	} {
		e := consent(store.ConsentGranted, vocab.SMS, vocab.Reminders, at(0))
		mutate(&e)
		_, err := s.AppendConsent(ctx, ev("x-"+name, "consent.granted", at(0)), e)
		wantErr(t, name, err, store.ErrInvalid)
	}
	_, err := s.HasConsent(ctx, "", vocab.SMS, vocab.Reminders)
	wantErr(t, "HasConsent without client", err, store.ErrInvalid)
}

// testConsentAppendOnly proves that the database, not only this code,
// refuses to rewrite history.
func testConsentAppendOnly(t *testing.T, s store.Store) {
	ctx := t.Context()
	res, err := s.AppendConsent(ctx, ev("g1", "consent.granted", at(0)),
		consent(store.ConsentGranted, vocab.SMS, vocab.Reminders, at(0)))
	wantResult(t, "grant", res, err, applied)

	withDB, ok := s.(interface{ DB() *sql.DB })
	if !ok {
		t.Fatal("store has no DB() *sql.DB; cannot try to bypass it; every store of this suite is a database/sql store")
	}
	db := withDB.DB()
	for _, stmt := range []string{
		`UPDATE consent_ledger SET action = 'revoked'`,
		`DELETE FROM consent_ledger`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err == nil {
			t.Fatalf("%s: succeeded; the ledger must be append-only", stmt)
		}
	}
	if !hasConsent(t, s, vocab.SMS, vocab.Reminders) || ledgerLen(t, s) != 1 {
		t.Fatal("ledger changed")
	}
}
