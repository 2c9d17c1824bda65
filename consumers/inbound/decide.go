package inbound

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/consent"
	"github.com/nudgehq/nudge/internal/keyword"
	"github.com/nudgehq/nudge/internal/logmask"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
	"github.com/nudgehq/nudge/templates"
)

// decision is everything decided about one inbound message before
// acting on it.
type decision struct {
	msg     Message
	res     keyword.Result // Kind may be Confirm for a YES (see decide)
	clients []store.Client // every client at msg.From, sorted by id
	now     time.Time
	// session is the soonest upcoming session of those clients, for C and R.
	session    store.Session
	hasSession bool
	// suppressed: the number was already blocked (an earlier STOP, a
	// carrier opt-out). A second STOP gets no second confirmation.
	suppressed bool
	// optedOut: suppressed, or every client at the number has revoked
	// every purpose on sms. Then nothing but the opt-out confirmation and
	// crisis help is queued (invariant 2 in docs/invariants.md).
	optedOut   bool
	needsStaff bool
	// optInAsk: the message is the program keyword from a known number
	// (double opt-in, step one); optInConfirm: it is a YES to these
	// pending requests (step two). See optin.go.
	optInAsk     bool
	optInConfirm []store.OptInRequest
}

// kind is what the inbox records the message as.
func (p *decision) kind() string {
	switch {
	case p.optInAsk:
		return kindOptInRequest
	case len(p.optInConfirm) > 0:
		return kindOptInConfirm
	}
	return p.res.Kind.String()
}

// firstClientID is the client a reply is addressed as, "" for a stranger.
func (p *decision) firstClientID() string {
	if len(p.clients) == 0 {
		return ""
	}
	return p.clients[0].ID
}

// Process stores the message once and acts on it once.
//
// A replayed MessageSid whose first delivery was processed changes
// nothing. One whose first delivery failed midway is finished: every step
// is idempotent on its own, and the steps are ordered so that redoing them
// decides the same (see optOut and optIn).
func (c *Consumer) Process(ctx context.Context, msg Message) error {
	stored, err := c.cfg.Store.GetInbound(ctx, msg.ID)
	switch {
	case err == nil && !stored.ProcessedAt.IsZero():
		c.log.Info("inbound message replayed", "message_sid", msg.ID)
		return nil
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
	default:
		return err
	}
	now := msg.ReceivedAt.UTC()
	if msg.ReceivedAt.IsZero() {
		now = c.now()
	}
	if stored.ID != "" {
		now = stored.ReceivedAt
	}
	p, err := c.plan(ctx, msg, now)
	if err != nil {
		return err
	}
	if stored.ID == "" {
		created, err := c.cfg.Store.RecordInbound(ctx, store.InboundMessage{
			ID: msg.ID, Channel: msg.Channel, From: msg.From, To: msg.To, Body: msg.Body,
			Kind: p.kind(), ClientID: p.firstClientID(), ReceivedAt: p.now, NeedsStaff: p.needsStaff,
		})
		if err != nil {
			return err
		}
		if !created { // a concurrent delivery of the same webhook stored it first
			if stored, err = c.cfg.Store.GetInbound(ctx, msg.ID); err != nil {
				return err
			}
			if !stored.ProcessedAt.IsZero() {
				return nil
			}
		}
	}
	if stored.ID != "" {
		// Finishing an earlier attempt: act on what it decided, not on what
		// its own steps have changed since (a START re-granted consent, so
		// a YES would now read as a confirmation).
		p.redecide(stored)
	}
	if err := c.act(ctx, p); err != nil {
		return err
	}
	if err := c.cfg.Store.FinishInbound(ctx, msg.ID); err != nil {
		return err
	}
	c.log.Info("inbound message handled", "message_sid", msg.ID, "kind", p.kind(),
		"from", logmask.String(msg.From), "clients", len(p.clients), "needs_staff", p.needsStaff)
	return nil
}

// plan classifies msg and reads what acting on it depends on.
func (c *Consumer) plan(ctx context.Context, msg Message, now time.Time) (*decision, error) {
	p := &decision{msg: msg, res: keyword.Classify(msg.Body), now: now}
	var err error
	if p.clients, err = c.cfg.Store.ClientsByAddress(ctx, vocab.SMS, msg.From); err != nil {
		return nil, err
	}
	if p.suppressed, err = c.cfg.Store.IsSuppressed(ctx, vocab.SMS, msg.From); err != nil {
		return nil, err
	}
	if p.optedOut, err = c.allRevoked(ctx, p); err != nil {
		return nil, err
	}
	for _, cl := range p.clients {
		sessions, err := c.cfg.Store.UpcomingSessions(ctx, cl.ID, p.now)
		if err != nil {
			return nil, err
		}
		if len(sessions) > 0 && (!p.hasSession || sessions[0].StartsAt.Before(p.session.StartsAt)) {
			p.session, p.hasSession = sessions[0], true
		}
	}
	if err := c.planOptIn(ctx, p); err != nil {
		return nil, err
	}
	p.decide()
	return p, nil
}

// allRevoked reports whether the number counts as opted out: suppressed,
// or every client at it has revoked every purpose on sms.
func (c *Consumer) allRevoked(ctx context.Context, p *decision) (bool, error) {
	if p.suppressed {
		return true, nil
	}
	if len(p.clients) == 0 {
		return false, nil
	}
	for _, cl := range p.clients {
		states, err := c.cfg.Store.Consents(ctx, cl.ID)
		if err != nil {
			return false, err
		}
		revoked := 0
		for _, s := range states {
			if s.Channel == vocab.SMS && !s.Active {
				revoked++
			}
		}
		if revoked < len(vocab.ConsentPurposes()) {
			return false, nil
		}
	}
	return true, nil
}

// decide settles the kind and whether staff must look.
//
// YES is an opt-in keyword (Twilio treats it as one), but a client who is
// not opted out and has a session coming up means "yes, I'll be there":
// keyword.Classify leaves that call to the caller, and here it is a
// confirmation.
func (p *decision) decide() {
	if p.optInAsk || len(p.optInConfirm) > 0 {
		return // the double opt-in answers it; staff need not
	}
	if p.res.Kind == keyword.OptIn && p.res.Keyword == "YES" && !p.optedOut && p.hasSession {
		p.res.Kind = keyword.Confirm
	}
	switch p.res.Kind {
	case keyword.Crisis, keyword.Unknown:
		p.needsStaff = true
	case keyword.Confirm, keyword.Reschedule:
		p.needsStaff = !p.hasSession
	}
}

// redecide restores the one decision that depends on state the message
// itself changes: whether a YES was a confirmation or an opt-in.
func (p *decision) redecide(stored store.InboundMessage) {
	switch {
	case p.res.Kind == keyword.OptIn && stored.Kind == keyword.Confirm.String():
		p.res.Kind = keyword.Confirm
	case p.res.Kind == keyword.Confirm && p.res.Keyword == "YES" && stored.Kind == keyword.OptIn.String():
		p.res.Kind = keyword.OptIn
	}
}

// act does what the message asks. See the package documentation and each
// case for the rules; the tests pin them.
func (c *Consumer) act(ctx context.Context, p *decision) error {
	switch {
	case p.optInAsk:
		return c.askOptIn(ctx, p)
	case len(p.optInConfirm) > 0:
		return c.confirmOptIn(ctx, p)
	}
	switch p.res.Kind {
	case keyword.Crisis:
		// Help first, then the staff alert, then (if the message also said
		// STOP) the opt-out with its confirmation. Never encouragement.
		if err := c.reply(ctx, p, CrisisReplyKey(p.msg.ID), templates.KindCrisis, p.firstClientID(), nil); err != nil {
			return err
		}
		if err := c.crisisAlert(ctx, p); err != nil {
			return err
		}
		if p.res.AlsoOptOut {
			return c.optOut(ctx, p, p.res.OptOutKeyword, "reply:"+p.msg.ID+":opted_out")
		}
	case keyword.OptOut:
		return c.optOut(ctx, p, p.res.Keyword, "reply:"+p.msg.ID)
	case keyword.OptIn:
		return c.optIn(ctx, p)
	case keyword.Help:
		if !p.optedOut {
			return c.reply(ctx, p, "reply:"+p.msg.ID, templates.KindHelp, p.firstClientID(), nil)
		}
	case keyword.Confirm:
		return c.confirm(ctx, p)
	case keyword.Reschedule:
		return c.reschedule(ctx, p)
	}
	// Unknown: stored for the staff inbox, no automatic reply.
	return nil
}

// reply queues a reply to the sender. Replies answer the client's own
// message, so they are urgent: a "C" sent at 22:00 is acknowledged then,
// not at 08:00 the next day.
func (c *Consumer) reply(ctx context.Context, p *decision, key, kind, clientID string, session *store.Session) error {
	if p.msg.twilioReplied(kind) {
		return nil // exactly one reply: Twilio's
	}
	n := consumers.Notification{
		Key: key, ClientID: clientID, Channel: vocab.SMS, Purpose: vocab.Replies,
		Kind: kind, To: p.msg.From, Urgent: true,
		// Crisis help goes ahead of every routine send (invariant 9 in docs/invariants.md).
		Priority: kind == templates.KindCrisis,
	}
	if session != nil {
		n.SessionID, n.SessionVersion, n.SessionStarts = session.ID, session.Version, session.StartsAt
	}
	if err := c.cfg.Dispatcher.Notify(ctx, n); err != nil {
		return fmt.Errorf("queueing %s reply: %w", kind, err)
	}
	return nil
}

// crisisAlert raises safety.crisis_reply for every client at the number
// (or one for an unknown number). The event names the inbox message, never
// its text: staff read it in the inbox, behind authentication.
func (c *Consumer) crisisAlert(ctx context.Context, p *decision) error {
	ids := make([]string, 0, len(p.clients))
	for _, c := range p.clients {
		ids = append(ids, c.ID)
	}
	if len(ids) == 0 {
		ids = append(ids, UnknownClientID)
	}
	for _, id := range ids {
		err := c.emit(ctx, crisisEventID(p.msg.ID, id), inboxPath(p.msg.ID), publishers.TypeSafetyCrisisReply,
			publishers.SafetyCrisisReply{
				ClientID: id, Channel: vocab.SMS, InboundMessageID: p.msg.ID,
				ReceivedAt: p.now, AutoReplySent: true,
			})
		if err != nil {
			return err
		}
	}
	c.log.Warn("crisis language in an inbound message: crisis reply queued, staff alerted",
		"message_sid", p.msg.ID, "from", logmask.String(p.msg.From), "clients", len(p.clients))
	return nil
}

// CrisisReplyKey is the notification key of the crisis reply to inbound
// message id: the staff inbox looks it up to flag a reply that failed.
func CrisisReplyKey(id string) string { return "reply:" + id }

// inboxPath is where staff read an inbound message.
func inboxPath(id string) string { return "/v1/inbox/" + id }

// optOut queues the one confirmation and records the opt-out (package
// consent: every client at the number, every purpose, the number
// suppressed, client.opted_out). A number that was suppressed before this
// message gets no second confirmation; a retry of this message queues the
// same confirmation key again, which the ledger sends once.
func (c *Consumer) optOut(ctx context.Context, p *decision, kw, replyKey string) error {
	if !p.suppressed {
		if err := c.reply(ctx, p, replyKey, templates.KindOptedOut, p.firstClientID(), nil); err != nil {
			return err
		}
	}
	out, err := c.consent.OptOut(ctx, consent.OptOut{
		Reason: consent.SMSKeyword, Keyword: kw, Address: p.msg.From, Cause: p.msg.ID, At: p.now,
	})
	if err != nil {
		return err
	}
	return c.consentChanged(ctx, out.Clients)
}

// consentChanged tells the ConsentChanged hook about each client.
func (c *Consumer) consentChanged(ctx context.Context, clients []string) error {
	if c.cfg.ConsentChanged == nil {
		return nil
	}
	for _, id := range clients {
		if err := c.cfg.ConsentChanged(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// optIn lifts the suppression and restores the consent the client's own
// STOP revoked (package consent), and then queues the welcome back: in
// that order, because the deliverer skips replies to a number that is
// still opted out.
func (c *Consumer) optIn(ctx context.Context, p *decision) error {
	out, err := c.consent.OptIn(ctx, consent.OptIn{
		Channel: vocab.SMS, Address: p.msg.From, Keyword: p.res.Keyword, Cause: p.msg.ID, At: p.now,
	})
	if err != nil {
		return err
	}
	if err := c.consentChanged(ctx, out.Clients); err != nil {
		return err
	}
	return c.reply(ctx, p, "reply:"+p.msg.ID, templates.KindResubscribed, p.firstClientID(), nil)
}

// confirm emits session.confirmed for the soonest upcoming session of the
// clients at the number and acknowledges it. Without a session the message
// waits in the staff inbox (needsStaff), unanswered. An opted-out client
// still confirms (it is their session) but gets no acknowledgement.
func (c *Consumer) confirm(ctx context.Context, p *decision) error {
	if !p.hasSession {
		return nil
	}
	if err := c.recordAnswer(ctx, p, store.ConfirmationConfirmed); err != nil {
		return err
	}
	err := c.emit(ctx, confirmedEventID(p.msg.ID), "", publishers.TypeSessionConfirmed, publishers.SessionConfirmed{
		SessionID: p.session.ID, ClientID: p.session.ClientID, Channel: vocab.SMS, ConfirmedAt: p.now,
	})
	if err != nil || p.optedOut {
		return err
	}
	return c.reply(ctx, p, "reply:"+p.msg.ID, templates.KindConfirmed, p.session.ClientID, &p.session)
}

// reschedule emits session.reschedule_requested and acknowledges it, with
// the same rules as confirm.
func (c *Consumer) reschedule(ctx context.Context, p *decision) error {
	if !p.hasSession {
		return nil
	}
	if err := c.recordAnswer(ctx, p, store.ConfirmationRescheduleRequested); err != nil {
		return err
	}
	err := c.emit(ctx, rescheduleEventID(p.msg.ID), "", publishers.TypeSessionRescheduleRequested,
		publishers.SessionRescheduleRequested{
			SessionID: p.session.ID, ClientID: p.session.ClientID, Channel: vocab.SMS, RequestedAt: p.now,
		})
	if err != nil || p.optedOut {
		return err
	}
	return c.reply(ctx, p, "reply:"+p.msg.ID, templates.KindRescheduleRequested, p.session.ClientID, nil)
}

// recordAnswer keeps the client's C or R on the session, so the session
// itself says whether it was confirmed (GET /v1/sessions/{id}). A later
// answer replaces an earlier one; a replay records the same.
func (c *Consumer) recordAnswer(ctx context.Context, p *decision, state string) error {
	_, err := c.cfg.Store.RecordSessionConfirmation(ctx, store.SessionConfirmation{
		SessionID: p.session.ID, State: state, At: p.now, MessageID: p.msg.ID,
	})
	return err
}
