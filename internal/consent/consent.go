// Package consent owns the two things a client can say about being
// messaged — stop, and start again — so that every way of saying it has the
// same effects (invariant 2 in docs/invariants.md). An SMS STOP (the inbound consumer), Twilio's
// error 21610 (the deliverer, and the status callback), and SendGrid's
// unsubscribe, group unsubscribe and spam report events all call
// [Ledger.OptOut]; START / UNSTOP / YES call [Ledger.OptIn]; a hard bounce
// calls [Ledger.Suppress].
//
// An opt-out, for every client at the address (and the client a delivery
// was for):
//
//   - revokes consent for every purpose on the channel, for that address,
//     in the append-only ledger (source e.g. "sms:STOP", "twilio:21610",
//     "sendgrid:spamreport");
//   - emits client.opted_out;
//   - suppresses the address, so a stranger's STOP holds too and no later
//     consent event silently resumes messages to someone who said stop.
//
// Each effect is keyed by the cause (the inbound MessageSid, the delivery,
// the SendGrid event id), so calling OptOut again for the same cause — a
// redelivery finishing a half-done attempt — appends and emits nothing new.
//
// An opt-in lifts the suppression and re-grants only what the client's own
// keyword opt-out revoked (an SMS STOP or Twilio 21610), for the address
// the opt-out was for, with the wording version of the grant it restores:
// never a purpose the client did not agree to, never a revocation staff or
// the booking system recorded.
package consent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/logmask"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

// Emitter publishes the events nudge emits (consumers.Dispatcher is one).
// Emit must return only after the event is durable.
type Emitter interface {
	Emit(ctx context.Context, ev publishers.Event) error
}

// Config wires a Ledger.
type Config struct {
	Store   store.Store // required
	Emitter Emitter     // required
	// Now is the clock for events without a time; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

func (c Config) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("consent: Config.Store is required"))
	}
	if c.Emitter == nil {
		errs = append(errs, errors.New("consent: Config.Emitter is required"))
	}
	return errors.Join(errs...)
}

// Ledger records opt-outs and opt-ins. It is safe for concurrent use.
type Ledger struct {
	cfg Config
	log *slog.Logger
}

// New returns a Ledger for cfg.
func New(cfg Config) (*Ledger, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Ledger{cfg: cfg, log: log}, nil
}

// Reason is who or what said stop. It names the ledger source and the
// client.opted_out source.
type Reason string

const (
	SMSKeyword               Reason = "sms"                        // the client texted STOP (or another opt-out word)
	Twilio21610              Reason = "twilio:21610"               // Twilio refused a send: the number had texted STOP to Twilio
	SendGridUnsubscribe      Reason = "sendgrid:unsubscribe"       // the recipient unsubscribed
	SendGridGroupUnsubscribe Reason = "sendgrid:group_unsubscribe" // the recipient left an unsubscribe group
	SendGridSpamReport       Reason = "sendgrid:spamreport"        // the recipient marked the email as spam
)

// Channel is the channel a Reason is about.
func (r Reason) Channel() vocab.Channel {
	if strings.HasPrefix(string(r), "sendgrid:") {
		return vocab.Email
	}
	return vocab.SMS
}

// keyword reports whether the client opted out with their own keyword,
// which START may undo.
func (r Reason) keyword() bool { return r == SMSKeyword || r == Twilio21610 }

// ledgerSource is the consent ledger's source: "sms:STOP", "twilio:21610".
func (r Reason) ledgerSource(keyword string) string {
	if r == SMSKeyword {
		return "sms:" + cmp.Or(keyword, "STOP")
	}
	return string(r)
}

// eventSource is client.opted_out's source: "sms_keyword", "twilio_21610",
// "sendgrid_spamreport".
func (r Reason) eventSource() string {
	if r == SMSKeyword {
		return "sms_keyword"
	}
	return strings.ReplaceAll(string(r), ":", "_")
}

// OptOut is one "stop" from a client or their provider.
type OptOut struct {
	Reason  Reason
	Address string // the phone number or email address that said stop; required
	// ClientID is the client a delivery was for, when known: it opts out
	// even if its address has changed since.
	ClientID string
	Keyword  string // the word, for SMSKeyword: "STOP", "QUIT" …
	// Cause is the provider's id of what happened (MessageSid, delivery
	// id, SendGrid event id). It keys every effect: required.
	Cause string
	At    time.Time // when it happened; zero means now
}

// Outcome says what an OptOut or OptIn found and did.
type Outcome struct {
	// Clients are the ids of the clients at the address (and ClientID).
	Clients []string
	// WasSuppressed: the address was already suppressed before this call
	// (an earlier opt-out): the caller sends no second confirmation.
	WasSuppressed bool
}

// EventSource is the CloudEvents source of the events this package emits.
const EventSource = "/nudge/consent"

// OptOutEventID is the id of the client.opted_out for cause and client: the
// same cause emits the same event (JetStream drops the repeat).
func OptOutEventID(cause, clientID string) string { return "opted-out:" + cause + ":" + clientID }

// ledgerEventID keys the ledger entries of one cause for one client: the
// ledger is unique on (event id, channel, purpose), so a replay appends
// nothing; the client id keeps the clients of one family phone apart.
func ledgerEventID(cause, clientID string) string { return cause + ":" + clientID }

// OptOut applies o: every client at the address loses consent for every
// purpose on the channel, client.opted_out is emitted for each, and the
// address is suppressed. The suppression comes last, so a retry after a
// failure midway still reports WasSuppressed false and the caller's
// confirmation (keyed by the cause) is queued again, not lost.
func (l *Ledger) OptOut(ctx context.Context, o OptOut) (Outcome, error) {
	ch := o.Reason.Channel()
	if o.Address == "" || o.Cause == "" {
		return Outcome{}, fmt.Errorf("consent: opt-out (%s) needs an address and a cause", o.Reason)
	}
	at := o.At
	if at.IsZero() {
		at = l.cfg.Now()
	}
	out, err := l.outcome(ctx, ch, o.Address, o.ClientID)
	if err != nil {
		return Outcome{}, err
	}
	source := o.Reason.ledgerSource(o.Keyword)
	for _, id := range out.Clients {
		for _, p := range vocab.ConsentPurposes() {
			_, err := l.cfg.Store.AppendConsent(ctx, store.EventRef{}, store.ConsentEntry{
				ClientID: id, Channel: ch, Purpose: p, Action: store.ConsentRevoked, Address: o.Address,
				Source: source, EventID: ledgerEventID(o.Cause, id), OccurredAt: at,
			})
			if err != nil {
				return Outcome{}, fmt.Errorf("consent: revoking %s consent (%s): %w", ch, source, err)
			}
		}
		kw := ""
		if o.Reason == SMSKeyword {
			kw = o.Keyword
		}
		if err := l.emit(ctx, OptOutEventID(o.Cause, id), publishers.TypeClientOptedOut, publishers.ClientOptedOut{
			ClientID: id, Channel: ch, Source: o.Reason.eventSource(), Keyword: kw, OccurredAt: at,
		}); err != nil {
			return Outcome{}, err
		}
	}
	if err := l.Suppress(ctx, ch, o.Address, source); err != nil {
		return Outcome{}, err
	}
	l.log.Info("opt-out recorded", "reason", o.Reason, "channel", ch, "address", logmask.String(o.Address),
		"clients", len(out.Clients), "was_suppressed", out.WasSuppressed)
	return out, nil
}

// OptIn is a client asking for messages again (START, UNSTOP, YES).
type OptIn struct {
	Channel vocab.Channel
	Address string // required
	Keyword string // "START", "UNSTOP", "YES"
	Cause   string // the inbound message id; required
	At      time.Time
}

// OptIn lifts the address's suppression and restores, for every client at
// the address, the consent their own keyword opt-out revoked there (see the
// package documentation).
func (l *Ledger) OptIn(ctx context.Context, o OptIn) (Outcome, error) {
	if !o.Channel.Valid() || o.Address == "" || o.Cause == "" {
		return Outcome{}, fmt.Errorf("consent: opt-in needs a channel, an address and a cause")
	}
	at := o.At
	if at.IsZero() {
		at = l.cfg.Now()
	}
	out, err := l.outcome(ctx, o.Channel, o.Address, "")
	if err != nil {
		return Outcome{}, err
	}
	if err := l.cfg.Store.Unsuppress(ctx, o.Channel, o.Address); err != nil {
		return Outcome{}, fmt.Errorf("consent: lifting the %s suppression: %w", o.Channel, err)
	}
	source := string(o.Channel) + ":" + cmp.Or(o.Keyword, "START")
	for _, id := range out.Clients {
		if err := l.regrant(ctx, id, o, source, at); err != nil {
			return Outcome{}, err
		}
	}
	l.log.Info("opt-in recorded", "channel", o.Channel, "address", logmask.String(o.Address), "clients", len(out.Clients))
	return out, nil
}

// Suppress blocks an address on a channel whatever the ledger says (a
// carrier opt-out, a hard bounce, a spam report). Idempotent.
func (l *Ledger) Suppress(ctx context.Context, ch vocab.Channel, address, reason string) error {
	if err := l.cfg.Store.Suppress(ctx, store.Suppression{Channel: ch, Address: address, Reason: reason}); err != nil {
		return fmt.Errorf("consent: suppressing a %s address (%s): %w", ch, reason, err)
	}
	return nil
}

// outcome finds the clients at address (first, when given, in front) and
// whether the address is suppressed already.
func (l *Ledger) outcome(ctx context.Context, ch vocab.Channel, address, first string) (Outcome, error) {
	var out Outcome
	if first != "" {
		out.Clients = append(out.Clients, first)
	}
	clients, err := l.cfg.Store.ClientsByAddress(ctx, ch, address)
	if err != nil {
		return Outcome{}, fmt.Errorf("consent: finding clients by address: %w", err)
	}
	for _, c := range clients {
		if c.ID != first {
			out.Clients = append(out.Clients, c.ID)
		}
	}
	if out.WasSuppressed, err = l.cfg.Store.IsSuppressed(ctx, ch, address); err != nil {
		return Outcome{}, fmt.Errorf("consent: checking suppression: %w", err)
	}
	return out, nil
}

// keywordRevoke reports whether e is an opt-out the client made themselves
// on the channel: a keyword nudge received ("sms:STOP") or one Twilio
// received first and reported as error 21610.
func keywordRevoke(e store.ConsentEntry) bool {
	return e.Action == store.ConsentRevoked &&
		(strings.HasPrefix(e.Source, string(SMSKeyword)+":") || e.Source == string(Twilio21610))
}

// regrant restores, per purpose, the grant a keyword opt-out at the
// address revoked: it looks back past the keyword revocations for the
// address and re-grants (with the original wording version) only if the
// entry before them was a grant for that address. A STOP revokes every
// purpose, so "re-grant what STOP revoked" without looking back would
// grant purposes the client never agreed to (invariant 1 in docs/invariants.md).
func (l *Ledger) regrant(ctx context.Context, clientID string, o OptIn, source string, at time.Time) error {
	ledger, err := l.cfg.Store.ConsentLedger(ctx, clientID)
	if err != nil {
		return fmt.Errorf("consent: reading the ledger of %s: %w", clientID, err)
	}
	addr := store.NormalizeAddress(o.Channel, o.Address)
	for _, p := range vocab.ConsentPurposes() {
		var entries []store.ConsentEntry // for this purpose and address, in recording order
		for _, e := range ledger {
			ea := store.NormalizeAddress(e.Channel, e.Address)
			if e.Channel == o.Channel && e.Purpose == p && (ea == addr || ea == "" && e.Action == store.ConsentRevoked) {
				entries = append(entries, e)
			}
		}
		i := len(entries) - 1
		if i < 0 || !keywordRevoke(entries[i]) {
			continue
		}
		for i >= 0 && keywordRevoke(entries[i]) {
			i--
		}
		if i < 0 || entries[i].Action != store.ConsentGranted {
			continue
		}
		_, err := l.cfg.Store.AppendConsent(ctx, store.EventRef{}, store.ConsentEntry{
			ClientID: clientID, Channel: o.Channel, Purpose: p, Action: store.ConsentGranted, Address: o.Address,
			Source: source, WordingVersion: entries[i].WordingVersion,
			EventID: ledgerEventID(o.Cause, clientID), OccurredAt: at,
		})
		if err != nil {
			return fmt.Errorf("consent: re-granting %s consent (%s): %w", o.Channel, source, err)
		}
	}
	return nil
}

func (l *Ledger) emit(ctx context.Context, id, typ string, data any) error {
	ev, err := publishers.NewEvent(typ, EventSource, data)
	if err != nil {
		return fmt.Errorf("consent: building %s %s: %w", typ, id, err)
	}
	ev = ev.WithID(id).WithTime(l.cfg.Now())
	if err := ev.ValidateEmitted(); err != nil {
		return fmt.Errorf("consent: building %s %s: %w", typ, id, err)
	}
	if err := l.cfg.Emitter.Emit(ctx, ev); err != nil {
		return fmt.Errorf("consent: emitting %s %s: %w", typ, id, err)
	}
	return nil
}
