package sqlstore

import (
	"context"
	"sync"
	"time"
)

// coalescer turns concurrent single-row writes of one kind into one
// statement per batch (group commit): the deliverer's claim (a new ledger
// row) and its "sent" both come from many workers at once, and one
// multi-row statement costs the database one round trip and one commit
// where the rows one by one cost a round trip and a commit each.
//
// Without a linger nothing waits for a batch to fill: a caller that finds
// fewer than limit batches in flight writes at once, with whatever else is
// queued; callers arriving while the batches are busy queue up, and the
// next of them to be woken writes the queue as the next batch. Under light
// load every batch holds one row, so latency is a single statement's. With
// a linger the leader waits up to the linger for the batch to fill: long
// for writes whose latency nobody waits on (the "sent"), a millisecond or
// less for calls on the latency path (the claim, the snapshot read) that a
// busy server would otherwise answer one by one.
//
// Each item's outcome is its own: flush sets every item's result, and a
// batch that fails as a whole is retried row by row by flush itself, so a
// bad row never fails its neighbours.
type coalescer[T any] struct {
	limit int // batches in flight at most
	max   int // items per batch at most
	flush func(ctx context.Context, items []*T)
	// linger, when set, lets a leader that finds its batch short of max
	// wait this long for more callers before it writes; callers arriving
	// meanwhile join its batch rather than lead their own. It trades the
	// callers' latency for fewer statements and commits.
	linger time.Duration

	mu        sync.Mutex
	queue     []*waiter[T]
	running   int
	lingering chan struct{} // open while a leader lingers; closed when its batch is full
}

type waiter[T any] struct {
	item *T
	// ready is closed once the item's result is set, or earlier when the
	// waiter is promoted to write the next batch (then it gets a new one).
	ready chan struct{}
	done  bool // the item's result is set
	lead  bool // holds a batch slot: this caller writes the next batch
	taken bool // in a batch being written
}

// batchTimeout bounds one batch's statement: a leader whose own context is
// cancelled still finishes the batch it carries for the others.
const batchTimeout = 15 * time.Second

// do writes item, alone or in a batch, and returns when its result is set
// or ctx is done. A caller that gives up before its item was taken into a
// batch is dropped from the queue (nothing is written for it); one that
// gives up later waits for that batch, which batchTimeout bounds.
func (c *coalescer[T]) do(ctx context.Context, item *T) error {
	w := &waiter[T]{item: item, ready: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, w)
	if c.lingering == nil && c.running < c.limit {
		c.running++
		w.lead = true
	}
	c.joined()
	c.mu.Unlock()
	for {
		c.mu.Lock()
		lead := w.lead && !w.taken
		if lead {
			select {
			case <-w.ready: // closed by the promotion: a fresh one for the outcome
				w.ready = make(chan struct{})
			default:
			}
		}
		ready := w.ready
		c.mu.Unlock()
		if lead && c.lead(ctx, w) {
			return nil
		}
		select {
		case <-ready:
			c.mu.Lock()
			done := w.done
			c.mu.Unlock()
			if done {
				return nil
			}
			// Promoted: go round and write the next batch.
		case <-ctx.Done():
			c.mu.Lock()
			if !w.taken {
				c.remove(w)
				if w.lead { // it was handed a slot: pass it on
					c.promote()
				}
				c.mu.Unlock()
				return ctx.Err()
			}
			c.mu.Unlock()
			<-ready
			return nil
		}
	}
}

// lead writes self and the queued items behind it (those no other caller
// is about to lead) as one batch, then hands its slot to the next queued
// caller or gives it back. If another leader is lingering, self joins its
// batch instead, gives its slot back and returns false.
func (c *coalescer[T]) lead(ctx context.Context, self *waiter[T]) bool {
	c.mu.Lock()
	if c.lingering != nil {
		self.lead = false
		c.running--
		c.mu.Unlock()
		return false
	}
	if c.linger > 0 && len(c.queue) < c.max {
		full := make(chan struct{})
		c.lingering = full
		c.mu.Unlock()
		t := time.NewTimer(c.linger)
		select {
		case <-t.C:
		case <-full:
		}
		t.Stop()
		c.mu.Lock()
		if c.lingering == full {
			c.lingering = nil
		}
	}
	batch := []*waiter[T]{self}
	rest := c.queue[:0]
	for _, w := range c.queue {
		switch {
		case w == self:
		case !w.lead && len(batch) < c.max:
			batch = append(batch, w)
		default:
			rest = append(rest, w)
		}
	}
	clear(c.queue[len(rest):])
	c.queue = rest
	for _, w := range batch {
		w.taken = true
	}
	c.more()
	c.mu.Unlock()

	items := make([]*T, len(batch))
	for i, w := range batch {
		items[i] = w.item
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchTimeout)
	c.flush(fctx, items)
	cancel()

	c.mu.Lock()
	for _, w := range batch {
		w.done = true
		close(w.ready)
	}
	self.lead = false
	c.promote()
	c.mu.Unlock()
	return true
}

// promote hands a finished batch's slot to the first queued caller not
// already holding one, or frees it. c.mu is held.
func (c *coalescer[T]) promote() {
	for _, w := range c.queue {
		if !w.lead {
			w.lead = true
			close(w.ready)
			return
		}
	}
	c.running--
}

// joined ends a leader's linger once its batch would be full. c.mu is held.
func (c *coalescer[T]) joined() {
	if c.lingering != nil && len(c.queue) >= c.max {
		close(c.lingering)
		c.lingering = nil
	}
}

// more starts another batch for what is still queued when a slot is free
// (a lingering leader leaves more than max queued without leaders).
// c.mu is held.
func (c *coalescer[T]) more() {
	if c.running >= c.limit || c.lingering != nil {
		return
	}
	for _, w := range c.queue {
		if !w.lead {
			w.lead = true
			c.running++
			close(w.ready)
			return
		}
	}
}

// remove drops w from the queue. c.mu is held.
func (c *coalescer[T]) remove(w *waiter[T]) {
	for i, q := range c.queue {
		if q == w {
			c.queue = append(c.queue[:i], c.queue[i+1:]...)
			return
		}
	}
}
