package consumers

import (
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

// A booking whose confirmation was skipped for want of consent gets it
// when the consent arrives, once, while the session is still ahead.
func TestSchedulerConfirmsBookingWhenConsentArrives(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, ny)
	f := newSchedFixture(t, now, ReminderConfig{BookedConfirmation: true})
	ctx := t.Context()
	f.client(t, store.Client{ID: "c1", Timezone: "America/New_York", Phone: "+14155550101"})
	f.book(t, "S1", "c1", time.Date(2026, 6, 4, 15, 0, 0, 0, ny), "in_person")
	// The deliverer found no consent: the ledger says so.
	if _, _, err := f.st.CreateDelivery(ctx, store.Delivery{IdempotencyKey: BookedKey("S1", vocab.SMS), ClientID: "c1", Channel: vocab.SMS,
		Purpose: vocab.Reminders, Template: "booked", To: "+14155550101", State: store.DeliverySkipped, Reason: string(vocab.SkipNoConsent)}); err != nil {
		t.Fatal(err)
	}
	f.disp.notified = nil

	grant := func(id string) {
		t.Helper()
		if _, err := f.st.AppendConsent(ctx, store.EventRef{}, store.ConsentEntry{ClientID: "c1", Channel: vocab.SMS, Purpose: vocab.Reminders,
			Action: store.ConsentGranted, Source: "test", OccurredAt: f.now}); err != nil {
			t.Fatal(err)
		}
		ev, err := publishers.NewEvent(publishers.TypeConsentGranted, "/test", publishers.ConsentChanged{
			ClientID: "c1", Channel: vocab.SMS, Purpose: vocab.Reminders, Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.rs.EventApplied(ctx, ev.WithID(id), store.Result{Applied: true}); err != nil {
			t.Fatal(err)
		}
	}
	grant("co-1")
	if len(f.disp.notified) != 1 || f.disp.notified[0].Key != BookedKey("S1", vocab.SMS)+BookedAfterConsentSuffix {
		t.Fatalf("after consent: %+v, want the booked confirmation", f.disp.notified)
	}
	if n := f.disp.notified[0]; n.SessionID != "S1" || n.Vars["When"] == nil || n.NotAfter.IsZero() {
		t.Errorf("confirmation %+v", n)
	}
	// The same key again: the ledger sends it once.
	grant("co-2")
	if len(f.disp.notified) != 2 || f.disp.notified[1].Key != f.disp.notified[0].Key {
		t.Errorf("second consent: %+v", f.disp.notified)
	}
	// A session that has started gets nothing.
	f.now = time.Date(2026, 6, 4, 16, 0, 0, 0, ny)
	f.disp.notified = nil
	grant("co-3")
	if len(f.disp.notified) != 0 {
		t.Errorf("confirmation for a started session: %+v", f.disp.notified)
	}
}
