package storetest

import (
	"testing"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func ana() store.Client {
	return store.Client{
		ID: "c-ana", FirstName: "Ana", Timezone: "America/Chicago", Phone: "+15555550100",
		Email: "ana@example.com", Locale: "es-MX", PreferredChannel: vocab.SMS,
	}
}

func testClientUpsert(t *testing.T, s store.Store) {
	ctx := t.Context()
	res, err := s.ApplyClientUpsert(ctx, ev("e1", "client.upserted", at(0)), ana())
	wantResult(t, "create", res, err, applied)

	got, err := s.GetClient(ctx, "c-ana")
	noErr(t, "get", err)
	want := ana()
	want.UpdatedAt, want.CreatedAt = got.UpdatedAt, got.CreatedAt
	wantEqual(t, "client", got, want)
	wantTime(t, "UpdatedAt is the event time", got.UpdatedAt, at(0))
	if got.CreatedAt.IsZero() {
		t.Fatal("CreatedAt not set")
	}

	upd := ana()
	upd.FirstName, upd.Phone, upd.PreferredChannel = "Anita", "", vocab.Email
	res, err = s.ApplyClientUpsert(ctx, ev("e2", "client.upserted", at(5)), upd)
	wantResult(t, "newer update", res, err, applied)
	got2, err := s.GetClient(ctx, "c-ana")
	noErr(t, "get after update", err)
	wantEqual(t, "first name", got2.FirstName, "Anita")
	wantEqual(t, "phone cleared", got2.Phone, "")
	wantEqual(t, "preferred channel", got2.PreferredChannel, vocab.Email)
	wantTime(t, "UpdatedAt", got2.UpdatedAt, at(5))
	wantTime(t, "CreatedAt survives updates", got2.CreatedAt, got.CreatedAt)

	_, err = s.GetClient(ctx, "c-nobody")
	wantErr(t, "unknown client", err, store.ErrNotFound)
}

func testClientReplay(t *testing.T, s store.Store) {
	ctx := t.Context()
	res, err := s.ApplyClientUpsert(ctx, ev("e1", "client.upserted", at(0)), ana())
	wantResult(t, "first", res, err, applied)
	before, err := s.GetClient(ctx, "c-ana")
	noErr(t, "get", err)

	// A replay is a duplicate even if a buggy producer changed the payload.
	changed := ana()
	changed.FirstName = "Mallory"
	res, err = s.ApplyClientUpsert(ctx, ev("e1", "client.upserted", at(9)), changed)
	wantResult(t, "replay", res, err, duplicate)
	after, err := s.GetClient(ctx, "c-ana")
	noErr(t, "get", err)
	wantEqual(t, "client after replay", after, before)

	rec, err := s.GetEvent(ctx, "e1")
	noErr(t, "get event", err)
	wantEqual(t, "event record keeps the first outcome", rec.Applied, true)
}

func testClientStale(t *testing.T, s store.Store) {
	ctx := t.Context()
	newer := ana()
	newer.FirstName = "Newer"
	res, err := s.ApplyClientUpsert(ctx, ev("e-new", "client.upserted", at(10)), newer)
	wantResult(t, "newer first", res, err, applied)

	older := ana()
	older.FirstName = "Older"
	res, err = s.ApplyClientUpsert(ctx, ev("e-old", "client.upserted", at(5)), older)
	wantResult(t, "older later", res, err, stale)
	same := ana()
	same.FirstName = "SameTime"
	res, err = s.ApplyClientUpsert(ctx, ev("e-same", "client.upserted", at(10)), same)
	wantResult(t, "same time, other event", res, err, stale)

	got, err := s.GetClient(ctx, "c-ana")
	noErr(t, "get", err)
	wantEqual(t, "first name", got.FirstName, "Newer")
	wantTime(t, "UpdatedAt", got.UpdatedAt, at(10))

	rec, err := s.GetEvent(ctx, "e-old")
	noErr(t, "stale event is recorded", err)
	wantEqual(t, "stale record", [2]any{rec.Applied, rec.Reason}, [2]any{false, store.ReasonStale})

	// An event without a time is ordered by arrival.
	other := ana()
	other.ID = "c-untimed"
	res, err = s.ApplyClientUpsert(ctx, store.EventRef{ID: "e-untimed", Type: "client.upserted"}, other)
	wantResult(t, "untimed event", res, err, applied)
}

func testClientInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := ana()
	_, err := s.ApplyClientUpsert(ctx, ev("", "client.upserted", at(0)), c)
	wantErr(t, "empty event id", err, store.ErrInvalid)
	c.ID = ""
	_, err = s.ApplyClientUpsert(ctx, ev("e1", "client.upserted", at(0)), c)
	wantErr(t, "empty client id", err, store.ErrInvalid)
	c = ana()
	c.PreferredChannel = "pigeon"
	_, err = s.ApplyClientUpsert(ctx, ev("e2", "client.upserted", at(0)), c)
	wantErr(t, "unknown channel", err, store.ErrInvalid)
	_, err = s.GetEvent(ctx, "e1")
	wantErr(t, "refused events are not recorded", err, store.ErrNotFound)
}
