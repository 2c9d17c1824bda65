package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// The same event delivered to several consumers at once (NATS redelivery
// while the first attempt is still running) is applied exactly once.
func testConcurrentEventReplay(t *testing.T, s store.Store) {
	ctx := t.Context()
	res, err := s.ApplySessionBooked(ctx, ev("b1", "session.booked", at(0)), session("S1", at(1000)))
	wantResult(t, "book", res, err, applied)

	var appliedN, duplicates atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			res, err := s.ApplySessionRescheduled(ctx, ev("r1", "session.rescheduled", at(10)), "S1", at(2000))
			switch {
			case err != nil:
				t.Errorf("ApplySessionRescheduled: %v", err)
			case res == applied:
				appliedN.Add(1)
			case res == duplicate:
				duplicates.Add(1)
			default:
				t.Errorf("unexpected result %+v", res)
			}
		})
	}
	wg.Wait()
	wantEqual(t, "applied", appliedN.Load(), 1)
	wantEqual(t, "duplicates", duplicates.Load(), 9)
	wantEqual(t, "version", getSession(t, s, "S1").Version, 2)
}

// Many goroutines writing different things at once must all succeed: no
// SQLITE_BUSY, no deadlock, no lost write.
func testConcurrentWriters(t *testing.T, s store.Store) {
	ctx := t.Context()
	const workers, perWorker = 16, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := fmt.Sprintf("w%d-%d", w, i)
				c := ana()
				c.ID = "c-" + id
				if _, err := s.ApplyClientUpsert(ctx, ev("cu-"+id, "client.upserted", at(i)), c); err != nil {
					t.Errorf("ApplyClientUpsert: %v", err)
					return
				}
				e := consent(store.ConsentGranted, vocab.SMS, vocab.Reminders, at(i))
				e.ClientID = c.ID
				if _, err := s.AppendConsent(ctx, ev("cg-"+id, "consent.granted", at(i)), e); err != nil {
					t.Errorf("AppendConsent: %v", err)
					return
				}
				d, _, err := s.CreateDelivery(ctx, delivery("d-"+id))
				if err != nil {
					t.Errorf("CreateDelivery: %v", err)
					return
				}
				if _, err := s.UpdateDelivery(ctx, d.ID, store.DeliveryUpdate{State: store.DeliverySent, Attempt: true}); err != nil {
					t.Errorf("UpdateDelivery: %v", err)
					return
				}
				if _, err := s.HasConsent(ctx, c.ID, vocab.SMS, vocab.Reminders); err != nil {
					t.Errorf("HasConsent: %v", err)
					return
				}
				if err := s.AppendAudit(ctx, store.AuditEntry{Actor: "system", Action: "test.write", Target: id}); err != nil {
					t.Errorf("AppendAudit: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	sent, err := s.ListDeliveries(ctx, store.DeliveryFilter{State: store.DeliverySent, Limit: 1000})
	noErr(t, "ListDeliveries", err)
	wantEqual(t, "deliveries written", len(sent), workers*perWorker)
	audit, err := s.ListAudit(ctx, 1000)
	noErr(t, "ListAudit", err)
	wantEqual(t, "audit entries written", len(audit), workers*perWorker)
}
