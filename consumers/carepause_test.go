package consumers

import (
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func (f *deliverFixture) pause(t *testing.T, id, scope string, until time.Time) {
	t.Helper()
	f.now = f.now.Add(time.Second) // a later event than the last pause
	_, err := f.st.ApplyCarePause(t.Context(), store.EventRef{ID: id, Type: "client.care_paused", Time: f.now},
		store.CarePause{ClientID: "c1", Scope: scope, Until: until, RequestedBy: "dr-lee"})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *deliverFixture) deliver(t *testing.T, n Notification) store.Delivery {
	t.Helper()
	if err := f.dl.Deliver(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	return f.ledger(t, n.Key)
}

func TestCarePauseSkipsAndExpires(t *testing.T) {
	f := newDeliverFixture(t)
	f.dl.Checks = DefaultChecks(f.st, quiethours.Default, quiethours.DefaultCadence())
	for _, p := range []vocab.Purpose{vocab.Announcements, vocab.Reminders, vocab.Encouragement, vocab.Journal} {
		f.consent(t, "c1", vocab.SMS, p, store.ConsentGranted)
	}
	f.pause(t, "pause-1", store.CareScopeAll, f.now.Add(time.Hour))

	reminder := Notification{Key: "reminder:x:1", ClientID: "c1", Channel: "sms", Purpose: vocab.Reminders, Kind: "booked",
		Vars: map[string]any{"When": "Thu", "Link": "", "LocationKind": ""}}
	journal := Notification{Key: "journal:c1:2026-03-10", ClientID: "c1", Channel: "sms", Purpose: vocab.Journal, Kind: "journal_nudge"}
	for _, n := range []Notification{announcement("ann:p1"), reminder, journal} {
		if d := f.deliver(t, n); d.State != store.DeliverySkipped || d.Reason != string(vocab.SkipCarePaused) {
			t.Errorf("%s during an all-scope pause: %s %q, want skipped care_paused", n.Key, d.State, d.Reason)
		}
	}
	// Crisis help and the opt-out confirmation always go.
	crisis := Notification{Key: "reply:crisis", ClientID: "c1", Channel: "sms", Purpose: vocab.Replies, Kind: "crisis", Urgent: true}
	if d := f.deliver(t, crisis); d.State != store.DeliverySent {
		t.Errorf("crisis reply during a pause: %s %q, want sent", d.State, d.Reason)
	}

	// Scope non_essential lets reminders through.
	f.pause(t, "pause-2", store.CareScopeNonEssential, f.now.Add(time.Hour))
	reminder.Key = "reminder:x:2"
	if d := f.deliver(t, reminder); d.State != store.DeliverySent {
		t.Errorf("reminder during a non-essential pause: %s %q, want sent", d.State, d.Reason)
	}
	if d := f.deliver(t, announcement("ann:p2")); d.Reason != string(vocab.SkipCarePaused) {
		t.Errorf("announcement during a non-essential pause: %s %q", d.State, d.Reason)
	}

	// At until the pause is over by itself.
	f.now = f.now.Add(time.Hour)
	if d := f.deliver(t, announcement("ann:p3")); d.State != store.DeliverySent {
		t.Errorf("announcement after until: %s %q, want sent", d.State, d.Reason)
	}
	if got := len(outbound(f.twilio)); got != 3 {
		t.Errorf("provider got %d messages, want crisis, reminder and the announcement after the pause", got)
	}
}
