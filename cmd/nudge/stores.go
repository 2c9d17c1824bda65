package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/postgres"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
)

// schemaPolicy maps --no-migrate to the store's schema policy: migrate on
// open, or refuse to open a schema that is behind ("run nudge migrate up").
func schemaPolicy(migrate bool) sqlstore.Option {
	if migrate {
		return sqlstore.WithSchema(sqlstore.MigrateOnOpen)
	}
	return sqlstore.WithSchema(sqlstore.RequireCurrent)
}

func openSQLite(path string, migrate bool) func(context.Context) (store.Store, error) {
	return func(ctx context.Context) (store.Store, error) {
		return sqlite.Open(ctx, path, schemaPolicy(migrate))
	}
}

// openPostgres opens the production store. A database that does not
// accept connections yet (it starts with the rest of the deployment) is
// waited for, saying so, for up to wait; any other error ends the start.
// Replicas starting together migrate one at a time (an advisory lock).
func openPostgres(url string, migrate bool, wait time.Duration, log *slog.Logger) func(context.Context) (store.Store, error) {
	return func(ctx context.Context) (store.Store, error) {
		deadline := time.Now().Add(wait)
		pause := 250 * time.Millisecond
		for attempt := 1; ; attempt++ {
			st, err := postgres.Open(ctx, url, schemaPolicy(migrate))
			var connErr *pgconn.ConnectError
			if err == nil || !errors.As(err, &connErr) || ctx.Err() != nil {
				return st, err
			}
			if time.Now().Add(pause).After(deadline) {
				return nil, fmt.Errorf("gave up waiting for Postgres after %v: %w", wait, err)
			}
			log.Warn("waiting for Postgres", "attempt", attempt, "retry_in", pause, "err", err)
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return nil, err
			}
			pause = min(2*pause, 5*time.Second)
		}
	}
}
