package consumers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/bus"
)

// ReminderBus keeps one JetStream message schedule per subject: publishing
// on a subject replaces its schedule, removing the subject cancels it.
// Implementations must be safe for concurrent use.
type ReminderBus interface {
	// Schedule makes n due at at (1-second resolution) on the notify
	// subject of its channel, replacing any schedule on subject. The
	// message the schedule generates expires from the stream after ttl
	// (0: never), so a long outage cannot release a flood of old reminders.
	Schedule(ctx context.Context, subject string, n Notification, at time.Time, ttl time.Duration) error
	// Unschedule removes the schedule on subject; a subject without one
	// is not an error.
	Unschedule(ctx context.Context, subject string) error
}

// JetStreamSchedules is the ReminderBus on the NUDGE_NOTIFY stream.
type JetStreamSchedules struct {
	JS jetstream.JetStream

	mu     sync.Mutex
	stream jetstream.Stream
}

// Schedule implements ReminderBus.
//
// The schedule message itself is published with Nats-TTL "never": the
// stream's MaxAge (30 days) would otherwise delete the schedule of a
// session booked further ahead before it fired. It leaves the stream when
// it fires (the server purges a one-off schedule) or is unscheduled.
func (s *JetStreamSchedules) Schedule(ctx context.Context, subj string, n Notification, at time.Time, ttl time.Duration) error {
	if err := n.Validate(); err != nil {
		return err
	}
	b, err := n.Marshal()
	if err != nil {
		return err
	}
	// The trace context rides along: nats-server copies the schedule's
	// headers onto the message it generates, whose consumer span links back.
	msg := tracedMsg(ctx, subj, b)
	msg.Header.Set(jetstream.MsgTTLHeader, "never")
	opts := []jetstream.PublishOpt{
		jetstream.WithScheduleAt(at.UTC().Truncate(time.Second)),
		jetstream.WithScheduleTarget(n.Subject()),
		jetstream.WithExpectStream(bus.StreamNotify),
	}
	if ttl > 0 {
		// Message TTLs have 1-second resolution and a 1-second minimum.
		opts = append(opts, jetstream.WithScheduleTTL(max(ttl.Truncate(time.Second), time.Second)))
	}
	if _, err := s.JS.PublishMsg(ctx, msg, opts...); err != nil {
		return fmt.Errorf("scheduling %s at %s: %w", n.Key, at.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// Unschedule implements ReminderBus by purging the subject.
func (s *JetStreamSchedules) Unschedule(ctx context.Context, subj string) error {
	st, err := s.notifyStream(ctx)
	if err != nil {
		return err
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject(subj)); err != nil {
		return fmt.Errorf("unscheduling %s: %w", subj, err)
	}
	return nil
}

func (s *JetStreamSchedules) notifyStream(ctx context.Context) (jetstream.Stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stream != nil {
		return s.stream, nil
	}
	st, err := s.JS.Stream(ctx, bus.StreamNotify)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", bus.StreamNotify, err)
	}
	s.stream = st
	return st, nil
}
