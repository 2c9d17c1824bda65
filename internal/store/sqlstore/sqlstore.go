// Package sqlstore is the one implementation of [store.Store] over
// database/sql. The Postgres and SQLite packages open a database, describe
// their differences in a [Dialect] and hand both to [New]; every rule about
// idempotency, ordering and monotonic delivery states lives here, once.
//
// The SQL is written in the dialect both databases share: "?" placeholders
// (rewritten for Postgres), INSERT ... ON CONFLICT, RETURNING. Times are
// normalised to UTC microseconds before they are stored, the precision
// Postgres keeps, so both stores compare event times identically.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/migrate"
)

// Dialect is what differs between the databases behind a [Store].
type Dialect struct {
	// Migrations selects the embedded migration directory.
	Migrations migrate.Dialect
	// Placeholder renders the n-th (1-based) bind parameter. Nil means "?".
	Placeholder func(n int) string
	// ForUpdate is appended to the SELECT that starts a read-modify-write
	// transaction: " FOR UPDATE" where rows must be locked (Postgres), empty
	// where the transaction already holds the database's write lock (SQLite).
	ForUpdate string
	// LockClient is a statement taking a client id that holds a lock on
	// that id until the transaction ends: client upserts and consent grants
	// of one client run one at a time (consent is bound to the client's
	// address). Empty where transactions are serialised already (SQLite).
	LockClient string
	// EncodeTime turns a normalised UTC time into a bind value. Scanning
	// accepts both time.Time and int64 unix microseconds.
	EncodeTime func(time.Time) any
	// IsUniqueViolation reports whether err is a unique-constraint failure.
	IsUniqueViolation func(error) bool
	// WriteBatches is how many batched ledger writes (see coalescer) may
	// be in flight at once: 1 where one connection writes (SQLite), more
	// where the server runs statements side by side. 0 means 1.
	WriteBatches int
	// MoveLinger lets a batch of ledger moves (UpdateDelivery: the "sent"
	// after a provider call, a status webhook) that would go out short of
	// full wait this long for more, and such batches go one at a time:
	// the deliverer's "sent" is off the latency path (the provider has the
	// message), and a batch of ten costs the database one commit where ten
	// single rows cost ten. 0 writes at once, WriteBatches at a time.
	MoveLinger time.Duration
	// CreateLinger lets a batch of new ledger rows (CreateDelivery: the
	// deliverer's claim) that would go out short of full wait this long
	// for more. The claim is on the latency path, so keep it well under a
	// millisecond; batches still go WriteBatches at a time. 0 writes at once.
	CreateLinger time.Duration
	// ReadBatches is how many batched snapshot reads (ReadSnapshot) may be
	// in flight at once where a read is a round trip to a server; 0 reads
	// each snapshot on its own (SQLite, in process).
	ReadBatches int
	// ReadLinger lets a batch of snapshot reads that would go out short of
	// full wait this long for more. Unlike a "sent", a read is on the
	// latency path, so keep it short: a millisecond lets the reads of a
	// busy server go in batches, which cost it far less a read than reads
	// alone (README, Benchmark). 0 reads at once.
	ReadLinger time.Duration
}

// Store implements [store.Store]. Create it with [New].
type Store struct {
	db      *sql.DB // writes, transactions and migrations
	read    *sql.DB // plain reads; may be the same handle as db
	dialect Dialect
	now     func() time.Time
	// The deliverer's two ledger writes per notification, batched across
	// concurrent callers (group commit).
	creates *coalescer[createItem]
	moves   *coalescer[moveItem]
	// The deliverer's one read per notification, batched the same way
	// (nil: each read on its own).
	snaps *coalescer[snapItem]
}

var _ store.Store = (*Store)(nil)

// New wraps open database handles. Reads that are not part of a write go to
// read, so SQLite can serve them from a pool of reader connections while a
// single connection writes; pass the same handle twice when that does not
// matter. Depending on [WithSchema], New migrates or checks the schema first.
// The Store owns the handles: Close closes them.
func New(ctx context.Context, db, read *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	cfg := config{now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Store{db: db, read: read, dialect: d, now: cfg.now}
	s.creates = &coalescer[createItem]{limit: max(1, d.WriteBatches), max: maxBatchRows, flush: s.flushCreates, linger: d.CreateLinger}
	// Lingering moves are off the latency path: one batch at a time makes
	// the batches, and so the commits, as few as the load allows.
	moveBatches := max(1, d.WriteBatches)
	if d.MoveLinger > 0 {
		moveBatches = 1
	}
	s.moves = &coalescer[moveItem]{limit: moveBatches, max: maxBatchRows, flush: s.flushMoves, linger: d.MoveLinger}
	if d.ReadBatches > 0 {
		s.snaps = &coalescer[snapItem]{limit: d.ReadBatches, max: maxBatchRows, flush: s.flushSnapshots, linger: d.ReadLinger}
	}
	switch cfg.schema {
	case MigrateOnOpen:
		if err := s.MigrateUp(ctx); err != nil {
			return nil, err
		}
	case RequireCurrent:
		if err := s.CheckCurrent(ctx); err != nil {
			return nil, err
		}
	case SkipSchemaCheck:
	default:
		return nil, fmt.Errorf("%w: unknown schema policy %d", store.ErrInvalid, cfg.schema)
	}
	return s, nil
}

// DB returns the handle used for writes. Tests use it to prove that the
// database itself, not only this code, refuses to rewrite the consent ledger.
func (s *Store) DB() *sql.DB { return s.db }

// MigrateUp applies pending migrations (`nudge migrate up`).
func (s *Store) MigrateUp(ctx context.Context) error {
	return migrate.Up(ctx, s.db, s.dialect.Migrations)
}

// MigrationStatus lists the migrations this binary ships and which are applied.
func (s *Store) MigrationStatus(ctx context.Context) ([]migrate.MigrationStatus, error) {
	return migrate.Status(ctx, s.db, s.dialect.Migrations)
}

// CheckCurrent fails with an error matching [migrate.ErrSchemaBehind] that
// tells the operator to run `nudge migrate up` when migrations are pending.
func (s *Store) CheckCurrent(ctx context.Context) error {
	return migrate.CheckCurrent(ctx, s.db, s.dialect.Migrations)
}

// Ping checks that both handles reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging database: %w", err)
	}
	if s.read != s.db {
		if err := s.read.PingContext(ctx); err != nil {
			return fmt.Errorf("pinging database readers: %w", err)
		}
	}
	return nil
}

// Close closes the database handles.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.read != s.db {
		err = errors.Join(err, s.read.Close())
	}
	if err != nil {
		return fmt.Errorf("closing database: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction on the write handle and commits when fn
// returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}
