package consumers

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/subject"
)

// SubjectFired is where recurring schedules of a job (encouragement)
// deliver their fires, inside NUDGE_NOTIFY (a schedule's target must be in
// its stream); the job's own consumer reads them, the deliverer does not.
func SubjectFired(job string) string { return subject.Fired(job) }

// SubjectsFired captures every job's fires.
const SubjectsFired = bus.SubjectsFired

// ScheduleCron keeps a recurring JetStream message schedule on subject:
// cron is a 6-field expression (seconds first) evaluated by the server on
// the wall clock of zone (an IANA name; the server handles daylight
// saving), and every fire publishes payload on target. Publishing on the
// subject again replaces the schedule; Unschedule removes it.
//
// The schedule message is kept with Nats-TTL "never", so the stream's
// MaxAge does not delete a schedule that is meant to run for months; the
// messages it generates live ttl on the stream (0: the stream's MaxAge).
func (s *JetStreamSchedules) ScheduleCron(ctx context.Context, subject, target string, payload []byte, cron, zone string, ttl time.Duration) error {
	msg := nats.NewMsg(subject)
	msg.Data = payload
	msg.Header.Set(jetstream.MsgTTLHeader, "never")
	opts := []jetstream.PublishOpt{
		jetstream.WithScheduleCron(cron),
		jetstream.WithScheduleTimeZone(zone),
		jetstream.WithScheduleTarget(target),
		jetstream.WithExpectStream(bus.StreamNotify),
	}
	if ttl > 0 {
		opts = append(opts, jetstream.WithScheduleTTL(max(ttl.Truncate(time.Second), time.Second)))
	}
	if _, err := s.JS.PublishMsg(ctx, msg, opts...); err != nil {
		return fmt.Errorf("placing cron schedule %q (%s) on %s: %w", cron, zone, subject, err)
	}
	return nil
}
