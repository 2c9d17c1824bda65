package main

import (
	"context"

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

func openPostgres(url string, migrate bool) func(context.Context) (store.Store, error) {
	return func(ctx context.Context) (store.Store, error) {
		return postgres.Open(ctx, url, schemaPolicy(migrate))
	}
}
