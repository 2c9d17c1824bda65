package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/nudgehq/nudge/internal/consent"
	"github.com/nudgehq/nudge/internal/logmask"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/tracing"
	"github.com/nudgehq/nudge/publishers"
)

// twilioForm reads a Twilio webhook and returns its form parameters only
// when X-Twilio-Signature is Twilio's signature of the URL it called and
// those parameters. Otherwise it has answered the request.
//
// Only the first value of each parameter is ever used: that is what the
// SDK's validator signs over, so a parameter repeated by someone else
// cannot change what nudge reads.
func (h *Handler) twilioForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	body, bad := readBody(w, r, maxFormBytes)
	if bad != nil {
		h.refuse(w, r, *bad)
		return nil, false
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" {
		h.refuse(w, r, errUnsigned)
		return nil, false
	}
	// Twilio signs the URL it was configured with; behind a proxy only
	// PublicURL knows its scheme and host.
	if !h.twilio.ValidateBody(h.publicURL+r.URL.RequestURI(), body, sig) {
		h.refuse(w, r, errBadSignature)
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil { // unreachable: the validator parsed the same body
		h.refuse(w, r, errBadRequest)
		return nil, false
	}
	return form, true
}

// twilioStatus is one status callback.
type twilioStatus struct {
	DeliveryID string // the "d" parameter of the callback URL
	// Traceparent is the callback URL's "traceparent": the span of the
	// provider call that sent the message (tracing on).
	Traceparent string
	MessageSid  string
	Status      string // MessageStatus
	ErrorCode   string
	To          string
}

func parseTwilioStatus(query, form url.Values) twilioStatus {
	return twilioStatus{
		DeliveryID:  query.Get("d"),
		Traceparent: query.Get(tracing.Param),
		MessageSid:  form.Get("MessageSid"),
		Status:      form.Get("MessageStatus"),
		ErrorCode:   form.Get("ErrorCode"),
		To:          form.Get("To"),
	}
}

// update maps a Twilio message status onto the deliveries ledger. ok is
// false for statuses nudge does not know.
//
// queued, accepted, scheduled and sending mean Twilio has the message,
// which the ledger already says ("sending" is recorded before the API call,
// "sent" after it): they set no state, only fill a provider id a crashed
// sender never stored. Twilio's "sent" (handed to the carrier) is the
// ledger's sent; "read" (WhatsApp) implies delivered.
func (s twilioStatus) update() (u store.DeliveryUpdate, ok bool) {
	u.ProviderID = s.MessageSid
	switch s.Status {
	case "queued", "accepted", "scheduled", "sending":
	case "sent":
		u.State = store.DeliverySent
	case "delivered", "read":
		u.State = store.DeliveryDelivered
	case "undelivered":
		u.State, u.Reason = store.DeliveryUndelivered, s.reason()
	case "failed", "canceled":
		u.State, u.Reason = store.DeliveryFailed, s.reason()
	default:
		return u, false
	}
	return u, true
}

// reason is "twilio:<ErrorCode>", or "twilio:<status>" without a code.
func (s twilioStatus) reason() string {
	if s.ErrorCode != "" {
		return "twilio:" + s.ErrorCode
	}
	return "twilio:" + s.Status
}

func (h *Handler) serveTwilioStatus(w http.ResponseWriter, r *http.Request) {
	form, ok := h.twilioForm(w, r)
	if !ok {
		return
	}
	ctx, cancel := work(r)
	defer cancel()
	cb := parseTwilioStatus(r.URL.Query(), form)
	// The URL is signed: the link names nudge's own send of this message.
	tracing.Link(ctx, cb.Traceparent)
	if err := h.applyTwilioStatus(ctx, cb); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// applyTwilioStatus moves the delivery a callback is about and handles a
// carrier opt-out (21610). An unknown delivery is logged and otherwise
// ignored: answering 4xx would only make Twilio retry.
func (h *Handler) applyTwilioStatus(ctx context.Context, cb twilioStatus) error {
	d, found, err := h.findDelivery(ctx, cb.DeliveryID, cb.MessageSid)
	if err != nil {
		return err
	}
	u, known := cb.update()
	switch {
	case !found:
		h.log.Warn("twilio status callback for an unknown delivery",
			"delivery_id", cb.DeliveryID, "message_sid", cb.MessageSid, "status", cb.Status, "to", logmask.String(cb.To))
	case !known:
		h.log.Warn("twilio status callback with an unknown status", "delivery_id", d.ID, "status", cb.Status)
	default:
		if err := h.moveDelivery(ctx, d, u); err != nil {
			return err
		}
	}
	if cb.ErrorCode == "21610" {
		to := cb.To
		if to == "" {
			to = d.To
		}
		return h.carrierOptOut(ctx, d.ClientID, to, cb.MessageSid)
	}
	return nil
}

// findDelivery finds a delivery by nudge's id, else by the provider's.
func (h *Handler) findDelivery(ctx context.Context, deliveryID, providerID string) (store.Delivery, bool, error) {
	if deliveryID != "" {
		d, err := h.cfg.Store.GetDelivery(ctx, deliveryID)
		if err == nil {
			return d, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Delivery{}, false, err
		}
	}
	if providerID != "" {
		d, err := h.cfg.Store.GetDeliveryByProviderID(ctx, providerID)
		if err == nil {
			return d, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Delivery{}, false, err
		}
	}
	return store.Delivery{}, false, nil
}

// moveDelivery applies u and emits delivery.status_changed when the
// delivery is in the state the provider reported. The store's state machine
// refuses to move backwards, so a late "sent" after "delivered" changes and
// emits nothing. A repeat of the callback that moved it emits the same
// event id again, which is how a retry after a failed emit still gets the
// event out.
func (h *Handler) moveDelivery(ctx context.Context, d store.Delivery, u store.DeliveryUpdate) error {
	after, err := h.cfg.Store.UpdateDelivery(ctx, d.ID, u)
	if err != nil {
		return fmt.Errorf("updating delivery %s: %w", d.ID, err)
	}
	if u.State == "" || after.State != u.State {
		return nil
	}
	ev, err := h.event(deliveryEventID(after.ID, string(after.State)), "", publishers.TypeDeliveryStatusChanged,
		publishers.DeliveryStatusChanged{
			DeliveryID: after.ID, ClientID: after.ClientID, Channel: after.Channel, Purpose: after.Purpose,
			Status: string(after.State), Reason: after.Reason, ProviderID: after.ProviderID,
			SessionID: after.SessionID, OccurredAt: h.now(),
		})
	if err != nil {
		// The catalogue knows the consent purposes only; a reply's delivery
		// (purpose "replies") has no valid event yet. The ledger has it.
		h.log.Debug("delivery status not emitted", "delivery_id", after.ID, "status", after.State, "err", err)
		return nil
	}
	if err := h.cfg.Dispatcher.Emit(ctx, ev); err != nil {
		return fmt.Errorf("emitting status of delivery %s: %w", after.ID, err)
	}
	return nil
}

// carrierOptOut handles Twilio error 21610: the number replied STOP to
// Twilio, which now refuses every message to it. It is the same opt-out as
// an SMS STOP (package consent).
func (h *Handler) carrierOptOut(ctx context.Context, clientID, to, messageSid string) error {
	if to == "" {
		h.log.Warn("twilio 21610 without a number", "message_sid", messageSid)
		return nil
	}
	_, err := h.consent.OptOut(ctx, consent.OptOut{
		Reason: consent.Twilio21610, Address: to, ClientID: clientID, Cause: "twilio-21610:" + messageSid, At: h.now(),
	})
	return err
}
