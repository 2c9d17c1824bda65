package quiethours

import (
	"math/rand/v2"
	"testing"
	"time"
)

// The property tests check NextAllowed and ReminderPolicy.Place against the
// definition, by brute force: Contains minute by minute. Every zone below
// changes offset only on whole minutes, so Contains is constant within each
// UTC minute and stepping a minute at a time from any instant visits every
// allowed stretch.

var propertyZones = []*time.Location{
	newYork, losAngeles, london, lordHowe, kolkata, havana, santiago,
	mustZone("Pacific/Chatham"),    // +12:45 / +13:45
	mustZone("America/St_Johns"),   // -03:30 / -02:30
	mustZone("Asia/Kathmandu"),     // +05:45
	mustZone("Australia/Adelaide"), // +09:30 / +10:30, southern hemisphere
	mustZone("Europe/Berlin"),      // transitions at 01:00Z like London
	time.UTC,
}

var propertyWindows = []Window{
	Default,
	{ClockOf(9, 0), ClockOf(17, 0)},
	{ClockOf(10, 30), ClockOf(19, 45)},
	{0, EndOfDay},
	{0, ClockOf(6, 0)},               // opens at midnight (Havana, Santiago skip it)
	{ClockOf(1, 15), ClockOf(1, 45)}, // inside the repeated hour in many zones
	{ClockOf(2, 10), ClockOf(2, 50)}, // inside the skipped hour in many zones
	{ClockOf(23, 0), EndOfDay},
	{ClockOf(12, 0), ClockOf(12, 1)}, // one minute
}

var (
	propertyFrom = utc(2024, 1, 1, 0, 0)
	propertyTo   = utc(2028, 1, 1, 0, 0)
)

// transitions lists the offset changes of loc between from and to.
func transitions(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	for u := from; u.Before(to); {
		_, end := u.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			break
		}
		out = append(out, end)
		u = end
	}
	return out
}

// sampleTimes returns random instants in [propertyFrom, propertyTo) and
// around every offset change of loc in that span; half are whole minutes.
func sampleTimes(r *rand.Rand, loc *time.Location, uniform, perTransition int) []time.Time {
	span := propertyTo.Sub(propertyFrom)
	var out []time.Time
	add := func(t time.Time) {
		if r.IntN(2) == 0 {
			t = t.Truncate(time.Minute)
		}
		out = append(out, t)
	}
	for range uniform {
		add(propertyFrom.Add(time.Duration(r.Int64N(int64(span)))))
	}
	for _, tr := range transitions(loc, propertyFrom, propertyTo) {
		for range perTransition {
			add(tr.Add(time.Duration(r.Int64N(int64(72*time.Hour))) - 36*time.Hour))
		}
	}
	return out
}

func samples(short, long int) int {
	if testing.Short() {
		return short
	}
	return long
}

func TestNextAllowedProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 21))
	checked := 0
	for _, loc := range propertyZones {
		ts := sampleTimes(r, loc, samples(20, 150), samples(3, 15))
		for _, w := range propertyWindows {
			for _, at := range ts {
				got := NextAllowed(at, loc, w)
				checked++
				if got.Before(at) {
					t.Fatalf("%s %v: NextAllowed(%s) = %s, before t", loc, w, fmtInstant(at, loc), fmtInstant(got, loc))
				}
				if !w.Contains(got, loc) {
					t.Fatalf("%s %v: NextAllowed(%s) = %s, in quiet hours", loc, w, fmtInstant(at, loc), fmtInstant(got, loc))
				}
				if got.After(at) && w.Contains(got.Add(-time.Nanosecond), loc) {
					t.Fatalf("%s %v: NextAllowed(%s) = %s, but the instant just before is allowed", loc, w, fmtInstant(at, loc), fmtInstant(got, loc))
				}
				for u := at; u.Before(got); u = u.Add(time.Minute) {
					if w.Contains(u, loc) {
						t.Fatalf("%s %v: NextAllowed(%s) = %s, but %s is allowed", loc, w, fmtInstant(at, loc), fmtInstant(got, loc), fmtInstant(u, loc))
					}
				}
			}
		}
	}
	t.Logf("checked %d NextAllowed results", checked)
}

func TestPlaceReminderProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 21))
	offsets := []time.Duration{0, 5 * time.Minute, 15 * time.Minute, time.Hour, 2 * time.Hour, 24 * time.Hour, 48 * time.Hour}
	leads := []time.Duration{0, 0, 10 * time.Minute, time.Hour}
	windows := []Window{Default, {ClockOf(9, 0), ClockOf(17, 0)}, {ClockOf(2, 10), ClockOf(2, 50)}, {ClockOf(12, 0), ClockOf(12, 1)}}
	reasons := map[string]int{}
	checked := 0
	for _, loc := range propertyZones {
		for _, w := range windows {
			for _, now := range sampleTimes(r, loc, samples(20, 150), samples(3, 15)) {
				session := now.Add(time.Duration(r.Int64N(int64(60 * time.Hour))))
				if r.IntN(10) == 0 {
					session = now.Add(-time.Duration(r.Int64N(int64(time.Hour)))) // already started
				}
				offset := offsets[r.IntN(len(offsets))]
				if r.IntN(3) == 0 {
					offset = time.Duration(r.Int64N(int64(50 * time.Hour)))
				}
				due := session.Add(-offset)
				p := ReminderPolicy{Window: w, MinLead: leads[r.IntN(len(leads))]}
				got := p.Place(due, session, now, loc)
				checked++
				reasons[got.Reason]++
				checkPlacement(t, p, due, session, now, loc, got)
			}
		}
	}
	t.Logf("checked %d placements: %v", checked, reasons)
	for _, reason := range []string{"", ReasonMovedEarlier, ReasonNextOpening, ReasonNoSlot, ReasonOffsetPassed, ReasonSessionStarted, ReasonDueNotBeforeSession} {
		if reasons[reason] == 0 && !testing.Short() {
			t.Errorf("no sample produced reason %q; widen the sampling", reason)
		}
	}
}

func checkPlacement(t *testing.T, p ReminderPolicy, due, session, now time.Time, loc *time.Location, got Placement) {
	t.Helper()
	w := p.Window
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s %v MinLead %v: due %s, session %s, now %s -> %+v: "+format,
			append([]any{loc, w, p.MinLead, fmtInstant(due, loc), fmtInstant(session, loc), fmtInstant(now, loc), got}, args...)...)
	}
	// No allowed minute in (from, to], stepping a minute at a time.
	noneAllowed := func(from, to time.Time) bool {
		for u := from.Add(time.Minute); !u.After(to); u = u.Add(time.Minute) {
			if w.Contains(u, loc) {
				return false
			}
		}
		return true
	}

	switch {
	case !now.Before(session):
		if !got.Skip || got.Reason != ReasonSessionStarted {
			fail("want skip %q", ReasonSessionStarted)
		}
		return
	case !due.Before(session):
		if !got.Skip || got.Reason != ReasonDueNotBeforeSession {
			fail("want skip %q", ReasonDueNotBeforeSession)
		}
		return
	case due.Before(now):
		if !got.Skip || got.Reason != ReasonOffsetPassed {
			fail("want skip %q", ReasonOffsetPassed)
		}
		return
	}

	if got.Skip {
		if got.Reason != ReasonNoSlot {
			fail("unexpected skip")
		}
		// Nothing earlier worked (due is quiet, and so is everything from a
		// minute after now up to due) and nothing later is early enough.
		if w.Contains(due, loc) || !noneAllowed(now, due) {
			fail("skipped but an allowed minute exists between now and due")
		}
		if next := NextAllowed(now, loc, w); next.Before(session) && !next.Add(max(p.MinLead, 0)).After(session) {
			fail("skipped but the next opening %s is before the session", fmtInstant(next, loc))
		}
		return
	}

	// The invariants every placement keeps.
	if !w.Contains(got.At, loc) {
		fail("At is in quiet hours")
	}
	if got.At.Before(now) {
		fail("At is before now")
	}
	if !got.At.Before(session) {
		fail("At is not before the session")
	}
	if got.Moved != !got.At.Equal(due) {
		fail("Moved does not match At != due")
	}

	switch got.Reason {
	case "":
		if !got.At.Equal(due) {
			fail("unmoved placement not at due")
		}
	case ReasonMovedEarlier:
		// Never after due, and the latest allowed minute before it.
		if !got.At.Before(due) || w.Contains(due, loc) {
			fail("moved earlier but At is not before a quiet due")
		}
		if !noneAllowed(got.At, due) {
			fail("a later allowed minute exists before due")
		}
	case ReasonNextOpening:
		// The one case after due: the earlier minute had already passed.
		if w.Contains(due, loc) || !noneAllowed(now, due) {
			fail("moved to the next opening though an earlier minute was free")
		}
		if !got.At.Equal(NextAllowed(now, loc, w)) {
			fail("At is not the next opening after now")
		}
		if got.At.Add(max(p.MinLead, 0)).After(session) {
			fail("At is less than MinLead before the session")
		}
	default:
		fail("unexpected reason")
	}
}

// TestNextAllowedAcrossEveryTransition walks every minute of the 36 hours
// around each offset change in 2024-2027 for the zones the product brief
// names, so no minute near a transition goes unchecked: NextAllowed against
// the next allowed minute found by walking, and a reminder due at that
// minute (2 hours before its session, booked well ahead) against the
// placement properties.
func TestNextAllowedAcrossEveryTransition(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive walk")
	}
	checked := 0
	for _, loc := range []*time.Location{newYork, london, lordHowe, losAngeles} {
		for _, tr := range transitions(loc, propertyFrom, propertyTo) {
			var want time.Time // the next allowed instant, filled in walking backwards
			end := tr.Add(18 * time.Hour)
			for u := end; !u.Before(tr.Add(-18 * time.Hour)); u = u.Add(-time.Minute) {
				if Default.Contains(u, loc) {
					want = u
				}
				if want.IsZero() {
					continue // the next opening lies beyond the walk
				}
				if got := NextAllowed(u, loc, Default); !got.Equal(want) {
					t.Fatalf("%s: NextAllowed(%s) = %s, want %s", loc, fmtInstant(u, loc), fmtInstant(got, loc), fmtInstant(want, loc))
				}
				p := ReminderPolicy{Window: Default}
				session, now := u.Add(2*time.Hour), u.Add(-72*time.Hour)
				checkPlacement(t, p, u, session, now, loc, p.Place(u, session, now, loc))
				checked++
			}
		}
	}
	t.Logf("checked %d minutes around transitions", checked)
}
