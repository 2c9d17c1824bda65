package store

import (
	"context"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

// ConsentAddresses answers consent questions for one address: consent is
// given for a phone number or an email address, not for a client at large
// (invariant 1 in docs/invariants.md).
type ConsentAddresses interface {
	// HasConsentAt reports whether consent for the triple is active for
	// address (a phone in E.164, an email in any case).
	HasConsentAt(ctx context.Context, clientID string, channel vocab.Channel, purpose vocab.Purpose, address string) (bool, error)
}

// NormalizeAddress is the form addresses are stored and compared in: email
// addresses in lower case, phone numbers as given (E.164).
func NormalizeAddress(ch vocab.Channel, address string) string {
	address = strings.TrimSpace(address)
	if ch == vocab.Email {
		return strings.ToLower(address)
	}
	return address
}

// CurrentConsent is the one rule that turns the consent ledger into the
// current state for a channel, purpose and address. ledger must be in the
// order the entries were recorded (ConsentLedger's order).
//
//   - Only entries for the channel and purpose count; of those, grants for
//     address and revocations for address or for no address (a revocation
//     without an address holds for every address).
//   - A revocation always takes effect, whatever its OccurredAt: it is never
//     dropped as stale, even behind a grant dated in the future.
//   - A grant activates consent only if it happened no earlier than every
//     revocation recorded before it: a grant older than the latest
//     revocation is kept for the record and changes nothing.
//
// ok is false when no entry counts. An address of "" selects the grants
// recorded before the client had an address (not yet bound).
func CurrentConsent(ledger []ConsentEntry, channel vocab.Channel, purpose vocab.Purpose, address string) (state ConsentState, ok bool) {
	address = NormalizeAddress(channel, address)
	state = ConsentState{Channel: channel, Purpose: purpose, Address: address}
	var latestRevocation time.Time
	for _, e := range ledger {
		if e.Channel != channel || e.Purpose != purpose {
			continue
		}
		addr := NormalizeAddress(channel, e.Address)
		switch e.Action {
		case ConsentRevoked:
			if addr != "" && addr != address {
				continue
			}
			if e.OccurredAt.After(latestRevocation) {
				latestRevocation = e.OccurredAt
			}
			state.Active = false
		case ConsentGranted:
			if addr != address || e.OccurredAt.Before(latestRevocation) {
				continue // another address, or older than a revocation: recorded, changes nothing
			}
			state.Active = true
		default:
			continue
		}
		ok = true
		state.Source, state.WordingVersion, state.Since = e.Source, e.WordingVersion, e.OccurredAt
	}
	return state, ok
}
