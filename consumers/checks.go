package consumers

import (
	"context"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// Verdict is a check's answer: go ahead (zero value), skip for good with a
// reason, or defer until a time.
type Verdict struct {
	Skip       vocab.SkipReason
	DeferUntil time.Time
	Why        string // reason for a deferral, for logs and metrics
}

// Go reports whether the verdict lets the notification continue.
func (v Verdict) Go() bool { return v.Skip == "" && v.DeferUntil.IsZero() }

func skip(reason vocab.SkipReason) Verdict { return Verdict{Skip: reason} }

// Target is what the checks look at: the notification, its client (zero
// when the notification is a reply to an unknown number), the address it
// goes to and the time of the decision.
type Target struct {
	N      Notification
	Client store.Client
	To     string
	Loc    *time.Location
	Now    time.Time
}

// Check decides whether a notification may go now. Checks are composable
// steps run in order by the Deliverer; the first that does not say go wins.
type Check interface {
	Check(ctx context.Context, t Target) (Verdict, error)
}

// CheckFunc adapts a function to Check.
type CheckFunc func(ctx context.Context, t Target) (Verdict, error)

// Check implements Check.
func (f CheckFunc) Check(ctx context.Context, t Target) (Verdict, error) { return f(ctx, t) }

// alwaysAllowed are replies that go even to someone who opted out: the one
// opt-out confirmation, and crisis help.
func alwaysAllowed(n Notification) bool {
	return n.Purpose == vocab.Replies && (n.Kind == "opted_out" || n.Kind == "crisis")
}

// Expiry skips notifications past their NotAfter (never stale).
func Expiry() Check {
	return CheckFunc(func(_ context.Context, t Target) (Verdict, error) {
		if !t.N.NotAfter.IsZero() && t.Now.After(t.N.NotAfter) {
			return skip(vocab.SkipExpired), nil
		}
		return Verdict{}, nil
	})
}

// Consent requires an active consent record for the client, purpose,
// channel and the address the message goes to (invariant 1 in docs/invariants.md). Replies need no consent, but after an opt-out
// nothing but the confirmation (and crisis help) goes out (invariant 2 in docs/invariants.md).
func Consent(st store.Store) Check {
	return CheckFunc(func(ctx context.Context, t Target) (Verdict, error) {
		if alwaysAllowed(t.N) {
			return Verdict{}, nil
		}
		if t.N.Purpose != vocab.Replies {
			if t.Client.ID == "" {
				return skip(vocab.SkipUnknownClient), nil
			}
			// Consent for the address the message goes to: consent given
			// for one number does not follow the client to another.
			if t.To == "" {
				return skip(vocab.SkipNoConsent), nil
			}
			ok, err := st.HasConsentAt(ctx, t.Client.ID, t.N.Channel, t.N.Purpose, t.To)
			if err != nil {
				return Verdict{}, fmt.Errorf("checking consent: %w", err)
			}
			if !ok {
				return skip(vocab.SkipNoConsent), nil
			}
			return Verdict{}, nil
		}
		if t.Client.ID == "" {
			return Verdict{}, nil
		}
		states, err := st.Consents(ctx, t.Client.ID)
		if err != nil {
			return Verdict{}, fmt.Errorf("reading consents: %w", err)
		}
		seen, active := false, false
		for _, s := range states {
			if s.Channel == t.N.Channel {
				seen = true
				active = active || s.Active
			}
		}
		if seen && !active {
			return skip(vocab.SkipOptedOut), nil
		}
		return Verdict{}, nil
	})
}

// Suppression skips addresses blocked by a carrier opt-out, bounce or spam
// report, whatever the consent ledger says.
func Suppression(st store.Store) Check {
	return CheckFunc(func(ctx context.Context, t Target) (Verdict, error) {
		if alwaysAllowed(t.N) {
			return Verdict{}, nil
		}
		sup, err := st.IsSuppressed(ctx, t.N.Channel, t.To)
		if err != nil {
			return Verdict{}, fmt.Errorf("checking suppressions: %w", err)
		}
		if sup {
			return skip(vocab.SkipSuppressed), nil
		}
		return Verdict{}, nil
	})
}

// CarePause skips what a clinician paused for the client: encouragement,
// journal nudges and announcements, and with scope "all" reminders too.
// Skipped, not deferred: nothing floods out when the pause ends. Replies
// (crisis help, the opt-out confirmation, HELP) always go. A pause past its
// Until is over without anyone resuming it.
func CarePause(st store.Store) Check {
	return CheckFunc(func(ctx context.Context, t Target) (Verdict, error) {
		if t.N.Purpose == vocab.Replies || t.Client.ID == "" {
			return Verdict{}, nil
		}
		p, err := st.GetCarePause(ctx, t.Client.ID)
		if isNotFound(err) {
			return Verdict{}, nil
		}
		if err != nil {
			return Verdict{}, fmt.Errorf("reading care pause: %w", err)
		}
		if !p.InForce(t.Now) {
			return Verdict{}, nil
		}
		if t.N.Purpose == vocab.Reminders && p.Scope != store.CareScopeAll {
			return Verdict{}, nil
		}
		return skip(vocab.SkipCarePaused), nil
	})
}

// SessionFresh re-reads the session a notification was decided for: a
// cancelled, moved or already started session gets nothing (invariant 5 in docs/invariants.md).
// MaxLateness, when set, also skips notifications that fire more than that
// after they were due (the deliverer's NotAfter covers most cases).
func SessionFresh(st store.Store) Check {
	return CheckFunc(func(ctx context.Context, t Target) (Verdict, error) {
		if t.N.SessionID == "" {
			return Verdict{}, nil
		}
		s, err := st.GetSession(ctx, t.N.SessionID)
		if err != nil {
			if isNotFound(err) {
				return skip(vocab.SkipUnknownSession), nil
			}
			return Verdict{}, fmt.Errorf("reading session: %w", err)
		}
		switch {
		case s.Status == store.SessionCancelled:
			return skip(vocab.SkipCancelled), nil
		case t.N.SessionVersion != 0 && s.Version != t.N.SessionVersion:
			return skip(vocab.SkipMoved), nil
		case !t.Now.Before(s.StartsAt):
			return skip(vocab.SkipStarted), nil
		}
		return Verdict{}, nil
	})
}

// QuietHours defers non-urgent messages that would land outside the
// client's window to its next opening (invariant 6 in docs/invariants.md). Reminders are placed
// inside the window when they are scheduled, and replies answer the client,
// so both pass.
func QuietHours(w quiethours.Window) Check {
	return CheckFunc(func(_ context.Context, t Target) (Verdict, error) {
		if t.N.Urgent || t.N.Purpose == vocab.Replies || t.N.Purpose == vocab.Reminders {
			return Verdict{}, nil
		}
		if w.Contains(t.Now, t.Loc) {
			return Verdict{}, nil
		}
		return Verdict{DeferUntil: quiethours.NextAllowed(t.Now, t.Loc, w), Why: "quiet_hours"}, nil
	})
}

// Cadence defers messages over the client's caps (invariant 7 in docs/invariants.md), counting
// what the ledger says was sent in the last week. Encouragement over a cap
// is skipped with the cap's reason instead: its schedule fires again.
func Cadence(st store.Store, c quiethours.Cadence) Check {
	return CheckFunc(func(ctx context.Context, t Target) (Verdict, error) {
		if t.N.Urgent || t.N.Purpose == vocab.Replies || t.N.Purpose == vocab.Reminders || t.Client.ID == "" {
			return Verdict{}, nil
		}
		rows, err := st.ListDeliveries(ctx, store.DeliveryFilter{ClientID: t.Client.ID, Limit: 200})
		if err != nil {
			return Verdict{}, fmt.Errorf("reading recent deliveries: %w", err)
		}
		var recent []quiethours.Sent
		for _, d := range rows {
			if d.IdempotencyKey == t.N.Key || t.Now.Sub(d.UpdatedAt) > quiethours.RollingWeek {
				continue
			}
			if d.State == store.DeliverySent || d.State == store.DeliveryDelivered || d.State == store.DeliverySending {
				recent = append(recent, quiethours.Sent{Purpose: d.Purpose, At: d.UpdatedAt})
			}
		}
		ok, next, reason := c.Allow(t.N.Purpose, t.Now, t.Loc, recent)
		if ok {
			return Verdict{}, nil
		}
		if t.N.Purpose == vocab.Encouragement {
			// Encouragement recurs: the next fire is its next chance, so
			// one over the cap is skipped, never carried into tomorrow.
			return skip(vocab.SkipReason(reason)), nil // a quiethours cap reason
		}
		return Verdict{DeferUntil: next, Why: reason}, nil
	})
}

// DefaultChecks is the order the deliverer runs its checks in. SessionFresh
// goes first so that a reminder for a session that was cancelled, moved or
// has started records that reason rather than the plainer "expired" (its
// expiry is never after the session start).
func DefaultChecks(st store.Store, w quiethours.Window, c quiethours.Cadence) []Check {
	return []Check{
		SessionFresh(st),
		AnnouncementActive(st),
		Expiry(),
		Consent(st),
		Suppression(st),
		CarePause(st),
		QuietHours(w),
		Cadence(st, c),
	}
}
