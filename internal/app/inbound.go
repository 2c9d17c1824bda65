package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/consumers/inbound"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/store"
)

// startInbound runs the inbound consumer: what clients text, decided
// after the webhook queued it (package consumers/inbound).
func startInbound(ctx, startCtx context.Context, js jetstream.JetStream, st store.Store, disp consumers.Dispatcher,
	optIn inbound.DoubleOptIn, consentChanged func(context.Context, string) error,
	observe func(consumer, result string, delivered uint64), log *slog.Logger) (func(context.Context) error, error) {
	in, err := inbound.New(inbound.Config{Store: st, Dispatcher: disp, Logger: log, DoubleOptIn: optIn, ConsentChanged: consentChanged})
	if err != nil {
		return nil, err
	}
	c, err := openConsumer(startCtx, js, bus.StreamInbound, bus.ConsumerInbound, log)
	if err != nil {
		return nil, fmt.Errorf("opening inbound consumer: %w", err)
	}
	return consumers.Runner{Name: bus.ConsumerInbound, Handler: in.Handle, Logger: log, Observe: observe}.Start(ctx, c)
}
