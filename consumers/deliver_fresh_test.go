package consumers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// keyReads counts the deliverer's ledger reads by key.
type keyReads struct {
	store.Store
	n atomic.Int64
}

func (s *keyReads) GetDeliveryByKey(ctx context.Context, key string) (store.Delivery, error) {
	s.n.Add(1)
	return s.Store.GetDeliveryByKey(ctx, key)
}

// A fresh key is sent without reading its ledger row first (one round trip
// fewer per notification); a key that has a row is decided from that row,
// whatever it is.
func TestDeliverFreshKeyWithoutLedgerRead(t *testing.T) {
	f := newDeliverFixture(t)
	reads := &keyReads{Store: f.st}
	f.dl.Store = reads
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentGranted)

	n := announcement("ann:fresh:c1:sms")
	if err := f.dl.Deliver(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	if got := reads.n.Load(); got != 0 {
		t.Errorf("a fresh key read its ledger row %d times, want 0", got)
	}
	if d := f.ledger(t, n.Key); d.State != store.DeliverySent || d.Attempts != 1 {
		t.Fatalf("ledger %+v, want sent after 1 attempt", d)
	}

	// Redelivered: the insert finds the row, the row says sent: nothing more.
	if err := f.dl.Deliver(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	if reads.n.Load() != 1 || len(outbound(f.twilio)) != 1 {
		t.Errorf("redelivery: %d ledger reads, %d messages; want 1 and 1", reads.n.Load(), len(outbound(f.twilio)))
	}

	// A row left pending (a deferral coming due) is sent from that row,
	// under its id.
	pending, _, err := f.st.CreateDelivery(t.Context(), store.Delivery{
		IdempotencyKey: "ann:pending:c1:sms", ClientID: "c1", Channel: "sms", Purpose: vocab.Announcements,
		Template: "announcement", To: "+14155550101", State: store.DeliveryPending,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.dl.Deliver(t.Context(), announcement(pending.IdempotencyKey)); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, pending.IdempotencyKey); d.ID != pending.ID || d.State != store.DeliverySent {
		t.Errorf("pending row after delivery: %+v, want %s sent", d, pending.ID)
	}
	if got := len(outbound(f.twilio)); got != 2 {
		t.Errorf("%d messages, want 2", got)
	}

	// A row already skipped stays skipped, even if the checks would now
	// let it go: the first decision stands.
	skipped, _, err := f.st.CreateDelivery(t.Context(), store.Delivery{
		IdempotencyKey: "ann:skipped:c1:sms", ClientID: "c1", Channel: "sms", Purpose: vocab.Announcements,
		Template: "announcement", To: "+14155550101", State: store.DeliverySkipped, Reason: string(vocab.SkipNoConsent),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.dl.Deliver(t.Context(), announcement(skipped.IdempotencyKey)); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, skipped.IdempotencyKey); d.State != store.DeliverySkipped || len(outbound(f.twilio)) != 2 {
		t.Errorf("skipped row after delivery: %+v and %d messages", d, len(outbound(f.twilio)))
	}
}

// countingPacer counts the turns it gives.
type countingPacer struct{ turns atomic.Int64 }

func (p *countingPacer) Wait(context.Context, string) error { p.turns.Add(1); return nil }
func (p *countingPacer) Pause(context.Context, string, time.Duration) error {
	return nil
}

// A deferral coming due has its row already: the try that presumed the key
// fresh took the pacer's turn, the try that decides from the row does not
// take a second one.
func TestDeliverRowFoundAfterPacingTakesOneTurn(t *testing.T) {
	f := newDeliverFixture(t)
	pacer := &countingPacer{}
	f.dl.Pacer = pacer
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentGranted)
	pending, _, err := f.st.CreateDelivery(t.Context(), store.Delivery{
		IdempotencyKey: "ann:deferred:c1:sms", ClientID: "c1", Channel: "sms", Purpose: vocab.Announcements,
		Template: "announcement", To: "+14155550101", State: store.DeliveryPending,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.dl.Deliver(t.Context(), announcement(pending.IdempotencyKey)); err != nil {
		t.Fatal(err)
	}
	if got := pacer.turns.Load(); got != 1 {
		t.Errorf("%d pacer turns for one message, want 1", got)
	}
	if d := f.ledger(t, pending.IdempotencyKey); d.State != store.DeliverySent || len(outbound(f.twilio)) != 1 {
		t.Errorf("ledger %+v, %d messages", d, len(outbound(f.twilio)))
	}
}

// blockingPacer holds every turn until release is closed, and reports on
// waiting each time a notification starts to wait.
type blockingPacer struct {
	waiting chan struct{}
	release chan struct{}
}

func (p *blockingPacer) Wait(ctx context.Context, _ string) error {
	p.waiting <- struct{}{}
	select {
	case <-p.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *blockingPacer) Pause(context.Context, string, time.Duration) error { return nil }

// A client who opts out while their message waits for the pacer's turn
// does not get it: the checks run again after the wait, before the claim.
// With many deliver workers a whole announcement can be waiting at once.
func TestDeliverChecksAgainAfterWaitingForItsTurn(t *testing.T) {
	f := newDeliverFixture(t)
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentGranted)
	wait := func(n Notification, meanwhile func()) error {
		t.Helper()
		pacer := &blockingPacer{waiting: make(chan struct{}, 1), release: make(chan struct{})}
		f.dl.Pacer = pacer
		done := make(chan error, 1)
		go func() { done <- f.dl.Deliver(t.Context(), n) }()
		<-pacer.waiting
		meanwhile()
		time.Sleep(RecheckAfterPacing)
		close(pacer.release)
		return <-done
	}

	// Consent still holds after the wait: sent.
	kept := announcement("ann:wait:kept")
	if err := wait(kept, func() {}); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, kept.Key); d.State != store.DeliverySent || len(outbound(f.twilio)) != 1 {
		t.Fatalf("ledger %+v, %d messages; want sent, 1", d, len(outbound(f.twilio)))
	}

	// Revoked while waiting: skipped, nothing sent.
	revoked := announcement("ann:wait:revoked")
	if err := wait(revoked, func() { f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentRevoked) }); err != nil {
		t.Fatal(err)
	}
	if d := f.ledger(t, revoked.Key); d.State != store.DeliverySkipped || d.Reason != string(vocab.SkipNoConsent) {
		t.Errorf("ledger %+v, want skipped %s", d, vocab.SkipNoConsent)
	}
	if got := len(outbound(f.twilio)); got != 1 {
		t.Errorf("%d messages, want only the first", got)
	}
}
