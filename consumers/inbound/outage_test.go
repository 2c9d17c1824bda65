package inbound_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/consumers/inbound"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/bus/bustest"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/internal/webhook"
	"github.com/nudgehq/nudge/publishers"
)

var errStoreDown = errors.New("store: connection refused")

// awayStore is a store that can be taken away: while down, every call the
// inbound consumer starts with fails like a lost database connection.
type awayStore struct {
	store.Store
	down  atomic.Bool
	tries atomic.Int32
}

func (s *awayStore) GetInbound(ctx context.Context, id string) (store.InboundMessage, error) {
	s.tries.Add(1)
	if s.down.Load() {
		return store.InboundMessage{}, errStoreDown
	}
	return s.Store.GetInbound(ctx, id)
}

// countingDispatcher records replies and events.
type countingDispatcher struct {
	mu     sync.Mutex
	notes  []consumers.Notification
	events []publishers.Event
}

func (d *countingDispatcher) Notify(_ context.Context, n consumers.Notification) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.notes = append(d.notes, n)
	return nil
}
func (d *countingDispatcher) NotifyAt(ctx context.Context, n consumers.Notification, _ time.Time) error {
	return d.Notify(ctx, n)
}
func (d *countingDispatcher) Emit(_ context.Context, ev publishers.Event) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events = append(d.events, ev)
	return nil
}

func sign(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		b.WriteString(k + form.Get(k))
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Invariant 4 in docs/invariants.md for inbound messages (issue 9): a STOP that reaches the
// webhook while the database is away is answered 200 only once JetStream
// has it, and the inbound consumer applies and confirms it exactly once
// when the database is back — even though Twilio also retried the webhook.
func TestStopWhileStoreDownIsAppliedOnceWhenItReturns(t *testing.T) {
	ctx := t.Context()
	js := bustest.JetStream(t)
	sqlSt, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "nudge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlSt.Close()
	const phone = "+14155550123"
	_, err = sqlSt.ApplyClientUpsert(ctx, store.EventRef{ID: "u1", Type: "client.upserted", Time: time.Now().Add(-time.Hour)},
		store.Client{ID: "c-ana", FirstName: "Ana", Timezone: "UTC", Phone: phone})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range vocab.ConsentPurposes() {
		_, err := sqlSt.AppendConsent(ctx, store.EventRef{ID: "g-" + string(p), Type: "consent.granted", Time: time.Now().Add(-time.Hour)},
			store.ConsentEntry{ClientID: "c-ana", Channel: vocab.SMS, Purpose: p, Action: store.ConsentGranted, Source: "intake"})
		if err != nil {
			t.Fatal(err)
		}
	}
	st := &awayStore{Store: sqlSt}
	st.down.Store(true)
	disp := &countingDispatcher{}

	const token = "0123456789abcdef0123456789abcdef"
	hooks, err := webhook.New(webhook.Config{
		Store: st, Dispatcher: disp, Inbound: inbound.BusPublisher{JS: js},
		PublicURL: "https://nudge.example.org", TwilioAuthToken: token,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, h := range hooks.Routes() {
		mux.Handle(p, h)
	}
	form := url.Values{"MessageSid": {"SMstop1"}, "From": {phone}, "To": {"+14155550000"}, "Body": {"STOP"}}
	post := func() int {
		r := httptest.NewRequest(http.MethodPost, webhook.PathTwilioInbound, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Twilio-Signature", sign(token, "https://nudge.example.org"+webhook.PathTwilioInbound, form))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	if code := post(); code != http.StatusOK {
		t.Fatalf("webhook with the store down: %d, want 200 once queued", code)
	}
	if code := post(); code != http.StatusOK { // Twilio retried
		t.Fatalf("retried webhook: %d", code)
	}

	c, err := inbound.New(inbound.Config{Store: st, Dispatcher: disp})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.Consumer(ctx, bus.StreamInbound, bus.ConsumerInbound)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := consumers.Runner{Name: bus.ConsumerInbound, Handler: c.Handle}.Start(ctx, cons)
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())

	deadline := time.Now().Add(20 * time.Second)
	for st.tries.Load() < 2 { // tried and failed at least twice
		if time.Now().After(deadline) {
			t.Fatal("the consumer never tried the STOP")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if sup, _ := sqlSt.IsSuppressed(ctx, vocab.SMS, phone); sup {
		t.Fatal("applied while the store was down?")
	}
	st.down.Store(false)
	for {
		m, err := sqlSt.GetInbound(ctx, "SMstop1")
		if err == nil && !m.ProcessedAt.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the STOP was not applied after the store returned")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // room for a wrongly redelivered copy

	if sup, _ := sqlSt.IsSuppressed(ctx, vocab.SMS, phone); !sup {
		t.Fatal("number not suppressed after the STOP")
	}
	for _, p := range vocab.ConsentPurposes() {
		if ok, _ := sqlSt.HasConsent(ctx, "c-ana", vocab.SMS, p); ok {
			t.Errorf("%s consent survived the STOP", p)
		}
	}
	ledger, _ := sqlSt.ConsentLedger(ctx, "c-ana")
	if n := len(ledger) - len(vocab.ConsentPurposes()); n != len(vocab.ConsentPurposes()) {
		t.Errorf("%d revocations, want one per purpose", n)
	}
	disp.mu.Lock()
	defer disp.mu.Unlock()
	if len(disp.notes) != 1 || disp.notes[0].Kind != "opted_out" || disp.notes[0].To != phone {
		t.Fatalf("confirmations %+v, want exactly one", disp.notes)
	}
	if len(disp.events) != 1 || disp.events[0].Type != publishers.TypeClientOptedOut {
		t.Fatalf("events %+v, want one client.opted_out", disp.events)
	}
}
