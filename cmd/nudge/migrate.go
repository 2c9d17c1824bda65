package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/nudgehq/nudge/internal/store/migrate"
	"github.com/nudgehq/nudge/internal/store/postgres"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
)

type migrateCmd struct {
	Up     migrateUpCmd     `cmd:"" help:"Apply every pending migration."`
	Status migrateStatusCmd `cmd:"" help:"List migrations and whether each is applied."`
}

// migrateTarget picks the database: Postgres when --database-url is set,
// otherwise dev mode's SQLite file in --data-dir.
type migrateTarget struct {
	DatabaseURL string `help:"Postgres URL; when empty, the SQLite database in --data-dir." placeholder:"URL"`
	DataDir     string `help:"Dev data dir holding nudge.db." default:"./.nudge" type:"path"`
}

// migrationStore is what both stores offer for migrations.
type migrationStore interface {
	MigrateUp(ctx context.Context) error
	MigrationStatus(ctx context.Context) ([]migrate.MigrationStatus, error)
	Close() error
}

func (t migrateTarget) open(ctx context.Context) (migrationStore, string, error) {
	skip := sqlstore.WithSchema(sqlstore.SkipSchemaCheck)
	if t.DatabaseURL != "" {
		st, err := postgres.Open(ctx, t.DatabaseURL, skip)
		return st, "postgres", err
	}
	if err := os.MkdirAll(t.DataDir, 0o700); err != nil {
		return nil, "", err
	}
	path := filepath.Join(t.DataDir, "nudge.db")
	st, err := sqlite.Open(ctx, path, skip)
	return st, "sqlite " + path, err
}

type migrateUpCmd struct{ migrateTarget }

func (m *migrateUpCmd) Run(g *globals) error {
	st, name, err := m.open(g.ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.MigrateUp(g.ctx); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%s: schema is current\n", name)
	return nil
}

type migrateStatusCmd struct{ migrateTarget }

func (m *migrateStatusCmd) Run(g *globals) error {
	ms, name, err := m.open(g.ctx)
	if err != nil {
		return err
	}
	defer ms.Close()
	st, err := ms.MigrationStatus(g.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%s\n", name)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED")
	for _, s := range st {
		applied := "pending"
		if s.Applied {
			applied = s.AppliedAt.Format("2006-01-02 15:04:05Z07:00")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Version, s.Name, applied)
	}
	return tw.Flush()
}
