package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// Suppress adds a suppression, or refreshes the reason of an existing one.
// It keeps the first CreatedAt: that is when the address was first blocked.
func (s *Store) Suppress(ctx context.Context, sup store.Suppression) error {
	addr, err := suppressionKey(sup.Channel, sup.Address)
	if err != nil {
		return err
	}
	created := sup.CreatedAt
	if created.IsZero() {
		created = s.nowUTC()
	}
	_, err = s.db.ExecContext(ctx, s.rebind(`
		INSERT INTO suppressions (channel, address, reason, created_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (channel, address) DO UPDATE SET reason = excluded.reason`),
		sup.Channel, addr, sup.Reason, s.bindTime(created))
	if err != nil {
		return fmt.Errorf("suppressing a %s address: %w", sup.Channel, err)
	}
	return nil
}

// Unsuppress removes a suppression; a missing one is not an error.
func (s *Store) Unsuppress(ctx context.Context, channel vocab.Channel, address string) error {
	addr, err := suppressionKey(channel, address)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.rebind(`DELETE FROM suppressions WHERE channel = ? AND address = ?`), channel, addr)
	if err != nil {
		return fmt.Errorf("unsuppressing a %s address: %w", channel, err)
	}
	return nil
}

// IsSuppressed reports whether the address is blocked on the channel.
func (s *Store) IsSuppressed(ctx context.Context, channel vocab.Channel, address string) (bool, error) {
	addr, err := suppressionKey(channel, address)
	if err != nil {
		return false, err
	}
	if sup, known := store.SnapshotIn(ctx).SuppressedAt(channel, addr); known {
		return sup, nil
	}
	var n int
	err = s.read.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM suppressions WHERE channel = ? AND address = ?`),
		channel, addr).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("checking suppression of a %s address: %w", channel, err)
	}
	return n > 0, nil
}

// suppressionKey validates and normalises an address. Email addresses are
// compared case-insensitively: SendGrid reports "Ana@Example.com" for a
// message sent to "ana@example.com", and the block must still hold. Errors
// never echo the address (logs must not carry contact details).
func suppressionKey(channel vocab.Channel, address string) (string, error) {
	if err := validChannel(channel); err != nil {
		return "", err
	}
	address = strings.TrimSpace(address)
	if address == "" {
		return "", invalid("suppression address is empty")
	}
	if channel == vocab.Email {
		address = strings.ToLower(address)
	}
	return address, nil
}
