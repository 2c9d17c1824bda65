package storetest

import (
	"testing"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// testEventSources: CloudEvents identifies an event by source and id, so
// two producers that both send id "42" each get their event applied, and a
// replay is recognised per source.
func testEventSources(t *testing.T, s store.Store) {
	ctx := t.Context()
	booking := store.EventRef{ID: "42", Type: "client.upserted", Source: "/booking", Time: at(0)}
	journal := store.EventRef{ID: "42", Type: "client.upserted", Source: "/journal", Time: at(1)}
	bea := ana()
	bea.ID, bea.FirstName = "c-bea", "Bea"

	res, err := s.ApplyClientUpsert(ctx, booking, ana())
	wantResult(t, "booking's 42", res, err, applied)
	res, err = s.ApplyClientUpsert(ctx, journal, bea)
	wantResult(t, "journal's 42", res, err, applied)
	got, err := s.GetClient(ctx, "c-bea")
	noErr(t, "the second source's client", err)
	wantEqual(t, "first name", got.FirstName, "Bea")

	res, err = s.ApplyClientUpsert(ctx, journal, bea)
	wantResult(t, "journal's 42 again", res, err, duplicate)
	res, err = s.RecordEvent(ctx, booking, "recorded_only")
	wantResult(t, "booking's 42 again", res, err, duplicate)

	// Consent from both sources with the same id, for the same channel and
	// purpose: two ledger entries (the ledger's event id names the source).
	for _, ref := range []store.EventRef{booking, journal} {
		ref.ID, ref.Type = "7", "consent.granted"
		res, err = s.AppendConsent(ctx, ref, store.ConsentEntry{ClientID: "c-" + ref.Source[1:], Channel: vocab.SMS,
			Purpose: vocab.Reminders, Action: store.ConsentGranted, Source: "form", EventID: ref.LedgerEventID()})
		wantResult(t, "consent 7 from "+ref.Source, res, err, applied)
	}

	recs, err := s.EventsByID(ctx, "42")
	noErr(t, "EventsByID", err)
	wantEqual(t, "records", len(recs), 2)
	wantEqual(t, "first source", recs[0].Source, "/booking")
	wantEqual(t, "second source", recs[1].Source, "/journal")
	wantEqual(t, "both applied", recs[0].Applied && recs[1].Applied, true)
	wantTime(t, "journal's time", recs[1].Time, at(1))

	_, err = s.GetEvent(ctx, "42")
	wantErr(t, "GetEvent of an id two sources sent", err, store.ErrConflict)
	none, err := s.EventsByID(ctx, "43")
	noErr(t, "EventsByID of an unknown id", err)
	wantEqual(t, "unknown id", len(none), 0)
}
