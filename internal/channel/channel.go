package channel

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

// Sender sends one message on one channel. Send must be safe for concurrent
// use.
type Sender interface {
	// Channel returns vocab.SMS or vocab.Email.
	Channel() vocab.Channel
	// Send hands m to the provider. A nil error means the provider accepted
	// it; every failure is a *ProviderError (see Classify).
	Send(ctx context.Context, m Message) (Receipt, error)
	// Lookup finds a message previously sent for m.DeliveryID (crash
	// reconciliation). found is false when the provider has none. since
	// should be when the first attempt for this delivery began: a message
	// that attempt sent must still be found when a later attempt asks.
	Lookup(ctx context.Context, m Message, since time.Time) (r Receipt, found bool, err error)
}

// Message is one notification for one recipient, already rendered.
type Message struct {
	// DeliveryID is nudge's opaque id for this delivery. It is the only
	// identifier that travels to the provider (SendGrid custom_args, the
	// Twilio status callback URL): never a client id, name or session.
	// (With tracing on, the send's W3C traceparent goes along the same way:
	// random trace and span ids.)
	DeliveryID string
	To         string // E.164 phone number (SMS) or email address
	Subject    string // email only
	Text       string // SMS body; email text/plain part
	HTML       string // email text/html part (optional)
	// Headers are extra email headers, e.g. List-Unsubscribe and
	// List-Unsubscribe-Post (RFC 8058) on every non-transactional email.
	// Email only; names must not be ones the provider sets itself.
	Headers map[string]string
}

// Receipt is the provider's acknowledgement of a message.
type Receipt struct {
	// ProviderID is the Twilio message SID or the SendGrid X-Message-Id.
	// Status callbacks and events carry it (SendGrid's sg_message_id
	// starts with it).
	ProviderID string
	// Status is the provider's word for the message's state: Twilio's
	// message status ("queued", "accepted", "delivered"...), "accepted" for
	// a fresh SendGrid send, the Email Activity status ("processed",
	// "delivered", "not_delivered") for a SendGrid lookup.
	Status string
}

// deliveryIDPattern keeps delivery ids opaque and safe to embed in a URL
// query and a SendGrid activity query.
var deliveryIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// problem says what makes m unsendable on channel, or "" when nothing does.
func (m Message) problem(channel vocab.Channel) string {
	switch {
	case !deliveryIDPattern.MatchString(m.DeliveryID):
		return "DeliveryID must be 1-128 characters of A-Z a-z 0-9 . _ : -"
	case m.To == "":
		return "To is empty"
	case m.Text == "" && (channel == vocab.SMS || m.HTML == ""):
		return "the message has no text"
	case channel == vocab.Email && m.Subject == "":
		return "Subject is empty"
	}
	return ""
}

// invalid is the Permanent error for a message no provider would accept.
func invalid(provider, why string) *ProviderError {
	return &ProviderError{
		Provider: provider,
		Class:    Permanent,
		Message:  why,
		Err:      fmt.Errorf("%w: %s", ErrInvalidMessage, why),
	}
}
