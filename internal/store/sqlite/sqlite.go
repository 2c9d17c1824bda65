// Package sqlite is nudge's embedded store for dev mode and single-machine
// installs: the shared SQL implementation (package sqlstore) over pure-Go
// SQLite (modernc.org/sqlite, no cgo).
//
// SQLite allows one writer at a time. Rather than let goroutines collide and
// retry on SQLITE_BUSY, the store queues them in Go: all writes go through a
// pool of exactly one connection, whose transactions start with BEGIN
// IMMEDIATE (so another process sharing the file waits on busy_timeout
// instead of failing mid-transaction). Plain reads use a separate pool of
// read-only connections, which WAL mode lets run alongside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/migrate"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
)

// Store is a [store.Store] backed by a SQLite file. Besides the store
// methods it has MigrateUp, MigrationStatus, CheckCurrent and DB from
// [sqlstore.Store].
type Store struct {
	*sqlstore.Store
}

var _ store.Store = (*Store)(nil)

// busyTimeout bounds how long a connection waits for a lock held by
// another process (or by a checkpoint) before reporting SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// dialect describes SQLite to the shared implementation.
var dialect = sqlstore.Dialect{
	Migrations: migrate.SQLite,
	// The single writer connection with BEGIN IMMEDIATE already serialises
	// read-modify-write transactions; SQLite has no row locks.
	ForUpdate:  "",
	EncodeTime: func(t time.Time) any { return t.UnixMicro() },
	IsUniqueViolation: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		code := e.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
}

// Open opens (creating if needed) the database file at path and, by
// default, applies pending migrations; see [sqlstore.WithSchema]. The file
// is put in WAL mode with synchronous=FULL, so a committed write survives a
// crash or power loss. path is a plain file name; ":memory:" gives a
// private in-memory database (one connection, for throwaway use).
func Open(ctx context.Context, path string, opts ...sqlstore.Option) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("opening sqlite store: %w: path must be a plain file name, got %q", store.ErrInvalid, path)
	}
	writer, err := openPool(ctx, path, writerParams(), 1)
	if err != nil {
		return nil, err
	}
	reader := writer
	if path != ":memory:" { // each in-memory connection would be its own database
		if reader, err = openPool(ctx, path, readerParams(), max(4, runtime.NumCPU())); err != nil {
			writer.Close()
			return nil, err
		}
	}
	s, err := sqlstore.New(ctx, writer, reader, dialect, opts...)
	if err != nil {
		writer.Close()
		if reader != writer {
			reader.Close()
		}
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	return &Store{Store: s}, nil
}

// writerParams configures the one connection that writes.
func writerParams() url.Values {
	return url.Values{
		"_busy_timeout": {fmt.Sprint(busyTimeout.Milliseconds())},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_foreign_keys": {"1"},
		"_txlock":       {"immediate"},
	}
}

// readerParams configures the read-only connections. query_only makes a
// write sent to the wrong pool fail instead of contending for the lock.
func readerParams() url.Values {
	return url.Values{
		"_busy_timeout": {fmt.Sprint(busyTimeout.Milliseconds())},
		"_foreign_keys": {"1"},
		"_query_only":   {"1"},
	}
}

// openPool opens a database/sql pool of at most conns connections and
// checks it by opening one, which also applies the connection PRAGMAs.
func openPool(ctx context.Context, path string, params url.Values, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening sqlite database %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0) // keep connections: an in-memory database lives in its connection
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening sqlite database %s: %w", path, err)
	}
	return db, nil
}
