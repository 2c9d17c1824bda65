package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// notification is the id-th notification of the run: an urgent
// announcement (quiet hours and cadence let it through at any hour, as
// they do crisis help and opt-out confirmations), with a unique key, to
// one of the clients on one of the channels, its body carrying the
// marker the provider side matches.
func (e *env) notification(id int64) consumers.Notification {
	client := int(id % int64(e.cfg.Clients))
	ch := e.cfg.Channels[int(id/int64(e.cfg.Clients))%len(e.cfg.Channels)]
	return consumers.Notification{
		Key: "bench:" + strconv.FormatInt(id, 10), ClientID: clientID(client), Channel: vocab.Channel(ch),
		Purpose: vocab.Announcements, Kind: "announcement", Urgent: true,
		Vars: map[string]any{"Body": "The Thursday group meets at 6 in room 2 (ref " + markerFor(id) + ")."},
	}
}

// pipeline publishes notifications through BusDispatcher.Notify, as fast
// as the backlog allows (rate 0, at most count) or paced at rate for
// duration, and waits until the deliverer has finished each one.
func (e *env) pipeline(ctx context.Context, first int64, count int, rate float64, duration time.Duration) (Phase, error) {
	disp := consumers.BusDispatcher{JS: e.js}
	base := e.obs.done()
	_, before := e.obs.since(base)
	t0 := e.times()
	done := func() int { return e.obs.done() - base }
	pub, err := load{
		publishers: e.cfg.Publishers, count: count, rate: rate, duration: duration, backlog: e.cfg.MaxBacklog, done: done,
		publish: func(ctx context.Context, i int) error {
			return disp.Notify(ctx, e.notification(first+int64(i)))
		},
	}.run(ctx)
	if err != nil {
		return Phase{}, fmt.Errorf("bench: publishing notifications: %w", err)
	}
	starts := pub.starts
	if !waitDone(ctx, done, len(starts), 60*time.Second) {
		_, outcomes := e.obs.since(base)
		return Phase{}, fmt.Errorf("bench: %d of %d notifications finished within 60s of the last publish (outcomes so far: %v)", done(), len(starts), outcomes)
	}
	finished, after := e.obs.since(base)
	p := summarize(pub, finished)
	p.Outcomes = map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			p.Outcomes[k] = d
		}
	}
	lat := make([]time.Duration, 0, len(starts))
	for i, s := range starts {
		if at, _ := e.arrivals.get(first + int64(i)); !at.IsZero() {
			lat = append(lat, at.Sub(s))
		}
	}
	p.latencies(lat)
	p.Time = e.times().since(t0)
	return p, nil
}

// times is a snapshot of the deliverer's time counters.
type times struct {
	handled, calls             int64
	handler, provider, waiting time.Duration
}

func (e *env) times() times {
	calls, provider := e.obs.providerCalls()
	return times{
		handled: e.handler.calls.Load(), handler: time.Duration(e.handler.total.Load()),
		calls: calls, provider: provider, waiting: storeWait(e.st),
	}
}

// since is the mean per handled message between t0 and t.
func (t times) since(t0 times) *Breakdown {
	n := t.handled - t0.handled
	if n <= 0 {
		return nil
	}
	b := &Breakdown{
		Handler:   (t.handler - t0.handler) / time.Duration(n),
		StoreWait: (t.waiting - t0.waiting) / time.Duration(n),
	}
	if c := t.calls - t0.calls; c > 0 {
		b.Provider = (t.provider - t0.provider) / time.Duration(c)
	}
	return b
}

// audit checks notifications [0, n): one ledger row each, sent, and one
// request each at the provider.
func (e *env) audit(ctx context.Context, n int64) (Check, error) {
	c := Check{Notifications: int(n)}
	rows, err := e.st.ListDeliveries(ctx, store.DeliveryFilter{Limit: int(n) + 1000})
	if err != nil {
		return c, fmt.Errorf("bench: reading the ledger: %w", err)
	}
	for _, d := range rows {
		if !strings.HasPrefix(d.IdempotencyKey, "bench:") {
			continue
		}
		if d.State == store.DeliverySent || d.State == store.DeliveryDelivered {
			c.LedgerSent++
		} else {
			c.LedgerOther++
		}
	}
	for id := range n {
		if _, reqs := e.arrivals.get(id); reqs > 0 {
			c.AtProvider++
			c.ExtraRequests += reqs - 1
		}
	}
	return c, nil
}
