package store

import (
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

// ReminderState is what the reminder scheduler last decided for one
// reminder. Whether a scheduled reminder was then sent, skipped at fire
// time or failed is the deliveries ledger's business (same key).
type ReminderState string

const (
	// ReminderScheduled: a JetStream message schedule fires it at FireAt.
	ReminderScheduled ReminderState = "scheduled"
	// ReminderCancelled: its schedule was withdrawn (session cancelled,
	// moved to a new version, or the client's channel changed).
	ReminderCancelled ReminderState = "cancelled"
	// ReminderSkipped: never scheduled; Reason says why (offset_passed,
	// quiet_hours_no_slot, no_address …).
	ReminderSkipped ReminderState = "skipped"
)

// Reminder is one appointment reminder: a session version × offset on one
// channel. Key is the idempotency key of the notification it produces
// ("reminder:S1:v2:48h:sms"), so the deliveries ledger row with the same
// key tells what happened when it fired.
type Reminder struct {
	Key            string
	SessionID      string
	SessionVersion int
	ClientID       string
	Offset         time.Duration // before the session start, e.g. 48h
	Channel        vocab.Channel
	// FireAt is when the schedule fires (after quiet-hours placement); for
	// a skipped reminder, when it would have been due.
	FireAt time.Time
	// NotAfter is the notification's expiry; zero when skipped.
	NotAfter  time.Time
	State     ReminderState
	Reason    string    // why moved (quiet_hours_moved_earlier), skipped or cancelled
	CreatedAt time.Time // set by the store
	UpdatedAt time.Time // set by the store
}

// ReminderFilter selects reminders. Zero fields match everything.
type ReminderFilter struct {
	SessionID string
	State     ReminderState
	// FireAfter, when set, keeps reminders firing at or after it.
	FireAfter time.Time
	Limit     int // 0 means 100
}
