package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/migrate"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
)

// Migrator is a store that manages its own schema, as the SQL stores do.
type Migrator interface {
	store.Store
	MigrateUp(ctx context.Context) error
	MigrationStatus(ctx context.Context) ([]migrate.MigrationStatus, error)
	CheckCurrent(ctx context.Context) error
}

// Opener opens the store at dsn (a file path or a connection URL).
type Opener func(ctx context.Context, dsn string, opts ...sqlstore.Option) (Migrator, error)

// RunSchema checks migrations and the schema policies of opening. newDSN
// must return the location of a new, empty database on every call.
func RunSchema(t *testing.T, d migrate.Dialect, newDSN func(t *testing.T) string, open Opener) {
	latest, err := migrate.Latest(d)
	noErr(t, "migrate.Latest", err)
	mustOpen := func(t *testing.T, dsn string, opts ...sqlstore.Option) Migrator {
		t.Helper()
		s, err := open(t.Context(), dsn, opts...)
		noErr(t, "open", err)
		t.Cleanup(func() { s.Close() })
		return s
	}

	runConsentAddressBackfill(t, d, newDSN, open)
	runEventSourceKeyUpgrade(t, d, newDSN, open)

	t.Run("EmptyDatabase", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		dsn := newDSN(t)
		s := mustOpen(t, dsn, sqlstore.WithSchema(sqlstore.SkipSchemaCheck))

		err := s.CheckCurrent(ctx)
		wantErr(t, "CheckCurrent on an empty database", err, migrate.ErrSchemaBehind)
		want := fmt.Sprintf("database schema is at version 0, nudge needs %d: run `nudge migrate up`", latest)
		var behind *migrate.BehindError
		if !errors.As(err, &behind) || err.Error() != want {
			t.Fatalf("CheckCurrent: got %q, want %q", err, want)
		}

		_, err = open(ctx, dsn, sqlstore.WithSchema(sqlstore.RequireCurrent))
		wantErr(t, "opening an empty database with RequireCurrent", err, migrate.ErrSchemaBehind)

		status, err := s.MigrationStatus(ctx)
		noErr(t, "MigrationStatus", err)
		wantEqual(t, "migrations", int64(len(status)) > 0 && status[len(status)-1].Version == latest, true)
		for _, m := range status {
			if m.Applied || !m.AppliedAt.IsZero() {
				t.Fatalf("migration %d applied on an empty database", m.Version)
			}
		}
	})

	t.Run("UpTwice", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		dsn := newDSN(t)
		s := mustOpen(t, dsn, sqlstore.WithSchema(sqlstore.SkipSchemaCheck))
		noErr(t, "MigrateUp", s.MigrateUp(ctx))
		noErr(t, "CheckCurrent after MigrateUp", s.CheckCurrent(ctx))
		first, err := s.MigrationStatus(ctx)
		noErr(t, "MigrationStatus", err)
		wantEqual(t, "first migration", first[0].Name, "00001_init.sql")
		for _, m := range first {
			if !m.Applied || m.AppliedAt.IsZero() {
				t.Fatalf("migration %d not applied: %+v", m.Version, m)
			}
		}

		noErr(t, "second MigrateUp", s.MigrateUp(ctx))
		second, err := s.MigrationStatus(ctx)
		noErr(t, "MigrationStatus", err)
		wantEqual(t, "status length", len(second), len(first))
		for i := range first {
			wantEqual(t, "status after a no-op Up", second[i], first[i])
		}

		// A current schema opens under every policy.
		mustOpen(t, dsn, sqlstore.WithSchema(sqlstore.RequireCurrent))
		mustOpen(t, dsn)
	})

	t.Run("MigrateOnOpen", func(t *testing.T) {
		t.Parallel()
		s := mustOpen(t, newDSN(t))
		noErr(t, "CheckCurrent", s.CheckCurrent(t.Context()))
		_, err := s.GetClient(t.Context(), "c-none")
		wantErr(t, "a query on the migrated schema", err, store.ErrNotFound)
	})
}
