package quiethours

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

// Reasons Cadence.Allow gives when it holds a message back.
const (
	ReasonDailyCap  = "cadence_daily_cap"
	ReasonWeeklyCap = "cadence_weekly_cap"
)

// RollingWeek is the span of the weekly cap: a send stops counting exactly
// 7×24 hours after it went out, whatever the clocks did in between.
const RollingWeek = 7 * 24 * time.Hour

// Cadence caps how many messages one client receives, across purposes
// (invariant 7 in docs/invariants.md): kind messages stop being kind when they pile up.
type Cadence struct {
	// MaxPerDay caps each purpose per local calendar day of the client.
	// A purpose not in the map has no daily cap (the weekly cap still
	// applies). Validate wants at least 1: a purpose that should send
	// nothing is turned off by consent, not by a cap (Allow would hold it
	// back one day at a time).
	MaxPerDay map[vocab.Purpose]int
	// MaxPerWeek caps all non-urgent purposes together (every purpose except
	// reminders) over the last RollingWeek. Zero or less means no weekly
	// cap, which Validate rejects.
	MaxPerWeek int
}

// DefaultCadence is at most one encouragement and one journal nudge a day,
// two announcements a day, and seven non-urgent messages a week in all.
func DefaultCadence() Cadence {
	return Cadence{
		MaxPerDay: map[vocab.Purpose]int{
			vocab.Encouragement: 1,
			vocab.Journal:       1,
			vocab.Announcements: 2,
		},
		MaxPerWeek: 7,
	}
}

// Validate reports whether c can be used; its errors name the field.
func (c Cadence) Validate() error {
	if c.MaxPerWeek <= 0 {
		return fmt.Errorf("MaxPerWeek: %d, want at least 1: a cadence without a weekly cap is not gentle", c.MaxPerWeek)
	}
	for _, purpose := range slices.Sorted(maps.Keys(c.MaxPerDay)) {
		if n := c.MaxPerDay[purpose]; n < 1 {
			return fmt.Errorf("MaxPerDay[%q]: %d, want at least 1", purpose, n)
		}
	}
	return nil
}

// Sent is a past send to the client: its purpose and when it went out.
type Sent struct {
	Purpose vocab.Purpose
	At      time.Time
}

// Allow decides whether one more message of purpose may go to the client at
// at. recent is the client's sends of the last RollingWeek (older ones are
// ignored; sends after at are counted as if already made, which can only
// hold more back). loc is the client's zone: "a day" is the client's local
// calendar day, so two encouragements at 09:00 and 20:00 New York time are on
// one day even though they straddle midnight UTC.
//
// Reminders are exempt: purpose "reminders" is always allowed, and reminder
// sends do not count toward the weekly cap. Appointment reminders are what
// the client booked; capping them would trade a missed session for quiet.
//
// When ok is true, next is at. When ok is false, next is the earliest time
// the message would be allowed: the start of the client's next local day for
// the daily cap (ReasonDailyCap), or when enough sends age out of the
// rolling week (ReasonWeeklyCap), whichever is later; reason names that
// cap. next is in loc. Quiet hours are separate: pass next to NextAllowed.
func (c Cadence) Allow(purpose vocab.Purpose, at time.Time, loc *time.Location, recent []Sent) (ok bool, next time.Time, reason string) {
	if purpose == vocab.Reminders {
		return true, at, ""
	}

	if limit, capped := c.MaxPerDay[purpose]; capped {
		ay, am, ad := at.In(loc).Date()
		today := 0
		for _, s := range recent {
			if s.Purpose != purpose {
				continue
			}
			if y, m, d := s.At.In(loc).Date(); y == ay && m == am && d == ad {
				today++
			}
		}
		if today >= limit {
			next, reason = startOfNextDay(at, loc), ReasonDailyCap
		}
	}

	if c.MaxPerWeek > 0 {
		var week []time.Time
		for _, s := range recent {
			if s.Purpose != vocab.Reminders && s.At.After(at.Add(-RollingWeek)) {
				week = append(week, s.At)
			}
		}
		if len(week) >= c.MaxPerWeek {
			// Enough of the oldest sends must age out to leave room for one
			// more; the last of them to go sets the time.
			slices.SortFunc(week, time.Time.Compare)
			free := week[len(week)-c.MaxPerWeek].Add(RollingWeek)
			if free.After(next) {
				next, reason = free, ReasonWeeklyCap
			}
		}
	}

	if reason != "" {
		return false, next.In(loc), reason
	}
	return true, at, ""
}
