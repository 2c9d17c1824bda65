package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

const scheduleColumns = `client_id, cron, days, at_time, themes, source, updated_at, created_at`

func validSchedule(s store.EncouragementSchedule) error {
	if err := required("client id", s.ClientID, "cron", s.Cron); err != nil {
		return err
	}
	switch s.Source {
	case store.ScheduleSourceDefault, store.ScheduleSourceEvent:
		return nil
	}
	return invalid("unknown schedule source %q", s.Source)
}

// ApplyEncouragementSchedule stores the schedule an event set, unless a
// newer event already set one.
func (s *Store) ApplyEncouragementSchedule(ctx context.Context, ev store.EventRef, sch store.EncouragementSchedule) (store.Result, error) {
	if err := validSchedule(sch); err != nil {
		return store.Result{}, err
	}
	res, err := s.applyEvent(ctx, ev, func(tx *sql.Tx, at time.Time) (store.Result, error) {
		upserted, err := tx.ExecContext(ctx, s.rebind(`
			INSERT INTO encouragement_schedules (`+scheduleColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (client_id) DO UPDATE SET
				cron = excluded.cron, days = excluded.days, at_time = excluded.at_time, themes = excluded.themes,
				source = excluded.source, updated_at = excluded.updated_at
			WHERE encouragement_schedules.updated_at < excluded.updated_at`),
			sch.ClientID, sch.Cron, sch.Days, sch.At, strings.Join(sch.Themes, ","), sch.Source, s.bindTime(at), s.bindTime(s.nowUTC()))
		if err != nil {
			return store.Result{}, err
		}
		if n, err := upserted.RowsAffected(); err != nil {
			return store.Result{}, err
		} else if n == 0 {
			return store.Result{Reason: store.ReasonStale}, nil
		}
		return store.Result{Applied: true}, nil
	})
	if err != nil {
		return store.Result{}, fmt.Errorf("applying encouragement schedule %s of %s: %w", ev.ID, sch.ClientID, err)
	}
	return res, nil
}

// EnsureEncouragementSchedule stores sch unless the client has a schedule.
// It is dated at the Unix epoch, not now: it comes from no event, and any
// encouragement.schedule_set, however it is ordered against the consent,
// must win over it.
func (s *Store) EnsureEncouragementSchedule(ctx context.Context, sch store.EncouragementSchedule) (store.EncouragementSchedule, bool, error) {
	if err := validSchedule(sch); err != nil {
		return store.EncouragementSchedule{}, false, err
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`
		INSERT INTO encouragement_schedules (`+scheduleColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (client_id) DO NOTHING`),
		sch.ClientID, sch.Cron, sch.Days, sch.At, strings.Join(sch.Themes, ","), sch.Source, s.bindTime(time.Unix(0, 0)), s.bindTime(s.nowUTC()))
	if err != nil {
		return store.EncouragementSchedule{}, false, fmt.Errorf("storing default schedule of %s: %w", sch.ClientID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return store.EncouragementSchedule{}, false, fmt.Errorf("storing default schedule of %s: %w", sch.ClientID, err)
	}
	stored, err := s.GetEncouragementSchedule(ctx, sch.ClientID)
	return stored, n > 0, err
}

// GetEncouragementSchedule returns the client's schedule.
func (s *Store) GetEncouragementSchedule(ctx context.Context, clientID string) (store.EncouragementSchedule, error) {
	var (
		sch    store.EncouragementSchedule
		themes string
	)
	err := s.read.QueryRowContext(ctx, s.rebind(`SELECT `+scheduleColumns+` FROM encouragement_schedules WHERE client_id = ?`), clientID).
		Scan(&sch.ClientID, &sch.Cron, &sch.Days, &sch.At, &themes, &sch.Source, scanTime(&sch.UpdatedAt), scanTime(&sch.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return store.EncouragementSchedule{}, fmt.Errorf("getting encouragement schedule of %q: %w", clientID, store.ErrNotFound)
	}
	if err != nil {
		return store.EncouragementSchedule{}, fmt.Errorf("getting encouragement schedule of %q: %w", clientID, err)
	}
	if themes != "" {
		sch.Themes = strings.Split(themes, ",")
	}
	return sch, nil
}

const pickColumns = `idempotency_key, client_id, line, theme, cycle, picked_at`

// RecordLinePick stores the line chosen for a notification, once.
func (s *Store) RecordLinePick(ctx context.Context, p store.LinePick) (store.LinePick, bool, error) {
	if err := required("key", p.Key, "client id", p.ClientID, "line", p.Line); err != nil {
		return store.LinePick{}, false, err
	}
	if p.Cycle < 1 {
		return store.LinePick{}, false, invalid("line pick cycle %d is not positive", p.Cycle)
	}
	if p.PickedAt.IsZero() {
		p.PickedAt = s.nowUTC()
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`
		INSERT INTO encouragement_lines (`+pickColumns+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (idempotency_key) DO NOTHING`),
		p.Key, p.ClientID, p.Line, p.Theme, p.Cycle, s.bindTime(p.PickedAt))
	if err != nil {
		return store.LinePick{}, false, fmt.Errorf("recording line pick %s: %w", p.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return store.LinePick{}, false, fmt.Errorf("recording line pick %s: %w", p.Key, err)
	}
	var stored store.LinePick
	err = s.db.QueryRowContext(ctx, s.rebind(`SELECT `+pickColumns+` FROM encouragement_lines WHERE idempotency_key = ?`), p.Key).
		Scan(&stored.Key, &stored.ClientID, &stored.Line, &stored.Theme, &stored.Cycle, scanTime(&stored.PickedAt))
	if err != nil {
		return store.LinePick{}, false, fmt.Errorf("reading line pick %s: %w", p.Key, err)
	}
	return stored, n > 0, nil
}

// LinePicks returns the client's newest picks first, with the state of
// each notification's ledger row.
func (s *Store) LinePicks(ctx context.Context, clientID string, limit int) ([]store.LinePick, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read.QueryContext(ctx, s.rebind(`
		SELECT l.idempotency_key, l.client_id, l.line, l.theme, l.cycle, l.picked_at, coalesce(d.state, '')
		FROM encouragement_lines l LEFT JOIN deliveries d ON d.idempotency_key = l.idempotency_key
		WHERE l.client_id = ?
		ORDER BY l.picked_at DESC, l.idempotency_key DESC LIMIT ?`), clientID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing line picks of %s: %w", clientID, err)
	}
	defer rows.Close()
	var out []store.LinePick
	for rows.Next() {
		var (
			p     store.LinePick
			state string
		)
		if err := rows.Scan(&p.Key, &p.ClientID, &p.Line, &p.Theme, &p.Cycle, scanTime(&p.PickedAt), &state); err != nil {
			return nil, fmt.Errorf("listing line picks of %s: %w", clientID, err)
		}
		p.DeliveryState = store.DeliveryState(state)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing line picks of %s: %w", clientID, err)
	}
	return out, nil
}
