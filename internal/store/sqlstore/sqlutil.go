package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// rebind rewrites the "?" placeholders of query for the dialect. The
// queries in this package contain no other question marks.
func (s *Store) rebind(query string) string {
	if s.dialect.Placeholder == nil {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString(s.dialect.Placeholder(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normTime is how every time is stored: UTC, truncated to microseconds.
func normTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// bindTime normalises and encodes a time for binding.
func (s *Store) bindTime(t time.Time) any {
	return s.dialect.EncodeTime(normTime(t))
}

// nowUTC is the store's clock, normalised.
func (s *Store) nowUTC() time.Time {
	return normTime(s.now())
}

// timeCol scans a time column stored either as a native timestamp
// (Postgres) or as INTEGER unix microseconds (SQLite).
type timeCol struct{ dst *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		*c.dst = v.UTC()
	case int64:
		*c.dst = time.UnixMicro(v).UTC()
	case nil:
		*c.dst = time.Time{}
	default:
		return fmt.Errorf("scanning time column: unsupported type %T", v)
	}
	return nil
}

// scanTime wraps dst for Scan.
func scanTime(dst *time.Time) timeCol { return timeCol{dst} }
