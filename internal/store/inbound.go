package store

import (
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

// InboundMessage is one message a client sent to nudge (an SMS reply), kept
// for the staff inbox. It is the only place nudge keeps message text from
// clients: events and logs carry ids, never the body.
type InboundMessage struct {
	// ID is the provider's message id (Twilio MessageSid). It is unique:
	// recording the same message again changes nothing, which is what makes
	// the inbound webhook safe to retry.
	ID      string
	Channel vocab.Channel
	From    string // the sender's address (E.164 phone number)
	To      string // the practice's number it was sent to
	Body    string
	// Kind is what nudge made of Body: keyword.Kind names such as
	// "opt_out", "crisis", "confirm" or "unknown".
	Kind string
	// ClientID is the first client whose address is From, or "" for a
	// sender nudge does not know. Several clients may share a family phone.
	ClientID   string
	ReceivedAt time.Time
	// ProcessedAt is when nudge finished acting on the message (replies
	// queued, consent recorded, events emitted). Zero means an attempt
	// stopped midway; a retry of the webhook finishes it.
	ProcessedAt time.Time
	// NeedsStaff puts the message in the staff inbox: nudge could not
	// answer it by itself (free text, crisis language, a C without a
	// session).
	NeedsStaff bool
	// Handled is set when a staff member resolved the message.
	Handled   bool
	HandledBy string
	HandledAt time.Time
}

// InboxFilter selects inbound messages: open crisis messages first, then
// the rest, newest first.
type InboxFilter struct {
	// NeedsStaff selects only the open inbox: messages that need a person
	// and that nobody has resolved yet. False selects every message.
	NeedsStaff bool
	Limit      int // 0 means 100
}

// ProviderEvent records a provider webhook event (a SendGrid sg_event_id)
// that nudge has applied, so a replay of it changes nothing.
type ProviderEvent struct {
	Provider   string // "sendgrid"
	EventID    string // the provider's id of the event
	Outcome    string // what applying it did, for people reading the table
	RecordedAt time.Time
}
