package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// versionTable is goose's bookkeeping table, in the same schema as ours.
const versionTable = goose.DefaultTablename

// newProvider builds a goose provider over the embedded migrations for d.
// With locked set on Postgres, migrations run under a session advisory lock.
func newProvider(ctx context.Context, db *sql.DB, d Dialect, locked bool) (*goose.Provider, error) {
	fsys, err := files(d)
	if err != nil {
		return nil, err
	}
	// Engineers number migrations from separate ranges (00005-00009,
	// 00010-00014 …), so a database may have a higher number applied
	// before a lower one lands: apply the lower one then, in its turn.
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true)}
	if locked && d == Postgres {
		locker, err := postgresLocker(ctx, db)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gooseDialect(d), db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("preparing %s migrations: %w", d, err)
	}
	return p, nil
}

// postgresLocker returns an advisory-lock locker whose lock id is derived
// from the database and schema. Goose's default id is one constant per
// server, which would make unrelated schemas (one per test, or two
// installations sharing a server) wait for each other.
func postgresLocker(ctx context.Context, db *sql.DB) (lock.SessionLocker, error) {
	var scope string
	err := db.QueryRowContext(ctx, `SELECT current_database() || '/' || coalesce(current_schema(), '')`).Scan(&scope)
	if err != nil {
		return nil, fmt.Errorf("reading database and schema for the migration lock: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("nudge-migrate/" + scope))
	l, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64())),
		// Poll every second for up to five minutes: a replica waiting for
		// another to finish migrating should notice promptly.
		lock.WithLockTimeout(1, 300),
	)
	if err != nil {
		return nil, fmt.Errorf("creating the migration lock: %w", err)
	}
	return l, nil
}
