package metrics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/bus/bustest"
)

// newBus starts an embedded NATS server with nudge's topology, for this
// test only.
func newBus(t *testing.T, _ context.Context) (jetstream.JetStream, bus.Topology) {
	t.Helper()
	topo := bus.DefaultTopology(1)
	return bustest.JetStream(t, topo), topo
}

func TestPendingAgainstJetStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, topo := newBus(t, ctx)

	// Five due notifications; the worker holds two without acking.
	for i := range 5 {
		if _, err := js.Publish(ctx, "nudge.notify.sms", fmt.Appendf(nil, `{"key":"k%d"}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := js.Consumer(ctx, bus.StreamNotify, bus.ConsumerDeliver)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(2, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for range batch.Messages() {
		held++
	}
	if held != 2 {
		t.Fatalf("fetched %d messages, want 2", held)
	}

	// The metric mirrors the server's consumer info; right after a fetch
	// the server may still be settling its counts, so wait for them first.
	settle(ctx, t, c, 3, 2)

	refs := TopologyConsumers(topo)
	if len(refs) < 2 {
		t.Fatalf("TopologyConsumers = %v, want ingest and deliver at least", refs)
	}
	m := New(Config{Pending: JetStreamPending(js, append(refs, ConsumerRef{"NUDGE_NOTIFY", "nope"})...)})
	// The unknown consumer makes Gather report an error, but the known
	// ones are still collected.
	got, err := m.Registry().Gather()
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Gather error = %v, want one naming the missing consumer", err)
	}
	var lines []string
	for _, mf := range got {
		if mf.GetName() != "nudge_consumer_pending" {
			continue
		}
		for _, metric := range mf.GetMetric() {
			var l []string
			for _, lp := range metric.GetLabel() {
				l = append(l, lp.GetName()+"="+lp.GetValue())
			}
			lines = append(lines, fmt.Sprintf("%s %v", strings.Join(l, ","), metric.GetGauge().GetValue()))
		}
	}
	for _, w := range []string{
		"consumer=deliver,state=pending,stream=NUDGE_NOTIFY 3",
		"consumer=deliver,state=ack_pending,stream=NUDGE_NOTIFY 2",
		"consumer=ingest,state=pending,stream=NUDGE_EVENTS 0",
		"consumer=ingest,state=ack_pending,stream=NUDGE_EVENTS 0",
	} {
		found := false
		for _, l := range lines {
			found = found || l == w
		}
		if !found {
			t.Errorf("backlog series %q missing; got %q", w, lines)
		}
	}

	// The handler serves the known consumers despite the unknown one.
	body := scrape(t, m.Handler())
	if !strings.Contains(body, `nudge_consumer_pending{consumer="deliver",state="pending",stream="NUDGE_NOTIFY"} 3`) {
		t.Errorf("exposition lacks the deliver backlog:\n%s", body)
	}

	// Acking one moves it out of the backlog.
	msgs, err := c.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for msg := range msgs.Messages() {
		if err := msg.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	settle(ctx, t, c, 2, 2)
	body = scrape(t, m.Handler())
	for _, w := range []string{
		`nudge_consumer_pending{consumer="deliver",state="pending",stream="NUDGE_NOTIFY"} 2`,
		`nudge_consumer_pending{consumer="deliver",state="ack_pending",stream="NUDGE_NOTIFY"} 2`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("after one ack, exposition lacks %q", w)
		}
	}
}

// The runner reports every message's end to the metrics: a message that
// fails once is a retry, then an ack on its second delivery, counted as a
// redelivery; a poison message is a term.
func TestRunnerObserve(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, _ := newBus(t, ctx)
	m := New(Config{})

	var calls atomic.Int32
	done := make(chan struct{}, 2)
	handler := func(_ context.Context, msg jetstream.Msg) error {
		if string(msg.Data()) == "poison" {
			defer func() { done <- struct{}{} }()
			return consumers.Permanent(errors.New("cannot parse"))
		}
		if calls.Add(1) == 1 {
			return errors.New("store busy")
		}
		done <- struct{}{}
		return nil
	}
	c, err := js.Consumer(ctx, bus.StreamEvents, bus.ConsumerIngest)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := consumers.Runner{Name: bus.ConsumerIngest, Handler: handler, Observe: m.ConsumerMessage, PriorityGroup: bus.IngestPriorityGroup}.Start(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop(context.Background()) }()
	for i, body := range []string{"ok", "poison"} {
		if _, err := js.Publish(ctx, "nudge.events.client.upserted", []byte(body), jetstream.WithMsgID(fmt.Sprint("m", i))); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatal("messages not handled in time")
		}
	}
	// The ack is counted before it is sent; give the counter a moment.
	deadline := time.Now().Add(5 * time.Second)
	want := []string{
		`nudge_consumer_messages_total{consumer="ingest",result="retry"} 1`,
		`nudge_consumer_messages_total{consumer="ingest",result="ack"} 1`,
		`nudge_consumer_messages_total{consumer="ingest",result="term"} 1`,
		`nudge_consumer_redeliveries_total{consumer="ingest"} 1`,
	}
	for {
		body := scrape(t, m.Handler())
		var missing []string
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("exposition lacks %q", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle waits until the server's own info on c reports pending and
// ackPending, and fails the test if it never does.
func settle(ctx context.Context, t *testing.T, c jetstream.Consumer, pending uint64, ackPending int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumPending == pending && info.NumAckPending == ackPending {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer info: pending %d, ack pending %d; want %d and %d", info.NumPending, info.NumAckPending, pending, ackPending)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
