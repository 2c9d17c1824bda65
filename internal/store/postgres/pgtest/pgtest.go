// Package pgtest gives tests a private, empty Postgres schema.
//
// Tests anywhere in nudge (store, HTTP, consumers, end-to-end) call
// [NewSchemaURL] and open whatever they need with the returned URL. Each
// call creates schema t_<random> on the server named by
// NUDGE_TEST_DATABASE_URL and points search_path at it, so tests run in
// parallel without seeing each other's rows; the schema is dropped when the
// test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvURL names the variable holding the test server's connection string,
// e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvURL = "NUDGE_TEST_DATABASE_URL"

// NewSchemaURL creates a fresh schema and returns a connection string whose
// search_path selects it. Without NUDGE_TEST_DATABASE_URL the test is
// skipped, except under CI (CI non-empty), where a silently skipped
// Postgres suite would hide regressions, so it fails. A set but
// unreachable server always fails the test.
func NewSchemaURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; CI must run the Postgres tests", EnvURL)
		}
		t.Skipf("Postgres tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", EnvURL)
	}
	schema := "t_" + strings.ToLower(rand.Text()[:16])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := exec(ctx, base, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: creating schema on %s server: %v", EnvURL, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, base, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: dropping schema %s: %v", schema, err)
		}
	})
	u, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	return u
}

// admin pools are shared by every test in the binary: connecting costs more
// than creating a schema, and a test binary may create hundreds.
var (
	adminMu    sync.Mutex
	adminPools = map[string]*pgxpool.Pool{}
)

// exec runs one statement on the shared pool for connString.
func exec(ctx context.Context, connString, sql string) error {
	adminMu.Lock()
	pool, ok := adminPools[connString]
	if !ok {
		cfg, err := pgxpool.ParseConfig(connString)
		if err != nil {
			adminMu.Unlock()
			return err
		}
		cfg.MaxConns = 4
		if pool, err = pgxpool.NewWithConfig(context.Background(), cfg); err != nil {
			adminMu.Unlock()
			return err
		}
		adminPools[connString] = pool
	}
	adminMu.Unlock()
	_, err := pool.Exec(ctx, sql)
	return err
}

// withSearchPath adds search_path to a URL or keyword/value connection
// string; pgx passes unknown parameters to the server as run-time settings.
func withSearchPath(connString, schema string) (string, error) {
	if !strings.HasPrefix(connString, "postgres://") && !strings.HasPrefix(connString, "postgresql://") {
		return connString + " search_path=" + schema, nil
	}
	u, err := url.Parse(connString)
	if err != nil {
		return "", fmt.Errorf("parsing connection URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
