package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/migrate"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
	"github.com/nudgehq/nudge/internal/store/storetest"
)

func newPath(t *testing.T) string { return filepath.Join(t.TempDir(), "nudge.db") }

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, newPath(t)) })
}

func TestSchema(t *testing.T) {
	storetest.RunSchema(t, migrate.SQLite, newPath,
		func(ctx context.Context, path string, opts ...sqlstore.Option) (storetest.Migrator, error) {
			return sqlite.Open(ctx, path, opts...)
		})
}

// TestDurability pins the settings that keep committed writes across a
// crash or power loss.
func TestDurability(t *testing.T) {
	s := open(t, newPath(t))
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"} {
		var got string
		if err := s.DB().QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

// TestTwoStoresOneFile covers a second process on the same file (the CLI
// while `nudge dev` runs): BEGIN IMMEDIATE and busy_timeout make the two
// writers take turns instead of failing with SQLITE_BUSY.
func TestTwoStoresOneFile(t *testing.T) {
	path := newPath(t)
	stores := []*sqlite.Store{open(t, path), open(t, path)}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			s := stores[w%2]
			for i := range 20 {
				id := fmt.Sprintf("w%d-%d", w, i)
				ev := store.EventRef{ID: id, Type: "group.member_added"}
				if _, err := s.ApplyGroupMembership(t.Context(), ev, "g1", "c-"+id, true); err != nil {
					t.Errorf("ApplyGroupMembership: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	members, err := stores[0].GroupMembers(t.Context(), "g1")
	if err != nil {
		t.Fatalf("GroupMembers: %v", err)
	}
	if len(members) != 8*20 {
		t.Fatalf("members: got %d, want %d", len(members), 8*20)
	}
}

func TestInMemory(t *testing.T) {
	s := open(t, ":memory:")
	res, err := s.RecordEvent(t.Context(), store.EventRef{ID: "e1"}, "test")
	if err != nil || res.Reason != "test" {
		t.Fatalf("RecordEvent: %+v, %v", res, err)
	}
	if _, err := s.GetEvent(t.Context(), "e1"); err != nil {
		t.Fatalf("GetEvent through the shared handle: %v", err)
	}
}

func TestOpenRejectsQuery(t *testing.T) {
	_, err := sqlite.Open(t.Context(), newPath(t)+"?_pragma=foo")
	if err == nil {
		t.Fatal("Open accepted a path with parameters")
	}
}
