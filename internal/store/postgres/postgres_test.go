package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/migrate"
	"github.com/nudgehq/nudge/internal/store/postgres"
	"github.com/nudgehq/nudge/internal/store/postgres/pgtest"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
	"github.com/nudgehq/nudge/internal/store/storetest"
)

func open(t *testing.T, url string, opts ...sqlstore.Option) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url, opts...)
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.NewSchemaURL(t)) })
}

func TestSchema(t *testing.T) {
	storetest.RunSchema(t, migrate.Postgres, func(t *testing.T) string { return pgtest.NewSchemaURL(t) },
		func(ctx context.Context, url string, opts ...sqlstore.Option) (storetest.Migrator, error) {
			return postgres.Open(ctx, url, opts...)
		})
}

// TestConcurrentMigrateOnOpen starts several replicas against one empty
// schema at once: the advisory lock lets one migrate while the others wait.
func TestConcurrentMigrateOnOpen(t *testing.T) {
	url := pgtest.NewSchemaURL(t)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), url)
			if err != nil {
				t.Errorf("postgres.Open: %v", err)
				return
			}
			defer s.Close()
			if err := s.CheckCurrent(t.Context()); err != nil {
				t.Errorf("CheckCurrent: %v", err)
			}
		})
	}
	wg.Wait()
}

// TestSchemaIsolation guards the per-test schemas other packages rely on.
func TestSchemaIsolation(t *testing.T) {
	a, b := open(t, pgtest.NewSchemaURL(t)), open(t, pgtest.NewSchemaURL(t))
	if _, err := a.RecordEvent(t.Context(), store.EventRef{ID: "e1"}, "test"); err != nil {
		t.Fatalf("RecordEvent: %v", err)
	}
	if _, err := b.GetEvent(t.Context(), "e1"); err == nil {
		t.Fatal("an event recorded in one schema is visible in another")
	}
	if a.Pool() == nil {
		t.Fatal("Pool() is nil")
	}
}
