package webhook

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	"github.com/twilio/twilio-go/client"

	"github.com/nudgehq/nudge/internal/keyword"
	"github.com/nudgehq/nudge/internal/logmask"
)

// FuzzTwilioForm: reading any inbound or status form, verifying its
// signature and classifying its body never panics, and what is decided
// keeps the safety rules. Seeds: testdata/fuzz/FuzzTwilioForm.
func FuzzTwilioForm(f *testing.F) {
	f.Add(inboundForm("SM1", anaPhone, "STOP").Encode())
	f.Add(statusForm("SM1", "failed", "21610", anaPhone).Encode())
	v := client.NewRequestValidator(twilioToken)
	h := &Handler{cfg: Config{Now: func() time.Time { return testNow }}}
	f.Fuzz(func(t *testing.T, body string) {
		v.ValidateBody(publicURL+PathTwilioInbound+"?d=x", []byte(body), "c2lnbmF0dXJl")
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		msg, err := h.parseInboundSMS(form)
		if err == nil && msg.Validate() != nil {
			t.Fatalf("accepted a message the inbound consumer refuses: %+v: %v", msg, msg.Validate())
		}
		_ = keyword.Classify(msg.Body)
		u, ok := parseTwilioStatus(form, form).update()
		if ok && u.State == "" && u.Reason != "" {
			t.Fatalf("a reason without a state: %+v", u)
		}
		_ = logmask.String(msg.From)
	})
}

// FuzzSendGridEvents: parsing any event webhook body and checking any
// signature over it never panics. Seeds: testdata/fuzz/FuzzSendGridEvents.
func FuzzSendGridEvents(f *testing.F) {
	f.Add([]byte(batch(sgEvent("delivered", "ev1", "msgid1.filter0001.1.0", "dlv_1"))), "MEUCIQ==")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, signature string) {
		_, _ = eventwebhook.VerifySignature(&key.PublicKey, body, signature, "1900000000")
		events, err := parseSendGridEvents(body)
		if err != nil {
			return
		}
		for _, e := range events {
			if id := e.providerID(); strings.Contains(id, ".") || !strings.HasPrefix(e.MessageID, id) {
				t.Fatalf("providerID %q of sg_message_id %q", id, e.MessageID)
			}
			_ = logmask.String(e.Email)
		}
	})
}
