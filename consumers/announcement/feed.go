package announcement

import (
	"cmp"
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/failpoint"
	"github.com/nudgehq/nudge/internal/store"
)

// Feeder defaults.
const (
	DefaultWindow        = 100
	DefaultFeedInterval  = 250 * time.Millisecond
	DefaultLease         = 3 * time.Second
	DefaultDeferredCheck = 30 * time.Second
)

// Feeder queues planned recipients onto NUDGE_NOTIFY, at most Window in
// the deliverer's hands per announcement, and settles them from the
// deliveries ledger. Every nudge process runs one; a lease in the store
// lets one process at a time feed an announcement, and another takes over
// when its holder stops renewing (a crash).
type Feeder struct {
	Store      store.Store
	Dispatcher consumers.Dispatcher
	// Window is how many of an announcement's notifications may be queued
	// and not yet settled at once; 0 means DefaultWindow. Sized to a few
	// seconds of the pacing rate, it keeps the deliverer busy with the
	// announcement while reminders and replies still find it free.
	Window        int
	Interval      time.Duration // between feeding rounds; 0 means DefaultFeedInterval
	Lease         time.Duration // 0 means DefaultLease
	DeferredCheck time.Duration // how often deferred recipients are looked at; 0 means DefaultDeferredCheck
	Owner         string        // this process; random when empty
	Logger        *slog.Logger
	Now           func() time.Time

	lastDeferred map[string]time.Time
}

func (f *Feeder) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Feeder) log() *slog.Logger {
	if f.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Logger
}

// Run feeds until ctx is done.
func (f *Feeder) Run(ctx context.Context) {
	if f.Owner == "" {
		f.Owner = rand.Text()
	}
	t := time.NewTicker(cmp.Or(f.Interval, DefaultFeedInterval))
	defer t.Stop()
	for {
		if err := f.Round(ctx); err != nil && ctx.Err() == nil {
			f.log().Warn("feeding announcements", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Round feeds every active announcement once.
func (f *Feeder) Round(ctx context.Context) error {
	if f.Owner == "" {
		f.Owner = rand.Text()
	}
	active, err := f.Store.ActiveAnnouncements(ctx)
	if err != nil {
		return err
	}
	for _, a := range active {
		if !a.Planned && a.State != store.AnnouncementCancelled {
			continue // still being planned
		}
		now := f.now()
		ok, err := f.Store.LeaseAnnouncement(ctx, a.ID, f.Owner, now, now.Add(cmp.Or(f.Lease, DefaultLease)))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := f.feed(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// feed settles what the ledger finished, queues more up to the window,
// and completes the announcement when nothing is left.
func (f *Feeder) feed(ctx context.Context, a store.Announcement) error {
	window := cmp.Or(f.Window, DefaultWindow)
	queued, err := f.Store.PendingRecipients(ctx, a.ID, store.RecipientQueued, window*4)
	if err != nil {
		return err
	}
	var done, deferred []string
	inFlight := 0
	for _, r := range queued {
		switch {
		case settled(r.LedgerState):
			done = append(done, r.ClientID)
		case r.LedgerState == store.DeliveryPending:
			deferred = append(deferred, r.ClientID)
		default: // not yet in the ledger, or being sent
			inFlight++
		}
	}
	if err := f.Store.SetRecipientState(ctx, a.ID, done, store.RecipientDone); err != nil {
		return err
	}
	if err := f.Store.SetRecipientState(ctx, a.ID, deferred, store.RecipientDeferred); err != nil {
		return err
	}

	var rs []store.Recipient
	if a.State == store.AnnouncementSending && inFlight < window {
		if rs, err = f.Store.ReadyRecipients(ctx, a.ID, window-inFlight); err != nil {
			return err
		}
		if err := f.queue(ctx, a, rs); err != nil {
			return err
		}
	}
	ready := len(rs)
	waiting, err := f.checkDeferred(ctx, a.ID, inFlight == 0 && ready == 0)
	if err != nil {
		return err
	}
	if inFlight == 0 && ready == 0 && waiting == 0 {
		a, err := f.Store.CompleteAnnouncement(ctx, a.ID)
		if err != nil {
			return err
		}
		f.log().Info("announcement finished", "announcement_id", a.ID, "state", a.State, "total", a.Total)
	}
	return nil
}

// checkDeferred settles deferred recipients whose ledger row is now final
// and returns how many still wait. They wait for hours (quiet hours), so
// they are looked at every DeferredCheck, or at once when force is set
// (nothing else is in flight: the announcement may be about to finish).
func (f *Feeder) checkDeferred(ctx context.Context, id string, force bool) (int, error) {
	if f.lastDeferred == nil {
		f.lastDeferred = map[string]time.Time{}
	}
	now := f.now()
	if !force && now.Sub(f.lastDeferred[id]) < cmp.Or(f.DeferredCheck, DefaultDeferredCheck) {
		return 1, nil // unknown: assume some still wait
	}
	f.lastDeferred[id] = now
	rs, err := f.Store.PendingRecipients(ctx, id, store.RecipientDeferred, 1<<30)
	if err != nil {
		return 0, err
	}
	var done []string
	for _, r := range rs {
		if settled(r.LedgerState) {
			done = append(done, r.ClientID)
		}
	}
	if err := f.Store.SetRecipientState(ctx, id, done, store.RecipientDone); err != nil {
		return 0, err
	}
	return len(rs) - len(done), nil
}

// settled reports whether a ledger state is the recipient's outcome:
// sent (a later "delivered" or "undelivered" is the provider's news, not
// the fan-out's business), failed or skipped.
func settled(s store.DeliveryState) bool {
	return store.DeliveryStateRank(s) >= store.DeliveryStateRank(store.DeliverySent)
}

// queue publishes the recipients' notifications, then marks them queued:
// in that order, so a crash in between re-queues them (the same key; the
// stream's duplicate window and the ledger keep it to one message).
func (f *Feeder) queue(ctx context.Context, a store.Announcement, rs []store.Recipient) error {
	if len(rs) == 0 {
		return nil
	}
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		if err := f.Dispatcher.Notify(ctx, Notification(a, r.ClientID, r.Channel)); err != nil {
			return err
		}
		ids = append(ids, r.ClientID)
	}
	failpoint.Hit("announce.after_queue")
	return f.Store.SetRecipientState(ctx, a.ID, ids, store.RecipientQueued)
}
