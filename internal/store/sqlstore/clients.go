package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// ApplyClientUpsert creates or updates a client in one conditional upsert:
// the row changes only when the event is newer than the one that last
// changed it, which also settles two concurrent upserts correctly.
func (s *Store) ApplyClientUpsert(ctx context.Context, ev store.EventRef, c store.Client) (store.Result, error) {
	if err := required("client id", c.ID, "first name", c.FirstName, "timezone", c.Timezone); err != nil {
		return store.Result{}, err
	}
	if c.PreferredChannel != "" {
		if err := validChannel(c.PreferredChannel); err != nil {
			return store.Result{}, err
		}
	}
	res, err := s.applyEvent(ctx, ev, func(tx *sql.Tx, at time.Time) (store.Result, error) {
		if err := s.lockClient(ctx, tx, c.ID); err != nil {
			return store.Result{}, err
		}
		var oldPhone, oldEmail string
		err := tx.QueryRowContext(ctx, s.rebind(`SELECT phone, email FROM clients WHERE id = ?`+s.dialect.ForUpdate), c.ID).
			Scan(&oldPhone, &oldEmail)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return store.Result{}, err
		}
		upserted, err := tx.ExecContext(ctx, s.rebind(`
			INSERT INTO clients (id, first_name, timezone, phone, email, locale, preferred_channel, updated_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET
				first_name = excluded.first_name,
				timezone = excluded.timezone,
				phone = excluded.phone,
				email = excluded.email,
				locale = excluded.locale,
				preferred_channel = excluded.preferred_channel,
				updated_at = excluded.updated_at
			WHERE clients.updated_at < excluded.updated_at`),
			c.ID, c.FirstName, c.Timezone, c.Phone, c.Email, c.Locale, c.PreferredChannel, s.bindTime(at), s.bindTime(s.nowUTC()))
		if err != nil {
			return store.Result{}, err
		}
		n, err := upserted.RowsAffected()
		if err != nil {
			return store.Result{}, err
		}
		if n == 0 {
			return store.Result{Reason: store.ReasonStale}, nil
		}
		// Consent recorded before the client had an address on a channel
		// belongs to the first address it gets there; a changed address
		// gets none (invariant 1 in docs/invariants.md).
		for ch, addr := range map[vocab.Channel][2]string{vocab.SMS: {oldPhone, c.Phone}, vocab.Email: {oldEmail, c.Email}} {
			if addr[0] == "" && addr[1] != "" {
				if err := s.bindConsent(ctx, tx, c.ID, ch, addr[1], ev.ID); err != nil {
					return store.Result{}, err
				}
			}
		}
		return store.Result{Applied: true}, nil
	})
	if err != nil {
		return store.Result{}, fmt.Errorf("applying client upsert %s for %s: %w", ev.ID, c.ID, err)
	}
	return res, nil
}

// GetClient returns the client or an error matching store.ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	if snap := s.fromSnapshot(ctx, s.read, id); snap != nil {
		return snap.Client, nil
	}
	var c store.Client
	err := s.read.QueryRowContext(ctx, s.rebind(`
		SELECT id, first_name, timezone, phone, email, locale, preferred_channel, updated_at, created_at
		FROM clients WHERE id = ?`), id).
		Scan(&c.ID, &c.FirstName, &c.Timezone, &c.Phone, &c.Email, &c.Locale, &c.PreferredChannel,
			scanTime(&c.UpdatedAt), scanTime(&c.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Client{}, fmt.Errorf("getting client %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Client{}, fmt.Errorf("getting client %q: %w", id, err)
	}
	return c, nil
}
