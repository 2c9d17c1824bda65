package consumers

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/bus/bustest"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/publishers"
)

// TestIngestTwoSourcesSameID: CloudEvents identifies an event by source and
// id, so two producers that both use id "42" both reach the store — through
// JetStream's duplicate window (Nats-Msg-Id is the pair) and the store's
// events table (keyed on the pair) — and a repeat from either is still one.
func TestIngestTwoSourcesSameID(t *testing.T) {
	ctx := t.Context()
	js := bustest.JetStream(t)
	st, err := sqlite.Open(ctx, t.TempDir()+"/nudge.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pub := publishers.NewPublisher(js)

	for _, p := range []struct{ source, client, name string }{{"/booking", "c-1", "Ada"}, {"/journal", "c-2", "Bea"}} {
		ev, err := publishers.NewEvent(publishers.TypeClientUpserted, p.source,
			publishers.ClientUpserted{ClientID: p.client, FirstName: p.name, Timezone: "Europe/London"})
		if err != nil {
			t.Fatal(err)
		}
		ev = ev.WithID("42")
		for try := range 2 {
			res, err := pub.Publish(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if res.Duplicate != (try == 1) {
				t.Fatalf("%s try %d: duplicate = %v", p.source, try, res.Duplicate)
			}
		}
	}

	cons, err := js.Consumer(ctx, bus.StreamEvents, bus.ConsumerIngest)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(10, jetstream.FetchMaxWait(2*time.Second), jetstream.FetchPriorityGroup(bus.IngestPriorityGroup))
	if err != nil {
		t.Fatal(err)
	}
	in := &Ingest{Store: st}
	var n int
	for msg := range batch.Messages() {
		n++
		if err := in.Handle(ctx, msg); err != nil {
			t.Fatalf("ingest: %v", err)
		}
		_ = msg.Ack()
		if got := msg.Headers().Get(jetstream.MsgIDHeader); got != publishers.MsgID(map[int]string{1: "/booking", 2: "/journal"}[n], "42") {
			t.Errorf("message %d: Nats-Msg-Id %q", n, got)
		}
	}
	if n != 2 {
		t.Fatalf("the stream holds %d events, want one per source", n)
	}
	for _, id := range []string{"c-1", "c-2"} {
		if _, err := st.GetClient(ctx, id); err != nil {
			t.Errorf("client %s: %v", id, err)
		}
	}
	recs, err := st.EventsByID(ctx, "42")
	if err != nil || len(recs) != 2 || !recs[0].Applied || !recs[1].Applied {
		t.Errorf("event records %+v, %v; want both sources applied", recs, err)
	}
}
