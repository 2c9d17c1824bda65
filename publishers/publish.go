package publishers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/tracing"
)

// ContentTypeCloudEvents is the NATS Content-Type header of published events:
// the payload is a whole structured-mode CloudEvent, not just its data.
const ContentTypeCloudEvents = "application/cloudevents+json"

// Publisher puts validated events on JetStream. It is safe for concurrent
// use; share one per connection.
type Publisher struct {
	js jetstream.Publisher
}

// NewPublisher returns a Publisher that publishes through js. The stream that
// captures SubjectPrefix + ".>" is created by nudge, not here: producers need
// only publish permission.
func NewPublisher(js jetstream.JetStream) *Publisher {
	return &Publisher{js: js}
}

// PublishResult is the server's acknowledgement of one event.
type PublishResult struct {
	Stream   string // the stream that stored the event
	Sequence uint64 // its sequence in that stream; for a duplicate, the original's
	// Duplicate is true when the stream already held an event with this
	// source and id (within its duplicate window) and stored nothing new. It is a success:
	// the event is safely stored, once.
	Duplicate bool
}

// Publish validates e with [Event.Validate], then publishes it to
// Subject(e.Type) with Nats-Msg-Id set to [MsgID](e.Source, e.ID) and waits for the stream's
// acknowledgement (bounded by ctx; without a deadline the JetStream default
// timeout applies).
//
// An invalid event returns a *ValidationError and is never sent. Any other
// error means the outcome is unknown: retry with the same event (same id),
// and the stream stores it at most once.
func (p *Publisher) Publish(ctx context.Context, e Event) (PublishResult, error) {
	if err := e.Validate(); err != nil {
		return PublishResult{}, err
	}
	return p.publish(ctx, e)
}

// PublishEmitted is Publish for the events nudge itself emits, validated
// with [Event.ValidateEmitted].
func (p *Publisher) PublishEmitted(ctx context.Context, e Event) (PublishResult, error) {
	if err := e.ValidateEmitted(); err != nil {
		return PublishResult{}, err
	}
	return p.publish(ctx, e)
}

// MsgID is the Nats-Msg-Id of an event: its id and source, separated by a
// space (neither may contain whitespace, so the pair is unambiguous).
// CloudEvents identifies an event by source and id together, so the same id
// from two producers is two events, and JetStream's duplicate window must
// not drop the second.
func MsgID(source, id string) string { return id + " " + source }

func (p *Publisher) publish(ctx context.Context, e Event) (PublishResult, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return PublishResult{}, fmt.Errorf("encoding %s event %q: %w", e.Type, e.ID, err)
	}
	msg := nats.NewMsg(Subject(e.Type))
	msg.Data = body
	msg.Header.Set("Content-Type", ContentTypeCloudEvents)
	// The caller's trace (the intake span, or a producer's own) continues
	// in the consumer that applies the event.
	tracing.Inject(ctx, msg.Header)
	// WithMsgID sets the Nats-Msg-Id header, which the stream uses to drop
	// repeats within its duplicate window: the producer's retry-safety.
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(MsgID(e.Source, e.ID)))
	if err != nil {
		return PublishResult{}, fmt.Errorf("publishing %s event %q: %w", e.Type, e.ID, err)
	}
	return PublishResult{Stream: ack.Stream, Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
}
