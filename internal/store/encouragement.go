package store

import (
	"context"
	"time"
)

// Sources of an encouragement schedule.
const (
	ScheduleSourceDefault = "default" // the practice's default, started by consent
	ScheduleSourceEvent   = "event"   // encouragement.schedule_set
)

// EncouragementSchedule is when a client's encouragement texts go, on the
// client's own clock. Cron is what JetStream runs (6 fields, seconds
// first); Days and At are the friendly form it was written in, when it was.
// Whether the schedule is live on JetStream depends on consent: see
// consumers/encouragement.
type EncouragementSchedule struct {
	ClientID  string
	Cron      string
	Days      string   // "mon,thu"; empty when set as a cron expression
	At        string   // "10:00"; empty when set as a cron expression
	Themes    []string // narrows the rotation; empty for all themes
	Source    string   // ScheduleSourceDefault or ScheduleSourceEvent
	UpdatedAt time.Time
	CreatedAt time.Time
}

// LinePick is the line of the encouragement library chosen for one
// notification (its key), so a redelivery renders the same text and the
// rotation never repeats a line before the library is used up.
type LinePick struct {
	Key      string // the notification's idempotency key
	ClientID string
	Line     string
	Theme    string
	Cycle    int // the rotation round: every line once per cycle
	PickedAt time.Time
	// DeliveryState is the state of the ledger row under Key ("" when the
	// notification has none yet): filled in by LinePicks.
	DeliveryState DeliveryState
}

// Encouragement keeps encouragement schedules and line rotations.
type Encouragement interface {
	// ApplyEncouragementSchedule stores the schedule an event set; an
	// event older than the stored schedule is ReasonStale.
	ApplyEncouragementSchedule(ctx context.Context, ev EventRef, s EncouragementSchedule) (Result, error)
	// EnsureEncouragementSchedule stores s unless the client has a
	// schedule; it returns the stored one and whether this call created it.
	EnsureEncouragementSchedule(ctx context.Context, s EncouragementSchedule) (EncouragementSchedule, bool, error)
	// GetEncouragementSchedule returns ErrNotFound for a client without one.
	GetEncouragementSchedule(ctx context.Context, clientID string) (EncouragementSchedule, error)
	// RecordLinePick stores p unless its Key has a pick; it returns the
	// stored pick and whether this call stored it.
	RecordLinePick(ctx context.Context, p LinePick) (LinePick, bool, error)
	// LinePicks returns the client's newest picks first, at most limit,
	// with the delivery state of each key.
	LinePicks(ctx context.Context, clientID string, limit int) ([]LinePick, error)
}
