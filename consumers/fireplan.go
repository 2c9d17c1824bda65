package consumers

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// Fire-time planning: a reminder fires a little before it is due, never
// after, so that many reminders due at once (sessions cluster on the hour)
// reach the provider by their due time rather than queue behind each other.
//
//   - Unpaced channels: each reminder fires a fixed, key-derived number of
//     seconds early, between fireMargin and its spread (ReminderConfig.Spread,
//     at most a sixtieth of the offset: a 2-hour reminder up to 2 minutes
//     early, a 10-second one not at all). The same key always gets the same
//     time, so scheduling again replaces the schedule with an identical one.
//   - Paced channels (ReminderConfig.Rates, the pacer's rate): each reminder
//     takes the latest second at or before due-fireMargin that still has
//     room at that rate, counting the reminders already planned there (the
//     reminders table), up to a quarter of the offset early. N reminders due
//     together at 1 SMS/s fire one a second over the N seconds before due.
//
// Either way the fire time stays inside the allowed window, at or after
// now, and the notification's expiry stays where the due time put it.
const (
	// DefaultReminderSpread is how much earlier than due an unpaced
	// reminder may fire.
	DefaultReminderSpread = 2 * time.Minute
	// fireMargin: a schedule fires within a second of its time, and the
	// send takes a moment more, so a planned reminder fires at least this
	// much before due.
	fireMargin = 2 * time.Second
	// planChunk is how much of the planned load one query reads.
	planChunk = 10 * time.Minute
)

// spreadFor is how much earlier than due an unpaced reminder at offset
// may fire: Spread (0: DefaultReminderSpread), at most offset/60, 0 when
// below fireMargin or Spread is negative.
func (c ReminderConfig) spreadFor(offset time.Duration) time.Duration {
	spread := c.Spread
	if spread == 0 {
		spread = DefaultReminderSpread
	}
	s := min(spread, offset/60).Truncate(time.Second)
	if s < fireMargin {
		return 0
	}
	return s
}

// MaxAdvance is how much earlier than due the planner may fire a reminder
// at offset on channel.
func (c ReminderConfig) MaxAdvance(offset time.Duration, channel vocab.Channel) time.Duration {
	if c.Rates[string(channel)] > 0 {
		return (offset / 4).Truncate(time.Second)
	}
	return c.spreadFor(offset)
}

// planFire returns when the reminder keyed key, placed at placed (inside
// the window), fires. The caller holds rs.planMu for a paced channel until
// the reminder's row is written, so two plans in this process never take
// the same room.
func (rs *ReminderScheduler) planFire(ctx context.Context, key string, channel vocab.Channel, offset time.Duration, placed, now time.Time, loc *time.Location) (time.Time, error) {
	at := placed.UTC().Truncate(time.Second)
	// Never before now: a schedule whose time has passed fires at once.
	earliest := now.UTC().Truncate(time.Second).Add(time.Second)
	w := rs.cfg.Policy.Window
	allowed := func(t time.Time) bool { return !t.Before(earliest) && w.Contains(t, loc) }

	rate := rs.cfg.Rates[string(channel)]
	if rate <= 0 {
		spread := rs.cfg.spreadFor(offset)
		if spread == 0 {
			return at, nil
		}
		h := fnv.New64a()
		h.Write([]byte(key))
		early := fireMargin + time.Duration(h.Sum64()%uint64((spread-fireMargin)/time.Second+1))*time.Second
		if t := at.Add(-early); allowed(t) {
			return t, nil
		}
		// Too early (before now, or in quiet hours before the window
		// opened): the latest allowed second before due instead.
		for t := at.Add(-fireMargin); t.After(at.Add(-early)); t = t.Add(-time.Second) {
			if allowed(t) {
				return t, nil
			}
		}
		return at, nil
	}

	// Paced: at most capacity reminders within any width seconds (one per
	// 1/rate seconds below 1/s, floor(rate) a second above).
	width := max(int64(1), int64(math.Ceil(1/rate)))
	capacity := max(1, int(math.Floor(rate*float64(width))))
	hi := at.Add(-fireMargin)
	lo := at.Add(-rs.cfg.MaxAdvance(offset, channel))
	if lo.Before(earliest) {
		lo = earliest
	}
	if hi.Before(lo) {
		return at, nil
	}
	// Read the planned load a chunk at a time, latest first: most plans
	// find room in the first.
	span := time.Duration(width) * time.Second
	for end := hi; !end.Before(lo); end = end.Add(-planChunk) {
		start := end.Add(-planChunk + time.Second)
		if start.Before(lo) {
			start = lo
		}
		load, err := rs.store.ReminderLoad(ctx, channel, start.Add(-span), end.Add(span), key)
		if err != nil {
			return time.Time{}, fmt.Errorf("planning reminder %s: %w", key, err)
		}
		// near counts what fires less than width seconds from t.
		near := func(t time.Time) int {
			n := 0
			for s := t.Unix() - width + 1; s < t.Unix()+width; s++ {
				n += load[s]
			}
			return n
		}
		for t := end; !t.Before(start); t = t.Add(-time.Second) {
			if allowed(t) && near(t) < capacity {
				return t, nil
			}
		}
	}
	// No room left within reach: at its due time, where the pacer queues
	// it (and its expiry still bounds how late it may go).
	rs.log.Warn("no room to fire this reminder early at the channel's rate", "key", key, "channel", channel, "rate", rate)
	return at, nil
}

// lockPlanning holds planMu while a reminder on a paced channel is planned
// and recorded; it returns the unlock.
func (rs *ReminderScheduler) lockPlanning(channel vocab.Channel) (unlock func()) {
	if rs.cfg.Rates[string(channel)] <= 0 {
		return func() {}
	}
	rs.planMu.Lock()
	return rs.planMu.Unlock
}

// firedEarly finds this version's reminder at offset that was planned
// before its due time and has fired, though due has not come yet. That
// offset is done: scheduling it again (a profile update in those last
// seconds) would only send it twice, on another channel if that changed.
func firedEarly(existing []store.Reminder, version int, offset time.Duration, due, now time.Time) (store.Reminder, bool) {
	if !now.Before(due) {
		return store.Reminder{}, false // past due: the placement rules decide, as always
	}
	for _, r := range existing {
		if r.SessionVersion == version && r.Offset == offset && r.State == store.ReminderScheduled && !r.FireAt.After(now) {
			return r, true
		}
	}
	return store.Reminder{}, false
}
