package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/subject"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/templates"
)

// Message is one message a client sent, as the webhook received it. It
// travels on NUDGE_INBOUND as JSON; the stream keeps it (with the body)
// only until it is applied and then for the stream's max age, like events.
type Message struct {
	// Provider is who delivered it: "twilio".
	Provider string `json:"provider"`
	// ID is the provider's message id (Twilio MessageSid): the idempotency
	// key on the bus (Nats-Msg-Id) and in the store.
	ID      string        `json:"id"`
	Channel vocab.Channel `json:"channel"`
	From    string        `json:"from"` // the sender (E.164)
	To      string        `json:"to"`   // the practice's number
	Body    string        `json:"body"`
	// OptOutType is set ("STOP", "START", "HELP") when Twilio's own
	// opt-out handling matched the message. Twilio then has already sent
	// its reply (and, for STOP, blocks the number): nudge records the
	// change but sends no second reply.
	OptOutType string `json:"opt_out_type,omitempty"`
	// ReceivedAt is when the webhook received it: the time the ledger
	// records for a STOP, however late the consumer applies it.
	ReceivedAt time.Time `json:"received_at"`
}

// Validate checks the fields every message needs.
func (m Message) Validate() error {
	var errs []error
	if m.Provider == "" {
		errs = append(errs, errors.New("provider is required"))
	}
	if m.ID == "" {
		errs = append(errs, errors.New("id is required"))
	}
	if !m.Channel.Valid() {
		errs = append(errs, fmt.Errorf("channel %q is not sms or email", m.Channel))
	}
	if m.From == "" {
		errs = append(errs, errors.New("from is required"))
	}
	if m.ReceivedAt.IsZero() {
		errs = append(errs, errors.New("received_at is required"))
	}
	return errors.Join(errs...)
}

// MsgID is the message's Nats-Msg-Id: a provider repeating its webhook
// within the stream's duplicate window is stored once on the bus (and,
// beyond it, once in the store).
func (m Message) MsgID() string { return m.Provider + ":" + m.ID }

// twilioReplied reports whether Twilio's opt-out handling already answered
// the message with a reply of this kind.
func (m Message) twilioReplied(kind string) bool {
	switch strings.ToUpper(m.OptOutType) {
	case "STOP":
		return kind == templates.KindOptedOut
	case "START":
		return kind == templates.KindResubscribed
	case "HELP":
		return kind == templates.KindHelp
	}
	return false
}

// Decode parses and validates a bus message.
func Decode(b []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("decoding inbound message: %w", err)
	}
	if err := m.Validate(); err != nil {
		return m, fmt.Errorf("invalid inbound message %q: %w", m.ID, err)
	}
	return m, nil
}

// Publisher puts a received message on the bus. Publish returns only after
// JetStream acknowledged it (PubAck): then, and only then, the webhook may
// tell the provider it has the message. Safe for concurrent use.
type Publisher interface {
	Publish(ctx context.Context, m Message) error
}

// BusPublisher is the JetStream Publisher.
type BusPublisher struct{ JS jetstream.JetStream }

// Publish implements Publisher.
func (p BusPublisher) Publish(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := p.JS.Publish(ctx, subject.Inbound(m.Channel), b, jetstream.WithMsgID(m.MsgID())); err != nil {
		return fmt.Errorf("publishing inbound message %s: %w", m.MsgID(), err)
	}
	return nil
}
