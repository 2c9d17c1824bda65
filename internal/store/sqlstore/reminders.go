package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

const reminderColumns = `idempotency_key, session_id, session_version, client_id, offset_seconds, channel,
	fire_at, not_after, state, reason, created_at, updated_at`

// UpsertReminder records the scheduler's latest decision for a reminder.
// The key carries session, version, offset and channel, so an update only
// moves the decision: state, reason, fire time and expiry.
func (s *Store) UpsertReminder(ctx context.Context, r store.Reminder) (store.Reminder, error) {
	if err := validReminder(r); err != nil {
		return store.Reminder{}, err
	}
	now := s.nowUTC()
	row := s.db.QueryRowContext(ctx, s.rebind(`
		INSERT INTO reminders (`+reminderColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (idempotency_key) DO UPDATE SET
			fire_at = excluded.fire_at, not_after = excluded.not_after, state = excluded.state,
			reason = excluded.reason, updated_at = excluded.updated_at
		RETURNING `+reminderColumns),
		r.Key, r.SessionID, r.SessionVersion, r.ClientID, int64(r.Offset/time.Second), r.Channel,
		s.bindTime(r.FireAt), s.bindOptionalTime(r.NotAfter), string(r.State), r.Reason, s.bindTime(now), s.bindTime(now))
	stored, err := scanReminder(row)
	if err != nil {
		return store.Reminder{}, fmt.Errorf("recording reminder %s: %w", r.Key, err)
	}
	return stored, nil
}

func validReminder(r store.Reminder) error {
	if err := required("reminder key", r.Key, "session id", r.SessionID, "client id", r.ClientID); err != nil {
		return err
	}
	if err := validChannel(r.Channel); err != nil {
		return err
	}
	if r.Offset <= 0 || r.Offset%time.Second != 0 {
		return invalid("reminder offset %v is not a positive whole number of seconds", r.Offset)
	}
	if r.SessionVersion < 1 {
		return invalid("reminder session version %d is not positive", r.SessionVersion)
	}
	if r.FireAt.IsZero() {
		return invalid("reminder %s has no fire time", r.Key)
	}
	switch r.State {
	case store.ReminderScheduled, store.ReminderCancelled, store.ReminderSkipped:
		return nil
	}
	return invalid("unknown reminder state %q", r.State)
}

// bindOptionalTime binds the zero time as NULL.
func (s *Store) bindOptionalTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.bindTime(t)
}

// CancelReminders withdraws the session's scheduled reminders other than
// keep: the reschedule that replaced them or the cancellation that ended
// the session is recorded as reason.
func (s *Store) CancelReminders(ctx context.Context, sessionID string, keep []string, reason string) (int, error) {
	if err := required("session id", sessionID); err != nil {
		return 0, err
	}
	query := `UPDATE reminders SET state = ?, reason = ?, updated_at = ? WHERE session_id = ? AND state = ?`
	args := []any{string(store.ReminderCancelled), reason, s.bindTime(s.nowUTC()), sessionID, string(store.ReminderScheduled)}
	if len(keep) > 0 {
		query += ` AND idempotency_key NOT IN (?` + strings.Repeat(`, ?`, len(keep)-1) + `)`
		for _, k := range keep {
			args = append(args, k)
		}
	}
	res, err := s.db.ExecContext(ctx, s.rebind(query), args...)
	if err != nil {
		return 0, fmt.Errorf("cancelling reminders of session %s: %w", sessionID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("cancelling reminders of session %s: %w", sessionID, err)
	}
	return int(n), nil
}

// ListReminders returns matching reminders, soonest first.
func (s *Store) ListReminders(ctx context.Context, f store.ReminderFilter) ([]store.Reminder, error) {
	var (
		where []string
		args  []any
	)
	if f.SessionID != "" {
		where, args = append(where, "session_id = ?"), append(args, f.SessionID)
	}
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, string(f.State))
	}
	if !f.FireAfter.IsZero() {
		where, args = append(where, "fire_at >= ?"), append(args, s.bindTime(f.FireAfter))
	}
	query := `SELECT ` + reminderColumns + ` FROM reminders`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	query += ` ORDER BY fire_at, offset_seconds DESC, idempotency_key LIMIT ?`
	args = append(args, limit)

	rows, err := s.read.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("listing reminders: %w", err)
	}
	defer rows.Close()
	var out []store.Reminder
	for rows.Next() {
		r, err := scanReminder(rows)
		if err != nil {
			return nil, fmt.Errorf("listing reminders: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing reminders: %w", err)
	}
	return out, nil
}

func scanReminder(row scanner) (store.Reminder, error) {
	var (
		r      store.Reminder
		offset int64
		state  string
	)
	err := row.Scan(&r.Key, &r.SessionID, &r.SessionVersion, &r.ClientID, &offset, &r.Channel,
		scanTime(&r.FireAt), scanTime(&r.NotAfter), &state, &r.Reason, scanTime(&r.CreatedAt), scanTime(&r.UpdatedAt))
	r.Offset = time.Duration(offset) * time.Second
	r.State = store.ReminderState(state)
	return r, err
}
