// Package quiethours decides when a message may reach a client, on the
// client's own wall clock, and how often (PRODUCT invariants 6 and 7, and the
// "already started" part of 5).
//
// The people nudge writes to may be anxious, grieving or barely holding on.
// A text at 02:00 can wake them into the worst hour of their night, and a
// stream of well-meant messages becomes pressure. So every message waits for
// daytime in the client's zone, and the number of messages is capped.
//
// Everything here is a pure function of its arguments. Callers pass the
// current time (now) and the client's *time.Location; nothing reads the
// system clock, so every rule is table-tested with fixed times.
//
// # The window
//
// A [Window] is the allowed sending window on the client's wall clock:
// [Default] is 08:00–21:00, End exclusive (20:59 is the last allowed
// minute). A purpose may narrow it with [Window.Narrow], never widen it.
// Windows do not cross midnight: quiet hours always include the night.
//
// # Non-urgent messages wait
//
// Encouragement, journal nudges and announcements are deferred, never
// dropped: [NextAllowed] returns the planned time if it is inside the window
// and otherwise the window's next opening. Nothing is lost by waiting for the
// morning.
//
// # Reminders move earlier
//
// An appointment reminder that lands after the session is useless, so
// [PlaceReminder] never moves a reminder later when it can move it earlier:
// a reminder due in quiet hours goes at the last allowed minute before it
// (a 2-hour reminder for a 08:00 session, due 06:00, goes at 20:59 the
// evening before). Only when that minute has already passed, because the
// session was booked late at night, does the reminder go at the next
// opening, and only if that is still before the session (with a margin,
// [ReminderPolicy].MinLead); otherwise it is skipped with a reason.
// Reminders whose offset has passed, or whose session has started, are
// skipped with a reason too, so every decision can be explained later.
//
// # Time zones and daylight saving
//
// The window is on the client's clock, not the practice's and not UTC: a
// practice in New York reminding a client in Los Angeles at 06:30 New York
// time would wake them at 03:30. Inputs may be in any zone; results are in
// the client's.
//
// On a transition day a wall-clock time may not exist (02:30 when New York
// springs forward) or may happen twice (01:30 when it falls back; Lord Howe
// Island shifts by 30 minutes). The placement functions do not build an
// instant from a wall-clock time and hope: they walk the zone's stretches of
// constant UTC offset ([time.Time.ZoneBounds]), so a window that opens in a
// skipped hour opens when the clock jumps past it, and a time in the
// repeated hour is judged by the wall clock it shows. Tests check this with
// exact instants and by stepping minute by minute across years of
// transitions in several zones.
//
// # Cadence
//
// [Cadence.Allow] caps messages per client: by default at most one
// encouragement and one journal nudge per local calendar day, two
// announcements, and seven non-urgent messages in any rolling week.
// Reminders are exempt; they are what the client booked. When a message is
// held back, Allow says when it could go instead.
//
// [JournalNudgeDue] backs off on missed journaling days (day 1, 3 and 7 of a
// missed stretch) and then stops until the client journals again. It counts
// nothing the client would see: no streaks, no "you missed 5 days".
//
// # Order of checks
//
// A consumer holding a non-urgent message checks consent first (elsewhere),
// then [Cadence.Allow], then [NextAllowed] on the result, and re-checks the
// cadence when the deferred time comes. A reminder goes through
// [ReminderPolicy.Place] only.
package quiethours
