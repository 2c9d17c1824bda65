package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/pacing"
	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/templates"
)

// Delivery configures the path from a due notification to the provider.
type Delivery struct {
	// Twilio and SendGrid configure the channels; nil leaves a channel
	// unconfigured (its notifications fail with a clear reason).
	Twilio   *channel.TwilioConfig
	SendGrid *channel.SendGridConfig
	Practice consumers.Practice
	// TemplatesDir overrides shipped templates with a practice's own.
	TemplatesDir string
	// Rates are calls per second per channel, shared by all processes.
	Rates      pacing.Limits
	QuietHours quiethours.Window
	Cadence    quiethours.Cadence
	// SendGridWebhookKey verifies SendGrid's signed event webhook.
	SendGridWebhookKey string
}

// senders builds one Sender per configured channel.
func (d Delivery) senders() (map[string]channel.Sender, error) {
	out := map[string]channel.Sender{}
	if d.Twilio != nil {
		s, err := channel.NewTwilio(*d.Twilio)
		if err != nil {
			return nil, err
		}
		out[channel.SMS] = s
	}
	if d.SendGrid != nil {
		s, err := channel.NewSendGrid(*d.SendGrid)
		if err != nil {
			return nil, err
		}
		out[channel.Email] = s
	}
	if len(out) == 0 {
		return nil, errors.New("no channel configured: set Twilio (SMS) or SendGrid (email) settings")
	}
	return out, nil
}

func (d Delivery) templates() (*templates.Set, error) {
	if d.TemplatesDir == "" {
		return templates.Load(nil)
	}
	if _, err := os.Stat(d.TemplatesDir); err != nil {
		return nil, fmt.Errorf("templates dir: %w", err)
	}
	return templates.Load(os.DirFS(d.TemplatesDir))
}

// startDeliverer builds the deliverer and starts the deliver consumer.
func startDeliverer(ctx context.Context, js jetstream.JetStream, st store.Store, cfg Config, disp consumers.Dispatcher, obs consumers.Observer, log *slog.Logger) (func(context.Context) error, error) {
	d := cfg.Delivery
	senders, err := d.senders()
	if err != nil {
		return nil, err
	}
	tmpl, err := d.templates()
	if err != nil {
		return nil, err
	}
	var pacer consumers.Pacer
	if len(d.Rates) > 0 {
		p, err := pacing.New(ctx, js, d.Rates, cfg.Topology.Replicas)
		if err != nil {
			return nil, err
		}
		pacer = p
	}
	window := d.QuietHours
	if window == (quiethours.Window{}) {
		window = quiethours.Default
	}
	cadence := d.Cadence
	if cadence.MaxPerWeek == 0 {
		cadence = quiethours.DefaultCadence()
	}
	if err := window.Validate(); err != nil {
		return nil, fmt.Errorf("quiet hours: %w", err)
	}
	dl := &consumers.Deliverer{
		Store:      st,
		Senders:    senders,
		Templates:  tmpl,
		Dispatcher: disp,
		Pacer:      pacer,
		Practice:   d.Practice,
		Observer:   obs,
		Logger:     log,
		Checks: []consumers.Check{
			consumers.Expiry(),
			consumers.Consent(st),
			consumers.Suppression(st),
			consumers.SessionFresh(st),
			consumers.QuietHours(window),
			consumers.Cadence(st, cadence),
		},
	}
	c, err := js.Consumer(ctx, bus.StreamNotify, bus.ConsumerDeliver)
	if err != nil {
		return nil, fmt.Errorf("opening deliver consumer: %w", err)
	}
	return consumers.Runner{Name: bus.ConsumerDeliver, Handler: dl.Handle, Logger: log}.Start(ctx, c)
}
