package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// testDeliveryBatchedWrites drives CreateDelivery and UpdateDelivery from
// many goroutines at once, so the store's batched ledger writes (one
// statement for many callers) see batches with new keys, keys taken by a
// stored row, keys twice in one batch, rows a move must refuse and one row
// moved twice: each caller must get what it would have got alone.
func testDeliveryBatchedWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	taken := create(t, s, delivery("batch:taken"))
	const keys = 60
	type result struct {
		d       store.Delivery
		created bool
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results = map[string][]result{}
	)
	for i := range keys {
		key := fmt.Sprintf("batch:%02d", i)
		callers := 1
		if i%3 == 0 {
			callers = 3 // the same key from several workers at once
		}
		for range callers {
			wg.Go(func() {
				d, created, err := s.CreateDelivery(ctx, delivery(key))
				if err != nil {
					t.Errorf("CreateDelivery %s: %v", key, err)
					return
				}
				mu.Lock()
				results[key] = append(results[key], result{d, created})
				mu.Unlock()
			})
		}
	}
	for range 3 {
		wg.Go(func() {
			d, created, err := s.CreateDelivery(ctx, delivery("batch:taken"))
			if err != nil {
				t.Errorf("CreateDelivery batch:taken: %v", err)
				return
			}
			mu.Lock()
			results["batch:taken"] = append(results["batch:taken"], result{d, created})
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	ids := map[string]string{}
	for key, rs := range results {
		created := 0
		for _, r := range rs {
			if r.created {
				created++
			}
			if r.d.IdempotencyKey != key {
				t.Errorf("CreateDelivery %s returned the row of %s", key, r.d.IdempotencyKey)
			}
			if r.d.ID != rs[0].d.ID {
				t.Errorf("CreateDelivery %s: callers got rows %s and %s", key, rs[0].d.ID, r.d.ID)
			}
		}
		want := 1
		if key == "batch:taken" {
			want = 0
			wantEqual(t, "batch:taken keeps its row", rs[0].d.ID, taken.ID)
		}
		wantEqual(t, "rows created for "+key, created, want)
		ids[key] = rs[0].d.ID
	}
	wantEqual(t, "keys", len(ids), keys+1)

	// Moves: every row to sending, then to sent with its own provider id,
	// all at once; one row is already delivered (sent must not move it
	// back), one is moved to sent by two callers in the same instant.
	for key, id := range ids {
		if _, err := s.UpdateDelivery(ctx, id, store.DeliveryUpdate{State: store.DeliverySending, Attempt: true}); err != nil {
			t.Fatalf("UpdateDelivery %s sending: %v", key, err)
		}
	}
	if _, err := s.UpdateDelivery(ctx, ids["batch:01"], store.DeliveryUpdate{State: store.DeliveryDelivered, ProviderID: "SM-early"}); err != nil {
		t.Fatalf("UpdateDelivery delivered: %v", err)
	}
	got := sync.Map{}
	for key, id := range ids {
		callers := 1
		if key == "batch:02" {
			callers = 2
		}
		for c := range callers {
			wg.Go(func() {
				pid := fmt.Sprintf("SM-%s-%d", key, c)
				d, err := s.UpdateDelivery(ctx, id, store.DeliveryUpdate{State: store.DeliverySent, ProviderID: pid})
				if err != nil {
					t.Errorf("UpdateDelivery %s sent: %v", key, err)
					return
				}
				if d.ID != id {
					t.Errorf("UpdateDelivery %s returned row %s", id, d.ID)
				}
				got.Store(pid, d)
			})
		}
	}
	wg.Wait()
	for key, id := range ids {
		d, err := s.GetDelivery(ctx, id)
		noErr(t, "GetDelivery "+key, err)
		switch key {
		case "batch:01":
			wantEqual(t, "a delivered row stays delivered", d.State, store.DeliveryDelivered)
			wantEqual(t, "and keeps its provider id", d.ProviderID, "SM-early")
		case "batch:02":
			wantEqual(t, "state of the row moved twice", d.State, store.DeliverySent)
			if d.ProviderID != "SM-batch:02-0" && d.ProviderID != "SM-batch:02-1" {
				t.Errorf("row moved twice has provider id %q", d.ProviderID)
			}
		default:
			wantEqual(t, "state of "+key, d.State, store.DeliverySent)
			wantEqual(t, "provider id of "+key, d.ProviderID, "SM-"+key+"-0")
			wantEqual(t, "attempts of "+key, d.Attempts, 1)
			if r, ok := got.Load("SM-" + key + "-0"); !ok || r.(store.Delivery).State != store.DeliverySent {
				t.Errorf("UpdateDelivery %s answered %+v, want the sent row", key, r)
			}
		}
	}
}

// testSnapshot checks that every read a snapshot answers gives what the
// store itself answers, for a client with a consent ledger, a care pause
// and suppressed addresses, and that it answers from the one read.
func testSnapshot(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.ReadSnapshot(ctx, "c-nobody", vocab.SMS, "")
	wantErr(t, "snapshot of an unknown client", err, store.ErrNotFound)

	c := ana()
	c.Email = "ana.snapshot@example.com"
	_, err = s.ApplyClientUpsert(ctx, ev("snap-c", "client.upserted", at(0)), c)
	noErr(t, "ApplyClientUpsert", err)

	same := func(stage string) {
		t.Helper()
		for _, ch := range []vocab.Channel{vocab.SMS, vocab.Email} {
			for _, to := range []string{"", c.Phone, "ANA.Snapshot@Example.com", "+15555550199"} {
				snap, err := s.ReadSnapshot(ctx, c.ID, ch, to)
				noErr(t, "ReadSnapshot", err)
				sctx := store.WithSnapshot(ctx, snap)
				what := fmt.Sprintf("%s, %s to %q: ", stage, ch, to)

				gc, err1 := s.GetClient(ctx, c.ID)
				sc, err2 := s.GetClient(sctx, c.ID)
				sameResult(t, what+"GetClient", gc, sc, err1, err2)
				gl, err1 := s.ConsentLedger(ctx, c.ID)
				sl, err2 := s.ConsentLedger(sctx, c.ID)
				sameResult(t, what+"ConsentLedger", gl, sl, err1, err2)
				gs, err1 := s.Consents(ctx, c.ID)
				ss, err2 := s.Consents(sctx, c.ID)
				sameResult(t, what+"Consents", gs, ss, err1, err2)
				gp, err1 := s.GetCarePause(ctx, c.ID)
				sp, err2 := s.GetCarePause(sctx, c.ID)
				sameResult(t, what+"GetCarePause", gp, sp, err1, err2)
				for _, p := range []vocab.Purpose{vocab.Reminders, vocab.Encouragement} {
					gh, err1 := s.HasConsent(ctx, c.ID, ch, p)
					sh, err2 := s.HasConsent(sctx, c.ID, ch, p)
					sameResult(t, what+"HasConsent "+string(p), gh, sh, err1, err2)
					for _, addr := range []string{c.Phone, c.Email, "ANA.Snapshot@Example.com"} {
						ga, err1 := s.HasConsentAt(ctx, c.ID, ch, p, addr)
						sa, err2 := s.HasConsentAt(sctx, c.ID, ch, p, addr)
						sameResult(t, what+"HasConsentAt "+string(p), ga, sa, err1, err2)
					}
				}
				for _, addr := range []string{c.Phone, c.Email, " ANA.Snapshot@Example.com ", "+15555550199", "ÁNA.snapshot@example.com"} {
					gsup, err1 := s.IsSuppressed(ctx, ch, addr)
					ssup, err2 := s.IsSuppressed(sctx, ch, addr)
					sameResult(t, what+"IsSuppressed", gsup, ssup, err1, err2)
				}
			}
		}
	}
	same("no ledger, no pause, nothing suppressed")

	for i, e := range []store.ConsentEntry{
		consent(store.ConsentGranted, vocab.SMS, vocab.Reminders, at(1)),
		consent(store.ConsentGranted, vocab.Email, vocab.Encouragement, at(2)),
		consent(store.ConsentRevoked, vocab.SMS, vocab.Encouragement, at(3)),
	} {
		_, err := s.AppendConsent(ctx, ev(fmt.Sprintf("snap-k%d", i), "consent.changed", e.OccurredAt), e)
		noErr(t, "AppendConsent", err)
	}
	_, err = s.ApplyCarePause(ctx, ev("snap-p", "client.care_paused", at(4)),
		store.CarePause{ClientID: c.ID, Scope: store.CareScopeAll, Until: at(90), RequestedBy: "dr-lee"})
	noErr(t, "ApplyCarePause", err)
	noErr(t, "Suppress sms", s.Suppress(ctx, store.Suppression{Channel: vocab.SMS, Address: c.Phone, Reason: "21610"}))
	noErr(t, "Suppress email", s.Suppress(ctx, store.Suppression{Channel: vocab.Email, Address: "Ana.Snapshot@example.COM", Reason: "bounce"}))
	noErr(t, "Suppress other", s.Suppress(ctx, store.Suppression{Channel: vocab.Email, Address: "ánа.snapshot@example.com", Reason: "bounce"}))
	same("ledger, pause and suppressions")

	// The snapshot answers from its one read: what changed after it is not
	// in it (a decision sees one instant), and a new snapshot sees it.
	snap, err := s.ReadSnapshot(ctx, c.ID, vocab.SMS, "")
	noErr(t, "ReadSnapshot", err)
	noErr(t, "Unsuppress", s.Unsuppress(ctx, vocab.SMS, c.Phone))
	sup, err := s.IsSuppressed(store.WithSnapshot(ctx, snap), vocab.SMS, c.Phone)
	noErr(t, "IsSuppressed", err)
	wantEqual(t, "suppressed as of the snapshot", sup, true)
	snap, err = s.ReadSnapshot(ctx, c.ID, vocab.SMS, "")
	noErr(t, "ReadSnapshot", err)
	sup, err = s.IsSuppressed(store.WithSnapshot(ctx, snap), vocab.SMS, c.Phone)
	noErr(t, "IsSuppressed", err)
	wantEqual(t, "suppressed in a new snapshot", sup, false)
	// A snapshot of one client answers nothing about another.
	_, err = s.GetClient(store.WithSnapshot(ctx, snap), "c-nobody")
	wantErr(t, "another client under a snapshot", err, store.ErrNotFound)
}

// snapshotBatcher is a store that reads several snapshots as one
// statement (sqlstore.Store.ReadSnapshotBatch).
type snapshotBatcher interface {
	ReadSnapshotBatch(ctx context.Context, requests []store.SnapshotRequest) ([]*store.Snapshot, []error)
}

// testSnapshotBatched checks that snapshots read together — in one batch
// statement, and from many goroutines at once, as the deliverer's workers
// read them — are each what a read on its own gives: clients with
// different ledgers, pauses and suppressions, an unknown client, the same
// client twice on different channels, and addresses to look up.
func testSnapshotBatched(t *testing.T, s store.Store) {
	ctx := t.Context()
	clients := []store.Client{ana(), ana(), ana()}
	clients[1].ID, clients[1].FirstName, clients[1].Phone, clients[1].Email = "c-ben", "Ben", "+15555550111", "Ben@Example.org"
	clients[2].ID, clients[2].FirstName, clients[2].Phone, clients[2].Email = "c-cy", "Cy", "+15555550122", ""
	for i, c := range clients {
		_, err := s.ApplyClientUpsert(ctx, ev(fmt.Sprintf("snapb-c%d", i), "client.upserted", at(0)), c)
		noErr(t, "ApplyClientUpsert", err)
	}
	entries := []store.ConsentEntry{
		consent(store.ConsentGranted, vocab.SMS, vocab.Reminders, at(1)),
		consent(store.ConsentGranted, vocab.Email, vocab.Encouragement, at(2)),
		consent(store.ConsentRevoked, vocab.SMS, vocab.Reminders, at(3)),
		consent(store.ConsentGranted, vocab.SMS, vocab.Announcements, at(4)),
	}
	entries[2].ClientID, entries[3].ClientID = "c-ben", "c-ben"
	for i, e := range entries {
		_, err := s.AppendConsent(ctx, ev(fmt.Sprintf("snapb-k%d", i), "consent.changed", e.OccurredAt), e)
		noErr(t, "AppendConsent", err)
	}
	_, err := s.ApplyCarePause(ctx, ev("snapb-p", "client.care_paused", at(5)),
		store.CarePause{ClientID: "c-ben", Scope: store.CareScopeAll, Until: at(90), RequestedBy: "dr-lee"})
	noErr(t, "ApplyCarePause", err)
	noErr(t, "Suppress", s.Suppress(ctx, store.Suppression{Channel: vocab.SMS, Address: clients[0].Phone, Reason: "21610"}))
	noErr(t, "Suppress", s.Suppress(ctx, store.Suppression{Channel: vocab.Email, Address: "ben@example.org", Reason: "bounce"}))

	var reqs []store.SnapshotRequest
	for _, id := range []string{"c-ana", "c-ben", "c-cy", "c-nobody"} {
		for _, ch := range []vocab.Channel{vocab.SMS, vocab.Email} {
			for _, to := range []string{"", "+15555550111", "BEN@example.org", "+15555550100"} {
				reqs = append(reqs, store.SnapshotRequest{ClientID: id, Channel: ch, To: to})
			}
		}
	}
	want := make([]*store.Snapshot, len(reqs))
	wantErrs := make([]error, len(reqs))
	for i, r := range reqs {
		want[i], wantErrs[i] = s.ReadSnapshot(ctx, r.ClientID, r.Channel, r.To)
	}
	check := func(how string, i int, got *store.Snapshot, err error) {
		t.Helper()
		sameResult(t, fmt.Sprintf("%s: %+v", how, reqs[i]), want[i], got, wantErrs[i], err)
	}

	if b, ok := s.(snapshotBatcher); ok {
		got, errs := b.ReadSnapshotBatch(ctx, reqs)
		for i := range reqs {
			check("one batch", i, got[i], errs[i])
		}
		// A request the batch cannot take is refused on its own.
		got, errs = b.ReadSnapshotBatch(ctx, []store.SnapshotRequest{{ClientID: "c-ana", Channel: "pigeon"}, reqs[0]})
		if errs[0] == nil || !errors.Is(errs[0], store.ErrInvalid) {
			t.Errorf("a batch with a bad channel: error %v, want ErrInvalid", errs[0])
		}
		check("beside a bad request", 0, got[1], errs[1])
	}

	var wg sync.WaitGroup
	for round := range 4 {
		for i := range reqs {
			wg.Go(func() {
				got, err := s.ReadSnapshot(ctx, reqs[i].ClientID, reqs[i].Channel, reqs[i].To)
				check(fmt.Sprintf("concurrent, round %d", round), i, got, err)
			})
		}
	}
	wg.Wait()
}

// sameResult fails unless both reads gave the same value and the same kind
// of error.
func sameResult[T any](t *testing.T, what string, want, got T, wantErr, gotErr error) {
	t.Helper()
	if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && errors.Is(wantErr, store.ErrNotFound) != errors.Is(gotErr, store.ErrNotFound)) {
		t.Errorf("%s: error %v under the snapshot, %v without", what, gotErr, wantErr)
		return
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s: %+v under the snapshot, %+v without", what, got, want)
	}
}
