// Package pacing spaces provider calls so that every nudge process together
// stays under a sender's rate limit (a Twilio long code sends about one
// segment a second; SendGrid limits requests per second).
//
// The limiter state lives in a JetStream key-value bucket, so the limit is
// shared by all worker processes, not per process: each call reserves the
// next free slot for its key with a compare-and-set on the key's revision,
// then sleeps until that slot. A provider's Retry-After pushes the next free
// slot out for everyone.
package pacing

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the KV bucket holding each key's next free slot.
const Bucket = "nudge_pacing"

// Pacer is a shared slot reserver. Safe for concurrent use.
type Pacer struct {
	kv       jetstream.KeyValue
	interval map[string]time.Duration
	now      func() time.Time
}

// Limits maps a key (a channel or a sender) to its rate in calls per
// second. A key without a rate, or with rate <= 0, is not paced.
type Limits map[string]float64

// New opens (creating if needed) the pacing bucket.
func New(ctx context.Context, js jetstream.JetStream, limits Limits, replicas int) (*Pacer, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "nudge: next free send slot per sender",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("pacing: opening bucket: %w", err)
	}
	p := &Pacer{kv: kv, interval: map[string]time.Duration{}, now: time.Now}
	for k, r := range limits {
		if r > 0 {
			p.interval[k] = time.Duration(float64(time.Second) / r)
		}
	}
	return p, nil
}

// Wait blocks until the caller may make one call on key.
func (p *Pacer) Wait(ctx context.Context, key string) error {
	iv, ok := p.interval[key]
	if !ok {
		return nil
	}
	slot, err := p.reserve(ctx, key, iv, 0, false)
	if err != nil {
		return err
	}
	return p.sleepUntil(ctx, slot)
}

// WaitPriority lets the caller make one call on key now, ahead of every
// caller waiting in Wait: it takes the current moment as its slot and
// pushes the shared next free slot back by one interval, so the routine
// line keeps its rate. Slots already handed out are not moved, so the
// provider may see one call more within an interval; that is the price of
// crisis help not waiting behind a paced backlog (invariant 9 in docs/invariants.md).
func (p *Pacer) WaitPriority(ctx context.Context, key string) error {
	iv, ok := p.interval[key]
	if !ok {
		return nil
	}
	_, err := p.reserve(ctx, key, iv, 0, true)
	return err
}

func (p *Pacer) sleepUntil(ctx context.Context, slot time.Time) error {
	if d := slot.Sub(p.now()); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Pause pushes key's next free slot to at least now+d (a provider's
// Retry-After), for every process.
func (p *Pacer) Pause(ctx context.Context, key string, d time.Duration) error {
	if _, ok := p.interval[key]; !ok || d <= 0 {
		return nil
	}
	_, err := p.reserve(ctx, key, 0, d, false)
	return err
}

const maxAttempts = 1000

// reserve moves key's next free slot: slot = max(now+minDelay, next), then
// next = slot + iv. With jump the slot is now and next = max(next, now) +
// iv. It retries on concurrent updates.
func (p *Pacer) reserve(ctx context.Context, key string, iv, minDelay time.Duration, jump bool) (time.Time, error) {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
		now := p.now()
		slot := now.Add(minDelay)
		entry, err := p.kv.Get(ctx, key)
		var rev uint64
		switch {
		case err == nil:
			rev = entry.Revision()
			if next := decode(entry.Value()); next.After(slot) {
				slot = next
			}
		case errors.Is(err, jetstream.ErrKeyNotFound):
		default:
			return time.Time{}, fmt.Errorf("pacing: reading %s: %w", key, err)
		}
		val := encode(slot.Add(iv))
		if jump {
			val, slot = encode(slot.Add(iv)), now
		}
		if rev == 0 {
			_, err = p.kv.Create(ctx, key, val)
		} else {
			_, err = p.kv.Update(ctx, key, val, rev)
		}
		if err == nil {
			return slot, nil
		}
		// Most often another process reserved first (key exists / wrong
		// last sequence): read again. Give up only if it keeps failing.
		if attempt >= maxAttempts {
			return time.Time{}, fmt.Errorf("pacing: reserving %s: %w", key, err)
		}
	}
}

func encode(t time.Time) []byte { return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())) }

func decode(b []byte) time.Time {
	if len(b) != 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)))
}
