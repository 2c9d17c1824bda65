package webhook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// purposes are every purpose consent is given for: an opt-out revokes them
// all on its channel.
var purposes = vocab.ConsentPurposes()

// Source of consent entries and suppressions recorded here.
const sourceTwilio21610 = "twilio:21610"

// consentEventID is the ledger event id for a change caused by cause (an
// inbound MessageSid, a SendGrid event id) to one client. The ledger is
// unique on (event id, channel, purpose), so replaying the cause appends
// nothing; the client id keeps the clients of one family phone apart.
func consentEventID(cause, clientID string) string { return cause + ":" + clientID }

// revokeAll appends a revocation of every purpose on channel. Replays of
// the same cause append nothing.
func (h *Handler) revokeAll(ctx context.Context, clientID string, channel vocab.Channel, source, cause string, at time.Time) error {
	for _, p := range purposes {
		_, err := h.cfg.Store.AppendConsent(ctx, store.EventRef{}, store.ConsentEntry{
			ClientID: clientID, Channel: channel, Purpose: p, Action: store.ConsentRevoked,
			Source: source, EventID: consentEventID(cause, clientID), OccurredAt: at,
		})
		if err != nil {
			return fmt.Errorf("revoking %s consent (%s): %w", channel, source, err)
		}
	}
	return nil
}

// keywordRevoke reports whether e is an SMS opt-out the client made
// themselves: a keyword nudge received ("sms:STOP") or one Twilio received
// first and reported as error 21610 on the next send. START undoes exactly
// these, never a revocation staff or the booking system recorded.
func keywordRevoke(e store.ConsentEntry) bool {
	return e.Action == store.ConsentRevoked && (strings.HasPrefix(e.Source, "sms:") || e.Source == sourceTwilio21610)
}

// regrant restores the SMS consent a client had before they texted STOP:
// for each purpose whose current entry is a keyword revocation, it looks
// back past the keyword revocations and re-grants (with the original
// wording version) only if the client had granted that purpose. A STOP
// revokes every purpose, so a plain "re-grant what STOP revoked" would
// grant purposes the client never agreed to (invariant 1).
func (h *Handler) regrant(ctx context.Context, clientID, source, cause string, at time.Time) error {
	ledger, err := h.cfg.Store.ConsentLedger(ctx, clientID)
	if err != nil {
		return fmt.Errorf("reading consent ledger: %w", err)
	}
	byPurpose := map[vocab.Purpose][]store.ConsentEntry{}
	for _, e := range ledger { // oldest first, in the order that decides the current state
		if e.Channel == vocab.SMS {
			byPurpose[e.Purpose] = append(byPurpose[e.Purpose], e)
		}
	}
	for _, p := range purposes {
		entries := byPurpose[p]
		i := len(entries) - 1
		if i < 0 || !keywordRevoke(entries[i]) {
			continue
		}
		for i >= 0 && keywordRevoke(entries[i]) {
			i--
		}
		if i < 0 || entries[i].Action != store.ConsentGranted {
			continue
		}
		_, err := h.cfg.Store.AppendConsent(ctx, store.EventRef{}, store.ConsentEntry{
			ClientID: clientID, Channel: vocab.SMS, Purpose: p, Action: store.ConsentGranted,
			Source: source, WordingVersion: entries[i].WordingVersion,
			EventID: consentEventID(cause, clientID), OccurredAt: at,
		})
		if err != nil {
			return fmt.Errorf("re-granting sms consent (%s): %w", source, err)
		}
	}
	return nil
}

// clientIDs returns the ids of the clients at address on channel, with
// first (the client a delivery was for) in front when it is not empty.
func (h *Handler) clientIDs(ctx context.Context, channel vocab.Channel, address, first string) ([]string, error) {
	var ids []string
	if first != "" {
		ids = append(ids, first)
	}
	if address == "" {
		return ids, nil
	}
	clients, err := h.cfg.Store.ClientsByAddress(ctx, channel, address)
	if err != nil {
		return nil, fmt.Errorf("finding clients by address: %w", err)
	}
	for _, c := range clients {
		if c.ID != first {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}
