package consumers

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/bus/bustest"
	"github.com/nudgehq/nudge/internal/fakeprovider"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func startRunner(t *testing.T, js jetstream.JetStream, stream, consumer string, h Handler) {
	t.Helper()
	c, err := js.Consumer(t.Context(), stream, consumer)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := Runner{Name: consumer, Handler: h}.Start(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stop(ctx)
	})
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out after %v waiting for %s", d, what)
}

// TestDeadLetterAndReplay: a notification that keeps failing is given up
// on after MaxDeliver attempts, lands in the dead-letter store with its key
// (its ledger row says why), and a replay sends it exactly once.
func TestDeadLetterAndReplay(t *testing.T) {
	f := newDeliverFixture(t)
	f.now = time.Now() // real clock: the bus redelivers in real time
	f.consent(t, "c1", "sms", vocab.Announcements, store.ConsentGranted)
	topo := bus.DefaultTopology(1)
	topo.NotifyMaxDeliver = 2
	js := bustest.JetStream(t, topo)
	f.dl.Dispatcher = BusDispatcher{JS: js}
	f.dl.InFlightLease = 200 * time.Millisecond // retries come fast here
	f.dl.Now = time.Now                         // the bus redelivers in real time

	dead := &DeadLetters{Store: f.st, JS: js}
	startRunner(t, js, bus.StreamNotify, bus.ConsumerDeliver, f.dl.Handle)
	startRunner(t, js, bus.StreamAdvisories, bus.ConsumerDeadLetter, dead.Handle)

	f.twilio.FailNext(2, fakeprovider.ServerError(503))
	n := announcement("ann:dlq:c1:sms")
	n.Urgent = true // real clock: keep quiet hours out of this test
	if err := (BusDispatcher{JS: js}).Notify(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	var letters []store.DeadLetter
	waitFor(t, "the dead letter", 20*time.Second, func() bool {
		letters, _ = f.st.ListDeadLetters(t.Context(), true, 10)
		return len(letters) == 1
	})
	dl := letters[0]
	if dl.Key != n.Key || dl.Stream != bus.StreamNotify || dl.Consumer != bus.ConsumerDeliver || dl.Deliveries != 2 {
		t.Errorf("dead letter = %+v", dl)
	}
	if row := f.ledger(t, n.Key); row.Reason != ReasonDeadLettered || row.State == store.DeliverySent {
		t.Errorf("ledger row = %s %q, want not sent, reason dead_lettered", row.State, row.Reason)
	}
	if got := len(outbound(f.twilio)); got != 0 {
		t.Fatalf("%d messages sent before replay", got)
	}

	if _, err := dead.Replay(t.Context(), dl.ID, "staff:test"); err != nil {
		t.Fatal(err)
	}
	if _, err := dead.Replay(t.Context(), dl.ID, "staff:test"); err == nil {
		t.Error("a second replay succeeded")
	}
	waitFor(t, "the replayed notification to be sent", 10*time.Second, func() bool {
		return f.ledger(t, n.Key).State == store.DeliverySent
	})
	time.Sleep(300 * time.Millisecond) // let any stray redelivery show itself
	if got := len(outbound(f.twilio)); got != 1 {
		t.Errorf("after replay %d messages, want 1", got)
	}
}
