package consumers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/consent"
	"github.com/nudgehq/nudge/internal/failpoint"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/tracing"
	"github.com/nudgehq/nudge/internal/unsubscribe"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/templates"
)

// Practice is what messages say about the practice.
type Practice struct {
	Name          string
	PostalAddress string // required in email (CAN-SPAM)
	CrisisLine    string // e.g. "988"
	// PublicURL is where nudge is reachable from outside: unsubscribe
	// links and provider callbacks are built on it.
	PublicURL string
}

// Pacer spaces provider calls per sender so nudge stays under the
// provider's rate limits. Wait blocks until the caller may send on key.
type Pacer interface {
	Wait(ctx context.Context, key string) error
	// Pause delays every sender's next call on key by at least d (the
	// provider's Retry-After).
	Pause(ctx context.Context, key string, d time.Duration) error
}

// Observer receives the deliverer's outcomes (metrics). Methods must be
// cheap and safe for concurrent use.
type Observer interface {
	Outcome(channel vocab.Channel, purpose vocab.Purpose, outcome, reason string)
	ProviderCall(channel vocab.Channel, d time.Duration, err error)
}

// Deliverer takes due notifications off NUDGE_NOTIFY, runs the checks, and
// sends each logical notification at most once.
//
// The ledger row is written under the notification's key before anything
// else, and moved to "sending" before the provider call. A redelivered
// notification whose row is terminal is acknowledged without a send; one
// found in "sending" (a crash or timeout mid-call) is first looked up at the
// provider and only sent if the provider has no record of it.
type Deliverer struct {
	Store      store.Store
	Senders    map[vocab.Channel]channel.Sender
	Templates  *templates.Set
	Dispatcher Dispatcher
	Pacer      Pacer
	Checks     []Check
	// Content chooses, by template kind, what a notification says at send
	// time (the encouragement line). It must answer the same for the same
	// key every time, so a retry renders the same text.
	Content  map[string]Content
	Practice Practice
	// Unsubscribe seals the token of each email's unsubscribe link
	// (<PublicURL>/u/<token>, also the List-Unsubscribe header). Without
	// it the link names the delivery id, which nothing answers: tests only.
	Unsubscribe *unsubscribe.Sealer
	Observer    Observer
	Logger      *slog.Logger
	Now         func() time.Time
	// InFlightLease is how long a delivery in "sending" is presumed to be
	// in the hands of a live worker (another goroutine or process) before
	// a redelivery may reconcile and retry it. It must exceed the handler
	// timeout. 0 means DefaultInFlightLease.
	InFlightLease time.Duration
	// Consent records provider-reported opt-outs; nil means one over
	// Store and Dispatcher.
	Consent *consent.Ledger

	consentOnce sync.Once
	ledger      *consent.Ledger
}

// Content supplies template variables decided at send time rather than
// when the notification was queued. Vars must be idempotent per key.
type Content interface {
	Vars(ctx context.Context, n Notification, t Target) (map[string]any, error)
}

// DefaultInFlightLease suits the runner's default 20s handler timeout.
const DefaultInFlightLease = 25 * time.Second

// PriorityPacer is a Pacer with a lane ahead of the line: WaitPriority
// lets the caller go now, before every caller waiting in Wait (crisis
// help, invariant 9 in docs/invariants.md).
type PriorityPacer interface {
	WaitPriority(ctx context.Context, key string) error
}

// pace waits for n's turn on its channel: a priority notification jumps
// the line when the pacer has a priority lane.
func (dl *Deliverer) pace(ctx context.Context, n Notification) error {
	if dl.Pacer == nil {
		return nil
	}
	var err error
	if pp, ok := dl.Pacer.(PriorityPacer); ok && n.Priority {
		err = pp.WaitPriority(ctx, string(n.Channel))
	} else {
		err = dl.Pacer.Wait(ctx, string(n.Channel))
	}
	if err != nil {
		return fmt.Errorf("pacing: %w", err)
	}
	return nil
}

// Outcomes reported to the Observer.
const (
	OutcomeSent     = "sent"
	OutcomeSkipped  = "skipped"
	OutcomeDeferred = "deferred"
	OutcomeFailed   = "failed"
	OutcomeRetry    = "retry"
	OutcomeRevoked  = "revoked"
	OutcomeAlready  = "already_done"
	OutcomeRecon    = "reconciled"
)

// retryError asks the runner to redeliver no sooner than after.
type retryError struct {
	err   error
	after time.Duration
}

func (e retryError) Error() string { return e.err.Error() }
func (e retryError) Unwrap() error { return e.err }

func (dl *Deliverer) now() time.Time {
	if dl.Now != nil {
		return dl.Now()
	}
	return time.Now()
}

func (dl *Deliverer) observe(n Notification, outcome, reason string) {
	if dl.Observer != nil {
		dl.Observer.Outcome(n.Channel, n.Purpose, outcome, reason)
	}
}

func (dl *Deliverer) log() *slog.Logger {
	if dl.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return dl.Logger
}

// Handle is a Handler for the NUDGE_NOTIFY deliver consumer.
func (dl *Deliverer) Handle(ctx context.Context, msg jetstream.Msg) error {
	n, err := DecodeNotification(msg.Data())
	if err != nil {
		return Permanent(err)
	}
	return dl.Deliver(ctx, n)
}

// Deliver processes one notification. It is idempotent: calling it again
// for the same key never sends a second message.
//
// Most keys are new, so Deliver first treats the key as fresh and spares
// the ledger read: the fresh key's one write (skipped, pending, or claimed
// as "sending") is an insert the unique key refuses when the key has a row
// after all (a redelivery, a deferral coming due, another worker). Then it
// decides again from that row, as if it had read it first.
func (dl *Deliverer) Deliver(ctx context.Context, n Notification) error {
	a := &attempt{}
	err := dl.deliver(ctx, n, a)
	if errors.Is(err, errKeyTaken) {
		a.readLedger = true
		return dl.deliver(ctx, n, a)
	}
	return err
}

// errKeyTaken: a write for a key presumed fresh found its row.
var errKeyTaken = errors.New("the notification key has a ledger row")

// attempt is what one Deliver call carries from a try that presumed the
// key fresh to the try that decides from its row.
type attempt struct {
	// readLedger reads the key's row first rather than presuming it fresh.
	readLedger bool
	// paced: the pacer already gave this call its turn; a second try
	// does not take another (a deferral coming due would take two).
	paced bool
}

// deliver is one try of Deliver.
func (dl *Deliverer) deliver(ctx context.Context, n Notification, a *attempt) error {
	sender, ok := dl.Senders[n.Channel]
	if !ok {
		return Permanent(fmt.Errorf("no sender configured for channel %q", n.Channel))
	}
	t, checkCtx, err := dl.target(ctx, n)
	if err != nil {
		return err
	}

	// The ledger row under the notification's key decides what happens.
	// A fresh key gets its row only once the checks have decided, in one
	// write: skipped with the reason, or already claimed as "sending".
	d, fresh := store.Delivery{}, true
	if a.readLedger {
		d, err = dl.Store.GetDeliveryByKey(ctx, n.Key)
		fresh = isNotFound(err)
	}
	switch {
	case fresh:
		d = store.Delivery{
			ID: store.NewDeliveryID(), IdempotencyKey: n.Key, ClientID: n.ClientID, Channel: n.Channel, Purpose: n.Purpose,
			Template: n.Kind, To: t.To, State: store.DeliveryPending, SessionID: n.SessionID, SessionVersion: n.SessionVersion,
		}
	case err != nil:
		return fmt.Errorf("reading delivery %s: %w", n.Key, err)
	case store.DeliveryStateRank(d.State) >= store.DeliveryStateRank(store.DeliverySent):
		dl.observe(n, OutcomeAlready, string(d.State))
		return nil // never twice
	}

	if c := dl.Content[n.Kind]; c != nil {
		extra, err := c.Vars(ctx, n, t)
		if err != nil {
			return fmt.Errorf("choosing the content of %s: %w", n.Key, err)
		}
		n.Vars = maps.Clone(n.Vars)
		if n.Vars == nil {
			n.Vars = map[string]any{}
		}
		maps.Copy(n.Vars, extra)
	}
	msg, err := dl.render(n, t, d)
	if err != nil {
		return dl.settle(ctx, n, d, fresh, store.DeliveryFailed, "template: "+err.Error(), OutcomeFailed)
	}

	if d.State == store.DeliverySending {
		// Another worker may be mid-call right now: wait out its lease
		// rather than race it. Past the lease, that attempt is dead.
		lease := cmp.Or(dl.InFlightLease, DefaultInFlightLease)
		if held := dl.now().Sub(d.UpdatedAt); held >= 0 && held < lease {
			return retryError{fmt.Errorf("delivery %s is being sent by another worker", d.ID), lease - held}
		}
		// A previous attempt may have reached the provider: ask before sending.
		r, found, err := sender.Lookup(ctx, msg, d.CreatedAt)
		if err != nil {
			return retryError{fmt.Errorf("reconciling delivery %s: %w", d.ID, err), 0}
		}
		if found {
			if _, err := dl.Store.UpdateDelivery(ctx, d.ID, store.DeliveryUpdate{State: store.DeliverySent, ProviderID: r.ProviderID}); err != nil {
				return fmt.Errorf("recording reconciled delivery %s: %w", d.ID, err)
			}
			dl.observe(n, OutcomeRecon, "")
			return nil
		}
	}

	if t.To == "" {
		return dl.settle(ctx, n, d, fresh, store.DeliverySkipped, string(vocab.SkipNoAddress), OutcomeSkipped)
	}
	if done, err := dl.decide(ctx, checkCtx, n, t, d, fresh, a); done || err != nil {
		return err
	}

	if !a.paced {
		began := time.Now()
		if err := dl.pace(ctx, n); err != nil {
			return err
		}
		a.paced = true
		if time.Since(began) >= RecheckAfterPacing {
			// The checks decided before the wait: an opt-out, a care
			// pause or a cancelled announcement may have landed while
			// the message waited for its turn. Decide again with what
			// holds now.
			now, checkCtx, err := dl.target(ctx, n)
			if err != nil {
				return err
			}
			if now.To != t.To {
				return retryError{fmt.Errorf("the address of %s changed while it waited for its turn", n.Key), 0}
			}
			if done, err := dl.decide(ctx, checkCtx, n, now, d, fresh, a); done || err != nil {
				return err
			}
		}
	}
	// Claim this attempt: of all workers holding this notification, only
	// the one whose write wins calls the provider. A fresh key is claimed
	// by creating its row already "sending" (the unique key decides); an
	// existing one by a compare-and-set on its attempt count.
	var claimed store.Delivery
	if fresh {
		first := d
		first.State, first.Attempts = store.DeliverySending, 1
		claimed, ok, err = dl.Store.CreateDelivery(ctx, first)
	} else {
		claimed, ok, err = dl.Store.ClaimDelivery(ctx, d.ID, d.Attempts)
	}
	if err != nil {
		return fmt.Errorf("recording attempt of %s: %w", d.ID, err)
	}
	if !ok && fresh && !a.readLedger {
		return errKeyTaken
	}
	if !ok {
		dl.observe(n, OutcomeRetry, "claimed_elsewhere")
		return retryError{fmt.Errorf("delivery %s was claimed by another worker (now %s)", d.ID, claimed.State), cmp.Or(dl.InFlightLease, DefaultInFlightLease)}
	}
	failpoint.Hit("deliver.before_call")
	start := time.Now()
	sctx, span := tracing.Tracer().Start(ctx, "provider send "+string(n.Channel), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(tracing.AttrChannel.String(string(n.Channel)), tracing.AttrNotification.String(n.Key), tracing.AttrProvider.String(providerName(n.Channel))))
	receipt, err := sender.Send(sctx, msg)
	tracing.End(span, err)
	if dl.Observer != nil {
		dl.Observer.ProviderCall(n.Channel, time.Since(start), err)
	}
	failpoint.Hit("deliver.after_call")
	if err != nil {
		return dl.sendFailed(ctx, n, d, t, err)
	}
	if _, err := dl.Store.UpdateDelivery(ctx, d.ID, store.DeliveryUpdate{State: store.DeliverySent, ProviderID: receipt.ProviderID}); err != nil {
		// Sent but not recorded: the redelivery finds "sending" and
		// reconciles with the provider instead of sending again.
		return fmt.Errorf("recording sent delivery %s: %w", d.ID, err)
	}
	failpoint.Hit("deliver.after_ledger")
	dl.observe(n, OutcomeSent, "")
	return nil
}

// RecheckAfterPacing: a notification that waited at least this long for
// the pacer's turn runs its checks again before it is claimed and sent.
const RecheckAfterPacing = 50 * time.Millisecond

// target reads what the checks need about n's client and works out the
// address. The checks' reads about the client (consent, suppression, care
// pause) come from one snapshot read with the client itself: one round
// trip instead of one per check; the returned context carries it.
func (dl *Deliverer) target(ctx context.Context, n Notification) (Target, context.Context, error) {
	t := Target{N: n, Now: dl.now(), Loc: time.UTC}
	checkCtx := ctx
	if n.ClientID != "" {
		snap, err := dl.Store.ReadSnapshot(ctx, n.ClientID, n.Channel, n.To)
		switch {
		case err == nil:
			t.Client = snap.Client
			if loc, lerr := loadZone(snap.Client.Timezone); lerr == nil {
				t.Loc = loc
			}
			checkCtx = store.WithSnapshot(ctx, snap)
		case isNotFound(err):
		default:
			return t, ctx, fmt.Errorf("reading client: %w", err)
		}
	}
	t.To = n.To
	if t.To == "" {
		if n.Channel == vocab.SMS {
			t.To = t.Client.Phone
		} else {
			t.To = t.Client.Email
		}
	}
	return t, checkCtx, nil
}

// decide runs the checks on t. done is true when they settled n: skipped
// with the reason, or deferred (pending on the ledger, due again later).
func (dl *Deliverer) decide(ctx, checkCtx context.Context, n Notification, t Target, d store.Delivery, fresh bool, a *attempt) (done bool, err error) {
	for _, c := range dl.Checks {
		v, err := c.Check(checkCtx, t)
		if err != nil {
			return true, err
		}
		if v.Skip != "" {
			return true, dl.settle(ctx, n, d, fresh, store.DeliverySkipped, string(v.Skip), OutcomeSkipped)
		}
		if !v.DeferUntil.IsZero() {
			// A deferred notification is on the ledger as pending, so
			// "where is it?" has an answer before it goes.
			if fresh {
				if _, created, err := dl.Store.CreateDelivery(ctx, d); err != nil {
					return true, fmt.Errorf("recording delivery %s: %w", n.Key, err)
				} else if !created && !a.readLedger {
					return true, errKeyTaken
				}
			}
			if err := dl.Dispatcher.NotifyAt(ctx, n, v.DeferUntil); err != nil {
				return true, fmt.Errorf("deferring %s: %w", n.Key, err)
			}
			if err := dl.Store.SetDeferral(ctx, store.Deferral{Key: n.Key, NotBefore: v.DeferUntil, Why: v.Why}); err != nil {
				return true, fmt.Errorf("recording the deferral of %s: %w", n.Key, err)
			}
			dl.observe(n, OutcomeDeferred, v.Why)
			dl.log().Info("notification deferred", "key", n.Key, "until", v.DeferUntil, "why", v.Why)
			return true, nil
		}
	}
	return false, nil
}

// render builds the message with the variables every template may use.
func (dl *Deliverer) render(n Notification, t Target, d store.Delivery) (channel.Message, error) {
	locale := t.Client.Locale
	if locale == "" {
		locale = n.Locale
	}
	vars := templates.CommonVars(locale, dl.Practice.CrisisLine)
	vars["PracticeName"] = dl.Practice.Name
	vars["FirstName"] = t.Client.FirstName
	var headers map[string]string
	if n.Channel == vocab.Email {
		vars["PracticePostalAddress"] = dl.Practice.PostalAddress
		link, err := dl.unsubscribeLink(n, t, d)
		if err != nil {
			return channel.Message{}, err
		}
		vars["UnsubscribeURL"] = link
		if n.Purpose.Consentable() && dl.Unsubscribe != nil {
			// RFC 8058 one-click: mail clients show an "unsubscribe"
			// button that POSTs List-Unsubscribe=One-Click to the link.
			headers = map[string]string{"List-Unsubscribe": "<" + link + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
		}
	}
	if !n.SessionStarts.IsZero() {
		// Session-linked messages (confirmations of a C reply, say) show
		// the session's day and time in the client's zone and language.
		vars["When"] = templates.FormatWhen(n.SessionStarts, t.Loc, locale)
	}
	for k, v := range n.Vars {
		vars[k] = v
	}
	m, err := dl.Templates.Render(n.Kind, locale, n.Channel, vars)
	if err != nil {
		return channel.Message{}, err
	}
	return channel.Message{DeliveryID: d.ID, To: t.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Headers: headers}, nil
}

// unsubscribeLink is the email's unsubscribe URL: a sealed token naming the
// client, the address the email goes to and its purpose, so the link
// unsubscribes exactly that address from exactly that purpose.
func (dl *Deliverer) unsubscribeLink(n Notification, t Target, d store.Delivery) (string, error) {
	base := strings.TrimRight(dl.Practice.PublicURL, "/") + "/u/"
	if dl.Unsubscribe == nil || !n.Purpose.Consentable() || t.Client.ID == "" {
		return base + d.ID, nil
	}
	tok, err := dl.Unsubscribe.Token(unsubscribe.Claim{ClientID: t.Client.ID, Address: t.To, Purpose: n.Purpose, DeliveryID: d.ID})
	if err != nil {
		return "", err
	}
	return base + tok, nil
}

// sendFailed acts on a provider error, classified once by the channel.
func (dl *Deliverer) sendFailed(ctx context.Context, n Notification, d store.Delivery, t Target, err error) error {
	pe := channel.Classify(err)
	switch pe.Class {
	case channel.RevokeConsent:
		if rerr := dl.revoke(ctx, n, d, t, pe); rerr != nil {
			return rerr
		}
		return dl.finish(ctx, n, d, store.DeliveryFailed, "recipient_unsubscribed", OutcomeRevoked)
	case channel.Permanent:
		if pe.BadAddress() {
			// Queued before the row is final, so a failure here is retried.
			if err := dl.fallBack(ctx, n, t); err != nil {
				return err
			}
		}
		return dl.finish(ctx, n, d, store.DeliveryFailed, pe.Provider+":"+pe.Code+" "+pe.Message, OutcomeFailed)
	default:
		// Left in "sending": the redelivery looks the message up first.
		dl.observe(n, OutcomeRetry, pe.Code)
		if pe.RetryAfter > 0 && dl.Pacer != nil {
			if perr := dl.Pacer.Pause(ctx, string(n.Channel), pe.RetryAfter); perr != nil {
				dl.log().Warn("pausing sender", "channel", n.Channel, "err", perr)
			}
		}
		return retryError{fmt.Errorf("sending %s: %w", d.ID, pe), pe.RetryAfter}
	}
}

// FallbackSuffix ends the key of a notification re-sent on email after
// its SMS could not reach the number.
const FallbackSuffix = ":fallback-email"

// fallBack queues n once more on email after SMS said the number can never
// take it (invalid, a landline), when the client consented to the purpose
// on email and has an address there. It happens once: the fallback's key is
// derived from n's, and an email never falls back.
func (dl *Deliverer) fallBack(ctx context.Context, n Notification, t Target) error {
	if n.Channel != vocab.SMS || n.Purpose == vocab.Replies || t.Client.ID == "" || t.Client.Email == "" || n.To != "" {
		return nil
	}
	ok, err := dl.Store.HasConsent(ctx, t.Client.ID, vocab.Email, n.Purpose)
	if err != nil {
		return fmt.Errorf("checking email consent for the fallback of %s: %w", n.Key, err)
	}
	if !ok {
		return nil
	}
	fb := n
	fb.Channel, fb.Key = vocab.Email, n.Key+FallbackSuffix
	if err := dl.Dispatcher.Notify(ctx, fb); err != nil {
		return fmt.Errorf("queueing the email fallback of %s: %w", n.Key, err)
	}
	dl.log().Info("sms could not reach the number; falling back to email", "key", n.Key)
	return nil
}

// revoke records a provider-reported opt-out (Twilio 21610 on a send):
// the same opt-out as an SMS STOP, through package consent.
func (dl *Deliverer) revoke(ctx context.Context, n Notification, d store.Delivery, t Target, pe *channel.ProviderError) error {
	if pe.Provider != "twilio" || pe.Code != "21610" {
		// Only Twilio reports an opt-out on a send; anything else the
		// channel classifies so is recorded as a plain suppression.
		return dl.consent().Suppress(ctx, n.Channel, t.To, pe.Provider+":"+pe.Code)
	}
	_, err := dl.consent().OptOut(ctx, consent.OptOut{
		Reason: consent.Twilio21610, Address: t.To, ClientID: t.Client.ID, Cause: "twilio-21610:" + d.ID, At: dl.now(),
	})
	return err
}

// consent is the one opt-out path (package consent).
func (dl *Deliverer) consent() *consent.Ledger {
	dl.consentOnce.Do(func() {
		if dl.Consent != nil {
			dl.ledger = dl.Consent
			return
		}
		l, err := consent.New(consent.Config{Store: dl.Store, Emitter: dl.Dispatcher, Now: dl.now, Logger: dl.log()})
		if err != nil {
			panic(err) // Store and Dispatcher are required by Deliver already
		}
		dl.ledger = l
	})
	return dl.ledger
}

// settle records a decision not to send: on the existing row, or as the
// fresh key's first and only row. If another worker created the row in the
// meantime, the redelivery decides again with it.
func (dl *Deliverer) settle(ctx context.Context, n Notification, d store.Delivery, fresh bool, state store.DeliveryState, reason, outcome string) error {
	if !fresh {
		return dl.finish(ctx, n, d, state, reason, outcome)
	}
	d.State, d.Reason = state, reason
	if _, created, err := dl.Store.CreateDelivery(ctx, d); err != nil {
		return fmt.Errorf("recording %s delivery %s: %w", state, n.Key, err)
	} else if !created {
		// Decided again from the row (Deliver), or by the redelivery
		// when this attempt had read it.
		return errors.Join(errKeyTaken, retryError{fmt.Errorf("delivery %s was recorded by another worker", n.Key), time.Second})
	}
	dl.observe(n, outcome, reason)
	return nil
}

func (dl *Deliverer) finish(ctx context.Context, n Notification, d store.Delivery, state store.DeliveryState, reason, outcome string) error {
	if _, err := dl.Store.UpdateDelivery(ctx, d.ID, store.DeliveryUpdate{State: state, Reason: reason}); err != nil {
		return fmt.Errorf("recording %s delivery %s: %w", state, d.ID, err)
	}
	dl.observe(n, outcome, reason)
	if outcome != OutcomeSkipped {
		dl.log().Warn("notification not sent", "key", n.Key, "state", state, "reason", reason)
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// providerName names the provider behind a channel, for spans.
func providerName(ch vocab.Channel) string {
	switch ch {
	case vocab.SMS:
		return "twilio"
	case vocab.Email:
		return "sendgrid"
	}
	return "other"
}
