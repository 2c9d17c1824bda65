// Package oncall alerts the practice's on-call staff when a client's
// message needs urgent attention (invariant 9). It consumes
// safety.crisis_reply from NUDGE_OUT and queues one alert per on-call
// address: a priority notification, ahead of every routine send, that
// says only that a message needs urgent attention and links to it in the
// staff inbox — never the client's words or name.
package oncall

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
	"github.com/nudgehq/nudge/templates"
)

// Config names who is on call.
type Config struct {
	SMS   []string // E.164 numbers (NUDGE_CRISIS_ALERT_SMS)
	Email []string // addresses (NUDGE_CRISIS_ALERT_EMAIL)
	// PublicURL is where staff open the console: the alert links to the
	// inbox item there.
	PublicURL string
}

// Validate checks the addresses; errors name the setting.
func (c Config) Validate() error {
	for _, n := range c.SMS {
		if len(n) < 8 || n[0] != '+' || strings.TrimLeft(n[1:], "0123456789") != "" {
			return fmt.Errorf("crisis alert SMS: %q is not an E.164 number like +14155550123", n)
		}
	}
	for _, e := range c.Email {
		if at := strings.IndexByte(e, '@'); at < 1 || at == len(e)-1 || strings.ContainsAny(e, " <>,") {
			return fmt.Errorf("crisis alert email: %q is not an email address", e)
		}
	}
	return nil
}

// Enabled reports whether anyone is on call.
func (c Config) Enabled() bool { return len(c.SMS)+len(c.Email) > 0 }

// Alerter handles safety.crisis_reply events.
type Alerter struct {
	Config     Config
	Dispatcher consumers.Dispatcher
	Logger     *slog.Logger
}

// Handle is a consumers.Handler for the oncall consumer.
func (a *Alerter) Handle(ctx context.Context, msg jetstream.Msg) error {
	ev, err := publishers.ParseEmitted(msg.Data())
	if err != nil {
		return consumers.Permanent(fmt.Errorf("invalid event on %s: %w", msg.Subject(), err))
	}
	data, err := ev.DecodeData()
	if err != nil {
		return consumers.Permanent(err)
	}
	d, ok := data.(publishers.SafetyCrisisReply)
	if !ok {
		return consumers.Permanent(fmt.Errorf("event %s is %s, not %s", ev.ID, ev.Type, publishers.TypeSafetyCrisisReply))
	}
	return a.Alert(ctx, d.InboundMessageID)
}

// Alert queues the alerts for one inbound message. Its keys derive from
// the message and the address, so the several events of one message (one
// per client sharing a phone) and any redelivery alert each person once.
func (a *Alerter) Alert(ctx context.Context, inboundID string) error {
	for _, to := range a.targets() {
		n := consumers.Notification{
			Key: "crisis_alert:" + inboundID + ":" + string(to.channel) + ":" + addressHash(to.address),
			To:  to.address, Channel: to.channel, Purpose: vocab.Replies, Kind: templates.KindCrisisAlert,
			Urgent: true, Priority: true,
			Vars: map[string]any{"Link": Link(a.Config.PublicURL, inboundID)},
		}
		if err := a.Dispatcher.Notify(ctx, n); err != nil {
			return fmt.Errorf("queueing crisis alert: %w", err)
		}
	}
	if a.Logger != nil {
		a.Logger.Info("on-call staff alerted", "inbound_message_id", inboundID, "alerts", len(a.targets()))
	}
	return nil
}

type target struct {
	channel vocab.Channel
	address string
}

func (a *Alerter) targets() []target {
	var out []target
	for _, n := range a.Config.SMS {
		out = append(out, target{vocab.SMS, n})
	}
	for _, e := range a.Config.Email {
		out = append(out, target{vocab.Email, e})
	}
	return out
}

// Link is where an inbox item opens in the console.
func Link(publicURL, inboundID string) string {
	return strings.TrimRight(publicURL, "/") + "/inbox#msg-" + url.PathEscape(inboundID)
}

// addressHash keeps staff addresses out of ledger keys and dead letters.
func addressHash(addr string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(addr)))
	return hex.EncodeToString(sum[:6])
}
