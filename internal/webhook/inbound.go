package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

// emptyTwiML answers an inbound message without a reply: replies go through
// the delivery engine (the ledger sends each at most once), never TwiML.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// UnknownClientID stands in for the client in a safety.crisis_reply about a
// number nudge does not know: the alert must go out, and the event requires
// a client id. Staff find the number in the inbox message the event names.
const UnknownClientID = "unknown"

// inboundSMS is an incoming message as Twilio posts it.
type inboundSMS struct {
	Sid  string // MessageSid
	From string
	To   string
	Body string
	// OptOutType is set ("STOP", "START", "HELP") when Twilio's own
	// opt-out handling matched the message. Twilio then has already sent
	// its reply (and, for STOP, blocks the number): nudge records the
	// change but sends no second reply.
	OptOutType string
}

// twilioReplied reports whether Twilio's opt-out handling already answered
// a message with a reply of this kind.
func (m inboundSMS) twilioReplied(kind string) bool {
	switch m.OptOutType {
	case "STOP":
		return kind == templates.KindOptedOut
	case "START":
		return kind == templates.KindResubscribed
	case "HELP":
		return kind == templates.KindHelp
	}
	return false
}

// parseInboundSMS reads Twilio's incoming-message form.
func parseInboundSMS(form url.Values) (inboundSMS, error) {
	m := inboundSMS{
		Sid:  form.Get("MessageSid"),
		From: form.Get("From"),
		To:   form.Get("To"),
		Body: form.Get("Body"),

		OptOutType: strings.ToUpper(form.Get("OptOutType")),
	}
	if m.Sid == "" {
		m.Sid = form.Get("SmsMessageSid") // older accounts
	}
	switch {
	case m.Sid == "":
		return m, errors.New("MessageSid is missing")
	case m.From == "":
		return m, errors.New("From is missing")
	}
	return m, nil
}

func (h *Handler) serveTwilioInbound(w http.ResponseWriter, r *http.Request) {
	form, ok := h.twilioForm(w, r)
	if !ok {
		return
	}
	msg, err := parseInboundSMS(form)
	if err != nil {
		h.log.Warn("twilio inbound webhook without a message", "err", err)
		writeError(w, errBadRequest)
		return
	}
	ctx, cancel := work(r)
	defer cancel()
	if err := h.handleInbound(ctx, msg); err != nil {
		h.fail(w, r, fmt.Errorf("inbound message %s: %w", msg.Sid, err))
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(emptyTwiML))
}

// inboundPlan is everything decided about one inbound message before
// acting on it.
type inboundPlan struct {
	msg     inboundSMS
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
	// crisis help is queued (invariant 2).
	optedOut   bool
	needsStaff bool
}

// firstClientID is the client a reply is addressed as, "" for a stranger.
func (p *inboundPlan) firstClientID() string {
	if len(p.clients) == 0 {
		return ""
	}
	return p.clients[0].ID
}

// handleInbound stores the message once and acts on it once.
//
// A replayed MessageSid whose first delivery was processed changes
// nothing. One whose first delivery failed midway is finished: every step
// is idempotent on its own, and the steps are ordered so that redoing them
// decides the same (see optOut and optIn).
func (h *Handler) handleInbound(ctx context.Context, msg inboundSMS) error {
	stored, err := h.cfg.Store.GetInbound(ctx, msg.Sid)
	switch {
	case err == nil && !stored.ProcessedAt.IsZero():
		h.log.Info("inbound message replayed", "message_sid", msg.Sid)
		return nil
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
	default:
		return err
	}
	now := h.now()
	if stored.ID != "" {
		now = stored.ReceivedAt
	}
	p, err := h.plan(ctx, msg, now)
	if err != nil {
		return err
	}
	if stored.ID == "" {
		created, err := h.cfg.Store.RecordInbound(ctx, store.InboundMessage{
			ID: msg.Sid, Channel: vocab.SMS, From: msg.From, To: msg.To, Body: msg.Body,
			Kind: p.res.Kind.String(), ClientID: p.firstClientID(), ReceivedAt: p.now, NeedsStaff: p.needsStaff,
		})
		if err != nil {
			return err
		}
		if !created { // a concurrent delivery of the same webhook stored it first
			if stored, err = h.cfg.Store.GetInbound(ctx, msg.Sid); err != nil {
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
	if err := h.act(ctx, p); err != nil {
		return err
	}
	if err := h.cfg.Store.FinishInbound(ctx, msg.Sid); err != nil {
		return err
	}
	h.log.Info("inbound message handled", "message_sid", msg.Sid, "kind", p.res.Kind.String(),
		"from", logmask.String(msg.From), "clients", len(p.clients), "needs_staff", p.needsStaff)
	return nil
}

// plan classifies msg and reads what acting on it depends on.
func (h *Handler) plan(ctx context.Context, msg inboundSMS, now time.Time) (*inboundPlan, error) {
	p := &inboundPlan{msg: msg, res: keyword.Classify(msg.Body), now: now}
	var err error
	if p.clients, err = h.cfg.Store.ClientsByAddress(ctx, vocab.SMS, msg.From); err != nil {
		return nil, err
	}
	if p.suppressed, err = h.cfg.Store.IsSuppressed(ctx, vocab.SMS, msg.From); err != nil {
		return nil, err
	}
	if p.optedOut, err = h.allRevoked(ctx, p); err != nil {
		return nil, err
	}
	for _, c := range p.clients {
		sessions, err := h.cfg.Store.UpcomingSessions(ctx, c.ID, p.now)
		if err != nil {
			return nil, err
		}
		if len(sessions) > 0 && (!p.hasSession || sessions[0].StartsAt.Before(p.session.StartsAt)) {
			p.session, p.hasSession = sessions[0], true
		}
	}
	p.decide()
	return p, nil
}

// allRevoked reports whether the number counts as opted out: suppressed,
// or every client at it has revoked every purpose on sms.
func (h *Handler) allRevoked(ctx context.Context, p *inboundPlan) (bool, error) {
	if p.suppressed {
		return true, nil
	}
	if len(p.clients) == 0 {
		return false, nil
	}
	for _, c := range p.clients {
		states, err := h.cfg.Store.Consents(ctx, c.ID)
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
func (p *inboundPlan) decide() {
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
func (p *inboundPlan) redecide(stored store.InboundMessage) {
	switch {
	case p.res.Kind == keyword.OptIn && stored.Kind == keyword.Confirm.String():
		p.res.Kind = keyword.Confirm
	case p.res.Kind == keyword.Confirm && p.res.Keyword == "YES" && stored.Kind == keyword.OptIn.String():
		p.res.Kind = keyword.OptIn
	}
}

// act does what the message asks. See the package documentation and each
// case for the rules; the tests pin them.
func (h *Handler) act(ctx context.Context, p *inboundPlan) error {
	switch p.res.Kind {
	case keyword.Crisis:
		// Help first, then the staff alert, then (if the message also said
		// STOP) the opt-out with its confirmation. Never encouragement.
		if err := h.reply(ctx, p, "reply:"+p.msg.Sid, templates.KindCrisis, p.firstClientID(), nil); err != nil {
			return err
		}
		if err := h.crisisAlert(ctx, p); err != nil {
			return err
		}
		if p.res.AlsoOptOut {
			return h.optOut(ctx, p, p.res.OptOutKeyword, "reply:"+p.msg.Sid+":opted_out")
		}
	case keyword.OptOut:
		return h.optOut(ctx, p, p.res.Keyword, "reply:"+p.msg.Sid)
	case keyword.OptIn:
		return h.optIn(ctx, p)
	case keyword.Help:
		if !p.optedOut {
			return h.reply(ctx, p, "reply:"+p.msg.Sid, templates.KindHelp, p.firstClientID(), nil)
		}
	case keyword.Confirm:
		return h.confirm(ctx, p)
	case keyword.Reschedule:
		return h.reschedule(ctx, p)
	}
	// Unknown: stored for the staff inbox, no automatic reply.
	return nil
}

// reply queues a reply to the sender. Replies answer the client's own
// message, so they are urgent: a "C" sent at 22:00 is acknowledged then,
// not at 08:00 the next day.
func (h *Handler) reply(ctx context.Context, p *inboundPlan, key, kind, clientID string, session *store.Session) error {
	if p.msg.twilioReplied(kind) {
		return nil // exactly one reply: Twilio's
	}
	n := consumers.Notification{
		Key: key, ClientID: clientID, Channel: vocab.SMS, Purpose: vocab.Replies,
		Kind: kind, To: p.msg.From, Urgent: true,
	}
	if session != nil {
		n.SessionID, n.SessionVersion, n.SessionStarts = session.ID, session.Version, session.StartsAt
	}
	if err := h.cfg.Dispatcher.Notify(ctx, n); err != nil {
		return fmt.Errorf("queueing %s reply: %w", kind, err)
	}
	return nil
}

// crisisAlert raises safety.crisis_reply for every client at the number
// (or one for an unknown number). The event names the inbox message, never
// its text: staff read it in the inbox, behind authentication.
func (h *Handler) crisisAlert(ctx context.Context, p *inboundPlan) error {
	ids := make([]string, 0, len(p.clients))
	for _, c := range p.clients {
		ids = append(ids, c.ID)
	}
	if len(ids) == 0 {
		ids = append(ids, UnknownClientID)
	}
	for _, id := range ids {
		err := h.emit(ctx, crisisEventID(p.msg.Sid, id), inboxPath(p.msg.Sid), publishers.TypeSafetyCrisisReply,
			publishers.SafetyCrisisReply{
				ClientID: id, Channel: vocab.SMS, InboundMessageID: p.msg.Sid,
				ReceivedAt: p.now, AutoReplySent: true,
			})
		if err != nil {
			return err
		}
	}
	h.log.Warn("crisis language in an inbound message: crisis reply queued, staff alerted",
		"message_sid", p.msg.Sid, "from", logmask.String(p.msg.From), "clients", len(p.clients))
	return nil
}

// inboxPath is where staff read an inbound message.
func inboxPath(id string) string { return "/v1/inbox/" + id }

// optOut queues the one confirmation and records the opt-out (package
// consent: every client at the number, every purpose, the number
// suppressed, client.opted_out). A number that was suppressed before this
// message gets no second confirmation; a retry of this message queues the
// same confirmation key again, which the ledger sends once.
func (h *Handler) optOut(ctx context.Context, p *inboundPlan, kw, replyKey string) error {
	if !p.suppressed {
		if err := h.reply(ctx, p, replyKey, templates.KindOptedOut, p.firstClientID(), nil); err != nil {
			return err
		}
	}
	_, err := h.consent.OptOut(ctx, consent.OptOut{
		Reason: consent.SMSKeyword, Keyword: kw, Address: p.msg.From, Cause: p.msg.Sid, At: p.now,
	})
	return err
}

// optIn lifts the suppression and restores the consent the client's own
// STOP revoked (package consent), and then queues the welcome back: in
// that order, because the deliverer skips replies to a number that is
// still opted out.
func (h *Handler) optIn(ctx context.Context, p *inboundPlan) error {
	_, err := h.consent.OptIn(ctx, consent.OptIn{
		Channel: vocab.SMS, Address: p.msg.From, Keyword: p.res.Keyword, Cause: p.msg.Sid, At: p.now,
	})
	if err != nil {
		return err
	}
	return h.reply(ctx, p, "reply:"+p.msg.Sid, templates.KindResubscribed, p.firstClientID(), nil)
}

// confirm emits session.confirmed for the soonest upcoming session of the
// clients at the number and acknowledges it. Without a session the message
// waits in the staff inbox (needsStaff), unanswered. An opted-out client
// still confirms (it is their session) but gets no acknowledgement.
func (h *Handler) confirm(ctx context.Context, p *inboundPlan) error {
	if !p.hasSession {
		return nil
	}
	err := h.emit(ctx, confirmedEventID(p.msg.Sid), "", publishers.TypeSessionConfirmed, publishers.SessionConfirmed{
		SessionID: p.session.ID, ClientID: p.session.ClientID, Channel: vocab.SMS, ConfirmedAt: p.now,
	})
	if err != nil || p.optedOut {
		return err
	}
	return h.reply(ctx, p, "reply:"+p.msg.Sid, templates.KindConfirmed, p.session.ClientID, &p.session)
}

// reschedule emits session.reschedule_requested and acknowledges it, with
// the same rules as confirm.
func (h *Handler) reschedule(ctx context.Context, p *inboundPlan) error {
	if !p.hasSession {
		return nil
	}
	err := h.emit(ctx, rescheduleEventID(p.msg.Sid), "", publishers.TypeSessionRescheduleRequested,
		publishers.SessionRescheduleRequested{
			SessionID: p.session.ID, ClientID: p.session.ClientID, Channel: vocab.SMS, RequestedAt: p.now,
		})
	if err != nil || p.optedOut {
		return err
	}
	return h.reply(ctx, p, "reply:"+p.msg.Sid, templates.KindRescheduleRequested, p.session.ClientID, nil)
}
