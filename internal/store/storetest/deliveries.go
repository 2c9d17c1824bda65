package storetest

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func delivery(key string) store.Delivery {
	return store.Delivery{
		IdempotencyKey: key, ClientID: "c-ana", Channel: vocab.SMS, Purpose: vocab.Reminders,
		Template: "reminder_48h", To: "+15555550100", SessionID: "S1", SessionVersion: 2,
	}
}

func create(t *testing.T, s store.Store, d store.Delivery) store.Delivery {
	t.Helper()
	got, created, err := s.CreateDelivery(t.Context(), d)
	noErr(t, "CreateDelivery "+d.IdempotencyKey, err)
	if !created {
		t.Fatalf("CreateDelivery %s: not created", d.IdempotencyKey)
	}
	return got
}

func testDeliveryCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := create(t, s, delivery("reminder:S1:v2:48h:sms"))
	if !strings.HasPrefix(d.ID, "dlv_") || len(d.ID) != 24 {
		t.Fatalf("generated id %q, want dlv_ and 20 characters", d.ID)
	}
	wantEqual(t, "default state", d.State, store.DeliveryPending)
	if d.CreatedAt.IsZero() || !d.UpdatedAt.Equal(d.CreatedAt) {
		t.Fatalf("timestamps: created %v updated %v", d.CreatedAt, d.UpdatedAt)
	}
	want := delivery("reminder:S1:v2:48h:sms")
	want.ID, want.State, want.CreatedAt, want.UpdatedAt = d.ID, store.DeliveryPending, d.CreatedAt, d.UpdatedAt
	wantEqual(t, "stored row", d, want)

	again := delivery("reminder:S1:v2:48h:sms")
	again.Template, again.To = "something_else", "+15555550199"
	got, created, err := s.CreateDelivery(ctx, again)
	noErr(t, "second create", err)
	if created {
		t.Fatal("second create with the same key created a row")
	}
	wantEqual(t, "second create returns the stored row", got, d)

	skipped := delivery("encouragement:c-ana:2030-03-04:sms")
	skipped.ID, skipped.State, skipped.Reason = "dlv_caller_chosen", store.DeliverySkipped, "no_consent"
	got = create(t, s, skipped)
	wantEqual(t, "caller id", got.ID, "dlv_caller_chosen")
	wantEqual(t, "skipped", [2]any{got.State, got.Reason}, [2]any{store.DeliverySkipped, "no_consent"})

	taken := delivery("another-key")
	taken.ID = "dlv_caller_chosen"
	_, _, err = s.CreateDelivery(ctx, taken)
	wantErr(t, "id of another key", err, store.ErrConflict)

	// A reply to an unknown number has no client, but still a ledger row.
	stranger := delivery("reply:stranger")
	stranger.ClientID = ""
	got, created, err = s.CreateDelivery(ctx, stranger)
	if err != nil || !created || got.ClientID != "" {
		t.Errorf("delivery without a client = %+v, %v, %v; want created", got, created, err)
	}

	for name, mutate := range map[string]func(*store.Delivery){
		"empty key":     func(d *store.Delivery) { d.IdempotencyKey = "" },
		"channel":       func(d *store.Delivery) { d.Channel = "carrier-pigeon" },
		"unknown state": func(d *store.Delivery) { d.State = "lost" },
	} {
		d := delivery("invalid:" + name)
		mutate(&d)
		_, _, err := s.CreateDelivery(ctx, d)
		wantErr(t, name, err, store.ErrInvalid)
	}
}

// Never twice: however many workers decide the same notification at once,
// exactly one of them creates it.
func testDeliveryCreateConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const workers = 20
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		ids     = map[string]bool{}
	)
	for range workers {
		wg.Go(func() {
			d, ok, err := s.CreateDelivery(ctx, delivery("reminder:S1:v2:2h:sms"))
			if err != nil {
				t.Errorf("CreateDelivery: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[d.ID] = true
			if ok {
				created++
			}
		})
	}
	wg.Wait()
	wantEqual(t, "rows created", created, 1)
	wantEqual(t, "distinct ids returned", len(ids), 1)
}

func testDeliveryLookups(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := create(t, s, delivery("k1"))
	got, err := s.GetDelivery(ctx, d.ID)
	noErr(t, "GetDelivery", err)
	wantEqual(t, "by id", got, d)
	got, err = s.GetDeliveryByKey(ctx, "k1")
	noErr(t, "GetDeliveryByKey", err)
	wantEqual(t, "by key", got, d)

	d, err = s.UpdateDelivery(ctx, d.ID, store.DeliveryUpdate{State: store.DeliverySent, ProviderID: "SM0001"})
	noErr(t, "UpdateDelivery", err)
	got, err = s.GetDeliveryByProviderID(ctx, "SM0001")
	noErr(t, "GetDeliveryByProviderID", err)
	wantEqual(t, "by provider id", got, d)

	_, err = s.GetDelivery(ctx, "dlv_missing")
	wantErr(t, "unknown id", err, store.ErrNotFound)
	_, err = s.GetDeliveryByKey(ctx, "missing")
	wantErr(t, "unknown key", err, store.ErrNotFound)
	_, err = s.GetDeliveryByProviderID(ctx, "SM_missing")
	wantErr(t, "unknown provider id", err, store.ErrNotFound)
	_, err = s.UpdateDelivery(ctx, "dlv_missing", store.DeliveryUpdate{State: store.DeliverySent})
	wantErr(t, "update unknown", err, store.ErrNotFound)
}

func testDeliveryStateMachine(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := create(t, s, delivery("k1"))
	step := func(u store.DeliveryUpdate, wantState store.DeliveryState, wantProvider, wantReason string, wantAttempts int) store.Delivery {
		t.Helper()
		got, err := s.UpdateDelivery(ctx, d.ID, u)
		noErr(t, "UpdateDelivery", err)
		stored, err := s.GetDelivery(ctx, d.ID)
		noErr(t, "GetDelivery", err)
		wantEqual(t, "returned row is the stored row", got, stored)
		wantEqual(t, "state/provider/reason/attempts",
			[4]any{got.State, got.ProviderID, got.Reason, got.Attempts},
			[4]any{wantState, wantProvider, wantReason, wantAttempts})
		return got
	}
	step(store.DeliveryUpdate{State: store.DeliverySending, Attempt: true}, store.DeliverySending, "", "", 1)
	step(store.DeliveryUpdate{State: store.DeliverySending, Attempt: true}, store.DeliverySending, "", "", 2)
	sent := step(store.DeliveryUpdate{State: store.DeliverySent, ProviderID: "SM1"}, store.DeliverySent, "SM1", "", 2)
	if sent.UpdatedAt.Before(d.UpdatedAt) {
		t.Fatal("UpdatedAt moved backwards")
	}
	step(store.DeliveryUpdate{State: store.DeliverySending}, store.DeliverySent, "SM1", "", 2)
	step(store.DeliveryUpdate{State: store.DeliverySent, ProviderID: "SM2"}, store.DeliverySent, "SM1", "", 2)
	step(store.DeliveryUpdate{State: store.DeliveryDelivered}, store.DeliveryDelivered, "SM1", "", 2)
	// Provider callbacks arrive out of order: a late "sent" or a
	// contradicting terminal state must not rewrite "delivered".
	step(store.DeliveryUpdate{State: store.DeliverySent}, store.DeliveryDelivered, "SM1", "", 2)
	step(store.DeliveryUpdate{State: store.DeliveryUndelivered, Reason: "30005"}, store.DeliveryDelivered, "SM1", "", 2)
	step(store.DeliveryUpdate{State: store.DeliveryDelivered, Reason: "late detail"}, store.DeliveryDelivered, "SM1", "late detail", 2)

	f := create(t, s, delivery("k2"))
	d = f
	step(store.DeliveryUpdate{State: store.DeliveryFailed, Reason: "21610"}, store.DeliveryFailed, "", "21610", 0)
	step(store.DeliveryUpdate{State: store.DeliveryFailed, Reason: "other"}, store.DeliveryFailed, "", "21610", 0)

	_, err := s.UpdateDelivery(ctx, f.ID, store.DeliveryUpdate{State: "exploded"})
	wantErr(t, "unknown state", err, store.ErrInvalid)
}

// Racing updates (sender and provider callbacks) end in the highest state.
func testDeliveryUpdateConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := create(t, s, delivery("k1"))
	states := []store.DeliveryState{store.DeliverySending, store.DeliverySent, store.DeliveryDelivered, store.DeliverySent, store.DeliverySending}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := s.UpdateDelivery(ctx, d.ID, store.DeliveryUpdate{State: states[i%len(states)], Attempt: true})
			if err != nil {
				t.Errorf("UpdateDelivery: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := s.GetDelivery(ctx, d.ID)
	noErr(t, "GetDelivery", err)
	wantEqual(t, "final state", got.State, store.DeliveryDelivered)
}

func testDeliveryList(t *testing.T, s store.Store) {
	ctx := t.Context()
	var all []store.Delivery // in creation order
	for i, spec := range []struct{ client, session string }{
		{"c-ana", "S1"}, {"c-ben", "S2"}, {"c-ana", "S1"}, {"c-ana", "S3"}, {"c-ben", ""},
	} {
		d := delivery(spec.client + ":" + spec.session + ":" + string(rune('a'+i)))
		d.ClientID, d.SessionID = spec.client, spec.session
		all = append(all, create(t, s, d))
	}
	_, err := s.UpdateDelivery(ctx, all[2].ID, store.DeliveryUpdate{State: store.DeliverySent})
	noErr(t, "UpdateDelivery", err)

	list := func(f store.DeliveryFilter, want ...int) {
		t.Helper()
		got, err := s.ListDeliveries(ctx, f)
		noErr(t, "ListDeliveries", err)
		var gotIDs, wantIDs []string
		for _, d := range got {
			gotIDs = append(gotIDs, d.ID)
		}
		for _, i := range want {
			wantIDs = append(wantIDs, all[i].ID)
		}
		if strings.Join(gotIDs, ",") != strings.Join(wantIDs, ",") {
			t.Fatalf("ListDeliveries(%+v): got %v, want %v (newest first)", f, gotIDs, wantIDs)
		}
	}
	list(store.DeliveryFilter{}, 4, 3, 2, 1, 0)
	list(store.DeliveryFilter{ClientID: "c-ana"}, 3, 2, 0)
	list(store.DeliveryFilter{SessionID: "S1"}, 2, 0)
	list(store.DeliveryFilter{State: store.DeliverySent}, 2)
	list(store.DeliveryFilter{ClientID: "c-ana", State: store.DeliveryPending}, 3, 0)
	list(store.DeliveryFilter{Limit: 2}, 4, 3)
	list(store.DeliveryFilter{ClientID: "c-nobody"})
}

// Never twice, across workers: of many workers that read the same attempt
// count and try to claim it, exactly one wins; the next attempt needs the
// new count; a finished delivery cannot be claimed.
func testDeliveryClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	d, _, err := s.CreateDelivery(ctx, delivery("claim:1"))
	if err != nil {
		t.Fatal(err)
	}
	const workers = 16
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, ok, err := s.ClaimDelivery(ctx, d.ID, d.Attempts)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				wins.Add(1)
				if got.State != store.DeliverySending || got.Attempts != d.Attempts+1 {
					t.Errorf("claimed row = %s attempts %d", got.State, got.Attempts)
				}
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d workers claimed the same attempt, want exactly 1", wins.Load())
	}
	// A stale attempt count loses; the current one wins the next attempt.
	if _, ok, _ := s.ClaimDelivery(ctx, d.ID, d.Attempts); ok {
		t.Error("a claim with a stale attempt count won")
	}
	if got, ok, err := s.ClaimDelivery(ctx, d.ID, d.Attempts+1); err != nil || !ok || got.Attempts != d.Attempts+2 {
		t.Errorf("second attempt claim = %+v, %v, %v", got, ok, err)
	}
	if _, err := s.UpdateDelivery(ctx, d.ID, store.DeliveryUpdate{State: store.DeliverySent}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.ClaimDelivery(ctx, d.ID, d.Attempts+2); ok {
		t.Error("a sent delivery was claimed again")
	}
}
