package consumers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/bus/bustest"
	"github.com/nudgehq/nudge/internal/subject"
)

// TestRunnerConcurrency: with Concurrency 4 the runner handles exactly
// four messages at once, every message is still acked (a failed one is
// retried by the call that failed), and stop waits for the messages in
// hand before it returns.
func TestRunnerConcurrency(t *testing.T) {
	const workers, total = 4, 40
	js := bustest.JetStream(t)
	ctx := t.Context()
	for i := range total {
		if _, err := js.Publish(ctx, subject.Notify("sms"), fmt.Appendf(nil, "m%02d", i)); err != nil {
			t.Fatal(err)
		}
	}

	var (
		active, maxActive atomic.Int32
		full              = make(chan struct{})
		fullOnce          sync.Once
		release           = make(chan struct{})
		mu                sync.Mutex
		calls             = map[string]int{}
		acked             = map[string]bool{}
	)
	h := func(_ context.Context, msg jetstream.Msg) error {
		n := active.Add(1)
		defer active.Add(-1)
		for m := maxActive.Load(); n > m && !maxActive.CompareAndSwap(m, n); m = maxActive.Load() {
		}
		if n == workers {
			fullOnce.Do(func() { close(full) })
		}
		// Wait until the pool is full once: a sequential runner never gets
		// there and times out here.
		select {
		case <-full:
		case <-time.After(5 * time.Second):
		}
		body := string(msg.Data())
		if body == "hold" {
			<-release
		}
		mu.Lock()
		defer mu.Unlock()
		calls[body]++
		if body == "m07" && calls[body] == 1 {
			return errors.New("transient")
		}
		acked[body] = true
		return nil
	}
	c, err := js.Consumer(ctx, bus.StreamNotify, bus.ConsumerDeliver)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := Runner{Name: bus.ConsumerDeliver, Handler: h, Concurrency: workers}.Start(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			close(release)
			_ = stop(context.Background())
		}
	})

	waitFor(t, "every message acked", 15*time.Second, func() bool {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		info, err := c.Info(ctx)
		return err == nil && n == total && info.NumAckPending == 0 && info.NumPending == 0
	})
	if got := maxActive.Load(); got != workers {
		t.Errorf("at most %d messages were handled at once, want %d", got, workers)
	}
	mu.Lock()
	if calls["m07"] != 2 {
		t.Errorf("m07 was handled %d times, want 2 (failed once, then retried)", calls["m07"])
	}
	mu.Unlock()

	// Stop drains: a message still in a handler is finished and acked
	// before stop returns.
	if _, err := js.Publish(ctx, subject.Notify("sms"), []byte("hold")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the held message in a handler", 5*time.Second, func() bool { return active.Load() == 1 })
	stopErr := make(chan error, 1)
	go func() { stopErr <- stop(context.Background()) }()
	select {
	case err := <-stopErr:
		t.Fatalf("stop returned (%v) while a handler still held a message", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	stopped = true
	if err := <-stopErr; err != nil {
		t.Fatalf("stop: %v", err)
	}
	mu.Lock()
	held := acked["hold"]
	mu.Unlock()
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !held || info.NumAckPending != 0 {
		t.Errorf("after stop: held message handled %t, %d messages still awaiting ack", held, info.NumAckPending)
	}
}
