package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/nudgehq/nudge/internal/store"
)

// SetDeferral records or replaces the deferral of a pending delivery.
func (s *Store) SetDeferral(ctx context.Context, d store.Deferral) error {
	if err := required("key", d.Key); err != nil {
		return err
	}
	if d.NotBefore.IsZero() {
		return invalid("deferral of %s has no time", d.Key)
	}
	_, err := s.db.ExecContext(ctx, s.rebind(`
		INSERT INTO delivery_deferrals (idempotency_key, not_before, why, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (idempotency_key) DO UPDATE SET
			not_before = excluded.not_before, why = excluded.why, updated_at = excluded.updated_at`),
		d.Key, s.bindTime(d.NotBefore), d.Why, s.bindTime(s.nowUTC()))
	if err != nil {
		return fmt.Errorf("recording deferral of %s: %w", d.Key, err)
	}
	return nil
}

// DeferralsOf returns the deferrals of keys, by key.
func (s *Store) DeferralsOf(ctx context.Context, keys []string) (map[string]store.Deferral, error) {
	out := map[string]store.Deferral{}
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 200)]
		keys = keys[len(batch):]
		args := make([]any, len(batch))
		for i, k := range batch {
			args[i] = k
		}
		rows, err := s.read.QueryContext(ctx, s.rebind(`
			SELECT idempotency_key, not_before, why, updated_at FROM delivery_deferrals
			WHERE idempotency_key IN (?`+strings.Repeat(`, ?`, len(batch)-1)+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("reading deferrals: %w", err)
		}
		for rows.Next() {
			var d store.Deferral
			if err := rows.Scan(&d.Key, scanTime(&d.NotBefore), &d.Why, scanTime(&d.UpdatedAt)); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading deferrals: %w", err)
			}
			out[d.Key] = d
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("reading deferrals: %w", err)
		}
	}
	return out, nil
}
