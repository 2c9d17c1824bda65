package quiethours

import (
	"fmt"
	"time"
)

// Reasons a Placement records. They are stable strings, stored with the
// scheduling decision so "why did this reminder go at 20:59?" and "why was
// no reminder sent?" can be answered later (invariant 4 in docs/invariants.md).
const (
	// ReasonMovedEarlier: due fell in quiet hours; At is the last allowed
	// minute before it (20:59 with the default window).
	ReasonMovedEarlier = "quiet_hours_moved_earlier"
	// ReasonNextOpening: due fell in quiet hours and the last allowed minute
	// before it had already passed (a late-night booking); At is the window's
	// next opening at or after now, which is after due but still before the
	// session. This is the only case in which At is later than due.
	ReasonNextOpening = "quiet_hours_next_opening"

	// ReasonNoSlot (Skip): no allowed minute between now and MinLead before
	// the session.
	ReasonNoSlot = "quiet_hours_no_slot"
	// ReasonOffsetPassed (Skip): due is before now, e.g. a session booked
	// 1 hour ahead has no 2-hour reminder. Callers skip these; other offsets
	// of the same session still fire.
	ReasonOffsetPassed = "offset_passed"
	// ReasonSessionStarted (Skip): now is at or after the session start;
	// a reminder can no longer help (invariant 5 in docs/invariants.md).
	ReasonSessionStarted = "session_started"
	// ReasonDueNotBeforeSession (Skip): due is at or after the session start,
	// i.e. the reminder offset is zero or negative.
	ReasonDueNotBeforeSession = "due_not_before_session"
)

// Placement is where PlaceReminder put a reminder.
type Placement struct {
	// At is when to send, in the client's zone; zero when Skip.
	At time.Time
	// Skip means do not send this reminder at all; Reason says why.
	Skip bool
	// Reason is one of the Reason constants: why the reminder was moved or
	// skipped. Empty when it goes out at due.
	Reason string
	// Moved reports At != due.
	Moved bool
}

// ReminderPolicy places appointment reminders in the client's allowed
// window. The zero MinLead is PlaceReminder's behaviour.
type ReminderPolicy struct {
	// Window is the client's allowed window, normally Default.
	Window Window
	// MinLead is the least time a reminder moved to the window's next opening
	// (ReasonNextOpening) must leave before the session; a reminder 2 minutes
	// before a session helps nobody. Negative counts as zero.
	MinLead time.Duration
}

// Validate reports whether p can be used; its errors name the field.
func (p ReminderPolicy) Validate() error {
	if err := p.Window.Validate(); err != nil {
		return fmt.Errorf("Window: %w", err)
	}
	if p.MinLead < 0 {
		return fmt.Errorf("MinLead: %v is negative", p.MinLead)
	}
	return nil
}

// PlaceReminder is ReminderPolicy{Window: w}.Place: MinLead zero.
func PlaceReminder(due, sessionStart, now time.Time, loc *time.Location, w Window) Placement {
	return ReminderPolicy{Window: w}.Place(due, sessionStart, now, loc)
}

// Place decides when a reminder due at due (session start minus the
// reminder's offset) for a session starting at sessionStart is sent, judged
// at now on the wall clock of loc, the client's zone. Reminders move
// earlier, never later, because a reminder after the session is useless:
//
//  1. now at or after sessionStart: Skip, ReasonSessionStarted.
//     due at or after sessionStart: Skip, ReasonDueNotBeforeSession.
//     due before now (the offset had already passed when the session was
//     booked): Skip, ReasonOffsetPassed; the caller drops this offset.
//  2. due inside the window: At = due.
//  3. due in quiet hours: At = the last allowed minute before due, the
//     window's End minus one minute of the same quiet stretch: a reminder
//     due at 23:30 goes at 20:59 that evening, one due at 06:00 at 20:59
//     the evening before (ReasonMovedEarlier).
//  4. If that minute has already passed (booked late at night for the next
//     morning): At = the window's next opening at or after now, provided it
//     is before sessionStart by at least MinLead, and strictly before it
//     (ReasonNextOpening). This is the one case where At is after due.
//  5. Otherwise: Skip, ReasonNoSlot.
//
// So a Placement that is not skipped is never in quiet hours, never before
// now and never at or after sessionStart; it is after due only with
// ReasonNextOpening. Times may be in any zone; At is in loc.
//
// Place panics if p.Window is not valid (see NextAllowed).
func (p ReminderPolicy) Place(due, sessionStart, now time.Time, loc *time.Location) Placement {
	w := p.Window
	mustBeValid("ReminderPolicy.Place", w)
	switch {
	case !now.Before(sessionStart):
		return Placement{Skip: true, Reason: ReasonSessionStarted}
	case !due.Before(sessionStart):
		return Placement{Skip: true, Reason: ReasonDueNotBeforeSession}
	case due.Before(now):
		return Placement{Skip: true, Reason: ReasonOffsetPassed}
	case w.Contains(due, loc):
		return Placement{At: due.In(loc)}
	}

	// The last allowed minute before due: one minute before the window
	// closed, or the window's opening if it was open for less than a minute
	// (only possible when an offset change cuts it short).
	earlier := NextAllowed(lastClose(due, loc, w).Add(-time.Minute), loc, w)
	if !earlier.Before(now) {
		return Placement{At: earlier, Reason: ReasonMovedEarlier, Moved: true}
	}

	next := NextAllowed(now, loc, w)
	if next.Before(sessionStart) && !next.Add(max(p.MinLead, 0)).After(sessionStart) {
		return Placement{At: next, Reason: ReasonNextOpening, Moved: true}
	}
	return Placement{Skip: true, Reason: ReasonNoSlot}
}
