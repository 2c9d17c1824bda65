package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// freshSchema creates an empty schema on the server at base and returns a
// connection string selecting it, and a function dropping it.
func freshSchema(ctx context.Context, base string) (string, func() error, error) {
	schema := "bench_" + strings.ToLower(rand.Text()[:12])
	// Parsed as the store parses it, so pool_* parameters are allowed.
	pcfg, err := pgxpool.ParseConfig(base)
	if err != nil {
		return "", nil, fmt.Errorf("bench: parsing the database URL: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, pcfg.ConnConfig)
	if err != nil {
		return "", nil, fmt.Errorf("bench: connecting to postgres: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("bench: creating schema %s: %w", schema, err)
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.ConnectConfig(ctx, pcfg.ConnConfig)
		if err != nil {
			return fmt.Errorf("bench: dropping schema %s: %w", schema, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("bench: dropping schema %s: %w", schema, err)
		}
		return nil
	}
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema, drop, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		_ = drop()
		return "", nil, fmt.Errorf("bench: parsing database URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
