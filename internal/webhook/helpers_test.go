package webhook

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/consumers/inbound"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

const (
	publicURL   = "https://nudge.example.org"
	twilioToken = "0123456789abcdef0123456789abcdef"
	anaPhone    = "+14155550123"
	practiceNum = "+14155550000"
)

// testNow is the handler's clock in tests that do not involve a fake
// provider (those sign with the real time).
var testNow = time.Date(2030, 3, 4, 15, 0, 0, 0, time.UTC)

// recordingDispatcher is a consumers.Dispatcher that records every call.
// failEmit / failNotify make the next n calls fail, to test retries.
type recordingDispatcher struct {
	mu         sync.Mutex
	notes      []consumers.Notification
	events     []publishers.Event
	failEmit   int
	failNotify int
}

var errBusDown = errors.New("bus unavailable")

func (d *recordingDispatcher) Notify(_ context.Context, n consumers.Notification) error {
	if err := n.Validate(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failNotify > 0 {
		d.failNotify--
		return errBusDown
	}
	d.notes = append(d.notes, n)
	return nil
}

func (d *recordingDispatcher) NotifyAt(ctx context.Context, n consumers.Notification, _ time.Time) error {
	return d.Notify(ctx, n)
}

func (d *recordingDispatcher) Emit(_ context.Context, ev publishers.Event) error {
	if err := ev.ValidateEmitted(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failEmit > 0 {
		d.failEmit--
		return errBusDown
	}
	d.events = append(d.events, ev)
	return nil
}

func (d *recordingDispatcher) notifications() []consumers.Notification {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.notes)
}

func (d *recordingDispatcher) emitted() []publishers.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.events)
}

// emittedOf returns the events of one type.
func (d *recordingDispatcher) emittedOf(typ string) []publishers.Event {
	var out []publishers.Event
	for _, ev := range d.emitted() {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// distinctIDs counts distinct event ids: what JetStream's duplicate window
// lets through.
func distinctIDs(evs []publishers.Event) []string {
	var ids []string
	for _, ev := range evs {
		if !slices.Contains(ids, ev.ID) {
			ids = append(ids, ev.ID)
		}
	}
	return ids
}

// syncInbound is the bus and the inbound consumer in one: Publish records
// the message and hands it to the consumer at once, as JetStream would
// deliver it, so these tests see what a client's text does. failPublish
// makes the next n publishes fail (the bus is down: no PubAck).
type syncInbound struct {
	t           *testing.T
	c           *inbound.Consumer
	mu          sync.Mutex
	published   []inbound.Message
	failPublish int
}

func (b *syncInbound) Publish(ctx context.Context, m inbound.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	b.mu.Lock()
	if b.failPublish > 0 {
		b.failPublish--
		b.mu.Unlock()
		return errBusDown
	}
	b.published = append(b.published, m)
	b.mu.Unlock()
	if err := b.c.Process(ctx, m); err != nil {
		b.t.Errorf("inbound consumer: %v", err)
	}
	return nil
}

// env is one handler over a fresh SQLite store.
type env struct {
	t     *testing.T
	store *sqlite.Store
	disp  *recordingDispatcher
	bus   *syncInbound
	h     *Handler
	mux   *http.ServeMux
	sgKey *ecdsa.PrivateKey
	logs  *bytes.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "nudge.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, disp: &recordingDispatcher{}, sgKey: key, logs: &bytes.Buffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := inbound.New(inbound.Config{Store: st, Dispatcher: e.disp, Logger: logger, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	e.bus = &syncInbound{t: t, c: c}
	e.h, err = New(Config{
		Store: st, Dispatcher: e.disp, Inbound: e.bus, PublicURL: publicURL + "/",
		TwilioAuthToken: twilioToken, SendGridPublicKey: publicKeyBase64(t, &key.PublicKey),
		Logger: logger,
		Now:    func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.mux = http.NewServeMux()
	for pattern, h := range e.h.Routes() {
		e.mux.Handle(pattern, h)
	}
	e.mux.Handle("/v1/inbox", e.h.InboxHandler())
	e.mux.Handle("/v1/inbox/", e.h.InboxHandler())
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("handler logs:\n%s", e.logs)
		}
	})
	return e
}

func publicKeyBase64(t testing.TB, pub *ecdsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// twilioSignature computes X-Twilio-Signature as Twilio documents it:
// HMAC-SHA1 keyed with the auth token over the full URL followed by each
// POST parameter name and value, sorted by name; base64.
func twilioSignature(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		for _, v := range form[k] {
			b.WriteString(k + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// sendGridSignature signs as SendGrid does: ECDSA P-256 over SHA-256 of
// the timestamp followed by the raw body, ASN.1 DER, base64.
func sendGridSignature(t testing.TB, key *ecdsa.PrivateKey, ts string, body []byte) string {
	sum := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// serve runs one request through the routes.
func (e *env) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	return w
}

// twilioRequest builds a Twilio webhook request for path (with query)
// signed for PublicURL + path.
func (e *env) twilioRequest(path string, form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", twilioSignature(twilioToken, publicURL+path, form))
	return r
}

// postTwilio posts a signed Twilio webhook and returns the response.
func (e *env) postTwilio(path string, form url.Values) *httptest.ResponseRecorder {
	return e.serve(e.twilioRequest(path, form))
}

func inboundForm(sid, from, body string) url.Values {
	return url.Values{
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "ApiVersion": {"2010-04-01"},
		"Body": {body}, "From": {from}, "To": {practiceNum}, "MessageSid": {sid}, "SmsMessageSid": {sid},
		"SmsSid": {sid}, "SmsStatus": {"received"}, "NumMedia": {"0"}, "NumSegments": {"1"},
	}
}

// text posts an inbound SMS and requires the empty TwiML answer.
func (e *env) text(sid, from, body string) {
	e.t.Helper()
	w := e.postTwilio(PathTwilioInbound, inboundForm(sid, from, body))
	if w.Code != http.StatusOK || w.Body.String() != emptyTwiML || w.Header().Get("Content-Type") != "text/xml" {
		e.t.Fatalf("inbound %q: %d %s %q", body, w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}

func statusForm(sid, status, errorCode, to string) url.Values {
	f := url.Values{
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "ApiVersion": {"2010-04-01"},
		"From": {practiceNum}, "To": {to}, "MessageSid": {sid}, "SmsSid": {sid},
		"MessageStatus": {status}, "SmsStatus": {status},
	}
	if errorCode != "" {
		f.Set("ErrorCode", errorCode)
	}
	return f
}

// status posts a signed status callback for delivery id (the "d" param
// the deliverer adds; "" for none).
func (e *env) status(deliveryID, sid, status, errorCode string) *httptest.ResponseRecorder {
	path := PathTwilioStatus
	if deliveryID != "" {
		path += "?d=" + url.QueryEscape(deliveryID)
	}
	return e.postTwilio(path, statusForm(sid, status, errorCode, anaPhone))
}

// sendGridRequest builds a signed event webhook request, signed at at.
func (e *env) sendGridRequest(body []byte, at time.Time) *http.Request {
	ts := strconv.FormatInt(at.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, PathSendGridEvents, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Twilio-Email-Event-Webhook-Signature", sendGridSignature(e.t, e.sgKey, ts, body))
	r.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
	return r
}

func (e *env) postSendGrid(body string) *httptest.ResponseRecorder {
	return e.serve(e.sendGridRequest([]byte(body), testNow.Add(-time.Second)))
}

// ---- store fixtures ----

func (e *env) client(id, phone, email string) {
	e.t.Helper()
	_, err := e.store.ApplyClientUpsert(e.t.Context(), store.EventRef{ID: "cu-" + id, Type: "client.upserted", Time: testNow.Add(-48 * time.Hour)},
		store.Client{ID: id, FirstName: strings.ToUpper(id[2:3]) + id[3:], Timezone: "America/Chicago", Phone: phone, Email: email})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) grant(clientID string, channel vocab.Channel, purposes ...vocab.Purpose) {
	e.t.Helper()
	for _, p := range purposes {
		_, err := e.store.AppendConsent(e.t.Context(), store.EventRef{}, store.ConsentEntry{
			ClientID: clientID, Channel: channel, Purpose: p, Action: store.ConsentGranted,
			Source: "intake_form", WordingVersion: "v3", OccurredAt: testNow.Add(-24 * time.Hour),
		})
		if err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) book(sessionID, clientID string, starts time.Time) {
	e.t.Helper()
	_, err := e.store.ApplySessionBooked(e.t.Context(), store.EventRef{ID: "b-" + sessionID, Type: "session.booked", Time: testNow.Add(-24 * time.Hour)},
		store.Session{ID: sessionID, ClientID: clientID, StartsAt: starts, DurationMin: 50})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) delivery(key, clientID string, channel vocab.Channel, to string, state store.DeliveryState, providerID string) store.Delivery {
	e.t.Helper()
	d, _, err := e.store.CreateDelivery(e.t.Context(), store.Delivery{
		IdempotencyKey: key, ClientID: clientID, Channel: channel, Purpose: vocab.Reminders,
		Template: "reminder", To: to, State: state, ProviderID: providerID,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) getDelivery(id string) store.Delivery {
	e.t.Helper()
	d, err := e.store.GetDelivery(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// active lists the purposes with active consent on channel.
func (e *env) active(clientID string, channel vocab.Channel) []string {
	e.t.Helper()
	states, err := e.store.Consents(e.t.Context(), clientID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, s := range states {
		if s.Channel == channel && s.Active {
			out = append(out, string(s.Purpose))
		}
	}
	return out
}

func (e *env) ledgerLen(clientID string) int {
	e.t.Helper()
	l, err := e.store.ConsentLedger(e.t.Context(), clientID)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(l)
}

func (e *env) suppressed(channel vocab.Channel, addr string) bool {
	e.t.Helper()
	ok, err := e.store.IsSuppressed(e.t.Context(), channel, addr)
	if err != nil {
		e.t.Fatal(err)
	}
	return ok
}

// replies lists the kinds of the queued notifications, in order.
func (e *env) replies() []string {
	var out []string
	for _, n := range e.disp.notifications() {
		out = append(out, n.Kind)
	}
	return out
}

// eventTypes lists the types of the emitted events with distinct ids, in order.
func (e *env) eventTypes() []string {
	var out, seen []string
	for _, ev := range e.disp.emitted() {
		if !slices.Contains(seen, ev.ID) {
			seen = append(seen, ev.ID)
			out = append(out, ev.Type)
		}
	}
	return out
}

// snapshot is the state a refused request must leave untouched.
type snapshot struct {
	deliveries, inbound, ledger, audit int
	notes, events                      int
	suppressedPhone, suppressedEmail   bool
	states                             string
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	ctx := e.t.Context()
	ds, err := e.store.ListDeliveries(ctx, store.DeliveryFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var states []string
	for _, d := range ds {
		states = append(states, d.ID+"="+string(d.State)+"/"+d.Reason+"/"+d.ProviderID)
	}
	in, err := e.store.ListInbox(ctx, store.InboxFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	audit, err := e.store.ListAudit(ctx, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return snapshot{
		deliveries: len(ds), inbound: len(in), ledger: e.ledgerLen("c-ana"), audit: len(audit),
		notes: len(e.disp.notifications()), events: len(e.disp.emitted()),
		suppressedPhone: e.suppressed(vocab.SMS, anaPhone), suppressedEmail: e.suppressed(vocab.Email, "ana@example.org"),
		states: strings.Join(states, ","),
	}
}

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
