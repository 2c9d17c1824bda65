package consumers

import (
	"context"
	"fmt"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// ChooseChannel is the one rule for which channel a client-initiated
// purpose (encouragement, journal nudges, announcements) goes on: the
// client's preferred channel if it has consent for purpose and an address,
// else the other channel that has both. ok is false when neither has:
// the caller records vocab.SkipNoConsent (or vocab.SkipNoAddress when nothing has an
// address at all, so the ledger says what is missing).
func ChooseChannel(ctx context.Context, st store.Store, c store.Client, purpose vocab.Purpose) (ch vocab.Channel, ok bool, err error) {
	order := vocab.Channels()
	if c.PreferredChannel == vocab.Email {
		order = []vocab.Channel{vocab.Email, vocab.SMS}
	}
	for _, candidate := range order {
		if clientAddress(c, candidate) == "" {
			continue
		}
		consented, err := st.HasConsent(ctx, c.ID, candidate, purpose)
		if err != nil {
			return "", false, fmt.Errorf("checking %s consent of %s for %s: %w", candidate, c.ID, purpose, err)
		}
		if consented {
			return candidate, true, nil
		}
	}
	return "", false, nil
}

// NoChannelReason says why ChooseChannel found no channel for c.
func NoChannelReason(c store.Client) vocab.SkipReason {
	if c.Phone == "" && c.Email == "" {
		return vocab.SkipNoAddress
	}
	return vocab.SkipNoConsent
}

// clientAddress is the client's address on ch.
func clientAddress(c store.Client, ch vocab.Channel) string {
	switch ch {
	case vocab.SMS:
		return c.Phone
	case vocab.Email:
		return c.Email
	}
	return ""
}
