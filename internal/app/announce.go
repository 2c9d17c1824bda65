package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/consumers/announcement"
	"github.com/nudgehq/nudge/consumers/oncall"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/templates"
)

// announcements is the staff-announcement side of a running nudge: the
// service the HTTP API asks for previews, and the planner and feeder.
type announcements struct {
	service *announcement.Service
	stop    func(context.Context) error
}

// feedWindow keeps about ten seconds of the paced rate queued per
// announcement: enough that the deliverer never waits for the feeder,
// little enough that reminders and replies are never stuck behind it.
func feedWindow(d Delivery) int {
	var total float64
	for _, r := range d.Rates {
		if r > 0 {
			total += r
		}
	}
	return max(announcement.DefaultWindow, int(math.Ceil(10*total)))
}

// startAnnouncements starts the announce consumer (planning) and the feeder.
func startAnnouncements(ctx context.Context, js jetstream.JetStream, st store.Store, cfg Config, disp consumers.Dispatcher,
	observe func(consumer, result string, delivered uint64), log *slog.Logger) (*announcements, error) {
	tmpl, err := cfg.Delivery.templates()
	if err != nil {
		return nil, err
	}
	audience := announcement.Audience{Store: st}
	content := announcement.Content{Templates: tmpl, Lint: templates.DefaultLintConfig(), Practice: cfg.Delivery.Practice}
	planner := &announcement.Planner{Store: st, Audience: audience, Content: content, Logger: log}
	c, err := js.Consumer(ctx, bus.StreamEvents, bus.ConsumerAnnounce)
	if err != nil {
		return nil, fmt.Errorf("opening announce consumer: %w", err)
	}
	// Planning a large group takes a few seconds per ten thousand members;
	// the handler reports progress after each batch, which holds the
	// message past the consumer's ack wait.
	stopPlanner, err := consumers.Runner{Name: bus.ConsumerAnnounce, Handler: planner.Handle, Logger: log,
		Observe: observe, HandleTimeout: 10 * time.Minute}.Start(ctx, c)
	if err != nil {
		return nil, err
	}
	feeder := &announcement.Feeder{Store: st, Dispatcher: disp, Window: feedWindow(cfg.Delivery), Logger: log}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { feeder.Run(fctx) })
	return &announcements{
		service: &announcement.Service{Store: st, Audience: audience, Content: content},
		stop: func(ctx context.Context) error {
			cancel()
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			var err error
			select {
			case <-done:
			case <-ctx.Done():
				err = errors.New("announcement feeder did not stop")
			}
			return errors.Join(err, stopPlanner(ctx))
		},
	}, nil
}

// startOnCall starts the oncall consumer: alerts to on-call staff about
// crisis messages. It runs even when nobody is on call, so the consumer
// never piles up unread events.
func startOnCall(ctx context.Context, js jetstream.JetStream, cfg Config, disp consumers.Dispatcher,
	observe func(consumer, result string, delivered uint64), log *slog.Logger) (func(context.Context) error, error) {
	oc := cfg.OnCall
	if oc.PublicURL == "" {
		oc.PublicURL = cfg.Delivery.Practice.PublicURL
	}
	if err := oc.Validate(); err != nil {
		return nil, err
	}
	c, err := js.Consumer(ctx, bus.StreamOut, bus.ConsumerOnCall)
	if err != nil {
		return nil, fmt.Errorf("opening oncall consumer: %w", err)
	}
	alerter := &oncall.Alerter{Config: oc, Dispatcher: disp, Logger: log}
	return consumers.Runner{Name: bus.ConsumerOnCall, Handler: alerter.Handle, Logger: log, Observe: observe}.Start(ctx, c)
}
