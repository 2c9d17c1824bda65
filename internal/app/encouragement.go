package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/consumers/encouragement"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/store"
)

// Encouragement configures the second job: encouragement texts.
type Encouragement struct {
	// DefaultSchedule is what a consent for encouragement starts, "days
	// HH:MM" on the client's clock; empty means encouragement.DefaultSchedule.
	DefaultSchedule string
	// Keyword is what a client texts to join by double opt-in
	// (NUDGE_ENCOURAGEMENT_KEYWORD); empty means DefaultKeyword, "-" off.
	Keyword string
}

// DefaultKeyword is the practice's default double opt-in keyword.
const DefaultKeyword = "HOPE"

func (e Encouragement) keyword() string {
	switch e.Keyword {
	case "":
		return DefaultKeyword
	case "-":
		return ""
	}
	return e.Keyword
}

// newEncouragement builds the encouragement job: the ingest consumer
// calls it after consent, schedule and client changes, and its own
// consumer turns the fires of the clients' cron schedules into
// notifications.
func newEncouragement(st store.Store, js jetstream.JetStream, cfg Config, disp consumers.Dispatcher, log *slog.Logger) (*encouragement.Job, error) {
	return encouragement.New(encouragement.Config{
		Store:           st,
		Bus:             &consumers.JetStreamSchedules{JS: js},
		Dispatcher:      disp,
		DefaultSchedule: cfg.Encouragement.DefaultSchedule,
		Logger:          log,
	})
}

// startEncouragement starts the consumer of the schedules' fires.
func startEncouragement(ctx, startCtx context.Context, js jetstream.JetStream, job *encouragement.Job, observe func(consumer, result string, delivered uint64), log *slog.Logger) (func(context.Context) error, error) {
	c, err := openConsumer(startCtx, js, bus.StreamNotify, bus.ConsumerEncouragement, log)
	if err != nil {
		return nil, fmt.Errorf("opening encouragement consumer: %w", err)
	}
	stopFires, err := consumers.Runner{Name: bus.ConsumerEncouragement, Handler: job.Handle, Logger: log, Observe: observe}.Start(ctx, c)
	if err != nil {
		return nil, err
	}
	oc, err := openConsumer(startCtx, js, bus.StreamOut, bus.ConsumerEncouragementOptOuts, log)
	if err != nil {
		_ = stopFires(context.Background())
		return nil, fmt.Errorf("opening encouragement opt-out consumer: %w", err)
	}
	stopOptOuts, err := consumers.Runner{Name: bus.ConsumerEncouragementOptOuts, Handler: job.HandleOptOut, Logger: log, Observe: observe}.Start(ctx, oc)
	if err != nil {
		_ = stopFires(context.Background())
		return nil, err
	}
	return joinStops(stopFires, stopOptOuts), nil
}
