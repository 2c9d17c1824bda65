package app

import (
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/consumers/journal"
	"github.com/nudgehq/nudge/internal/store"
)

// newJournal builds the journal nudge job the ingest consumer calls after
// journal.day_missed and journal.entry_written.
func newJournal(st store.Store, js jetstream.JetStream, cfg Config, disp consumers.Dispatcher, log *slog.Logger) (*journal.Job, error) {
	return journal.New(journal.Config{
		Store: st, Dispatcher: disp, Schedules: &consumers.JetStreamSchedules{JS: js},
		Window: cfg.Delivery.QuietHours, Logger: log,
	})
}
