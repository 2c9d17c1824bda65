package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultStartTimeout bounds how long a starting nudge waits for its
// cluster: replicas of a deployment start together, and a fresh NATS
// cluster takes a while to elect its leaders.
const DefaultStartTimeout = 2 * time.Minute

// attemptTimeout bounds one try of one step, so a request lost in a leader
// election is retried rather than waited on for the whole start timeout.
const attemptTimeout = 5 * time.Second

// Retry calls fn until it succeeds, returns a permanent error, or ctx ends,
// waiting between tries (250 ms doubling to 5 s) and logging what it waits
// for. Each try gets its own deadline of at most 5 s. what names the thing
// waited for, as an operator would read it ("JetStream", "stream NUDGE_EVENTS").
func Retry(ctx context.Context, log *slog.Logger, what string, fn func(context.Context) error) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := fn(actx)
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("ready after waiting", "for", what, "attempts", attempt)
			}
			return nil
		}
		if Permanent(err) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("bus: gave up waiting for %s (%v): %w", what, context.Cause(ctx), err)
		}
		log.Warn("waiting for "+what, "attempt", attempt, "retry_in", wait, "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("bus: gave up waiting for %s (%v): %w", what, context.Cause(ctx), err)
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// Permanent reports whether a JetStream API error will not go away by
// waiting: a configuration the server refuses. Timeouts, missing
// responders, "temporarily unavailable", "no suitable peers" while the
// cluster forms, and two replicas racing to create one stream are not.
func Permanent(err error) bool {
	var stop *stopRetry
	if errors.As(err, &stop) {
		return true
	}
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode {
	case jetstream.JSErrCodeStreamNameInUse, 10005: // a racing creator; no peers yet
		return false
	case 10052, 10074: // invalid stream config; replicas > 1 on a single server
		return true
	}
	return apiErr.Code == 400
}

// WaitJetStream waits until the cluster answers JetStream API requests
// (a meta leader is elected and the account is JetStream-enabled).
func WaitJetStream(ctx context.Context, js jetstream.JetStream, log *slog.Logger) error {
	return Retry(ctx, log, "JetStream", func(ctx context.Context) error {
		_, err := js.AccountInfo(ctx)
		return err
	})
}

// ProvisionRetrying is Provision for a process joining a cluster: it waits
// for JetStream, then creates or updates each stream and consumer, retrying
// each step that fails for a reason that waiting can fix, until ctx ends.
// Several replicas may run it at once: create-or-update is idempotent, and a
// racing creator's "already in use" is retried as an update.
func ProvisionRetrying(ctx context.Context, js jetstream.JetStream, t Topology, log *slog.Logger) error {
	if err := WaitJetStream(ctx, js, log); err != nil {
		return err
	}
	for _, sc := range t.StreamConfigs() {
		err := Retry(ctx, log, "stream "+sc.Name, func(ctx context.Context) error {
			_, err := js.CreateOrUpdateStream(ctx, sc)
			return err
		})
		if err != nil {
			return fmt.Errorf("bus: provisioning stream %s: %w", sc.Name, err)
		}
		for _, cc := range t.ConsumerConfigs()[sc.Name] {
			err := Retry(ctx, log, "consumer "+sc.Name+"/"+cc.Durable, func(ctx context.Context) error {
				_, err := js.CreateOrUpdateConsumer(ctx, sc.Name, cc)
				return err
			})
			if err != nil {
				return fmt.Errorf("bus: provisioning consumer %s/%s: %w", sc.Name, cc.Durable, err)
			}
		}
	}
	return nil
}

// stopRetry marks an error Retry must not wait out.
type stopRetry struct{ err error }

func (s *stopRetry) Error() string { return s.err.Error() }
func (s *stopRetry) Unwrap() error { return s.err }
