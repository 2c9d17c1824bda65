// Package postgres is nudge's production store: the shared SQL
// implementation (package sqlstore) over a pgx connection pool.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/migrate"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
)

// Store is a [store.Store] backed by Postgres. Besides the store methods it
// has MigrateUp, MigrationStatus, CheckCurrent and DB from [sqlstore.Store].
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// dialect describes Postgres to the shared implementation.
var dialect = sqlstore.Dialect{
	Migrations:  migrate.Postgres,
	Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
	// Read-modify-write transactions run at READ COMMITTED; the row lock
	// makes concurrent updates of one session or delivery queue up.
	ForUpdate: " FOR UPDATE",
	// Batched ledger writes run side by side on the pool's connections.
	WriteBatches: 4,
	// So do batched snapshot reads.
	ReadBatches: 4,
	// A "sent" waits up to 5 ms for company: in `nudge bench` that cut
	// Postgres transactions from 1.49 to 1.18 a notification.
	MoveLinger: 5 * time.Millisecond,
	// Snapshot reads and claims are on the latency path, so they wait far
	// less; in `nudge bench` that cut Postgres's CPU a notification by
	// about a third at max load (README, Benchmark).
	ReadLinger:   time.Millisecond,
	CreateLinger: 500 * time.Microsecond,
	// A client's upsert and its consent grants may run at once in two
	// processes; a transaction lock per client id orders them, so a grant
	// is bound to the client's address whichever commits first.
	LockClient: "SELECT pg_advisory_xact_lock(hashtextextended('nudge-client:' || CAST(? AS text), 0))",
	EncodeTime: func(t time.Time) any { return t },
	IsUniqueViolation: func(err error) bool {
		var pgErr *pgconn.PgError
		return errors.As(err, &pgErr) && pgErr.Code == "23505" // unique_violation
	},
}

// DefaultMaxConns is the pool size when the connection string sets no
// pool_max_conns. pgx's own default, max(4, CPUs), kept the deliver
// workers queueing for a connection (README, Benchmark): a notification
// makes several short round trips. Connections open only when needed and
// close when idle (pgx's MaxConnIdleTime), so a quiet process holds few.
const DefaultMaxConns = 16

// Open connects to the database at url (a postgres:// URL or keyword/value
// string; pgxpool's pool_* parameters apply) and, by default, applies
// pending migrations; see [sqlstore.WithSchema].
func Open(ctx context.Context, url string, opts ...sqlstore.Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parsing postgres connection string: %w", err) // pgx redacts the password
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, DefaultMaxConns)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "nudge"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating postgres pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to postgres at %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	db := stdlib.OpenDBFromPool(pool)
	s, err := sqlstore.New(ctx, db, db, dialect, opts...)
	if err != nil {
		db.Close()
		pool.Close()
		return nil, fmt.Errorf("opening postgres store: %w", err)
	}
	return &Store{Store: s, pool: pool}, nil
}

// Pool returns the underlying pool, for what database/sql cannot do
// (LISTEN/NOTIFY, COPY). The Store owns it: do not close it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the database/sql handle and then the pool beneath it.
func (s *Store) Close() error {
	err := s.Store.Close()
	s.pool.Close()
	return err
}
