package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/nudgehq/nudge/consumers/inbound"
	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/fakeprovider"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/vocab"
)

// The real SDK path end to end: messages sent with twilio-go and
// sendgrid-go to the fake providers, whose signed callbacks and events
// reach the handlers over HTTP, duplicated and out of order.
func TestWithFakeProviders(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "nudge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := &env{t: t, store: st, disp: &recordingDispatcher{}}
	c, err := inbound.New(inbound.Config{Store: st, Dispatcher: e.disp})
	if err != nil {
		t.Fatal(err)
	}
	e.bus = &syncInbound{t: t, c: c}

	tw := fakeprovider.NewTwilio(fakeprovider.TwilioConfig{StatusDelay: time.Millisecond})
	defer tw.Close()
	twSrv := httptest.NewServer(tw)
	defer twSrv.Close()
	sg := fakeprovider.NewSendGrid(fakeprovider.SendGridConfig{EventDelay: time.Millisecond, DuplicateEvents: true, OutOfOrderEvents: true})
	defer sg.Close()
	sgSrv := httptest.NewServer(sg)
	defer sgSrv.Close()

	// nudge's public server; the handler needs its URL before it exists.
	var routes http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { routes.ServeHTTP(w, r) }))
	defer srv.Close()
	h, err := New(Config{
		Store: st, Dispatcher: e.disp, Inbound: e.bus, PublicURL: srv.URL,
		TwilioAuthToken: tw.AuthToken(), SendGridPublicKey: sg.PublicKey(),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, hd := range h.Routes() {
		mux.Handle(p, hd)
	}
	routes = mux
	sg.SetEventWebhookURL(srv.URL + PathSendGridEvents)

	e.client("c-ana", anaPhone, "ana@example.org")
	// The handler runs on the real clock here (the fakes sign with it), so
	// the grants must precede it: the ledger orders entries by OccurredAt.
	for _, ch := range []vocab.Channel{vocab.SMS, vocab.Email} {
		_, err := st.AppendConsent(ctx, store.EventRef{}, store.ConsentEntry{
			ClientID: "c-ana", Channel: ch, Purpose: vocab.Reminders, Action: store.ConsentGranted,
			Source: "intake_form", OccurredAt: time.Now().Add(-time.Hour),
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// SMS: sent, then delivered by the fake's status callbacks.
	sms, err := channel.NewTwilio(channel.TwilioConfig{
		AccountSid: tw.AccountSid(), AuthToken: tw.AuthToken(), From: "+15005550006",
		StatusCallbackURL: srv.URL + PathTwilioStatus, BaseURL: twSrv.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	d := e.delivery("reminder:S1:v1:48h:sms", "c-ana", vocab.SMS, anaPhone, store.DeliverySending, "")
	rec, err := sms.Send(ctx, channel.Message{DeliveryID: d.ID, To: anaPhone, Text: "Hi Ana, see you Thursday. Reply C to confirm."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateDelivery(ctx, d.ID, store.DeliveryUpdate{State: store.DeliverySent, ProviderID: rec.ProviderID}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.getDelivery(d.ID); got.State != store.DeliveryDelivered || got.ProviderID != rec.ProviderID {
		t.Fatalf("sms delivery %s %s", got.State, got.ProviderID)
	}

	// Inbound STOP through the fake's signed webhook.
	if err := tw.Inbound(ctx, srv.URL+PathTwilioInbound, anaPhone, "+15005550006", "STOP"); err != nil {
		t.Fatal(err)
	}
	if a := e.active("c-ana", vocab.SMS); len(a) != 0 || !e.suppressed(vocab.SMS, anaPhone) {
		t.Fatalf("after STOP: active %v", a)
	}
	// The fake, like Twilio's default opt-out handling, matched STOP
	// (OptOutType) and answers it itself: nudge queues no second reply.
	if got := e.replies(); len(got) != 0 {
		t.Fatalf("replies %v, want none: Twilio sends the one confirmation", got)
	}
	for _, call := range tw.Webhooks() {
		if call.Status < 200 || call.Status > 299 {
			t.Fatalf("twilio %s webhook answered %d", call.Kind, call.Status)
		}
	}

	// Email: the recipient reports spam; events arrive twice and last-first.
	if err := sg.SetOutcome("ana@example.org", "spamreport"); err != nil {
		t.Fatal(err)
	}
	email, err := channel.NewSendGrid(channel.SendGridConfig{APIKey: sg.APIKey(), FromEmail: "care@practice.example", BaseURL: sgSrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	d2 := e.delivery("reminder:S1:v1:48h:email", "c-ana", vocab.Email, "ana@example.org", store.DeliverySending, "")
	rec, err = email.Send(ctx, channel.Message{DeliveryID: d2.ID, To: "ana@example.org", Subject: "See you Thursday", Text: "Hi Ana"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateDelivery(ctx, d2.ID, store.DeliveryUpdate{State: store.DeliverySent, ProviderID: rec.ProviderID}); err != nil {
		t.Fatal(err)
	}
	if err := sg.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.getDelivery(d2.ID).State; got != store.DeliveryDelivered {
		t.Fatalf("email delivery %s", got)
	}
	if a := e.active("c-ana", vocab.Email); len(a) != 0 || !e.suppressed(vocab.Email, "ana@example.org") {
		t.Fatalf("after the spam report: active %v", a)
	}
	calls := sg.Webhooks()
	if len(calls) < 6 {
		t.Fatalf("sendgrid posted %d batches, want 3 stages twice", len(calls))
	}
	for _, call := range calls {
		if call.Status != http.StatusOK {
			t.Fatalf("sendgrid event batch answered %d", call.Status)
		}
	}
}
