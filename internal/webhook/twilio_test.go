package webhook

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/nudgehq/nudge/internal/fakeprovider"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

// The test's own signer, twilio-go's validator and the fake Twilio's signer
// agree, so the handler is tested against the signature Twilio sends.
func TestTwilioSignatureMatchesSDKAndFake(t *testing.T) {
	form := statusForm("SM1", "delivered", "", anaPhone)
	u := publicURL + PathTwilioStatus + "?d=dlv_abc"
	sig := twilioSignature(twilioToken, u, form)
	v := client.NewRequestValidator(twilioToken)
	if !v.ValidateBody(u, []byte(form.Encode()), sig) {
		t.Fatal("twilio-go's validator rejects the test's signature")
	}
	if fake := fakeprovider.SignTwilio(twilioToken, u, form); fake != sig {
		t.Fatalf("fakeprovider.SignTwilio = %s, test signer = %s", fake, sig)
	}
}

func TestTwilioStatusMovesTheLedgerForward(t *testing.T) {
	e := newEnv(t)
	e.client("c-ana", anaPhone, "")
	d := e.delivery("reminder:S1:v1:48h:sms", "c-ana", vocab.SMS, anaPhone, store.DeliverySending, "")

	for _, step := range []struct {
		status string
		want   store.DeliveryState
	}{
		{"queued", store.DeliverySending}, // Twilio has it; fills the SID only
		{"sent", store.DeliverySent},
		{"delivered", store.DeliveryDelivered},
		{"delivered", store.DeliveryDelivered}, // duplicate
		{"sent", store.DeliveryDelivered},      // late, out of order
		{"undelivered", store.DeliveryDelivered},
	} {
		if w := e.status(d.ID, "SM1", step.status, ""); w.Code != http.StatusNoContent {
			t.Fatalf("%s: %d %s", step.status, w.Code, w.Body)
		}
		got := e.getDelivery(d.ID)
		if got.State != step.want {
			t.Fatalf("after %s: state %s, want %s", step.status, got.State, step.want)
		}
		if got.ProviderID != "SM1" {
			t.Fatalf("after %s: provider id %q", step.status, got.ProviderID)
		}
	}

	evs := e.disp.emittedOf(publishers.TypeDeliveryStatusChanged)
	ids := distinctIDs(evs)
	want := []string{"delivery:" + d.ID + ":sent", "delivery:" + d.ID + ":delivered"}
	if !slices.Equal(ids, want) {
		t.Fatalf("status events %v, want %v", ids, want)
	}
	data, err := publishers.DataAs[publishers.DeliveryStatusChanged](evs[len(evs)-1])
	if err != nil {
		t.Fatal(err)
	}
	if data.DeliveryID != d.ID || data.ClientID != "c-ana" || data.Status != "delivered" || data.ProviderID != "SM1" || data.Channel != "sms" {
		t.Fatalf("event data %+v", data)
	}
}

// Replaying "delivered" then "sent" leaves the delivery delivered.
func TestTwilioStatusReplayNeverMovesBackwards(t *testing.T) {
	e := newEnv(t)
	e.client("c-ana", anaPhone, "")
	d := e.delivery("k1", "c-ana", vocab.SMS, anaPhone, store.DeliverySent, "SM1")
	e.status(d.ID, "SM1", "delivered", "")
	e.status(d.ID, "SM1", "delivered", "")
	e.status(d.ID, "SM1", "sent", "")
	if got := e.getDelivery(d.ID).State; got != store.DeliveryDelivered {
		t.Fatalf("state %s, want delivered", got)
	}
	for _, ev := range e.disp.emitted() {
		if strings.HasSuffix(ev.ID, ":sent") {
			t.Fatalf("a late sent emitted %s", ev.ID)
		}
	}
}

// Without the d parameter (an older callback URL) the SID finds the delivery.
func TestTwilioStatusByMessageSid(t *testing.T) {
	e := newEnv(t)
	e.client("c-ana", anaPhone, "")
	d := e.delivery("k1", "c-ana", vocab.SMS, anaPhone, store.DeliverySent, "SM77")
	e.status("", "SM77", "failed", "30008")
	got := e.getDelivery(d.ID)
	if got.State != store.DeliveryFailed || got.Reason != "twilio:30008" {
		t.Fatalf("delivery %s %q, want failed twilio:30008", got.State, got.Reason)
	}
}

func TestTwilioStatusUndeliveredReason(t *testing.T) {
	e := newEnv(t)
	e.client("c-ana", anaPhone, "")
	d := e.delivery("k1", "c-ana", vocab.SMS, anaPhone, store.DeliverySent, "SM1")
	e.status(d.ID, "SM1", "undelivered", "30003")
	if got := e.getDelivery(d.ID); got.State != store.DeliveryUndelivered || got.Reason != "twilio:30003" {
		t.Fatalf("delivery %s %q", got.State, got.Reason)
	}
}

// Twilio retries callbacks it could not deliver: an unknown delivery is
// acknowledged (and logged), never 4xx, and changes nothing.
func TestTwilioStatusUnknownDelivery(t *testing.T) {
	e := newEnv(t)
	before := e.snapshot()
	if w := e.status("dlv_nobody", "SM404", "delivered", ""); w.Code != http.StatusNoContent {
		t.Fatalf("unknown delivery: %d", w.Code)
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("state changed: %+v → %+v", before, after)
	}
	if !strings.Contains(e.logs.String(), "unknown delivery") || strings.Contains(e.logs.String(), anaPhone) {
		t.Fatalf("log does not report the unknown delivery with a masked number:\n%s", e.logs)
	}
}

// Error 21610 (the number texted STOP to Twilio) revokes sms consent for
// every purpose and suppresses the number, once.
func TestTwilioStatus21610RevokesAndSuppresses(t *testing.T) {
	e := newEnv(t)
	e.client("c-ana", anaPhone, "")
	e.grant("c-ana", vocab.SMS, vocab.Reminders, vocab.Encouragement)
	e.grant("c-ana", vocab.Email, vocab.Reminders)
	d := e.delivery("k1", "c-ana", vocab.SMS, anaPhone, store.DeliverySending, "")

	e.status(d.ID, "SM1", "failed", "21610")
	if got := e.getDelivery(d.ID); got.State != store.DeliveryFailed || got.Reason != "twilio:21610" {
		t.Fatalf("delivery %s %q", got.State, got.Reason)
	}
	if a := e.active("c-ana", vocab.SMS); len(a) != 0 {
		t.Fatalf("sms consent still active for %v", a)
	}
	if a := e.active("c-ana", vocab.Email); !slices.Equal(a, []string{string(vocab.Reminders)}) {
		t.Fatalf("email consent %v: a carrier opt-out must not touch email", a)
	}
	if !e.suppressed(vocab.SMS, anaPhone) {
		t.Fatal("number not suppressed")
	}
	ledger, err := e.store.ConsentLedger(t.Context(), "c-ana")
	if err != nil {
		t.Fatal(err)
	}
	if last := ledger[len(ledger)-1]; last.Source != "twilio:21610" || last.Action != store.ConsentRevoked {
		t.Fatalf("last ledger entry %+v", last)
	}
	optedOut := e.disp.emittedOf(publishers.TypeClientOptedOut)
	if len(optedOut) != 1 {
		t.Fatalf("client.opted_out events: %d", len(optedOut))
	}

	n := e.ledgerLen("c-ana")
	e.status(d.ID, "SM1", "failed", "21610") // Twilio repeats the callback
	if e.ledgerLen("c-ana") != n {
		t.Fatal("a repeated 21610 callback appended to the ledger again")
	}
	if ids := distinctIDs(e.disp.emittedOf(publishers.TypeClientOptedOut)); len(ids) != 1 {
		t.Fatalf("a repeated 21610 callback emitted a new opt-out: %v", ids)
	}
}

// Invariant 11 in docs/invariants.md: a status callback that is not Twilio's changes nothing.
func TestTwilioSignatureRefused(t *testing.T) {
	e := newEnv(t)
	e.client("c-ana", anaPhone, "")
	e.grant("c-ana", vocab.SMS, vocab.Reminders)
	d := e.delivery("k1", "c-ana", vocab.SMS, anaPhone, store.DeliverySent, "SM1")
	path := PathTwilioStatus + "?d=" + d.ID
	form := statusForm("SM1", "failed", "21610", anaPhone)

	cases := map[string]func(r *http.Request){
		"unsigned": func(r *http.Request) { r.Header.Del("X-Twilio-Signature") },
		"wrong token": func(r *http.Request) {
			r.Header.Set("X-Twilio-Signature", twilioSignature("another-token", publicURL+path, form))
		},
		"signed for the internal URL": func(r *http.Request) {
			r.Header.Set("X-Twilio-Signature", twilioSignature(twilioToken, "http://10.0.0.7:8080"+path, form))
		},
		"signed for another delivery": func(r *http.Request) {
			r.Header.Set("X-Twilio-Signature", twilioSignature(twilioToken, publicURL+PathTwilioStatus+"?d=dlv_other", form))
		},
		"garbage signature": func(r *http.Request) { r.Header.Set("X-Twilio-Signature", "not base64 at all") },
	}
	// Bodies that differ from what was signed: the signature of form.
	altered := func(name, value string) string {
		f := url.Values{}
		for k, v := range form {
			f[k] = slices.Clone(v)
		}
		f.Set(name, value)
		return f.Encode()
	}
	bodies := map[string]string{
		"altered status":    altered("MessageStatus", "delivered"),
		"added parameter":   altered("Extra", "1"),
		"altered recipient": altered("To", "+14155559999"),
	}
	before := e.snapshot()
	check := func(name string, r *http.Request) {
		t.Helper()
		w := e.serve(r)
		if w.Code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, w.Code)
		}
		if after := e.snapshot(); after != before {
			t.Fatalf("%s: state changed: %+v → %+v", name, before, after)
		}
	}
	for name, mutate := range cases {
		r := e.twilioRequest(path, form)
		mutate(r)
		check(name, r)
	}
	for name, body := range bodies {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		r.Header.Set("X-Twilio-Signature", twilioSignature(twilioToken, publicURL+path, form))
		check(name, r)
	}
	// The same request, signed, is accepted: the cases above failed for
	// their signature alone.
	if w := e.postTwilio(path, form); w.Code != http.StatusNoContent {
		t.Fatalf("the genuine request: %d", w.Code)
	}
	if !e.suppressed(vocab.SMS, anaPhone) {
		t.Fatal("the genuine 21610 was not applied")
	}
}

// Twilio signs https URLs sometimes with and sometimes without the default
// port; the SDK's validator accepts both.
func TestTwilioSignatureWithExplicitPort(t *testing.T) {
	e := newEnv(t)
	form := inboundForm("SMport", anaPhone, "HELP")
	r := e.twilioRequest(PathTwilioInbound, form)
	r.Header.Set("X-Twilio-Signature", twilioSignature(twilioToken, "https://nudge.example.org:443"+PathTwilioInbound, form))
	if w := e.serve(r); w.Code != http.StatusOK {
		t.Fatalf("signature over the URL with :443: %d", w.Code)
	}
}

// Property: any order of a message's callbacks, with any duplicates, ends
// in the rank-maximal state, and the status events emitted climb in rank
// and end at that state.
func TestTwilioCallbackPermutations(t *testing.T) {
	e := newEnv(t)
	e.client("c-ana", anaPhone, "")
	lifecycles := [][]string{
		{"queued", "sent", "delivered"},
		{"accepted", "queued", "sending", "sent", "delivered"},
		{"queued", "sent", "undelivered"},
		{"queued", "failed"},
		{"accepted", "queued", "sent", "delivered", "read"},
	}
	rank := func(s string) store.DeliveryState {
		u, _ := twilioStatus{Status: s}.update()
		return u.State
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 60 {
		life := lifecycles[i%len(lifecycles)]
		var seq []string
		for _, s := range life {
			for range 1 + rng.IntN(3) {
				seq = append(seq, s)
			}
		}
		rng.Shuffle(len(seq), func(a, b int) { seq[a], seq[b] = seq[b], seq[a] })

		want := store.DeliverySending
		for _, s := range life {
			if st := rank(s); st != "" && store.DeliveryStateRank(st) > store.DeliveryStateRank(want) {
				want = st
			}
		}
		sid := "SMperm" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		d := e.delivery("perm:"+sid, "c-ana", vocab.SMS, anaPhone, store.DeliverySending, "")
		start := len(e.disp.emitted())
		for _, s := range seq {
			if w := e.status(d.ID, sid, s, ""); w.Code != http.StatusNoContent {
				t.Fatalf("%v: %s answered %d", seq, s, w.Code)
			}
		}
		if got := e.getDelivery(d.ID).State; got != want {
			t.Fatalf("callbacks %v ended in %s, want %s", seq, got, want)
		}
		var emitted []store.DeliveryState
		for _, ev := range e.disp.emitted()[start:] {
			emitted = append(emitted, store.DeliveryState(ev.ID[strings.LastIndex(ev.ID, ":")+1:]))
		}
		if len(emitted) == 0 || emitted[len(emitted)-1] != want {
			t.Fatalf("callbacks %v: emitted %v, want the last to be %s", seq, emitted, want)
		}
		for j := 1; j < len(emitted); j++ {
			if store.DeliveryStateRank(emitted[j]) < store.DeliveryStateRank(emitted[j-1]) {
				t.Fatalf("callbacks %v: emitted %v moves backwards", seq, emitted)
			}
		}
	}
}
