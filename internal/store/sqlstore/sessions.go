package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

const sessionColumns = `id, client_id, starts_at, duration_min, clinician_display_name, location_kind,
	status, version, cancel_reason, updated_at, created_at`

// ApplySessionBooked stores a new session at version 1. A booking for a
// session that exists changes nothing (ReasonNoChange): the booking system
// moves sessions with reschedule events, and a repeated booking must not
// reset a version that reminders were already keyed on.
func (s *Store) ApplySessionBooked(ctx context.Context, ev store.EventRef, sess store.Session) (store.Result, error) {
	if err := validSession(sess); err != nil {
		return store.Result{}, err
	}
	res, err := s.applyEvent(ctx, ev, func(tx *sql.Tx, at time.Time) (store.Result, error) {
		inserted, err := tx.ExecContext(ctx, s.rebind(`
			INSERT INTO sessions (`+sessionColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, '', ?, ?)
			ON CONFLICT (id) DO NOTHING`),
			sess.ID, sess.ClientID, s.bindTime(sess.StartsAt), sess.DurationMin, sess.ClinicianDisplayName,
			sess.LocationKind, string(store.SessionBooked), s.bindTime(at), s.bindTime(s.nowUTC()))
		if err != nil {
			return store.Result{}, err
		}
		if n, err := inserted.RowsAffected(); err != nil {
			return store.Result{}, err
		} else if n == 0 {
			return store.Result{Reason: store.ReasonNoChange}, nil
		}
		return store.Result{Applied: true}, nil
	})
	if err != nil {
		return store.Result{}, fmt.Errorf("applying booking %s of session %s: %w", ev.ID, sess.ID, err)
	}
	return res, nil
}

func validSession(sess store.Session) error {
	if err := required("session id", sess.ID, "client id", sess.ClientID); err != nil {
		return err
	}
	if sess.StartsAt.IsZero() {
		return invalid("session %s has no start time", sess.ID)
	}
	if sess.DurationMin < 0 {
		return invalid("session %s has negative duration %d", sess.ID, sess.DurationMin)
	}
	switch sess.LocationKind {
	case "", "in_person", "telehealth":
		return nil
	}
	return invalid("unknown location kind %q", sess.LocationKind)
}

// ApplySessionRescheduled moves a session and increments its version, so
// reminders keyed on the old version are recognisably stale. A reschedule
// to the time already stored is ReasonNoChange but still advances the
// session's event time: an older reschedule arriving later must not win.
func (s *Store) ApplySessionRescheduled(ctx context.Context, ev store.EventRef, sessionID string, startsAt time.Time) (store.Result, error) {
	if err := required("session id", sessionID); err != nil {
		return store.Result{}, err
	}
	if startsAt.IsZero() {
		return store.Result{}, invalid("reschedule of session %s has no start time", sessionID)
	}
	res, err := s.applyEvent(ctx, ev, func(tx *sql.Tx, at time.Time) (store.Result, error) {
		cur, err := s.lockSession(ctx, tx, sessionID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return store.Result{Reason: store.ReasonUnknownSession}, nil
		case err != nil:
			return store.Result{}, err
		case !at.After(cur.UpdatedAt):
			return store.Result{Reason: store.ReasonStale}, nil
		case cur.Status == store.SessionCancelled:
			return store.Result{Reason: store.ReasonCancelled}, nil
		case normTime(startsAt).Equal(cur.StartsAt):
			_, err := tx.ExecContext(ctx, s.rebind(`UPDATE sessions SET updated_at = ? WHERE id = ?`), s.bindTime(at), sessionID)
			return store.Result{Reason: store.ReasonNoChange}, err
		}
		_, err = tx.ExecContext(ctx, s.rebind(`
			UPDATE sessions SET starts_at = ?, version = version + 1, updated_at = ? WHERE id = ?`),
			s.bindTime(startsAt), s.bindTime(at), sessionID)
		return store.Result{Applied: true}, err
	})
	if err != nil {
		return store.Result{}, fmt.Errorf("applying reschedule %s of session %s: %w", ev.ID, sessionID, err)
	}
	return res, nil
}

// ApplySessionCancelled cancels a session. Cancellation is final: no later
// event brings the session back. It also wins over ordering: a cancel whose
// event time is older than the last reschedule still cancels, because
// sending a reminder for a session someone cancelled is the worse mistake
// ("never stale"). The stored event time never moves backwards.
func (s *Store) ApplySessionCancelled(ctx context.Context, ev store.EventRef, sessionID, reason string) (store.Result, error) {
	if err := required("session id", sessionID); err != nil {
		return store.Result{}, err
	}
	res, err := s.applyEvent(ctx, ev, func(tx *sql.Tx, at time.Time) (store.Result, error) {
		cur, err := s.lockSession(ctx, tx, sessionID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return store.Result{Reason: store.ReasonUnknownSession}, nil
		case err != nil:
			return store.Result{}, err
		case cur.Status == store.SessionCancelled:
			return store.Result{Reason: store.ReasonNoChange}, nil
		}
		if at.Before(cur.UpdatedAt) {
			at = cur.UpdatedAt
		}
		_, err = tx.ExecContext(ctx, s.rebind(`
			UPDATE sessions SET status = ?, cancel_reason = ?, updated_at = ? WHERE id = ?`),
			string(store.SessionCancelled), reason, s.bindTime(at), sessionID)
		return store.Result{Applied: true}, err
	})
	if err != nil {
		return store.Result{}, fmt.Errorf("applying cancellation %s of session %s: %w", ev.ID, sessionID, err)
	}
	return res, nil
}

// lockSession reads a session for update inside tx.
func (s *Store) lockSession(ctx context.Context, tx *sql.Tx, id string) (store.Session, error) {
	row := tx.QueryRowContext(ctx, s.rebind(`SELECT `+sessionColumns+` FROM sessions WHERE id = ?`+s.dialect.ForUpdate), id)
	return scanSession(row, id)
}

// GetSession returns the session or an error matching store.ErrNotFound.
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	row := s.read.QueryRowContext(ctx, s.rebind(`SELECT `+sessionColumns+` FROM sessions WHERE id = ?`), id)
	sess, err := scanSession(row, id)
	if err != nil {
		return store.Session{}, fmt.Errorf("getting session: %w", err)
	}
	return sess, nil
}

// UpcomingSessions returns the client's booked sessions starting after
// after, soonest first.
func (s *Store) UpcomingSessions(ctx context.Context, clientID string, after time.Time) ([]store.Session, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`
		SELECT `+sessionColumns+` FROM sessions
		WHERE client_id = ? AND status = ? AND starts_at > ?
		ORDER BY starts_at, id`),
		clientID, string(store.SessionBooked), s.bindTime(after))
	if err != nil {
		return nil, fmt.Errorf("listing upcoming sessions of %s: %w", clientID, err)
	}
	defer rows.Close()
	var out []store.Session
	for rows.Next() {
		sess, err := scanSession(rows, "")
		if err != nil {
			return nil, fmt.Errorf("listing upcoming sessions of %s: %w", clientID, err)
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing upcoming sessions of %s: %w", clientID, err)
	}
	return out, nil
}

// scanSession scans one row of sessionColumns; id names the session in a
// not-found error.
func scanSession(row scanner, id string) (store.Session, error) {
	var (
		sess   store.Session
		status string
	)
	err := row.Scan(&sess.ID, &sess.ClientID, scanTime(&sess.StartsAt), &sess.DurationMin, &sess.ClinicianDisplayName,
		&sess.LocationKind, &status, &sess.Version, &sess.CancelReason, scanTime(&sess.UpdatedAt), scanTime(&sess.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("session %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("scanning session: %w", err)
	}
	sess.Status = store.SessionStatus(status)
	return sess, nil
}
