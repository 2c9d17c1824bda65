package app

import (
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
)

// newReminders builds the scheduler the ingest consumer calls after it
// applies a session or client change: reminders become JetStream message
// schedules on NUDGE_NOTIFY, placed in the client's quiet-hours window.
func newReminders(st store.Store, js jetstream.JetStream, cfg Config, log *slog.Logger) (*consumers.ReminderScheduler, error) {
	rc := cfg.Reminders
	if rc.Policy.Window == (quiethours.Window{}) {
		rc.Policy.Window = cfg.Delivery.QuietHours
	}
	if rc.Rates == nil {
		rc.Rates = cfg.Delivery.Rates // plan fire times within the pacer's rate
	}
	return consumers.NewReminderScheduler(st, &consumers.JetStreamSchedules{JS: js}, consumers.BusDispatcher{JS: js}, rc, nil, log)
}
