package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/nudgehq/nudge/internal/consent"
	"github.com/nudgehq/nudge/internal/logmask"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/tracing"
	"github.com/nudgehq/nudge/internal/vocab"
)

// providerSendGrid names SendGrid in the provider_events table.
const providerSendGrid = "sendgrid"

// verifySendGrid checks the signed event webhook: the ECDSA signature over
// the timestamp header followed by the raw body, and (because the SDK's
// verifier does not) that the timestamp is recent.
func (h *Handler) verifySendGrid(r *http.Request, body []byte) *webhookError {
	sig := r.Header.Get(eventwebhook.VerificationHTTPHeader)
	ts := r.Header.Get(eventwebhook.TimestampHTTPHeader)
	if sig == "" || ts == "" {
		return &errUnsigned
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return &errBadSignature
	}
	age := h.now().Sub(time.Unix(sec, 0))
	if age > h.cfg.SendGridMaxAge || age < -sendGridMaxFuture {
		return &errStale
	}
	ok, err := eventwebhook.VerifySignature(h.sendgrid, body, sig, ts)
	if err != nil || !ok {
		return &errBadSignature
	}
	return nil
}

func (h *Handler) serveSendGridEvents(w http.ResponseWriter, r *http.Request) {
	body, bad := readBody(w, r, maxEventsBytes)
	if bad != nil {
		h.refuse(w, r, *bad)
		return
	}
	if bad := h.verifySendGrid(r, body); bad != nil {
		h.refuse(w, r, *bad)
		return
	}
	events, err := parseSendGridEvents(body)
	if err != nil {
		h.log.Warn("sendgrid event webhook is not an event array", "err", err)
		writeError(w, errBadRequest)
		return
	}
	ctx, cancel := work(r)
	defer cancel()
	for _, e := range events {
		// Signed like the rest of the event: one link per message the
		// batch reports on, to nudge's send of it.
		tracing.Link(ctx, e.Traceparent)
		if err := h.applySendGridEvent(ctx, e); err != nil {
			// SendGrid retries the whole batch; the events applied so far
			// are recorded and skipped then.
			h.fail(w, r, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// sendGridEvent is the part of one event nudge reads.
type sendGridEvent struct {
	Event       string // processed, delivered, bounce, ...
	Email       string
	EventID     string // sg_event_id: unique per event, repeated by duplicates
	MessageID   string // sg_message_id: "<X-Message-Id>.<filter info>"
	DeliveryID  string // the delivery_id custom arg, echoed at the top level
	Traceparent string // the traceparent custom arg: the span of nudge's send
	BounceType  string // "bounce" (hard) or "blocked" (temporary), on bounce events
	Unparseable bool   // not a JSON object
}

// providerID is the X-Message-Id the sender stored: sg_message_id up to
// its first dot.
func (e sendGridEvent) providerID() string {
	id, _, _ := strings.Cut(e.MessageID, ".")
	return id
}

// parseSendGridEvents reads the webhook body: a JSON array of objects. It
// reads field by field, so one event with an odd field type (custom args
// are free-form) does not cost the rest of the batch.
func parseSendGridEvents(body []byte) ([]sendGridEvent, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("decoding event array: %w", err)
	}
	out := make([]sendGridEvent, 0, len(raw))
	for _, r := range raw {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(r, &fields); err != nil || fields == nil {
			out = append(out, sendGridEvent{Unparseable: true})
			continue
		}
		out = append(out, sendGridEvent{
			Event:       jsonString(fields["event"]),
			Email:       jsonString(fields["email"]),
			EventID:     jsonString(fields["sg_event_id"]),
			MessageID:   jsonString(fields["sg_message_id"]),
			DeliveryID:  jsonString(fields["delivery_id"]),
			Traceparent: jsonString(fields[tracing.Param]),
			BounceType:  jsonString(fields["type"]),
		})
	}
	return out, nil
}

// jsonString returns a JSON string's value, "" for anything else.
func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// applySendGridEvent applies one event once. The sg_event_id is recorded
// after the event's effects, which are idempotent themselves, so a failure
// in between is repaired by SendGrid's retry rather than lost.
func (h *Handler) applySendGridEvent(ctx context.Context, e sendGridEvent) error {
	if e.Unparseable || e.Event == "" {
		h.log.Warn("sendgrid event without a type skipped")
		return nil
	}
	if e.EventID != "" {
		_, err := h.cfg.Store.GetProviderEvent(ctx, providerSendGrid, e.EventID)
		if err == nil {
			return nil // a duplicate: SendGrid delivers events at least once
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	outcome, err := h.sendGridEffects(ctx, e)
	switch {
	case errors.Is(err, store.ErrInvalid):
		// Something in the event the store refuses (an empty address):
		// retrying cannot fix it, so record it and move on.
		h.log.Warn("sendgrid event not applied", "event", e.Event, "sg_event_id", e.EventID, "err", err)
		outcome = "invalid"
	case err != nil:
		return fmt.Errorf("applying sendgrid %s event %s: %w", e.Event, e.EventID, err)
	}
	if e.EventID == "" {
		return nil
	}
	if _, err := h.cfg.Store.RecordProviderEvent(ctx, store.ProviderEvent{
		Provider: providerSendGrid, EventID: e.EventID, Outcome: outcome,
	}); err != nil {
		return err
	}
	return nil
}

// sendGridEffects maps one event onto the ledger, consent and
// suppressions, and says what it did.
//
//	processed            → sent
//	delivered            → delivered
//	bounce               → failed "sendgrid:bounce"; the address is suppressed unless SendGrid calls it "blocked" (temporary)
//	dropped              → failed "sendgrid:dropped"
//	spamreport, unsubscribe, group_unsubscribe
//	                     → email consent revoked for every purpose, the address suppressed
//	deferred, open, click and the rest → nothing
func (h *Handler) sendGridEffects(ctx context.Context, e sendGridEvent) (string, error) {
	d, found, err := h.findDelivery(ctx, e.DeliveryID, e.providerID())
	if err != nil {
		return "", err
	}
	u := store.DeliveryUpdate{ProviderID: e.providerID()}
	switch e.Event {
	case "processed":
		u.State = store.DeliverySent
	case "delivered":
		u.State = store.DeliveryDelivered
	case "bounce", "dropped":
		u.State, u.Reason = store.DeliveryFailed, "sendgrid:"+e.Event
	case "spamreport", "unsubscribe", "group_unsubscribe":
		return e.Event, h.emailOptOut(ctx, e, d)
	default:
		return "ignored", nil
	}
	if found {
		if err := h.moveDelivery(ctx, d, u); err != nil {
			return "", err
		}
	} else {
		h.log.Warn("sendgrid event for an unknown delivery",
			"event", e.Event, "delivery_id", e.DeliveryID, "sg_message_id", e.MessageID, "email", logmask.String(e.Email))
	}
	if e.Event == "bounce" && e.BounceType != "blocked" {
		addr := e.Email
		if addr == "" {
			addr = d.To
		}
		if err := h.consent.Suppress(ctx, vocab.Email, addr, "sendgrid:bounce"); err != nil {
			return "", err
		}
	}
	if !found {
		return "unknown_delivery", nil
	}
	return e.Event, nil
}

// emailOptOut handles an unsubscribe, group unsubscribe or spam report:
// the same opt-out as an SMS STOP, on email (package consent).
func (h *Handler) emailOptOut(ctx context.Context, e sendGridEvent, d store.Delivery) error {
	addr := e.Email
	if addr == "" {
		addr = d.To
	}
	if addr == "" {
		h.log.Warn("sendgrid opt-out without an address", "event", e.Event, "delivery_id", e.DeliveryID)
		return nil
	}
	cause := "sendgrid:" + e.EventID
	if e.EventID == "" {
		cause = "sendgrid:" + e.MessageID + ":" + e.Event
	}
	_, err := h.consent.OptOut(ctx, consent.OptOut{
		Reason: consent.Reason("sendgrid:" + e.Event), Address: addr, ClientID: d.ClientID, Cause: cause, At: h.now(),
	})
	return err
}
