package storetest

import (
	"database/sql"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/migrate"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
)

// runEventSourceKeyUpgrade is RunSchema's case for migration 00010: events
// recorded when the table was keyed on id alone survive the re-keying on
// (source, id), are still replays of themselves, and the same id from
// another source then applies.
func runEventSourceKeyUpgrade(t *testing.T, d migrate.Dialect, newDSN func(t *testing.T) string, open Opener) {
	t.Run("EventSourceKeyUpgrade", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s, err := open(ctx, newDSN(t), sqlstore.WithSchema(sqlstore.SkipSchemaCheck))
		noErr(t, "open", err)
		t.Cleanup(func() { s.Close() })
		withDB, ok := s.(interface{ DB() *sql.DB })
		if !ok {
			t.Fatal("store has no DB() *sql.DB; every store of this suite is a database/sql store")
		}
		noErr(t, "migrate up to 9", migrate.UpTo(ctx, withDB.DB(), d, 9))
		old := store.EventRef{ID: "42", Type: "client.upserted", Source: "/booking", Time: at(0)}
		// Recorded as the code of the time did, keyed on id alone.
		q := `INSERT INTO events (id, type, source, event_time, applied, reason, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
		args := []any{old.ID, old.Type, old.Source, at(0), true, "", at(0)}
		if d == migrate.Postgres {
			q = `INSERT INTO events (id, type, source, event_time, applied, reason, applied_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`
		} else {
			args[3], args[4], args[6] = at(0).UnixMicro(), 1, at(0).UnixMicro()
		}
		_, err = withDB.DB().ExecContext(ctx, q, args...)
		noErr(t, "event before the upgrade", err)
		noErr(t, "migrate up", s.MigrateUp(ctx))

		recs, err := s.EventsByID(ctx, "42")
		noErr(t, "EventsByID", err)
		wantEqual(t, "records kept", len(recs), 1)
		wantEqual(t, "source kept", recs[0].Source, "/booking")
		res, err := s.ApplyClientUpsert(ctx, old, ana())
		wantResult(t, "the same event after the upgrade", res, err, duplicate)
		other := old
		other.Source = "/journal"
		bea := ana()
		bea.ID = "c-bea"
		res, err = s.ApplyClientUpsert(ctx, other, bea)
		wantResult(t, "the same id from another source", res, err, applied)
	})
}
