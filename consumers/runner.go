package consumers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/nudgehq/nudge/internal/failpoint"
	"github.com/nudgehq/nudge/internal/tracing"
)

// Handler processes one message. Return nil to ack, an error wrapped with
// Permanent to terminate the message (it can never succeed), or any other
// error to have it redelivered after a backoff.
type Handler func(ctx context.Context, msg jetstream.Msg) error

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that redelivery cannot fix.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Backoff returns the redelivery delay after the n-th failed delivery
// (n ≥ 1): 1s, 2s, 4s … capped at 5 minutes. Nak ignores the consumer's
// BackOff list, so the delay travels with NakWithDelay.
func Backoff(n uint64) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 9 {
		return 5 * time.Minute
	}
	d := time.Second << (n - 1)
	return min(d, 5*time.Minute)
}

// Runner consumes one durable consumer with a handler.
type Runner struct {
	Name    string // for logs
	Handler Handler
	Logger  *slog.Logger
	// HandleTimeout bounds one handler call; default 20s (below AckWait).
	HandleTimeout time.Duration
	// Observe, when set, is told how each message ended: result is "ack",
	// "retry" or "term"; delivered is the message's delivery count (above
	// 1 for a redelivery). It must be cheap and safe for concurrent use
	// (metrics).
	Observe func(consumer, result string, delivered uint64)
	// Concurrency is how many messages are handled at once; 0 or 1 handles
	// them one at a time, in stream order. Above 1 a bounded pool of
	// goroutines handles them: each message is still acked, retried or
	// terminated by the call that handled it, but no order holds between
	// messages, so only consumers whose messages are independent (deliver:
	// the ledger serialises each key) may raise it. Ingest applies events
	// in order and keeps 1.
	Concurrency int
	// Prefetch bounds how many messages the client pulls ahead of the
	// handlers (0: the library's default of 500). Every message pulled
	// counts as a delivery, so after a crash each of them comes back one
	// delivery closer to MaxDeliver: keep it near the concurrency.
	Prefetch int
	// PriorityGroup, when set, is the consumer's priority group to pull
	// in (a pinned consumer serves one process of the group at a time).
	PriorityGroup string
}

// PullExpiry is how long one pull request of a Runner lives.
const PullExpiry = 5 * time.Second

// Start begins consuming. The returned stop function drains: it stops
// fetching, lets the handler finish the messages already buffered, and
// returns when the consumer has fully stopped or ctx is done.
func (r Runner) Start(ctx context.Context, c jetstream.Consumer) (stop func(context.Context) error, err error) {
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.HandleTimeout <= 0 {
		r.HandleTimeout = 20 * time.Second
	}
	// The handler's context is not ctx: a shutdown must let the message in
	// hand finish and be acked rather than abandon it half-applied.
	base := context.WithoutCancel(ctx)
	run := func(msg jetstream.Msg) {
		hctx, cancel := context.WithTimeout(base, r.HandleTimeout)
		defer cancel()
		r.handle(hctx, msg)
	}
	// With a pool, Consume's callback only waits for a free slot; the
	// messages in hand are tracked so that stop waits for them too.
	var inFlight sync.WaitGroup
	callback := run
	if r.Concurrency > 1 {
		slots := make(chan struct{}, r.Concurrency)
		callback = func(msg jetstream.Msg) {
			slots <- struct{}{}
			inFlight.Go(func() {
				defer func() { <-slots }()
				run(msg)
			})
		}
	}
	opts := []jetstream.PullConsumeOpt{jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		r.Logger.Warn("consumer error", "consumer", r.Name, "err", err)
	}),
		// Pull requests are renewed every few seconds (heartbeats at half
		// that), so a consumer finds its way back within seconds after the
		// server lost its pull (JetStream restarted after a full disk, a
		// leader moved) rather than after the 30 s default.
		jetstream.PullExpiry(PullExpiry)}
	if r.Prefetch > 0 {
		opts = append(opts, jetstream.PullMaxMessages(r.Prefetch))
	}
	if r.PriorityGroup != "" {
		opts = append(opts, jetstream.PullPriorityGroup(r.PriorityGroup))
	}
	cc, err := c.Consume(callback, opts...)
	if err != nil {
		return nil, fmt.Errorf("starting consumer %s: %w", r.Name, err)
	}
	return func(ctx context.Context) error {
		cc.Drain()
		select {
		case <-cc.Closed():
		case <-ctx.Done():
			cc.Stop()
			return fmt.Errorf("draining consumer %s: %w", r.Name, ctx.Err())
		}
		done := make(chan struct{})
		go func() { inFlight.Wait(); close(done) }()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("draining consumer %s: %w", r.Name, ctx.Err())
		}
	}, nil
}

func (r Runner) handle(ctx context.Context, msg jetstream.Msg) {
	var n uint64 = 1
	if md, merr := msg.Metadata(); merr == nil {
		n = md.NumDelivered
	}
	ctx, opts := tracing.FromMessage(ctx, msg.Headers())
	ctx, span := tracing.Tracer().Start(ctx, "consume "+r.Name, append(opts,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(tracing.AttrConsumer.String(r.Name), tracing.AttrSubject.String(msg.Subject())))...)
	err := r.Handler(ctx, msg)
	tracing.End(span, err)
	switch {
	case err == nil:
		r.observe("ack", n)
		if aerr := msg.DoubleAck(ctx); aerr != nil {
			// The work is done and idempotent; a redelivery will be a no-op.
			r.Logger.Warn("ack failed", "consumer", r.Name, "subject", msg.Subject(), "err", aerr)
		} else {
			failpoint.Hit(r.Name + ".after_ack")
		}
	case IsPermanent(err):
		r.observe("term", n)
		r.Logger.Error("message terminated", "consumer", r.Name, "subject", msg.Subject(), "err", err)
		_ = msg.TermWithReason(err.Error())
	default:
		r.observe("retry", n)
		// A handler that knows when to come back (a provider's
		// Retry-After, another worker's lease running out) says so;
		// otherwise back off exponentially.
		delay := Backoff(n)
		var re retryError
		if errors.As(err, &re) && re.after > 0 {
			delay = re.after
		}
		r.Logger.Warn("message will be retried", "consumer", r.Name, "subject", msg.Subject(), "delivery", n, "retry_in", delay, "err", err)
		_ = msg.NakWithDelay(delay)
	}
}

func (r Runner) observe(result string, delivered uint64) {
	if r.Observe != nil {
		r.Observe(r.Name, result, delivered)
	}
}
