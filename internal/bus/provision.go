package bus

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/subject"
)

// Stream and consumer names.
const (
	StreamEvents   = "NUDGE_EVENTS"
	SubjectsEvents = subject.AllEvents
	ConsumerIngest = "ingest"
	// ConsumerAnnounce plans staff announcements (announcement.requested):
	// it records every member's decision, the durable fan-out plan.
	ConsumerAnnounce = "announce"
	SubjectAnnounce  = subject.EventsPrefix + ".announcement.requested"
	// ConsumerOnCall alerts on-call staff about crisis messages
	// (safety.crisis_reply on NUDGE_OUT).
	ConsumerOnCall = "oncall"

	// NUDGE_NOTIFY holds due notifications (nudge.notify.<channel>) and the
	// message schedules that make them due later (nudge.schedule.>): a
	// schedule's target must be in the same stream.
	StreamNotify     = "NUDGE_NOTIFY"
	SubjectsNotify   = subject.AllNotify
	SubjectsSchedule = subject.AllSchedules
	ConsumerDeliver  = "deliver"
	// Crisis help goes on nudge.priority.<channel>, taken by its own
	// consumer so it never waits behind routine sends.
	SubjectsPriority        = subject.AllPriority
	ConsumerDeliverPriority = "deliver-priority"
	// ConsumerEncouragement reads the fires of the clients' recurring
	// encouragement schedules (cron, in each client's zone).
	ConsumerEncouragement = "encouragement"
	// ConsumerEncouragementOptOuts hears every client.opted_out nudge
	// emits, whatever path revoked (package consent), and re-syncs that
	// client's encouragement schedule (purging it).
	ConsumerEncouragementOptOuts = "encouragement-optouts"
	SubjectsFired                = subject.AllFired

	// NUDGE_INBOUND holds the messages clients send (nudge.inbound.<channel>),
	// queued by the provider webhook before it answers; the inbound
	// consumer decides what they mean.
	StreamInbound   = "NUDGE_INBOUND"
	SubjectsInbound = subject.AllInbound
	ConsumerInbound = "inbound"

	// NUDGE_OUT holds the events nudge emits for other systems
	// (session.confirmed, client.opted_out, safety.crisis_reply …).
	StreamOut   = "NUDGE_OUT"
	SubjectsOut = subject.AllOut

	// NUDGE_ADVISORIES captures JetStream's MAX_DELIVERIES advisories for
	// nudge's consumers, so a message given up on while no nudge process
	// was listening is still dead-lettered (advisories are core NATS
	// messages: without a stream they are lost).
	StreamAdvisories   = "NUDGE_ADVISORIES"
	ConsumerDeadLetter = "deadletter"
)

// Topology is what Provision creates.
type Topology struct {
	// Replicas for every stream: 1 in dev mode, 3 for a production cluster.
	Replicas int
	// EventsMaxAge bounds how long accepted events stay on the stream after
	// being applied (the store keeps the durable record).
	EventsMaxAge time.Duration
	// DuplicateWindow is how long JetStream remembers event ids. The store
	// dedupes forever; this window stops repeats before they cost a write.
	DuplicateWindow time.Duration
	// NotifyMaxDeliver is how often a notification is tried before it is
	// dead-lettered; 0 means MaxDeliverNotify.
	NotifyMaxDeliver int
	// NotifyAckWait is how long a worker may hold a notification before
	// JetStream redelivers it (after a crash, this is how soon another
	// worker picks it up); 0 means 60s.
	NotifyAckWait time.Duration
}

// DefaultTopology returns the production defaults for the given replica count.
func DefaultTopology(replicas int) Topology {
	return Topology{Replicas: replicas, EventsMaxAge: 30 * 24 * time.Hour, DuplicateWindow: 24 * time.Hour}
}

// StreamConfigs returns the stream configurations for t.
func (t Topology) StreamConfigs() []jetstream.StreamConfig {
	return []jetstream.StreamConfig{{
		Name:        StreamEvents,
		Description: "Events accepted by nudge (CloudEvents JSON, Nats-Msg-Id = event id)",
		Subjects:    []string{SubjectsEvents},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
		MaxAge:      t.EventsMaxAge,
		Duplicates:  t.DuplicateWindow,
		Discard:     jetstream.DiscardOld,
	}, {
		Name:              StreamNotify,
		Description:       "Due notifications and the schedules that make them due",
		Subjects:          []string{SubjectsNotify, SubjectsPriority, SubjectsSchedule},
		Retention:         jetstream.LimitsPolicy,
		Storage:           jetstream.FileStorage,
		Replicas:          t.Replicas,
		MaxAge:            t.EventsMaxAge,
		Duplicates:        t.DuplicateWindow,
		AllowMsgSchedules: true,
		AllowMsgTTL:       true,
		Discard:           jetstream.DiscardOld,
	}, {
		Name:        StreamInbound,
		Description: "Messages clients sent, queued by the provider webhook (Nats-Msg-Id = provider:message id)",
		Subjects:    []string{SubjectsInbound},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
		MaxAge:      t.EventsMaxAge,
		Duplicates:  t.DuplicateWindow,
		Discard:     jetstream.DiscardOld,
	}, {
		Name:        StreamAdvisories,
		Description: "MAX_DELIVERIES advisories of nudge's consumers: the dead-letter feed",
		Subjects:    []string{subject.MaxDeliveries(StreamEvents), subject.MaxDeliveries(StreamNotify), subject.MaxDeliveries(StreamInbound)},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
		MaxAge:      t.EventsMaxAge,
		Discard:     jetstream.DiscardOld,
	}, {
		Name:        StreamOut,
		Description: "Events nudge emits for other systems",
		Subjects:    []string{SubjectsOut},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
		MaxAge:      t.EventsMaxAge,
		Duplicates:  t.DuplicateWindow,
		Discard:     jetstream.DiscardOld,
	}}
}

// IngestPriorityGroup is the priority group ingest pulls in; IngestPinnedTTL
// how long the pinned process may go without pulling before another takes
// over (after a crash).
const (
	IngestPriorityGroup = "ingest"
	IngestPinnedTTL     = 15 * time.Second
)

// ConsumerConfigs returns the durable consumers per stream.
func (t Topology) ConsumerConfigs() map[string][]jetstream.ConsumerConfig {
	return map[string][]jetstream.ConsumerConfig{
		StreamEvents: {{
			Durable:       ConsumerIngest,
			Description:   "Applies events to the store (clients, consent, sessions, groups)",
			FilterSubject: SubjectsEvents,
			AckPolicy:     jetstream.AckExplicitPolicy,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckWait:       30 * time.Second,
			MaxDeliver:    20,
			MaxAckPending: 1000,
			Replicas:      t.Replicas,
			// One nudge process at a time applies events, so a producer's
			// events apply in the order it sent them (consent before the
			// booking it precedes) however many replicas run; another
			// process takes over PinnedTTL after the pinned one stops
			// pulling. Without it two replicas raced, and a booking applied
			// before its consent had its confirmation skipped as no_consent
			// (13 % of confirmations in the fault test).
			PriorityPolicy: jetstream.PriorityPolicyPinned,
			PriorityGroups: []string{IngestPriorityGroup},
			PinnedTTL:      IngestPinnedTTL,
		}, {
			Durable:       ConsumerAnnounce,
			Description:   "Decides every member of an announced support group (the fan-out plan)",
			FilterSubject: SubjectAnnounce,
			AckPolicy:     jetstream.AckExplicitPolicy,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			// Planning a large group takes a while: the handler reports
			// progress (InProgress) after each batch.
			AckWait:       30 * time.Second,
			MaxDeliver:    20,
			MaxAckPending: 100,
			Replicas:      t.Replicas,
		}},
		StreamInbound: {{
			Durable:       ConsumerInbound,
			Description:   "Decides what a client's message means: opt-out, opt-in, HELP, C/R, crisis, staff inbox",
			FilterSubject: SubjectsInbound,
			AckPolicy:     jetstream.AckExplicitPolicy,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckWait:       30 * time.Second,
			// A STOP must outlast any store outage: redelivered with the
			// runner's backoff (up to 5 min apart) until it is applied.
			MaxDeliver:    -1,
			MaxAckPending: 1000,
			Replicas:      t.Replicas,
		}},
		StreamOut: {{
			Durable:       ConsumerOnCall,
			Description:   "Alerts on-call staff that a message needs urgent attention",
			FilterSubject: subject.Out("safety.crisis_reply"),
			AckPolicy:     jetstream.AckExplicitPolicy,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckWait:       30 * time.Second,
			MaxDeliver:    -1, // an alert is never given up on
			Replicas:      t.Replicas,
		}, {
			Durable:       ConsumerEncouragementOptOuts,
			Description:   "Purges a client's encouragement schedule on every opt-out (STOP, carrier opt-out, SendGrid unsubscribe)",
			FilterSubject: subject.Out("client.opted_out"),
			AckPolicy:     jetstream.AckExplicitPolicy,
			DeliverPolicy: jetstream.DeliverNewPolicy,
			AckWait:       30 * time.Second,
			MaxDeliver:    20,
			Replicas:      t.Replicas,
		}},
		StreamAdvisories: {{
			Durable:       ConsumerDeadLetter,
			Description:   "Moves messages JetStream gave up on into the dead-letter store",
			AckPolicy:     jetstream.AckExplicitPolicy,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckWait:       30 * time.Second,
			MaxDeliver:    -1,
			Replicas:      t.Replicas,
		}},
		StreamNotify: {{
			Durable:       ConsumerDeliver,
			Description:   "Checks and sends due notifications",
			FilterSubject: SubjectsNotify,
			AckPolicy:     jetstream.AckExplicitPolicy,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckWait:       cmp.Or(t.NotifyAckWait, 60*time.Second),
			MaxDeliver:    cmp.Or(t.NotifyMaxDeliver, MaxDeliverNotify),
			MaxAckPending: 1000,
			Replicas:      t.Replicas,
		}, {
			Durable:       ConsumerEncouragement,
			Description:   "Turns each fire of a client's encouragement schedule into one notification",
			FilterSubject: SubjectsFired,
			AckPolicy:     jetstream.AckExplicitPolicy,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckWait:       30 * time.Second,
			MaxDeliver:    20,
			MaxAckPending: 1000,
			Replicas:      t.Replicas,
		}, {
			Durable:       ConsumerDeliverPriority,
			Description:   "Checks and sends crisis help ahead of every routine notification",
			FilterSubject: SubjectsPriority,
			AckPolicy:     jetstream.AckExplicitPolicy,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckWait:       cmp.Or(t.NotifyAckWait, 60*time.Second),
			MaxDeliver:    cmp.Or(t.NotifyMaxDeliver, MaxDeliverNotify),
			MaxAckPending: 1000,
			Replicas:      t.Replicas,
		}},
	}
}

// MaxDeliverNotify is how often a notification is tried before it is
// dead-lettered (the MAX_DELIVERIES advisory feeds the dead-letter store).
const MaxDeliverNotify = 12

// Provision creates or updates every stream and consumer; running it again
// with the same topology changes nothing.
func Provision(ctx context.Context, js jetstream.JetStream, t Topology) error {
	for _, sc := range t.StreamConfigs() {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("bus: provisioning stream %s: %w", sc.Name, err)
		}
		for _, cc := range t.ConsumerConfigs()[sc.Name] {
			if _, err := js.CreateOrUpdateConsumer(ctx, sc.Name, cc); err != nil {
				return fmt.Errorf("bus: provisioning consumer %s/%s: %w", sc.Name, cc.Durable, err)
			}
		}
	}
	return nil
}
