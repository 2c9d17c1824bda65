package quiethours

import (
	"fmt"
	"time"
)

// The functions below turn wall-clock rules into instants without trusting
// time.Date with a wall-clock time that may not exist (the skipped hour in
// spring) or may exist twice (the repeated hour in autumn). Instead they walk
// the zone's stretches of constant UTC offset (time.Time.ZoneBounds). Inside
// one stretch the wall clock and the instant move together, so a wall-clock
// boundary converts to exactly one instant with that stretch's offset; if the
// boundary falls outside the stretch, the next (or previous) stretch is
// tried, and the offset change itself is checked as a boundary, because a
// clock jumping forward can jump into the window.

// maxStretches bounds every walk. A valid window has allowed minutes within
// a few local days, and no zone changes its offset more than a handful of
// times in that span; reaching the bound means a broken zone database.
const maxStretches = 64

// NextAllowed places a non-urgent message (encouragement, journal nudge,
// announcement) scheduled for t: it returns t when t is inside w on the wall
// clock of loc, the client's zone, and otherwise the earliest instant after
// t at which w opens. Messages are deferred, never dropped (invariant 6 in docs/invariants.md).
//
// The opening is usually w.Start on the client's wall clock, the same
// evening or the next morning. On a day when w.Start does not exist (it
// falls in a skipped hour), the window opens at the instant the clock jumps
// past it. The result is the same instant as t or later, expressed in loc.
//
// NextAllowed panics if w is not valid (see Window.Validate): an empty
// window has no answer, and guessing one would send at night.
func NextAllowed(t time.Time, loc *time.Location, w Window) time.Time {
	mustBeValid("NextAllowed", w)
	u := t
	for range maxStretches {
		local := u.In(loc)
		if w.Contains(local, loc) {
			return local
		}
		_, offset := local.Zone()
		_, stretchEnd := local.ZoneBounds()
		y, m, d := local.Date()
		if minuteOfDay(local) >= w.End {
			d++ // closed for today: next morning
		}
		open := wallInstant(y, m, d, w.Start, offset)
		if stretchEnd.IsZero() || open.Before(stretchEnd) {
			return open.In(loc)
		}
		u = stretchEnd // offset changes first: look again from there
	}
	panic(fmt.Sprintf("quiethours.NextAllowed: no opening of %v in %s after %v", w, loc, t))
}

// lastClose returns the end of the last allowed stretch before u, which must
// be outside w: the latest instant c <= u such that the instants just before
// c are inside w. Usually that is w.End on the wall clock, the same evening
// or the evening before; on a day when the clock jumps out of the window,
// it is the instant of the jump.
func lastClose(u time.Time, loc *time.Location, w Window) time.Time {
	for range maxStretches {
		local := u.In(loc)
		_, offset := local.Zone()
		stretchStart, _ := local.ZoneBounds()
		y, m, d := local.Date()
		if minuteOfDay(local) < w.Start {
			d-- // still before today's opening: last closed yesterday evening
		}
		closed := wallInstant(y, m, d, w.End, offset)
		if stretchStart.IsZero() || closed.After(stretchStart) {
			return closed
		}
		// The wall clock stayed outside w all the way back to the offset
		// change at stretchStart; the change itself may have closed w.
		before := stretchStart.Add(-time.Nanosecond)
		if w.Contains(before, loc) {
			return stretchStart
		}
		u = before
	}
	panic(fmt.Sprintf("quiethours: no close of %v in %s before %v", w, loc, u))
}

// startOfNextDay returns the first instant after at whose date on the wall
// clock of loc is later than at's: local midnight, or the moment the clock
// jumps over a midnight that does not exist (zones such as America/Havana
// change offset at 00:00).
func startOfNextDay(at time.Time, loc *time.Location) time.Time {
	ty, tm, td := at.In(loc).Date()
	tomorrow := time.Date(ty, tm, td+1, 0, 0, 0, 0, time.UTC)
	u := at
	for range maxStretches {
		local := u.In(loc)
		y, m, d := local.Date()
		if !time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Before(tomorrow) {
			return local
		}
		_, offset := local.Zone()
		_, stretchEnd := local.ZoneBounds()
		midnight := tomorrow.Add(-time.Duration(offset) * time.Second)
		if stretchEnd.IsZero() || midnight.Before(stretchEnd) {
			return midnight.In(loc)
		}
		u = stretchEnd
	}
	panic(fmt.Sprintf("quiethours: no next day in %s after %v", loc, at))
}

// wallInstant is the instant at which the wall clock shows y-m-d c in a
// stretch with the given UTC offset (seconds east). Day overflow normalises
// (d+1 on the 31st is the 1st of next month), as with time.Date.
func wallInstant(y int, m time.Month, d int, c Clock, offset int) time.Time {
	return time.Date(y, m, d, 0, int(c), 0, 0, time.UTC).Add(-time.Duration(offset) * time.Second)
}
