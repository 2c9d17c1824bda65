package bench

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/postgres"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/vocab"
)

// marker tags a notification's body so the provider's request can be
// matched to its publish time; it survives form and JSON encoding.
var marker = regexp.MustCompile(`benchmsg(\d+)`)

func markerFor(id int64) string { return "benchmsg" + strconv.FormatInt(id, 10) }

// markerID finds the notification id a request body carries.
func markerID(body []byte) (int64, bool) {
	m := marker.FindSubmatch(body)
	if m == nil {
		return 0, false
	}
	id, err := strconv.ParseInt(string(m[1]), 10, 64)
	return id, err == nil
}

// arrivals records when each notification first reached a fake provider,
// and how many requests carried it.
type arrivals struct {
	idOf     func(body []byte) (int64, bool)
	mu       sync.Mutex
	first    map[int64]time.Time
	requests map[int64]int
}

// newArrivals matches requests to notifications with idOf.
func newArrivals(idOf func(body []byte) (int64, bool)) *arrivals {
	return &arrivals{idOf: idOf, first: map[int64]time.Time{}, requests: map[int64]int{}}
}

// wrap notes the arrival of every send through h before h (and its
// simulated latency) sees it.
func (a *arrivals) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		if r.Method == http.MethodPost && r.Body != nil {
			b, err := io.ReadAll(r.Body)
			r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(b))
			if id, ok := a.idOf(b); err == nil && ok {
				a.mu.Lock()
				if _, ok := a.first[id]; !ok {
					a.first[id] = at
				}
				a.requests[id]++
				a.mu.Unlock()
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (a *arrivals) get(id int64) (time.Time, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.first[id], a.requests[id]
}

// observer passes the deliverer's outcomes on to the metrics and notes
// when each notification finished: its ledger row reached a final state.
type observer struct {
	next consumers.Observer

	mu       sync.Mutex
	finished []time.Time
	outcomes map[string]int
	calls    int64
	callTime time.Duration
}

func newObserver(next consumers.Observer) *observer {
	return &observer{next: next, outcomes: map[string]int{}}
}

// final outcomes: the ledger row will not change again for this key
// (retry and deferred come back later).
var final = map[string]bool{
	consumers.OutcomeSent: true, consumers.OutcomeSkipped: true, consumers.OutcomeFailed: true,
	consumers.OutcomeRevoked: true, consumers.OutcomeAlready: true, consumers.OutcomeRecon: true,
}

func (o *observer) Outcome(channel vocab.Channel, purpose vocab.Purpose, outcome, reason string) {
	o.next.Outcome(channel, purpose, outcome, reason)
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.outcomes[outcome]++
	if final[outcome] {
		o.finished = append(o.finished, now)
	}
}

func (o *observer) ProviderCall(channel vocab.Channel, d time.Duration, err error) {
	o.next.ProviderCall(channel, d, err)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
	o.callTime += d
}

// providerCalls returns how many provider calls were made and their total
// duration.
func (o *observer) providerCalls() (int64, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls, o.callTime
}

// done is how many notifications have finished.
func (o *observer) done() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.finished)
}

// since returns the finish times from index from on, and the outcome
// counts so far.
func (o *observer) since(from int) ([]time.Time, map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]time.Time(nil), o.finished[from:]...), maps.Clone(o.outcomes)
}

// timedHandler counts the calls of a handler and their total duration.
type timedHandler struct {
	next  consumers.Handler
	calls atomic.Int64
	total atomic.Int64 // nanoseconds
}

func (h *timedHandler) handle(ctx context.Context, msg jetstream.Msg) error {
	start := time.Now()
	err := h.next(ctx, msg)
	h.total.Add(int64(time.Since(start)))
	h.calls.Add(1)
	return err
}

// storeWait is the total time callers waited for a database connection:
// the single SQLite writer connection, or a connection of the Postgres
// pool. It is zero for a store it does not know.
func storeWait(st store.Store) time.Duration {
	switch s := st.(type) {
	case *sqlite.Store:
		return s.DB().Stats().WaitDuration
	case *postgres.Store:
		return s.Pool().Stat().AcquireDuration()
	}
	return 0
}
