package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

const optInColumns = `message_id, client_id, address, keyword, wording_version, requested_at, confirmed_by, confirmed_at`

// RecordOptInRequest stores a keyword request once.
func (s *Store) RecordOptInRequest(ctx context.Context, r store.OptInRequest) (bool, error) {
	if err := required("message id", r.MessageID, "client id", r.ClientID, "address", r.Address, "keyword", r.Keyword); err != nil {
		return false, err
	}
	if r.RequestedAt.IsZero() {
		r.RequestedAt = s.nowUTC()
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`
		INSERT INTO optin_requests (`+optInColumns+`) VALUES (?, ?, ?, ?, ?, ?, '', NULL)
		ON CONFLICT (message_id, client_id) DO NOTHING`),
		r.MessageID, r.ClientID, r.Address, r.Keyword, r.WordingVersion, s.bindTime(r.RequestedAt))
	if err != nil {
		return false, fmt.Errorf("recording opt-in request %s: %w", r.MessageID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("recording opt-in request %s: %w", r.MessageID, err)
	}
	return n > 0, nil
}

// OptInRequestsAt lists the address's requests since a time, newest first.
func (s *Store) OptInRequestsAt(ctx context.Context, address string, since time.Time) ([]store.OptInRequest, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`
		SELECT `+optInColumns+` FROM optin_requests WHERE address = ? AND requested_at >= ?
		ORDER BY requested_at DESC, message_id, client_id`), address, s.bindTime(since))
	if err != nil {
		return nil, fmt.Errorf("listing opt-in requests: %w", err)
	}
	defer rows.Close()
	var out []store.OptInRequest
	for rows.Next() {
		var r store.OptInRequest
		if err := rows.Scan(&r.MessageID, &r.ClientID, &r.Address, &r.Keyword, &r.WordingVersion,
			scanTime(&r.RequestedAt), &r.ConfirmedBy, scanTime(&r.ConfirmedAt)); err != nil {
			return nil, fmt.Errorf("listing opt-in requests: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing opt-in requests: %w", err)
	}
	return out, nil
}

// ConfirmOptInRequest confirms a pending request once.
func (s *Store) ConfirmOptInRequest(ctx context.Context, messageID, clientID, confirmedBy string, at time.Time) (bool, error) {
	if err := required("message id", messageID, "client id", clientID, "confirmed by", confirmedBy); err != nil {
		return false, err
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`
		UPDATE optin_requests SET confirmed_by = ?, confirmed_at = ?
		WHERE message_id = ? AND client_id = ? AND confirmed_by = ''`),
		confirmedBy, s.bindTime(at), messageID, clientID)
	if err != nil {
		return false, fmt.Errorf("confirming opt-in request %s: %w", messageID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("confirming opt-in request %s: %w", messageID, err)
	}
	return n > 0, nil
}
