package store

import (
	"context"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

// ReminderLoads tells the reminder scheduler how many reminders are already
// planned to fire when, so it can plan fire times within a paced sender's
// capacity (see consumers.ReminderConfig.Rates).
type ReminderLoads interface {
	// ReminderLoad counts the scheduled reminders on channel whose FireAt
	// lies in [from, to], per FireAt second (Unix seconds), leaving out
	// the reminder keyed except (the one being planned again).
	ReminderLoad(ctx context.Context, channel vocab.Channel, from, to time.Time, except string) (map[int64]int, error)
}
