// Package vocab is nudge's vocabulary, typed and defined once: the channels
// a message travels on, the purposes a client consents to, and the reasons a
// notification is skipped. Every other package uses these types instead of
// re-typing the strings, so a typo is a compile error and a new word is added
// in one place. (NATS subject names have their own one place: package
// subject.)
package vocab

import (
	"strings"
	"time"
)

// Channel is how a message reaches a client.
type Channel string

const (
	SMS   Channel = "sms"   // Twilio
	Email Channel = "email" // SendGrid
)

// Channels returns every channel, in a stable order.
func Channels() []Channel { return []Channel{SMS, Email} }

// Valid reports whether c is a channel nudge sends on.
func (c Channel) Valid() bool { return c == SMS || c == Email }

// Purpose is what a message is for. Consent is given per channel and
// purpose; Replies need none (they answer the client's own message).
type Purpose string

const (
	Reminders     Purpose = "reminders"
	Encouragement Purpose = "encouragement"
	Journal       Purpose = "journal"
	Announcements Purpose = "announcements"
	// Replies are transactional answers to a client's own inbound message
	// (HELP, the one STOP confirmation, crisis help, C/R
	// acknowledgements). They need no marketing consent; they still respect
	// an opt-out, except the opt-out confirmation itself and crisis help,
	// which always go.
	Replies Purpose = "replies"
)

// ConsentPurposes returns the purposes a client consents to (every purpose
// but Replies), in a stable order.
func ConsentPurposes() []Purpose {
	return []Purpose{Reminders, Encouragement, Journal, Announcements}
}

// Consentable reports whether p is a purpose consent is recorded for.
func (p Purpose) Consentable() bool {
	switch p {
	case Reminders, Encouragement, Journal, Announcements:
		return true
	}
	return false
}

// Valid reports whether p is any purpose nudge knows, Replies included.
func (p Purpose) Valid() bool { return p.Consentable() || p == Replies }

// SkipReason is why the deliverer decided against a notification for good;
// it is stored as the Reason of a skipped row in the deliveries ledger.
// (Why a reminder was placed where it was, or skipped when it was
// scheduled, is package quiethours' word: its Placement reasons.)
type SkipReason string

const (
	SkipExpired        SkipReason = "expired"         // past its NotAfter
	SkipNoConsent      SkipReason = "no_consent"      // no active consent for client, channel, purpose and address
	SkipOptedOut       SkipReason = "opted_out"       // a reply to someone who opted out on the channel
	SkipSuppressed     SkipReason = "suppressed"      // carrier opt-out, bounce or spam report on the address
	SkipNoAddress      SkipReason = "no_address"      // the client has no phone or email for the channel
	SkipUnknownClient  SkipReason = "unknown_client"  // the notification names a client nudge does not know
	SkipCancelled      SkipReason = "cancelled"       // the session was cancelled
	SkipMoved          SkipReason = "moved"           // the session was rescheduled (other version)
	SkipStarted        SkipReason = "session_started" // the session has started
	SkipUnknownSession SkipReason = "unknown_session" // the session is not in the store
	SkipCarePaused     SkipReason = "care_paused"     // staff paused messages to the client (client.care_paused)
	// SkipAnnouncementCancelled: staff cancelled the announcement before
	// this recipient's message went out.
	SkipAnnouncementCancelled SkipReason = "announcement_cancelled"
)

// OffsetLabel writes a reminder offset the short way people do: 48h, 2h,
// 1h30m, 90s is 1m30s. It is part of reminder keys and schedule subjects:
// a valid subject token and a valid Go duration.
func OffsetLabel(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
