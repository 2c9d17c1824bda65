package inbound

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

const (
	anaPhone    = "+14155550123"
	practiceNum = "+14155550000"
)

// testNow is when the webhook received the test messages.
var testNow = time.Date(2030, 3, 4, 15, 0, 0, 0, time.UTC)

// recordingDispatcher is a consumers.Dispatcher that records every call.
// failEmit / failNotify make the next n calls fail, to test redelivery.
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

// env is one inbound consumer over a fresh SQLite store.
type env struct {
	t     *testing.T
	store store.Store
	disp  *recordingDispatcher
	c     *Consumer
	logs  *bytes.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "nudge.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, store: st, disp: &recordingDispatcher{}, logs: &bytes.Buffer{}}
	e.c, err = New(Config{
		Store: st, Dispatcher: e.disp,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("consumer logs:\n%s", e.logs)
		}
	})
	return e
}

func message(sid, from, body string) Message {
	return Message{Provider: "twilio", ID: sid, Channel: vocab.SMS, From: from, To: practiceNum, Body: body, ReceivedAt: testNow}
}

// process hands one delivery of the message to the consumer.
func (e *env) process(m Message) error { return e.c.Process(e.t.Context(), m) }

// text delivers an inbound SMS and requires it handled.
func (e *env) text(sid, from, body string) {
	e.t.Helper()
	if err := e.process(message(sid, from, body)); err != nil {
		e.t.Fatalf("inbound %q: %v", body, err)
	}
}

func (e *env) inbound(sid string) store.InboundMessage {
	e.t.Helper()
	m, err := e.store.GetInbound(e.t.Context(), sid)
	if err != nil {
		e.t.Fatalf("GetInbound %s: %v", sid, err)
	}
	return m
}

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
