package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// ReminderLoad implements store.ReminderLoads. Fire times are whole
// seconds, so grouping by fire_at groups by second; the partial index
// reminders_upcoming (fire_at, scheduled rows only) serves the range.
func (s *Store) ReminderLoad(ctx context.Context, channel vocab.Channel, from, to time.Time, except string) (map[int64]int, error) {
	if err := validChannel(channel); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, s.rebind(`
		SELECT fire_at, count(*) FROM reminders
		WHERE state = ? AND fire_at >= ? AND fire_at <= ? AND channel = ? AND idempotency_key <> ?
		GROUP BY fire_at`),
		string(store.ReminderScheduled), s.bindTime(from), s.bindTime(to), string(channel), except)
	if err != nil {
		return nil, fmt.Errorf("reading reminder load: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var (
			at time.Time
			n  int
		)
		if err := rows.Scan(scanTime(&at), &n); err != nil {
			return nil, fmt.Errorf("reading reminder load: %w", err)
		}
		out[at.Unix()] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading reminder load: %w", err)
	}
	return out, nil
}
