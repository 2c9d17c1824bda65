// Package subject builds every NATS subject nudge publishes or listens on,
// in one place. Streams capture the wildcards below; publishers and
// consumers call the functions, never concatenate subjects themselves.
//
//	nudge.events.<type>                      events producers send (NUDGE_EVENTS)
//	nudge.inbound.<channel>                  messages clients send (NUDGE_INBOUND)
//	nudge.notify.<channel>                   due notifications (NUDGE_NOTIFY)
//	nudge.priority.<channel>                 due notifications that go ahead of all others: crisis help (NUDGE_NOTIFY)
//	nudge.schedule.reminder.<hash>.<offset>  a reminder's message schedule
//	nudge.schedule.deferred.<hash>           a deferred notification's schedule
//	nudge.schedule.encouragement.<hash>      a client's encouragement cron schedule
//	nudge.schedule.fired.<job>               where a recurring job's schedules fire
//	nudge.out.<type>                         events nudge emits (NUDGE_OUT)
//
// Ids that come from outside (session ids, notification keys) may hold dots
// or wildcards, so subjects carry a hash of them, never the id.
package subject

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

// Wildcards the streams and consumers capture.
const (
	AllEvents    = "nudge.events.>"
	AllInbound   = "nudge.inbound.>"
	AllNotify    = "nudge.notify.>"
	AllPriority  = "nudge.priority.>"
	AllSchedules = "nudge.schedule.>"
	AllFired     = "nudge.schedule.fired.>"
	AllOut       = "nudge.out.>"
)

// EventsPrefix is the prefix of every event subject.
const EventsPrefix = "nudge.events"

// Event is the subject of an event type, e.g. "nudge.events.session.booked".
// Consumers filter on it, so each type gets its own subject.
func Event(eventType string) string { return EventsPrefix + "." + eventType }

// Inbound is where messages clients send arrive, per channel.
func Inbound(ch vocab.Channel) string { return "nudge.inbound." + string(ch) }

// Notify is where due notifications are published, per channel.
func Notify(ch vocab.Channel) string { return "nudge.notify." + string(ch) }

// Priority is where due notifications that must go ahead of every routine
// send are published (crisis help), per channel: a consumer of their own
// takes them, so they never wait behind a paced backlog.
func Priority(ch vocab.Channel) string { return "nudge.priority." + string(ch) }

// Reminder is the schedule subject of a session's reminder at one offset.
func Reminder(sessionID string, offset time.Duration) string {
	return "nudge.schedule.reminder." + hash(sessionID) + "." + vocab.OffsetLabel(offset)
}

// Deferred is the schedule subject of a deferred notification: one schedule
// per key, so deferring again replaces the previous schedule.
func Deferred(key string) string { return "nudge.schedule.deferred." + hash(key) }

// Encouragement is the subject of a client's encouragement cron schedule.
func Encouragement(clientID string) string { return "nudge.schedule.encouragement." + hash(clientID) }

// Fired is where the recurring schedules of a job (encouragement) deliver
// their fires, inside NUDGE_NOTIFY (a schedule's target must be in its
// stream); the job's own consumer reads them, the deliverer does not.
func Fired(job string) string { return "nudge.schedule.fired." + job }

// Out is where nudge publishes an event it emits for other systems
// (session.confirmed, client.opted_out, safety.crisis_reply …).
func Out(eventType string) string { return "nudge.out." + eventType }

// MaxDeliveries is JetStream's advisory subject for one stream's consumers
// giving up on a message.
func MaxDeliveries(stream string) string {
	return "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + stream + ".*"
}

func hash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:12])
}
