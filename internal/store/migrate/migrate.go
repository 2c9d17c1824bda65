// Package migrate holds nudge's versioned database schema and applies it.
//
// The migrations are embedded in the binary, one directory per dialect
// (migrations/postgres, migrations/sqlite), and run with goose's Provider
// API, so no global goose state is touched and several databases can be
// migrated in one process (tests do that all the time).
//
// `nudge dev` and `nudge serve` apply pending migrations on start unless told
// not to; `nudge migrate up|status` call [Up] and [Status] explicitly. A
// process that must not migrate calls [CheckCurrent], which fails with an
// error that tells the operator what to run.
package migrate

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/pressly/goose/v3"
)

// Dialect names a database flavour with its own migration directory.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

//go:embed migrations
var migrations embed.FS

// MigrationStatus describes one migration known to this binary.
type MigrationStatus struct {
	Version   int64
	Name      string // file name, e.g. "00001_init.sql"
	Applied   bool
	AppliedAt time.Time // zero when not applied
}

// Up applies every pending migration. Running it on a current schema is a
// no-op. On Postgres, concurrent callers (several replicas starting at once)
// serialise on an advisory lock scoped to the database and schema.
func Up(ctx context.Context, db *sql.DB, d Dialect) error {
	p, err := newProvider(ctx, db, d, true)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("applying %s migrations: %w", d, err)
	}
	return nil
}

// UpTo applies the pending migrations up to and including version: tests
// of a migration that rewrites data start from the schema before it.
func UpTo(ctx context.Context, db *sql.DB, d Dialect, version int64) error {
	p, err := newProvider(ctx, db, d, true)
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("applying %s migrations up to %d: %w", d, version, err)
	}
	return nil
}

// Status lists every migration this binary knows, oldest first, and whether
// the database has it. It creates goose's version table if it is missing.
func Status(ctx context.Context, db *sql.DB, d Dialect) ([]MigrationStatus, error) {
	p, err := newProvider(ctx, db, d, false)
	if err != nil {
		return nil, err
	}
	got, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading %s migration status: %w", d, err)
	}
	out := make([]MigrationStatus, 0, len(got))
	for _, m := range got {
		out = append(out, MigrationStatus{
			Version:   m.Source.Version,
			Name:      path.Base(m.Source.Path),
			Applied:   m.State == goose.StateApplied,
			AppliedAt: m.AppliedAt.UTC(),
		})
	}
	return out, nil
}

// Latest returns the newest migration version this binary ships for d.
func Latest(d Dialect) (int64, error) {
	versions, err := versions(d)
	if err != nil {
		return 0, err
	}
	return versions[len(versions)-1], nil
}

// files returns the migration directory for d.
func files(d Dialect) (fs.FS, error) {
	switch d {
	case Postgres, SQLite:
		return fs.Sub(migrations, "migrations/"+string(d))
	}
	return nil, fmt.Errorf("unknown migration dialect %q", d)
}

// gooseDialect maps our dialect names to goose's.
func gooseDialect(d Dialect) goose.Dialect {
	if d == Postgres {
		return goose.DialectPostgres
	}
	return goose.DialectSQLite3
}

// versions lists the embedded migration versions for d, ascending. It reads
// file names only: goose's own collection needs a database handle.
func versions(d Dialect) ([]int64, error) {
	fsys, err := files(d)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing %s migrations: %w", d, err)
	}
	out := make([]int64, 0, len(names))
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return nil, fmt.Errorf("reading version of migration %s: %w", name, err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s migrations embedded", d)
	}
	// fs.Glob sorts names, and names are zero-padded, so versions ascend.
	return out, nil
}
