package publishers_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/publishers"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newPublisher returns a test context, the events stream on a fresh
// embedded server, and a Publisher on it.
func newPublisher(t *testing.T) (context.Context, jetstream.Stream, *publishers.Publisher) {
	t.Helper()
	ctx := testContext(t)
	js, _ := newJetStream(t)
	stream, err := createEventsStream(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, stream, publishers.NewPublisher(js)
}

func TestPublish(t *testing.T) {
	t.Parallel()
	ctx, stream, pub := newPublisher(t)

	e := event(publishers.TypeSessionBooked, nil)
	e.Extensions = map[string]json.RawMessage{"traceparent": json.RawMessage(`"00-abc-def-01"`)}
	res, err := pub.Publish(ctx, e)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if res != (publishers.PublishResult{Stream: eventsStream, Sequence: 1}) {
		t.Errorf("first Publish = %+v", res)
	}

	// The stored message is the envelope, on the type's subject, keyed by id.
	msg, err := stream.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "nudge.events.session.booked" {
		t.Errorf("subject = %q", msg.Subject)
	}
	if got, want := msg.Header.Get(jetstream.MsgIDHeader), e.ID+" "+e.Source; got != want {
		t.Errorf("Nats-Msg-Id = %q, want %q", got, want)
	}
	if got := msg.Header.Get("Content-Type"); got != publishers.ContentTypeCloudEvents {
		t.Errorf("Content-Type = %q", got)
	}
	stored, err := publishers.Parse(msg.Data)
	if err != nil {
		t.Fatalf("stored event does not parse: %v", err)
	}
	if stored.ID != e.ID || !stored.Time.Equal(e.Time) || string(stored.Extensions["traceparent"]) != `"00-abc-def-01"` {
		t.Errorf("stored event = %+v", stored)
	}

	// A different id is a different event.
	res, err = pub.Publish(ctx, e.WithID("evt-2"))
	if err != nil || res.Sequence != 2 || res.Duplicate {
		t.Errorf("second event = %+v, %v; want sequence 2, not duplicate", res, err)
	}
}

// Idempotency contract: the same id is stored once and the repeat is
// reported as a duplicate of the original's sequence.
func TestPublishDuplicate(t *testing.T) {
	t.Parallel()
	ctx, stream, pub := newPublisher(t)

	e := event(publishers.TypeSessionCancelled, nil)
	first, err := pub.Publish(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	// Even with a changed payload, the id decides: this is a retry.
	again, err := pub.Publish(ctx, e.WithTime(e.Time.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !again.Duplicate || again.Sequence != first.Sequence {
		t.Errorf("first = %+v, again = %+v; want the second a duplicate of the first", first, again)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("stream holds %d messages, want 1", info.State.Msgs)
	}
}

func TestPublishRejectsInvalidEvents(t *testing.T) {
	t.Parallel()
	ctx, stream, pub := newPublisher(t)

	invalid := event(publishers.TypeSessionBooked, set("starts_at", "2026-12-01T10:00:00"))
	if _, err := pub.Publish(ctx, invalid); !errors.Is(err, publishers.ErrInvalidEvent) {
		t.Errorf("Publish(invalid) = %v, want ErrInvalidEvent", err)
	}
	emitted := event(publishers.TypeSessionConfirmed, nil)
	if _, err := pub.Publish(ctx, emitted); !errors.Is(err, publishers.ErrInvalidEvent) {
		t.Errorf("Publish(emitted type) = %v, want ErrInvalidEvent", err)
	}
	if _, err := pub.PublishEmitted(ctx, event(publishers.TypeSessionBooked, nil)); !errors.Is(err, publishers.ErrInvalidEvent) {
		t.Errorf("PublishEmitted(intake type) = %v, want ErrInvalidEvent", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Errorf("invalid events reached the stream: %d messages", info.State.Msgs)
	}

	res, err := pub.PublishEmitted(ctx, emitted)
	if err != nil || res.Sequence != 1 {
		t.Errorf("PublishEmitted = %+v, %v", res, err)
	}
	if _, err := stream.GetLastMsgForSubject(ctx, publishers.Subject(publishers.TypeSessionConfirmed)); err != nil {
		t.Errorf("emitted event not on its subject: %v", err)
	}
}

// When the stream never acknowledges, Publish gives up at the context's
// deadline rather than hanging.
func TestPublishContextDeadline(t *testing.T) {
	t.Parallel()
	js, nc := newJetStream(t)
	// No stream, but a silent subscriber: the publish request is received
	// and never answered, like a stream whose leader is unreachable.
	sub, err := nc.SubscribeSync(publishers.SubjectPrefix + ".>")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = publishers.NewPublisher(js).Publish(ctx, event(publishers.TypeSessionBooked, nil))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Publish = %v, want context.DeadlineExceeded", err)
	}
	if errors.Is(err, publishers.ErrInvalidEvent) {
		t.Error("a timeout must not look like an invalid event")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Publish took %v, ignoring the deadline", elapsed)
	}
}

func TestPublishNoStream(t *testing.T) {
	t.Parallel()
	js, _ := newJetStream(t)
	_, err := publishers.NewPublisher(js).Publish(testContext(t), event(publishers.TypeSessionBooked, nil))
	if err == nil || errors.Is(err, publishers.ErrInvalidEvent) {
		t.Errorf("Publish without a stream = %v, want a publish error", err)
	}
}
