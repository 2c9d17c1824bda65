package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/nudgehq/nudge/consumers/inbound"
	"github.com/nudgehq/nudge/internal/vocab"
)

// emptyTwiML answers an inbound message without a reply: replies go through
// the delivery engine (the ledger sends each at most once), never TwiML.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// parseInboundSMS reads Twilio's incoming-message form.
func (h *Handler) parseInboundSMS(form url.Values) (inbound.Message, error) {
	m := inbound.Message{
		Provider: "twilio", Channel: vocab.SMS,
		ID:   form.Get("MessageSid"),
		From: form.Get("From"),
		To:   form.Get("To"),
		Body: form.Get("Body"),

		OptOutType: strings.ToUpper(form.Get("OptOutType")),
		ReceivedAt: h.now(),
	}
	if m.ID == "" {
		m.ID = form.Get("SmsMessageSid") // older accounts
	}
	switch {
	case m.ID == "":
		return m, errors.New("MessageSid is missing")
	case m.From == "":
		return m, errors.New("From is missing")
	}
	return m, nil
}

// serveTwilioInbound is intake only: verify, publish to NUDGE_INBOUND, and
// answer Twilio once JetStream has the message (PubAck). The inbound
// consumer (package consumers/inbound) decides what it means, with
// redelivery while the store is away, so a STOP that reached this handler
// is never lost. Without a PubAck the answer is 503, and Twilio may retry
// (the MessageSid is the Nats-Msg-Id: a retry is stored once).
func (h *Handler) serveTwilioInbound(w http.ResponseWriter, r *http.Request) {
	form, ok := h.twilioForm(w, r)
	if !ok {
		return
	}
	msg, err := h.parseInboundSMS(form)
	if err != nil {
		h.log.Warn("twilio inbound webhook without a message", "err", err)
		writeError(w, errBadRequest)
		return
	}
	ctx, cancel := work(r)
	defer cancel()
	if err := h.cfg.Inbound.Publish(ctx, msg); err != nil {
		h.log.Error("webhook could not queue an inbound message", "path", r.URL.Path, "message_sid", msg.ID,
			"err", fmt.Errorf("inbound message %s: %w", msg.ID, err))
		writeError(w, errUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(emptyTwiML))
}
