package inbound

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/templates"
)

// DoubleOptIn is the encouragement program clients join by text (CTIA
// double opt-in): a known client texts Keyword, nudge replies once asking
// for YES and naming the program, how often it writes, HELP and STOP; a YES
// within Window records consent for encouragement on SMS with source
// SourceDoubleOptIn and WordingVersion, and sends a welcome. A YES with
// nothing pending is not a consent (it stays START's synonym).
type DoubleOptIn struct {
	// Keyword starts a request ("HOPE"); empty turns double opt-in off.
	Keyword string
	// PerWeek is the frequency the messages name ("about 2 a week").
	PerWeek int
	// WordingVersion names the wording of the request the client said YES
	// to; it is kept with the consent. Empty means DefaultOptInWording.
	WordingVersion string
	// Window is how long a request waits for its YES; 0 means 24 hours.
	Window time.Duration
	// Joined hears about each client whose YES was recorded (the
	// encouragement job starts their schedule). May be nil.
	Joined func(ctx context.Context, clientID string) error
}

// SourceDoubleOptIn is the consent ledger source of a confirmed request.
const SourceDoubleOptIn = "sms-double-opt-in"

// DefaultOptInWording versions the shipped request template.
const DefaultOptInWording = "optin_request-v1"

// Kinds recorded on the inbound message for the two steps.
const (
	kindOptInRequest = "optin_request"
	kindOptInConfirm = "optin_confirm"
)

func (d DoubleOptIn) window() time.Duration {
	if d.Window <= 0 {
		return 24 * time.Hour
	}
	return d.Window
}

func (d DoubleOptIn) wording() string {
	if d.WordingVersion == "" {
		return DefaultOptInWording
	}
	return d.WordingVersion
}

// isKeyword reports whether body is the program keyword alone, whatever
// the case and the punctuation around it ("hope", "HOPE!").
func (d DoubleOptIn) isKeyword(body string) bool {
	if d.Keyword == "" {
		return false
	}
	word := strings.TrimFunc(body, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	return strings.EqualFold(word, d.Keyword)
}

// planOptIn marks the two steps of a double opt-in on p: the keyword from
// a known, not opted-out number; a YES while a request from the number is
// pending (or was confirmed by this very message: a retry).
func (c *Consumer) planOptIn(ctx context.Context, p *decision) error {
	d := c.cfg.DoubleOptIn
	if d.Keyword == "" || len(p.clients) == 0 {
		return nil
	}
	if d.isKeyword(p.msg.Body) && !p.suppressed {
		p.optInAsk = true
		return nil
	}
	if !isYES(p) {
		return nil
	}
	reqs, err := c.cfg.Store.OptInRequestsAt(ctx, p.msg.From, p.now.Add(-d.window()))
	if err != nil {
		return err
	}
	for _, r := range reqs {
		if r.ConfirmedBy == "" || r.ConfirmedBy == p.msg.ID {
			p.optInConfirm = append(p.optInConfirm, r)
		}
	}
	return nil
}

func isYES(p *decision) bool {
	return strings.EqualFold(p.res.Keyword, "YES")
}

// askOptIn records the request for every client at the number and sends
// the one confirmation request.
func (c *Consumer) askOptIn(ctx context.Context, p *decision) error {
	d := c.cfg.DoubleOptIn
	for _, cl := range p.clients {
		if _, err := c.cfg.Store.RecordOptInRequest(ctx, store.OptInRequest{
			MessageID: p.msg.ID, ClientID: cl.ID, Address: p.msg.From, Keyword: strings.ToUpper(d.Keyword),
			WordingVersion: d.wording(), RequestedAt: p.now,
		}); err != nil {
			return fmt.Errorf("recording the opt-in request: %w", err)
		}
	}
	return c.programReply(ctx, p, templates.KindOptInRequest)
}

// confirmOptIn records consent for encouragement on SMS, bound to this
// number, for every client whose request is pending, and welcomes them.
func (c *Consumer) confirmOptIn(ctx context.Context, p *decision) error {
	d := c.cfg.DoubleOptIn
	for _, r := range p.optInConfirm {
		_, err := c.cfg.Store.AppendConsent(ctx, store.EventRef{}, store.ConsentEntry{
			ClientID: r.ClientID, Channel: vocab.SMS, Purpose: vocab.Encouragement, Action: store.ConsentGranted,
			Address: p.msg.From, Source: SourceDoubleOptIn, WordingVersion: r.WordingVersion,
			EventID: "optin:" + p.msg.ID + ":" + r.ClientID, OccurredAt: p.now,
		})
		if err != nil {
			return fmt.Errorf("recording the double opt-in of %s: %w", r.ClientID, err)
		}
		if _, err := c.cfg.Store.ConfirmOptInRequest(ctx, r.MessageID, r.ClientID, p.msg.ID, p.now); err != nil {
			return err
		}
		if d.Joined != nil {
			if err := d.Joined(ctx, r.ClientID); err != nil {
				return err
			}
		}
	}
	return c.programReply(ctx, p, templates.KindOptInWelcome)
}

// programReply queues a reply that names the program's frequency.
func (c *Consumer) programReply(ctx context.Context, p *decision, kind string) error {
	n := consumers.Notification{
		Key: "reply:" + p.msg.ID, ClientID: p.firstClientID(), Channel: vocab.SMS, Purpose: vocab.Replies,
		Kind: kind, To: p.msg.From, Urgent: true, Vars: map[string]any{"PerWeek": max(c.cfg.DoubleOptIn.PerWeek, 1)},
	}
	if err := c.cfg.Dispatcher.Notify(ctx, n); err != nil {
		return fmt.Errorf("queueing %s reply: %w", kind, err)
	}
	return nil
}
