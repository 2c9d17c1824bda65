package sqlstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type testItem struct {
	n       int
	flushed int // times a batch carried it
}

// TestCoalescerEveryItemOnce: many concurrent callers, slow batches: every
// item is flushed exactly once, batches respect max and limit, and while
// batches are busy the queue forms batches of more than one.
func TestCoalescerEveryItemOnce(t *testing.T) {
	var (
		inFlight, peak atomic.Int32
		mu             sync.Mutex
		sizes          []int
	)
	c := &coalescer[testItem]{limit: 2, max: 8, flush: func(ctx context.Context, items []*testItem) {
		if n := inFlight.Add(1); n > peak.Load() {
			peak.Store(n)
		}
		defer inFlight.Add(-1)
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		sizes = append(sizes, len(items))
		mu.Unlock()
		for _, it := range items {
			it.flushed++
		}
	}}
	items, wg := callers(t, c, 500, 0)
	wg.Wait()
	for _, it := range items {
		if it.flushed != 1 {
			t.Fatalf("item %d flushed %d times", it.n, it.flushed)
		}
	}
	multi := 0
	for _, n := range sizes {
		if n > 8 {
			t.Fatalf("a batch of %d, max 8", n)
		}
		if n > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Fatalf("no batch carried more than one item (sizes %v)", sizes)
	}
	if p := peak.Load(); p > 2 {
		t.Fatalf("%d batches in flight, limit 2", p)
	}
	if c.running != 0 || len(c.queue) != 0 {
		t.Fatalf("after the last call: %d running, %d queued", c.running, len(c.queue))
	}
}

// callers starts n concurrent calls of c.do, gap apart, each with its own
// item; wait for them on the returned group.
func callers(t *testing.T, c *coalescer[testItem], n int, gap time.Duration) ([]*testItem, *sync.WaitGroup) {
	items := make([]*testItem, n)
	wg := &sync.WaitGroup{}
	for i := range items {
		items[i] = &testItem{n: i}
		wg.Go(func() {
			if err := c.do(t.Context(), items[i]); err != nil {
				t.Errorf("do: %v", err)
			}
		})
		time.Sleep(gap)
	}
	return items, wg
}

// TestCoalescerCancelledBeforeTaken: a caller that gives up while queued is
// not written and gets its context's error; the others still are.
func TestCoalescerCancelledBeforeTaken(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	c := &coalescer[testItem]{limit: 1, max: 8, flush: func(ctx context.Context, items []*testItem) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		for _, it := range items {
			it.flushed++
		}
	}}
	first, gaveUp, after := &testItem{n: 1}, &testItem{n: 2}, &testItem{n: 3}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := c.do(t.Context(), first); err != nil {
			t.Errorf("first: %v", err)
		}
	})
	<-started // the first batch is in flight; the next callers queue
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- c.do(ctx, gaveUp) }()
	wg.Go(func() {
		if err := c.do(t.Context(), after); err != nil {
			t.Errorf("after: %v", err)
		}
	})
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that gave up got %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	if first.flushed != 1 || after.flushed != 1 || gaveUp.flushed != 0 {
		t.Fatalf("flushed: first %d, after %d, gave up %d; want 1, 1, 0", first.flushed, after.flushed, gaveUp.flushed)
	}
	if c.running != 0 || len(c.queue) != 0 {
		t.Fatalf("after the last call: %d running, %d queued", c.running, len(c.queue))
	}
}

// TestCoalescerLinger: with a linger, callers arriving while a leader
// waits join its batch instead of writing their own; a lone caller is
// still written (after the linger); a full batch does not wait it out.
func TestCoalescerLinger(t *testing.T) {
	var (
		mu    sync.Mutex
		sizes []int
	)
	c := &coalescer[testItem]{limit: 4, max: 8, linger: 50 * time.Millisecond, flush: func(ctx context.Context, items []*testItem) {
		mu.Lock()
		sizes = append(sizes, len(items))
		mu.Unlock()
		for _, it := range items {
			it.flushed++
		}
	}}
	// A lone caller: one batch of one, written after the linger.
	start := time.Now()
	if err := c.do(t.Context(), &testItem{}); err != nil {
		t.Fatalf("do: %v", err)
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Fatalf("a lone caller was written after %s, before the 50ms linger", took)
	}

	// Six callers within the linger: one batch of six, although the limit
	// would let four lead batches of their own.
	mu.Lock()
	sizes = nil
	mu.Unlock()
	_, wg := callers(t, c, 6, 2*time.Millisecond)
	wg.Wait()
	if len(sizes) != 1 || sizes[0] != 6 {
		t.Fatalf("batches %v, want one batch of 6", sizes)
	}

	// Eight callers at once on a coalescer of one batch at a time: the
	// batch is full, so it goes without waiting out a long linger.
	c.limit, c.linger = 1, time.Minute
	sizes = nil
	items, wg := callers(t, c, 8, 0)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("a full batch waited out its linger")
	}
	if len(sizes) != 1 || sizes[0] != 8 {
		t.Fatalf("batches %v, want one of 8", sizes)
	}
	for _, it := range items {
		if it.flushed != 1 {
			t.Fatalf("item %d flushed %d times", it.n, it.flushed)
		}
	}
	if c.running != 0 || len(c.queue) != 0 || c.lingering != nil {
		t.Fatalf("after the last call: %d running, %d queued, lingering %v", c.running, len(c.queue), c.lingering != nil)
	}
}
