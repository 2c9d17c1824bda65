package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3/database"
)

// ErrSchemaBehind is matched (errors.Is) by the error [CheckCurrent] returns
// when the database lacks migrations this binary needs.
var ErrSchemaBehind = errors.New("database schema is behind")

// BehindError says how far the database schema is behind this binary.
type BehindError struct {
	Current  int64   // newest version applied to the database, 0 if none
	Required int64   // newest version this binary ships
	Missing  []int64 // versions this binary ships that the database lacks
}

func (e *BehindError) Error() string {
	if e.Current >= e.Required {
		// Only reachable when an older migration was never applied (for
		// example after merging branches); say which.
		return fmt.Sprintf("database schema lacks migrations %v that nudge needs: run `nudge migrate up`", e.Missing)
	}
	return fmt.Sprintf("database schema is at version %d, nudge needs %d: run `nudge migrate up`", e.Current, e.Required)
}

// Is makes errors.Is(err, ErrSchemaBehind) true.
func (e *BehindError) Is(target error) bool { return target == ErrSchemaBehind }

// CheckCurrent returns a *BehindError (matching [ErrSchemaBehind]) when the
// database lacks any migration this binary ships. A schema newer than the
// binary is accepted: migrations are written to keep the previous release
// working during a rolling deploy. CheckCurrent only reads; unlike [Status]
// it does not create goose's version table on an empty database.
func CheckCurrent(ctx context.Context, db *sql.DB, d Dialect) error {
	want, err := versions(d)
	if err != nil {
		return err
	}
	applied, err := appliedVersions(ctx, db, d)
	if err != nil {
		return err
	}
	behind := &BehindError{Required: want[len(want)-1]}
	for v := range applied {
		behind.Current = max(behind.Current, v)
	}
	for _, v := range want {
		if !applied[v] {
			behind.Missing = append(behind.Missing, v)
		}
	}
	if len(behind.Missing) > 0 {
		return behind
	}
	return nil
}

// appliedVersions reads goose's version table without creating it.
func appliedVersions(ctx context.Context, db *sql.DB, d Dialect) (map[int64]bool, error) {
	st, err := database.NewStore(gooseDialect(d), versionTable)
	if err != nil {
		return nil, fmt.Errorf("opening the %s migration record: %w", d, err)
	}
	exists, err := versionTableExists(ctx, db, d)
	if err != nil {
		return nil, fmt.Errorf("checking for the migration record %s: %w", versionTable, err)
	}
	applied := map[int64]bool{}
	if !exists {
		return applied, nil
	}
	rows, err := st.ListMigrations(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("reading applied migrations: %w", err)
	}
	// Rows are newest first; the newest row for a version decides.
	seen := map[int64]bool{}
	for _, r := range rows {
		if r.Version == 0 || seen[r.Version] {
			continue // version 0 is goose's own marker row
		}
		seen[r.Version] = true
		if r.IsApplied {
			applied[r.Version] = true
		}
	}
	return applied, nil
}

// versionTableExists looks for goose's table where goose would create it:
// the first schema on the search path (Postgres), the main database (SQLite).
func versionTableExists(ctx context.Context, db *sql.DB, d Dialect) (bool, error) {
	query := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if d == Postgres {
		query = `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1`
	}
	var n int
	err := db.QueryRowContext(ctx, query, versionTable).Scan(&n)
	return n > 0, err
}
