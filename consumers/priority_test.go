package consumers

import (
	"fmt"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/bus/bustest"
	"github.com/nudgehq/nudge/internal/pacing"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/templates"
)

// Issue 9, defect 5 (invariant 9 in docs/invariants.md): a crisis reply goes ahead of every
// routine send. With 100 routine SMS queued behind a 1/s pacer, the crisis
// reply still reaches the provider within 2 s: it travels on the priority
// subject to its own consumer, and jumps the pacer's line.
func TestCrisisReplyAheadOfPacedBacklog(t *testing.T) {
	ctx := t.Context()
	f := newDeliverFixture(t)
	js := bustest.JetStream(t)
	pacer, err := pacing.New(ctx, js, pacing.Limits{string(vocab.SMS): 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	disp := BusDispatcher{JS: js}
	f.dl.Pacer, f.dl.Dispatcher = pacer, disp

	for i := range 100 {
		n := Notification{Key: fmt.Sprintf("reply:routine-%03d", i), Channel: vocab.SMS, Purpose: vocab.Replies,
			Kind: templates.KindHelp, To: fmt.Sprintf("+1415555%04d", 2000+i), Urgent: true}
		if err := disp.Notify(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []struct {
		name        string
		concurrency int
	}{{bus.ConsumerDeliver, 8}, {bus.ConsumerDeliverPriority, 2}} {
		c, err := js.Consumer(ctx, bus.StreamNotify, r.name)
		if err != nil {
			t.Fatal(err)
		}
		stop, err := Runner{Name: r.name, Handler: f.dl.Handle, Concurrency: r.concurrency, Prefetch: r.concurrency}.Start(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = stop(t.Context()) })
	}
	time.Sleep(1500 * time.Millisecond) // the routine line is moving, its workers hold paced slots

	const crisisTo = "+13125550142"
	start := time.Now()
	crisis := Notification{Key: "reply:SMcrisis", Channel: vocab.SMS, Purpose: vocab.Replies, Kind: templates.KindCrisis,
		To: crisisTo, Urgent: true, Priority: true}
	if err := disp.Notify(ctx, crisis); err != nil {
		t.Fatal(err)
	}
	for {
		sent := outbound(f.twilio)
		for _, m := range sent {
			if m.To == crisisTo {
				took := time.Since(start)
				t.Logf("crisis reply reached the provider after %v, with %d of 100 routine SMS sent", took, len(sent)-1)
				if took > 2*time.Second {
					t.Fatalf("crisis reply took %v behind the paced backlog, want ≤ 2 s", took)
				}
				if len(sent)-1 > 20 {
					t.Fatalf("%d routine SMS went first: the backlog was not paced", len(sent)-1)
				}
				return
			}
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("no crisis reply after 10 s (%d routine SMS sent)", len(sent))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
