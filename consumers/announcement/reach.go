// Package announcement fans a staff announcement out to a support group.
//
// The path, in three files:
//
//  1. reach.go decides, per member, whether an announcement reaches them
//     and on which channel, or why not (Decide). The fan-out, the preview
//     (POST /v1/announcements/preview) and the group page
//     (GET /v1/groups/{id}) all call it, so what staff are shown is what
//     is sent.
//  2. plan.go handles announcement.requested: it records the announcement
//     once (its id is the idempotency key), refuses a body the lint
//     rejects unless an admin overrode it, and records every member's
//     decision in the store in batches: the durable fan-out plan. A crash
//     resumes after the last member recorded; a member is recorded once.
//  3. feed.go queues the plan's notifications onto NUDGE_NOTIFY a window
//     at a time, as the deliverer sends them, so an announcement to
//     thousands never sits in front of reminders and replies; it settles
//     each recipient from the deliveries ledger and completes the
//     announcement. A notification is queued before its recipient is
//     marked queued, so a crash between the two re-queues it under the
//     same key, which the ledger sends at most once.
//
// Each recipient's notification is keyed announcement:<id>:<client>:<channel>
// and passes every deliverer check (consent, suppression, quiet hours,
// cadence, and the announcement not being cancelled).
package announcement

import (
	"context"
	"slices"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// Reach is what an announcement would do for one member: reach them on
// Channel, or not, for Reason.
type Reach struct {
	ClientID  string           `json:"client_id"`
	FirstName string           `json:"first_name,omitempty"`
	Reachable bool             `json:"reachable"`
	Channel   vocab.Channel    `json:"channel,omitempty"`
	Reason    vocab.SkipReason `json:"reason,omitempty"`
}

// reasonRank orders why a member is unreachable when every channel fails
// for a different reason: the strongest statement wins ("opted out" says
// more than "no address on email").
var reasonRank = []vocab.SkipReason{vocab.SkipOptedOut, vocab.SkipSuppressed, vocab.SkipNoConsent, vocab.SkipNoAddress}

// Decide says whether an announcement restricted to channels (empty: any)
// reaches m at now. The channel is chosen as consumers.ChooseChannel
// chooses for every client-initiated purpose (the preferred channel, else
// the other, each needing an address and active consent for
// announcements), within the announcement's channels; a suppressed
// address does not count either. A care pause in force excludes the
// member (announcements are non-essential).
func Decide(m store.AudienceMember, channels []vocab.Channel, now time.Time) Reach {
	r := Reach{ClientID: m.ClientID, FirstName: m.Client.FirstName}
	switch {
	case !m.Known:
		r.Reason = vocab.SkipUnknownClient
		return r
	case m.CarePause != nil && m.CarePause.InForce(now):
		r.Reason = vocab.SkipCarePaused
		return r
	}
	best := len(reasonRank)
	for _, ch := range channelOrder(m.Client.PreferredChannel, channels) {
		reason := channelReason(m, ch)
		if reason == "" {
			r.Reachable, r.Channel = true, ch
			return r
		}
		if rank := slices.Index(reasonRank, reason); rank >= 0 && rank < best {
			best = rank
		}
	}
	r.Reason = vocab.SkipNoAddress
	if best < len(reasonRank) {
		r.Reason = reasonRank[best]
	}
	return r
}

// channelReason is why ch cannot reach m, or "".
func channelReason(m store.AudienceMember, ch vocab.Channel) vocab.SkipReason {
	addr := m.Client.Phone
	if ch == vocab.Email {
		addr = m.Client.Email
	}
	consent, seen := m.Consent[ch]
	switch {
	case addr == "":
		return vocab.SkipNoAddress
	case !seen:
		return vocab.SkipNoConsent
	case !consent.Active:
		return vocab.SkipOptedOut
	case m.Suppressed[ch]:
		return vocab.SkipSuppressed
	}
	return ""
}

// channelOrder is ChooseChannel's order (email first only when preferred)
// restricted to the announcement's channels.
func channelOrder(preferred vocab.Channel, allowed []vocab.Channel) []vocab.Channel {
	order := vocab.Channels()
	if preferred == vocab.Email {
		order = []vocab.Channel{vocab.Email, vocab.SMS}
	}
	if len(allowed) == 0 {
		return order
	}
	return slices.DeleteFunc(order, func(ch vocab.Channel) bool { return !slices.Contains(allowed, ch) })
}

// Audience decides reachability for many members at once: one store read
// per batch, then Decide per member.
type Audience struct {
	Store store.Store
	Now   func() time.Time
}

// Reach decides for each client id, in order.
func (a Audience) Reach(ctx context.Context, clientIDs []string, channels []vocab.Channel) ([]Reach, error) {
	members, err := a.Store.Audience(ctx, clientIDs, vocab.Announcements)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	out := make([]Reach, len(members))
	for i, m := range members {
		out[i] = Decide(m, channels, now)
	}
	return out, nil
}

// Key is the idempotency key of one recipient's notification.
func Key(announcementID, clientID string, channel vocab.Channel) string {
	return "announcement:" + announcementID + ":" + clientID + ":" + string(channel)
}
