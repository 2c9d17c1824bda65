package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/consent"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/publishers"
)

// UnknownClientID stands in for the client in a safety.crisis_reply about a
// number nudge does not know: the alert must go out, and the event requires
// a client id. Staff find the number in the inbox message the event names.
const UnknownClientID = "unknown"

// EventSource is the CloudEvents source of the events the consumer emits.
const EventSource = "/nudge/inbound"

// Config wires a Consumer.
type Config struct {
	Store      store.Store          // required
	Dispatcher consumers.Dispatcher // replies and emitted events; required
	// Consent records opt-outs and opt-ins; nil means one over Store and
	// Dispatcher.
	Consent *consent.Ledger
	Logger  *slog.Logger
	// DoubleOptIn is the encouragement program clients join by texting
	// its keyword; the zero value turns it off.
	DoubleOptIn DoubleOptIn
	// ConsentChanged hears about every client whose consent a STOP or a
	// START changed (the encouragement job purges or re-places their
	// schedule at once). May be nil.
	ConsentChanged func(ctx context.Context, clientID string) error
	// Now is the clock for emitted events; nil means time.Now. Decisions
	// use the message's ReceivedAt.
	Now func() time.Time
}

// Consumer is the inbound consumer. Safe for concurrent use.
type Consumer struct {
	cfg     Config
	log     *slog.Logger
	consent *consent.Ledger
}

// New returns a Consumer for cfg.
func New(cfg Config) (*Consumer, error) {
	var errs []error
	if cfg.Store == nil {
		errs = append(errs, errors.New("inbound: Config.Store is required"))
	}
	if cfg.Dispatcher == nil {
		errs = append(errs, errors.New("inbound: Config.Dispatcher is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Consumer{cfg: cfg, log: cfg.Logger, consent: cfg.Consent}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.consent == nil {
		l, err := consent.New(consent.Config{Store: cfg.Store, Emitter: cfg.Dispatcher, Now: c.now, Logger: c.log})
		if err != nil {
			return nil, err
		}
		c.consent = l
	}
	return c, nil
}

func (c *Consumer) now() time.Time { return c.cfg.Now().UTC() }

// Handle is a consumers.Handler for the NUDGE_INBOUND inbound consumer. A
// store error is returned as is, so the runner redelivers with backoff
// until the store is back.
func (c *Consumer) Handle(ctx context.Context, msg jetstream.Msg) error {
	m, err := Decode(msg.Data())
	if err != nil {
		return consumers.Permanent(err)
	}
	return c.Process(ctx, m)
}

// Ids of emitted events derive from their cause, so emitting one again (a
// redelivery finishing a partial attempt) is the same event: JetStream drops
// the repeat within its duplicate window and consumers can recognise it
// beyond.
func crisisEventID(messageID, clientID string) string { return "crisis:" + messageID + ":" + clientID }
func confirmedEventID(messageID string) string        { return "confirmed:" + messageID }
func rescheduleEventID(messageID string) string       { return "reschedule:" + messageID }

// emit builds an emitted event with the given id and emits it. subj is the
// optional CloudEvents subject.
func (c *Consumer) emit(ctx context.Context, id, subj, typ string, data any) error {
	ev, err := publishers.NewEvent(typ, EventSource, data)
	if err != nil {
		return fmt.Errorf("building %s %s: %w", typ, id, err)
	}
	ev = ev.WithID(id).WithTime(c.now())
	ev.Subject = subj
	if err := ev.ValidateEmitted(); err != nil {
		return fmt.Errorf("building %s %s: %w", typ, id, err)
	}
	if err := c.cfg.Dispatcher.Emit(ctx, ev); err != nil {
		return fmt.Errorf("emitting %s %s: %w", typ, id, err)
	}
	return nil
}
