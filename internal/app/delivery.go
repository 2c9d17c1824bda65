package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/consumers/encouragement"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/pacing"
	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/unsubscribe"
	"github.com/nudgehq/nudge/internal/vocab"
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
	// Workers is how many notifications one process sends at once; 0
	// means DefaultDeliverWorkers. Pacing still holds the per-channel rate.
	Workers int
	// TwilioWebhookToken verifies Twilio's webhook signatures: the
	// account's auth token. Empty means Twilio.AuthToken.
	TwilioWebhookToken string

	// unsubscribe seals emails' unsubscribe links (from
	// Config.UnsubscribeSecret).
	unsubscribe *unsubscribe.Sealer
}

// twilioAuthToken is what Twilio signs webhooks with: the account's auth
// token (API keys authenticate calls but do not sign webhooks).
func (d Delivery) twilioAuthToken() string {
	if d.Twilio == nil {
		return ""
	}
	return cmp.Or(d.TwilioWebhookToken, d.Twilio.AuthToken)
}

// DefaultDeliverWorkers is how many provider calls one process keeps in
// flight: most of a send is waiting on the provider. With a provider
// answering in 200 ms, 8 workers sent 40 a second, and 4,833 of 10,000
// reminders due within a minute reached the provider after their due time
// (nudge bench-reminders --provider-latency 200ms --workers 8); with 32,
// none did (p99 2.8 s before due). It stays modest because Twilio limits
// how many API requests an account has in flight (error 20429), counted
// across all replicas. Pacing still holds each channel's rate.
const DefaultDeliverWorkers = 32

// senders builds one Sender per configured channel.
func (d Delivery) senders() (map[vocab.Channel]channel.Sender, error) {
	out := map[vocab.Channel]channel.Sender{}
	if d.Twilio != nil {
		s, err := channel.NewTwilio(*d.Twilio)
		if err != nil {
			return nil, err
		}
		out[vocab.SMS] = s
	}
	if d.SendGrid != nil {
		s, err := channel.NewSendGrid(*d.SendGrid)
		if err != nil {
			return nil, err
		}
		out[vocab.Email] = s
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
	set, err := templates.Load(os.DirFS(d.TemplatesDir))
	if err != nil {
		return nil, err
	}
	return set, d.lintTemplates(set)
}

// lintTemplates runs `nudge templates lint` on a practice's overrides with
// its own name and crisis line: an override that breaks a rule (a health
// word, a missing opt-out line, a keyword trap …) stops the start, naming
// the file and the rule, rather than reaching clients.
func (d Delivery) lintTemplates(set *templates.Set) error {
	cfg := templates.DefaultLintConfig()
	cfg.Vars = map[string]any{}
	if d.Practice.Name != "" {
		cfg.Vars["PracticeName"] = d.Practice.Name
	}
	if d.Practice.CrisisLine != "" {
		cfg.Vars["CrisisLine"] = templates.CommonVars("en", d.Practice.CrisisLine)["CrisisLine"]
	}
	var problems []string
	for _, f := range templates.Lint(set, cfg) {
		if f.Severity == templates.SeverityError {
			problems = append(problems, f.String())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("templates in %s fail the lint (fix them or run `nudge templates lint --dir %s`):\n  %s",
			d.TemplatesDir, d.TemplatesDir, strings.Join(problems, "\n  "))
	}
	return nil
}

// startDeliverer builds the deliverer and starts the deliver consumer.
func startDeliverer(ctx, startCtx context.Context, js jetstream.JetStream, st store.Store, cfg Config, disp consumers.Dispatcher, obs consumers.Observer, observe func(consumer, result string, delivered uint64), log *slog.Logger) (func(context.Context) error, error) {
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
		err := bus.Retry(startCtx, log, "key-value bucket "+pacing.Bucket, func(ctx context.Context) error {
			p, err := pacing.New(ctx, js, d.Rates, cfg.Topology.Replicas)
			pacer = p
			return err
		})
		if err != nil {
			return nil, err
		}
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
	// A handler must finish well inside the ack wait, or JetStream hands
	// the notification to another worker while this one still holds it;
	// a row in "sending" is presumed in a live worker's hands a little
	// longer than that.
	ackWait := cmp.Or(cfg.Topology.NotifyAckWait, 60*time.Second)
	timeout := min(20*time.Second, ackWait*2/3)
	dl := &consumers.Deliverer{
		// Past the ack wait JetStream has already handed the message on:
		// the lease never needs to outlast it.
		InFlightLease: min(timeout+2*time.Second, ackWait),
		Store:         st,
		Senders:       senders,
		Templates:     tmpl,
		Dispatcher:    disp,
		Pacer:         pacer,
		Practice:      d.Practice,
		Unsubscribe:   d.unsubscribe,
		Observer:      obs,
		Logger:        log,
		Checks:        consumers.DefaultChecks(st, window, cadence),
		Content: map[string]consumers.Content{
			templates.KindEncouragement: &encouragement.Rotation{Store: st, Templates: tmpl},
		},
	}
	c, err := openConsumer(startCtx, js, bus.StreamNotify, bus.ConsumerDeliver, log)
	if err != nil {
		return nil, fmt.Errorf("opening deliver consumer: %w", err)
	}
	stop, err := consumers.Runner{
		Name: bus.ConsumerDeliver, Handler: dl.Handle, Logger: log, HandleTimeout: timeout, Observe: observe,
		Concurrency: cmp.Or(d.Workers, DefaultDeliverWorkers),
		Prefetch:    2 * cmp.Or(d.Workers, DefaultDeliverWorkers),
	}.Start(ctx, c)
	if err != nil {
		return nil, err
	}
	// Crisis help has its own consumer and workers, so it never waits
	// behind routine sends held in the pacer (invariant 9 in docs/invariants.md).
	pc, err := openConsumer(startCtx, js, bus.StreamNotify, bus.ConsumerDeliverPriority, log)
	if err != nil {
		_ = stop(context.Background())
		return nil, fmt.Errorf("opening deliver-priority consumer: %w", err)
	}
	stopPriority, err := consumers.Runner{
		Name: bus.ConsumerDeliverPriority, Handler: dl.Handle, Logger: log, HandleTimeout: timeout, Observe: observe,
		Concurrency: 2, Prefetch: 2,
	}.Start(ctx, pc)
	if err != nil {
		_ = stop(context.Background())
		return nil, err
	}
	return joinStops(stop, stopPriority), nil
}
