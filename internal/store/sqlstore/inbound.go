package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

const inboundColumns = `id, channel, from_addr, to_addr, body, kind, client_id, received_at, processed_at,
	needs_staff, handled, handled_by, handled_at`

// RecordInbound stores an inbound message once. The primary key on the
// provider's message id, not a read-then-write check, decides which of two
// concurrent deliveries of the same webhook stores it.
func (s *Store) RecordInbound(ctx context.Context, m store.InboundMessage) (bool, error) {
	if err := required("inbound message id", m.ID, "sender", m.From); err != nil {
		return false, err
	}
	if err := validChannel(m.Channel); err != nil {
		return false, err
	}
	received := m.ReceivedAt
	if received.IsZero() {
		received = s.nowUTC()
	}
	inserted, err := s.db.ExecContext(ctx, s.rebind(`
		INSERT INTO inbound_messages (id, channel, from_addr, to_addr, body, kind, client_id, received_at, needs_staff)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`),
		m.ID, m.Channel, m.From, m.To, m.Body, m.Kind, sql.NullString{String: m.ClientID, Valid: m.ClientID != ""},
		s.bindTime(received), m.NeedsStaff)
	if err != nil {
		return false, fmt.Errorf("recording inbound message %s: %w", m.ID, err)
	}
	n, err := inserted.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("recording inbound message %s: %w", m.ID, err)
	}
	return n == 1, nil
}

// FinishInbound sets ProcessedAt unless it is set already.
func (s *Store) FinishInbound(ctx context.Context, id string) error {
	if err := required("inbound message id", id); err != nil {
		return err
	}
	updated, err := s.db.ExecContext(ctx, s.rebind(`
		UPDATE inbound_messages SET processed_at = COALESCE(processed_at, ?) WHERE id = ?`),
		s.bindTime(s.nowUTC()), id)
	if err != nil {
		return fmt.Errorf("finishing inbound message %s: %w", id, err)
	}
	if n, err := updated.RowsAffected(); err != nil {
		return fmt.Errorf("finishing inbound message %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("finishing inbound message %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// GetInbound returns the message or an error matching store.ErrNotFound.
func (s *Store) GetInbound(ctx context.Context, id string) (store.InboundMessage, error) {
	return s.inboundBy(ctx, s.read, id, "")
}

func (s *Store) inboundBy(ctx context.Context, q querier, id, suffix string) (store.InboundMessage, error) {
	row := q.QueryRowContext(ctx, s.rebind(`SELECT `+inboundColumns+` FROM inbound_messages WHERE id = ?`+suffix), id)
	m, err := scanInbound(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.InboundMessage{}, fmt.Errorf("getting inbound message %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.InboundMessage{}, fmt.Errorf("getting inbound message %q: %w", id, err)
	}
	return m, nil
}

// ListInbox returns matching messages, newest first by ReceivedAt.
func (s *Store) ListInbox(ctx context.Context, f store.InboxFilter) ([]store.InboundMessage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	// Open crisis messages come first, whatever else arrived since: a
	// thousand ordinary texts must not push one off the first page
	// (invariant 9 in docs/invariants.md). Two queries keep each on its index.
	const openCrisis = `kind = 'crisis' AND needs_staff AND NOT handled`
	out, err := s.listInbound(ctx, `WHERE `+openCrisis, limit)
	if err != nil {
		return nil, err
	}
	where := `WHERE NOT (` + openCrisis + `)`
	if f.NeedsStaff {
		// Written as the partial index inbound_messages_open is, so it is used.
		where = `WHERE needs_staff AND NOT handled AND kind <> 'crisis'`
	}
	if rest := limit - len(out); rest > 0 {
		more, err := s.listInbound(ctx, where, rest)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// listInbound returns up to limit messages matching where, newest first.
func (s *Store) listInbound(ctx context.Context, where string, limit int) ([]store.InboundMessage, error) {
	query := `SELECT ` + inboundColumns + ` FROM inbound_messages ` + where + ` ORDER BY received_at DESC, seq DESC LIMIT ?`
	rows, err := s.read.QueryContext(ctx, s.rebind(query), limit)
	if err != nil {
		return nil, fmt.Errorf("listing inbox: %w", err)
	}
	defer rows.Close()
	var out []store.InboundMessage
	for rows.Next() {
		m, err := scanInbound(rows)
		if err != nil {
			return nil, fmt.Errorf("listing inbox: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing inbox: %w", err)
	}
	return out, nil
}

// ResolveInbound marks the message handled and audits it in the same
// transaction, so the inbox and the audit log never disagree.
func (s *Store) ResolveInbound(ctx context.Context, id, staff string) (store.InboundMessage, error) {
	if err := required("inbound message id", id, "staff", staff); err != nil {
		return store.InboundMessage{}, err
	}
	var out store.InboundMessage
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.inboundBy(ctx, tx, id, s.dialect.ForUpdate)
		if err != nil {
			return err
		}
		if cur.Handled {
			out = cur
			return nil
		}
		now := s.nowUTC()
		_, err = tx.ExecContext(ctx, s.rebind(`
			UPDATE inbound_messages SET handled = ?, handled_by = ?, handled_at = ? WHERE id = ?`),
			true, staff, s.bindTime(now), id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.rebind(`
			INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)`),
			s.bindTime(now), staff, "inbox.resolved", id, "")
		if err != nil {
			return err
		}
		cur.Handled, cur.HandledBy, cur.HandledAt = true, staff, now
		out = cur
		return nil
	})
	if err != nil {
		return store.InboundMessage{}, fmt.Errorf("resolving inbound message %s: %w", id, err)
	}
	return out, nil
}

func scanInbound(row scanner) (store.InboundMessage, error) {
	var (
		m        store.InboundMessage
		clientID sql.NullString
	)
	err := row.Scan(&m.ID, &m.Channel, &m.From, &m.To, &m.Body, &m.Kind, &clientID, scanTime(&m.ReceivedAt),
		scanTime(&m.ProcessedAt), &m.NeedsStaff, &m.Handled, &m.HandledBy, scanTime(&m.HandledAt))
	m.ClientID = clientID.String
	return m, err
}

// RecordProviderEvent records an applied provider event once.
func (s *Store) RecordProviderEvent(ctx context.Context, e store.ProviderEvent) (bool, error) {
	if err := required("provider", e.Provider, "provider event id", e.EventID); err != nil {
		return false, err
	}
	at := e.RecordedAt
	if at.IsZero() {
		at = s.nowUTC()
	}
	inserted, err := s.db.ExecContext(ctx, s.rebind(`
		INSERT INTO provider_events (provider, event_id, outcome, recorded_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (provider, event_id) DO NOTHING`),
		e.Provider, e.EventID, e.Outcome, s.bindTime(at))
	if err != nil {
		return false, fmt.Errorf("recording %s event %s: %w", e.Provider, e.EventID, err)
	}
	n, err := inserted.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("recording %s event %s: %w", e.Provider, e.EventID, err)
	}
	return n == 1, nil
}

// GetProviderEvent returns the record or an error matching store.ErrNotFound.
func (s *Store) GetProviderEvent(ctx context.Context, provider, eventID string) (store.ProviderEvent, error) {
	var e store.ProviderEvent
	err := s.read.QueryRowContext(ctx, s.rebind(`
		SELECT provider, event_id, outcome, recorded_at FROM provider_events WHERE provider = ? AND event_id = ?`),
		provider, eventID).Scan(&e.Provider, &e.EventID, &e.Outcome, scanTime(&e.RecordedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return store.ProviderEvent{}, fmt.Errorf("getting %s event %q: %w", provider, eventID, store.ErrNotFound)
	}
	if err != nil {
		return store.ProviderEvent{}, fmt.Errorf("getting %s event %q: %w", provider, eventID, err)
	}
	return e, nil
}

// ClientsByAddress finds the clients an inbound message or a provider
// event is about. Email is compared with the database's lower() on both
// sides, matching the clients_email index.
func (s *Store) ClientsByAddress(ctx context.Context, channel vocab.Channel, address string) ([]store.Client, error) {
	if err := validChannel(channel); err != nil {
		return nil, err
	}
	if address == "" {
		return nil, invalid("address is empty")
	}
	where := `phone = ? AND phone <> ''`
	if channel == vocab.Email {
		where = `lower(email) = lower(?) AND email <> ''`
	}
	rows, err := s.read.QueryContext(ctx, s.rebind(`
		SELECT id, first_name, timezone, phone, email, locale, preferred_channel, updated_at, created_at
		FROM clients WHERE `+where+` ORDER BY id`), address)
	if err != nil {
		return nil, fmt.Errorf("finding clients by %s address: %w", channel, err)
	}
	defer rows.Close()
	var out []store.Client
	for rows.Next() {
		var c store.Client
		err := rows.Scan(&c.ID, &c.FirstName, &c.Timezone, &c.Phone, &c.Email, &c.Locale, &c.PreferredChannel,
			scanTime(&c.UpdatedAt), scanTime(&c.CreatedAt))
		if err != nil {
			return nil, fmt.Errorf("finding clients by %s address: %w", channel, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding clients by %s address: %w", channel, err)
	}
	return out, nil
}
