package storetest

import (
	"fmt"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func testSuppressions(t *testing.T, s store.Store) {
	ctx := t.Context()
	suppressed := func(channel vocab.Channel, addr string) bool {
		t.Helper()
		ok, err := s.IsSuppressed(ctx, channel, addr)
		noErr(t, "IsSuppressed", err)
		return ok
	}
	if suppressed(vocab.Email, "ana@example.com") {
		t.Fatal("suppressed before Suppress")
	}
	for _, reason := range []string{"bounce", "spamreport"} {
		err := s.Suppress(ctx, store.Suppression{Channel: vocab.Email, Address: "Ana@Example.com", Reason: reason})
		noErr(t, "Suppress "+reason, err)
	}
	if !suppressed(vocab.Email, "ana@example.com") {
		t.Fatal("email suppression is not case-insensitive")
	}
	noErr(t, "Suppress sms", s.Suppress(ctx, store.Suppression{Channel: vocab.SMS, Address: "+15555550100", Reason: "twilio:21610"}))
	if !suppressed(vocab.SMS, "+15555550100") || suppressed(vocab.SMS, "+15555550101") {
		t.Fatal("sms suppression matches the wrong numbers")
	}
	if suppressed(vocab.SMS, "ana@example.com") {
		t.Fatal("suppression leaked across channels")
	}

	noErr(t, "Unsuppress", s.Unsuppress(ctx, vocab.Email, "ana@example.com"))
	if suppressed(vocab.Email, "ana@example.com") {
		t.Fatal("still suppressed after Unsuppress")
	}
	noErr(t, "Unsuppress missing", s.Unsuppress(ctx, vocab.Email, "ana@example.com"))
	wantErr(t, "unknown channel", s.Suppress(ctx, store.Suppression{Channel: "fax", Address: "1"}), store.ErrInvalid)
	wantErr(t, "empty address", s.Suppress(ctx, store.Suppression{Channel: vocab.SMS}), store.ErrInvalid)
}

func testAudit(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.ListAudit(ctx, 0)
	noErr(t, "empty audit", err)
	wantEqual(t, "empty audit", len(got), 0)

	for i := range 3 {
		err := s.AppendAudit(ctx, store.AuditEntry{
			At: at(i), Actor: "staff:alice", Action: fmt.Sprintf("client.paused.%d", i), Target: "c-ana", Detail: `{"days":7}`,
		})
		noErr(t, "AppendAudit", err)
	}
	got, err = s.ListAudit(ctx, 0)
	noErr(t, "ListAudit", err)
	wantEqual(t, "entries", len(got), 3)
	for i, e := range got {
		wantEqual(t, "newest first", e.Action, fmt.Sprintf("client.paused.%d", 2-i))
		wantTime(t, "At", e.At, at(2-i))
		if i > 0 && e.Seq >= got[i-1].Seq {
			t.Fatalf("Seq not decreasing: %+v", got)
		}
	}
	wantEqual(t, "fields", [3]string{got[0].Actor, got[0].Target, got[0].Detail}, [3]string{"staff:alice", "c-ana", `{"days":7}`})

	got, err = s.ListAudit(ctx, 2)
	noErr(t, "ListAudit limit", err)
	wantEqual(t, "limit", len(got), 2)

	noErr(t, "AppendAudit without At", s.AppendAudit(ctx, store.AuditEntry{Actor: "system", Action: "x"}))
	wantErr(t, "AppendAudit without action", s.AppendAudit(ctx, store.AuditEntry{Actor: "system"}), store.ErrInvalid)
}

func testRecordEvent(t *testing.T, s store.Store) {
	ctx := t.Context()
	e := ev("j1", "journal.day_missed", at(0))
	res, err := s.RecordEvent(ctx, e, "no_consent")
	wantResult(t, "record", res, err, declined("no_consent"))
	res, err = s.RecordEvent(ctx, e, "something_else")
	wantResult(t, "replay", res, err, duplicate)

	rec, err := s.GetEvent(ctx, "j1")
	noErr(t, "GetEvent", err)
	wantEqual(t, "record keeps the first reason", [2]any{rec.Applied, rec.Reason}, [2]any{false, "no_consent"})

	// An event id is one event, whatever method sees it first.
	res, err = s.ApplyClientUpsert(ctx, e, ana())
	wantResult(t, "same id through another method", res, err, duplicate)
	_, err = s.RecordEvent(ctx, ev("j2", "journal.day_missed", at(0)), "")
	wantErr(t, "empty reason", err, store.ErrInvalid)
}

func testGetEvent(t *testing.T, s store.Store) {
	ctx := t.Context()
	e := store.EventRef{ID: "e1", Type: "client.upserted", Source: "booking-system", Time: at(0)}
	res, err := s.ApplyClientUpsert(ctx, e, ana())
	wantResult(t, "upsert", res, err, applied)

	rec, err := s.GetEvent(ctx, "e1")
	noErr(t, "GetEvent", err)
	wantTime(t, "Time", rec.Time, at(0))
	if rec.AppliedAt.IsZero() {
		t.Fatal("AppliedAt not set")
	}
	rec.Time, rec.AppliedAt = at(0), at(0)
	wantEqual(t, "record", rec, store.EventRecord{
		ID: "e1", Type: "client.upserted", Source: "booking-system", Time: at(0), Applied: true, AppliedAt: at(0),
	})

	_, err = s.GetEvent(ctx, "e-never")
	wantErr(t, "unknown event", err, store.ErrNotFound)
}

func testPing(t *testing.T, s store.Store) {
	noErr(t, "Ping", s.Ping(t.Context()))
}
