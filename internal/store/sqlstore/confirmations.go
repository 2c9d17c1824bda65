package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/nudgehq/nudge/internal/store"
)

// RecordSessionConfirmation keeps the newest reply per session.
func (s *Store) RecordSessionConfirmation(ctx context.Context, c store.SessionConfirmation) (bool, error) {
	if err := required("session id", c.SessionID); err != nil {
		return false, err
	}
	if c.State != store.ConfirmationConfirmed && c.State != store.ConfirmationRescheduleRequested {
		return false, invalid("unknown confirmation state %q", c.State)
	}
	if c.At.IsZero() {
		return false, invalid("confirmation of %s has no time", c.SessionID)
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`
		INSERT INTO session_confirmations (session_id, state, at, message_id) VALUES (?, ?, ?, ?)
		ON CONFLICT (session_id) DO UPDATE SET state = excluded.state, at = excluded.at, message_id = excluded.message_id
		WHERE session_confirmations.at <= excluded.at`),
		c.SessionID, c.State, s.bindTime(c.At), c.MessageID)
	if err != nil {
		return false, fmt.Errorf("recording the confirmation of %s: %w", c.SessionID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("recording the confirmation of %s: %w", c.SessionID, err)
	}
	return n > 0, nil
}

// GetSessionConfirmation returns the session's latest answer.
func (s *Store) GetSessionConfirmation(ctx context.Context, sessionID string) (store.SessionConfirmation, error) {
	var c store.SessionConfirmation
	err := s.read.QueryRowContext(ctx, s.rebind(`SELECT session_id, state, at, message_id FROM session_confirmations WHERE session_id = ?`), sessionID).
		Scan(&c.SessionID, &c.State, scanTime(&c.At), &c.MessageID)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("getting the confirmation of %q: %w", sessionID, store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("getting the confirmation of %q: %w", sessionID, err)
	}
	return c, nil
}
