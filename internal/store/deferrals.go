package store

import (
	"context"
	"time"
)

// Deferral says when a pending delivery is due again and why it waits
// (quiet_hours, cadence_daily_cap …): the deliveries ledger shows such a
// row as deferred with its not_before, so nothing waits silently.
type Deferral struct {
	Key       string // the delivery's idempotency key
	NotBefore time.Time
	Why       string
	UpdatedAt time.Time // set by the store
}

// Deferrals keeps the latest deferral of each pending delivery.
type Deferrals interface {
	// SetDeferral records or replaces the deferral of key.
	SetDeferral(ctx context.Context, d Deferral) error
	// DeferralsOf returns the deferrals of keys that have one, by key.
	DeferralsOf(ctx context.Context, keys []string) (map[string]Deferral, error)
}
