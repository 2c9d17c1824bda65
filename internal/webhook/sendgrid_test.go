package webhook

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

// sgEvent renders one event as SendGrid posts it, with the delivery id
// custom arg at the top level when deliveryID is not empty.
func sgEvent(event, eventID, messageID, deliveryID string) string {
	s := fmt.Sprintf(`{"email":"Ana@Example.org","timestamp":%d,"event":%q,"sg_event_id":%q,"sg_message_id":%q,"smtp-id":"<x@fake>"`,
		testNow.Unix(), event, eventID, messageID)
	if deliveryID != "" {
		s += fmt.Sprintf(`,"delivery_id":%q`, deliveryID)
	}
	if event == "bounce" {
		s += `,"type":"bounce","status":"5.1.1","reason":"550 5.1.1 no such user"`
	}
	return s + "}"
}

func batch(events ...string) string { return "[" + strings.Join(events, ",") + "]" }

func anaByEmail(t *testing.T) (*env, store.Delivery) {
	e := newEnv(t)
	e.client("c-ana", anaPhone, "ana@example.org")
	e.grant("c-ana", vocab.Email, vocab.Reminders, vocab.Announcements)
	e.grant("c-ana", vocab.SMS, vocab.Reminders)
	d := e.delivery("reminder:S1:v1:48h:email", "c-ana", vocab.Email, "ana@example.org", store.DeliverySent, "msgid1")
	return e, d
}

// The SDK helper verifies the test's signatures: the test signs as SendGrid does.
func TestSendGridSignatureMatchesSDK(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(publicKeyBase64(t, &key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(batch(sgEvent("delivered", "e1", "msgid1.filter0001", "dlv_1")))
	ts := strconv.FormatInt(testNow.Unix(), 10)
	ok, err := eventwebhook.VerifySignature(pub, body, sendGridSignature(t, key, ts, body), ts)
	if err != nil || !ok {
		t.Fatalf("VerifySignature = %v, %v", ok, err)
	}
}

func TestSendGridEventsMoveTheLedger(t *testing.T) {
	for _, c := range []struct {
		events     []string
		want       store.DeliveryState
		reason     string
		suppressed bool
	}{
		{[]string{"processed", "delivered"}, store.DeliveryDelivered, "", false},
		{[]string{"delivered", "processed"}, store.DeliveryDelivered, "", false}, // out of order
		{[]string{"deferred"}, store.DeliverySent, "", false},
		{[]string{"processed", "deferred", "delivered", "open", "click"}, store.DeliveryDelivered, "", false},
		{[]string{"processed", "bounce"}, store.DeliveryFailed, "sendgrid:bounce", true},
		{[]string{"bounce", "processed", "delivered"}, store.DeliveryFailed, "sendgrid:bounce", true},
		{[]string{"dropped"}, store.DeliveryFailed, "sendgrid:dropped", false},
	} {
		t.Run(strings.Join(c.events, ","), func(t *testing.T) {
			e, d := anaByEmail(t)
			var evs []string
			for i, name := range c.events {
				evs = append(evs, sgEvent(name, fmt.Sprintf("ev%d", i), "msgid1.filter0001.1.0", d.ID))
			}
			if w := e.postSendGrid(batch(evs...)); w.Code != http.StatusOK {
				t.Fatalf("status %d %s", w.Code, w.Body)
			}
			got := e.getDelivery(d.ID)
			if got.State != c.want || got.Reason != c.reason {
				t.Fatalf("delivery %s %q, want %s %q", got.State, got.Reason, c.want, c.reason)
			}
			if s := e.suppressed(vocab.Email, "ana@example.org"); s != c.suppressed {
				t.Fatalf("suppressed %v, want %v", s, c.suppressed)
			}
			if a := e.active("c-ana", vocab.Email); len(a) != 2 {
				t.Fatalf("email consent %v: delivery events must not touch consent", a)
			}
		})
	}
}

// Without the custom arg (an older message) sg_message_id up to its first
// dot finds the delivery.
func TestSendGridFindsDeliveryByMessageID(t *testing.T) {
	e, d := anaByEmail(t)
	e.postSendGrid(batch(sgEvent("delivered", "ev1", "msgid1.filter0001.123.0", "")))
	if got := e.getDelivery(d.ID).State; got != store.DeliveryDelivered {
		t.Fatalf("state %s", got)
	}
}

// Unsubscribe and spam reports revoke email consent for every purpose and
// suppress the address (invariant 2 in docs/invariants.md); SMS is untouched.
func TestSendGridOptOutEvents(t *testing.T) {
	for _, event := range []string{"unsubscribe", "spamreport", "group_unsubscribe"} {
		t.Run(event, func(t *testing.T) {
			e, d := anaByEmail(t)
			e.postSendGrid(batch(sgEvent("delivered", "ev0", "msgid1.f", d.ID), sgEvent(event, "ev1", "msgid1.f", d.ID)))
			if a := e.active("c-ana", vocab.Email); len(a) != 0 {
				t.Fatalf("email consent %v", a)
			}
			if a := e.active("c-ana", vocab.SMS); !slices.Equal(a, []string{"reminders"}) {
				t.Fatalf("sms consent %v", a)
			}
			if !e.suppressed(vocab.Email, "ana@example.org") {
				t.Fatal("address not suppressed")
			}
			if got := e.getDelivery(d.ID).State; got != store.DeliveryDelivered {
				t.Fatalf("delivery %s", got)
			}
			ledger, _ := e.store.ConsentLedger(t.Context(), "c-ana")
			if last := ledger[len(ledger)-1]; last.Source != "sendgrid:"+event {
				t.Fatalf("ledger source %q", last.Source)
			}
			evs := e.disp.emittedOf(publishers.TypeClientOptedOut)
			if len(evs) != 1 {
				t.Fatalf("opted-out events %d", len(evs))
			}
			data, _ := publishers.DataAs[publishers.ClientOptedOut](evs[0])
			if data.ClientID != "c-ana" || data.Channel != "email" || data.Source != "sendgrid_"+event {
				t.Fatalf("opted-out data %+v", data)
			}
		})
	}
}

// SendGrid repeats events: the same sg_event_id applies once.
func TestSendGridReplay(t *testing.T) {
	e, d := anaByEmail(t)
	body := batch(sgEvent("delivered", "ev1", "msgid1.f", d.ID), sgEvent("unsubscribe", "ev2", "msgid1.f", d.ID))
	e.postSendGrid(body)
	first := e.snapshot()
	e.postSendGrid(body)
	e.postSendGrid(batch(sgEvent("unsubscribe", "ev2", "msgid1.f", d.ID)))
	if again := e.snapshot(); again != first {
		t.Fatalf("a replay changed state: %+v → %+v", first, again)
	}
	rec, err := e.store.GetProviderEvent(t.Context(), "sendgrid", "ev2")
	if err != nil || rec.Outcome != "unsubscribe" {
		t.Fatalf("provider event %+v, %v", rec, err)
	}
}

// Invariant 11 in docs/invariants.md: unsigned, forged, altered, stale and future requests get
// 403 and change nothing.
func TestSendGridSignatureRefused(t *testing.T) {
	e, d := anaByEmail(t)
	body := []byte(batch(sgEvent("bounce", "ev1", "msgid1.f", d.ID), sgEvent("spamreport", "ev2", "msgid1.f", d.ID)))
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts := func(at time.Time) string { return strconv.FormatInt(at.Unix(), 10) }
	sign := func(key *ecdsa.PrivateKey, stamp string, b []byte) string { return sendGridSignature(t, key, stamp, b) }
	now := ts(testNow)

	cases := []struct {
		name      string
		sig, ts   string
		body      []byte
		wantCode  string
		wantState int
	}{
		{"unsigned", "", "", body, "unsigned", 403},
		{"no timestamp", sign(e.sgKey, now, body), "", body, "unsigned", 403},
		{"wrong key", sign(otherKey, now, body), now, body, "bad_signature", 403},
		{"altered body", sign(e.sgKey, now, body), now, []byte(strings.Replace(string(body), "bounce", "delivered", 1)), "bad_signature", 403},
		{"timestamp not signed", sign(e.sgKey, now, body), ts(testNow.Add(-time.Second)), body, "bad_signature", 403},
		{"stale (1 h)", sign(e.sgKey, ts(testNow.Add(-time.Hour)), body), ts(testNow.Add(-time.Hour)), body, "stale_timestamp", 403},
		{"just past the window", sign(e.sgKey, ts(testNow.Add(-11*time.Minute)), body), ts(testNow.Add(-11 * time.Minute)), body, "stale_timestamp", 403},
		{"future", sign(e.sgKey, ts(testNow.Add(5*time.Minute)), body), ts(testNow.Add(5 * time.Minute)), body, "stale_timestamp", 403},
		{"not base64", "%%%", now, body, "bad_signature", 403},
		{"not DER", "AAAA", now, body, "bad_signature", 403},
		{"timestamp not a number", sign(e.sgKey, "soon", body), "soon", body, "bad_signature", 403},
	}
	before := e.snapshot()
	for _, c := range cases {
		r := e.sendGridRequest(c.body, testNow)
		r.Header.Set("X-Twilio-Email-Event-Webhook-Signature", c.sig)
		r.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", c.ts)
		if c.sig == "" {
			r.Header.Del("X-Twilio-Email-Event-Webhook-Signature")
		}
		w := e.serve(r)
		if w.Code != c.wantState || !strings.Contains(w.Body.String(), `"`+c.wantCode+`"`) {
			t.Errorf("%s: %d %s, want %d %s", c.name, w.Code, w.Body, c.wantState, c.wantCode)
		}
		if after := e.snapshot(); after != before {
			t.Fatalf("%s: state changed: %+v → %+v", c.name, before, after)
		}
	}
	if _, err := e.store.GetProviderEvent(t.Context(), "sendgrid", "ev1"); err == nil {
		t.Fatal("a refused event was recorded")
	}
	// Within the window and correctly signed, the same body is applied.
	r := e.sendGridRequest(body, testNow.Add(-9*time.Minute))
	if w := e.serve(r); w.Code != http.StatusOK {
		t.Fatalf("genuine request: %d %s", w.Code, w.Body)
	}
	if !e.suppressed(vocab.Email, "ana@example.org") {
		t.Fatal("genuine bounce not applied")
	}
}

func TestSendGridMalformedBody(t *testing.T) {
	e, d := anaByEmail(t)
	for _, body := range []string{`{"event":"delivered"}`, `not json`, ``} {
		if w := e.postSendGrid(body); w.Code != http.StatusBadRequest {
			t.Errorf("%q: %d", body, w.Code)
		}
	}
	// One odd event does not cost the batch.
	w := e.postSendGrid(`[42, {"event":7}, {"event":"delivered","sg_event_id":"ev1","delivery_id":"` + d.ID + `","email":{"x":1}}]`)
	if w.Code != http.StatusOK {
		t.Fatalf("mixed batch: %d", w.Code)
	}
	if got := e.getDelivery(d.ID).State; got != store.DeliveryDelivered {
		t.Fatalf("state %s", got)
	}
}

// An event for a delivery nudge does not know still suppresses a bounced
// address and is acknowledged (SendGrid would retry a 4xx for a day).
func TestSendGridUnknownDelivery(t *testing.T) {
	e := newEnv(t)
	if w := e.postSendGrid(batch(sgEvent("bounce", "ev1", "nobody.f", "dlv_nobody"))); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if !e.suppressed(vocab.Email, "ana@example.org") {
		t.Fatal("bounced address not suppressed")
	}
	if strings.Contains(e.logs.String(), "Ana@Example.org") {
		t.Fatalf("log carries the address:\n%s", e.logs)
	}
	rec, err := e.store.GetProviderEvent(t.Context(), "sendgrid", "ev1")
	if err != nil || rec.Outcome != "unknown_delivery" {
		t.Fatalf("provider event %+v, %v", rec, err)
	}
}

// A failure midway (the bus is down) answers 500; SendGrid's retry
// finishes the batch and what was applied before is not applied twice.
func TestSendGridRetryAfterFailure(t *testing.T) {
	e, d := anaByEmail(t)
	body := batch(sgEvent("processed", "ev0", "msgid1.f", d.ID), sgEvent("spamreport", "ev1", "msgid1.f", d.ID))
	e.disp.failEmit = 1 // the opted-out event fails
	if w := e.postSendGrid(body); w.Code != http.StatusInternalServerError {
		t.Fatalf("first attempt %d", w.Code)
	}
	if _, err := e.store.GetProviderEvent(t.Context(), "sendgrid", "ev1"); err == nil {
		t.Fatal("the failed event was recorded as applied")
	}
	if w := e.postSendGrid(body); w.Code != http.StatusOK {
		t.Fatalf("retry %d", w.Code)
	}
	if n := len(e.disp.emittedOf(publishers.TypeClientOptedOut)); n != 1 {
		t.Fatalf("opted-out events %d", n)
	}
	if !e.suppressed(vocab.Email, "ana@example.org") || len(e.active("c-ana", vocab.Email)) != 0 {
		t.Fatal("the retry did not finish the opt-out")
	}
}
