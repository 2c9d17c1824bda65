package webhook

import (
	"net/http"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

// anaWithReminders is a known client who consented to reminders and
// encouragement by SMS and has a session tomorrow.
func anaWithReminders(t *testing.T) *env {
	e := newEnv(t)
	e.client("c-ana", anaPhone, "ana@example.org")
	e.grant("c-ana", vocab.SMS, vocab.Reminders, vocab.Encouragement)
	e.grant("c-ana", vocab.Email, vocab.Reminders)
	e.book("S1", "c-ana", testNow.Add(26*time.Hour))
	return e
}

// The webhook is intake only: it queues the message, keyed by its
// MessageSid, and answers Twilio after the PubAck; what the message means
// is the inbound consumer's business (consumers/inbound, where the keyword
// tests live).
func TestInboundQueuedBeforeTheAnswer(t *testing.T) {
	e := newEnv(t)
	form := inboundForm("SM1", anaPhone, "STOP")
	form.Set("OptOutType", "stop")
	e.text("SM1", anaPhone, "STOP")
	if w := e.postTwilio(PathTwilioInbound, form); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	got := e.bus.published
	if len(got) != 2 {
		t.Fatalf("published %d messages", len(got))
	}
	m := got[1]
	if m.Provider != "twilio" || m.ID != "SM1" || m.MsgID() != "twilio:SM1" || m.Channel != vocab.SMS || m.From != anaPhone ||
		m.To != practiceNum || m.Body != "STOP" || m.OptOutType != "STOP" || !m.ReceivedAt.Equal(testNow) {
		t.Fatalf("queued %+v", m)
	}
}

// No PubAck, no 200: Twilio is told to retry (503) and nothing was decided.
func TestInboundBusDownIs503(t *testing.T) {
	e := anaWithReminders(t)
	e.bus.failPublish = 1
	w := e.postTwilio(PathTwilioInbound, inboundForm("SM1", anaPhone, "STOP"))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", w.Code)
	}
	if e.suppressed(vocab.SMS, anaPhone) || len(e.disp.notifications()) != 0 {
		t.Fatal("a message that was not queued was acted on")
	}
	e.text("SM1", anaPhone, "STOP") // Twilio's retry
	if !e.suppressed(vocab.SMS, anaPhone) {
		t.Fatal("the retry was not applied")
	}
}

// Invariant 11 in docs/invariants.md for inbound messages: 403 and nothing stored or sent.
func TestInboundSignatureRefused(t *testing.T) {
	e := anaWithReminders(t)
	form := inboundForm("SM1", anaPhone, "STOP")
	before := e.snapshot()
	for name, mutate := range map[string]func(*http.Request){
		"unsigned": func(r *http.Request) { r.Header.Del("X-Twilio-Signature") },
		"wrong token": func(r *http.Request) {
			r.Header.Set("X-Twilio-Signature", twilioSignature("x", publicURL+PathTwilioInbound, form))
		},
		"other path": func(r *http.Request) {
			r.Header.Set("X-Twilio-Signature", twilioSignature(twilioToken, publicURL+PathTwilioStatus, form))
		},
	} {
		r := e.twilioRequest(PathTwilioInbound, form)
		mutate(r)
		if w := e.serve(r); w.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, w.Code)
		}
	}
	forged := inboundForm("SM1", anaPhone, "HELP")
	r := e.twilioRequest(PathTwilioInbound, forged)
	r.Header.Set("X-Twilio-Signature", twilioSignature(twilioToken, publicURL+PathTwilioInbound, form))
	if w := e.serve(r); w.Code != http.StatusForbidden {
		t.Errorf("altered body: %d", w.Code)
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("state changed: %+v → %+v", before, after)
	}
	if _, err := e.store.GetInbound(t.Context(), "SM1"); err == nil || len(e.bus.published) != 0 {
		t.Fatal("a refused message was queued or stored")
	}
}

func TestInboundWithoutMessageSid(t *testing.T) {
	e := newEnv(t)
	form := inboundForm("", anaPhone, "STOP")
	form.Del("SmsMessageSid")
	if w := e.postTwilio(PathTwilioInbound, form); w.Code != http.StatusBadRequest {
		t.Fatalf("status %d", w.Code)
	}
	if e.suppressed(vocab.SMS, anaPhone) {
		t.Fatal("a message without a sid was acted on")
	}
}
