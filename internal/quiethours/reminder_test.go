package quiethours

import (
	"strings"
	"testing"
	"time"
)

func TestPlaceReminder(t *testing.T) {
	const h = time.Hour
	longAgo := utc(2025, 1, 1, 12, 0) // booked well ahead
	tests := []struct {
		name              string
		due, session, now time.Time
		loc               *time.Location
		w                 Window
		minLead           time.Duration
		want              time.Time // zero when skipped
		reason            string
	}{
		// Inside the window: unchanged.
		{name: "ny 10:00 inside", due: utc(2025, 6, 10, 14, 0), session: utc(2025, 6, 10, 16, 0), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 6, 10, 14, 0)},
		{name: "due exactly now", due: utc(2025, 6, 10, 14, 0), session: utc(2025, 6, 10, 16, 0), now: utc(2025, 6, 10, 14, 0), loc: newYork, w: Default,
			want: utc(2025, 6, 10, 14, 0)},
		{name: "due 20:59 inside", due: utc(2025, 6, 11, 0, 59), session: utc(2025, 6, 12, 0, 59), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 6, 11, 0, 59)},

		// Quiet hours: earlier, to 20:59 of the same quiet stretch.
		{name: "ny due 21:30 -> 20:59 same evening", due: utc(2025, 6, 11, 1, 30), session: utc(2025, 6, 12, 1, 30), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 6, 11, 0, 59), reason: ReasonMovedEarlier},
		{name: "ny due 23:30 -> 20:59 same evening", due: utc(2025, 6, 11, 3, 30), session: utc(2025, 6, 13, 3, 30), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 6, 11, 0, 59), reason: ReasonMovedEarlier},
		{name: "ny due 21:00:00 -> 20:59", due: utc(2025, 6, 11, 1, 0), session: utc(2025, 6, 11, 3, 0), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 6, 11, 0, 59), reason: ReasonMovedEarlier},
		{name: "ny due 06:00 -> 20:59 previous evening", due: utc(2025, 6, 11, 10, 0), session: utc(2025, 6, 11, 12, 0), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 6, 11, 0, 59), reason: ReasonMovedEarlier},
		{name: "ny due 07:59:59 -> 20:59 previous evening", due: utc(2025, 6, 11, 11, 59).Add(59 * time.Second), session: utc(2025, 6, 11, 14, 0), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 6, 11, 0, 59), reason: ReasonMovedEarlier},
		{name: "ny due 00:10 -> 20:59 previous evening", due: utc(2025, 6, 11, 4, 10), session: utc(2025, 6, 12, 4, 10), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 6, 11, 0, 59), reason: ReasonMovedEarlier},
		{name: "earlier minute exactly now", due: utc(2025, 6, 11, 10, 0), session: utc(2025, 6, 11, 12, 0), now: utc(2025, 6, 11, 0, 59), loc: newYork, w: Default,
			want: utc(2025, 6, 11, 0, 59), reason: ReasonMovedEarlier},
		{name: "narrower window 09:00-17:00, due 18:30 -> 16:59", due: utc(2025, 6, 10, 22, 30), session: utc(2025, 6, 11, 22, 30), now: longAgo, loc: newYork, w: window(t, "09:00-17:00"),
			want: utc(2025, 6, 10, 20, 59), reason: ReasonMovedEarlier},

		// Late-night booking: the earlier minute has passed; next opening
		// if it is still before the session (strictly, and MinLead ahead).
		{name: "booked 23:00 for 09:00: 07:00 reminder -> 08:00", due: utc(2025, 6, 11, 11, 0), session: utc(2025, 6, 11, 13, 0), now: utc(2025, 6, 11, 3, 0), loc: newYork, w: Default,
			want: utc(2025, 6, 11, 12, 0), reason: ReasonNextOpening},
		{name: "booked 23:00 for 08:00: opening is the session start -> skip", due: utc(2025, 6, 11, 10, 0), session: utc(2025, 6, 11, 12, 0), now: utc(2025, 6, 11, 3, 0), loc: newYork, w: Default,
			reason: ReasonNoSlot},
		{name: "booked 23:00 for 07:30: no slot", due: utc(2025, 6, 11, 9, 30), session: utc(2025, 6, 11, 11, 30), now: utc(2025, 6, 11, 3, 0), loc: newYork, w: Default,
			reason: ReasonNoSlot},
		{name: "MinLead 30m, session 08:20: too close -> skip", due: utc(2025, 6, 11, 10, 20), session: utc(2025, 6, 11, 12, 20), now: utc(2025, 6, 11, 3, 0), loc: newYork, w: Default, minLead: 30 * time.Minute,
			reason: ReasonNoSlot},
		{name: "MinLead 15m, session 08:20: 08:00 fits", due: utc(2025, 6, 11, 10, 20), session: utc(2025, 6, 11, 12, 20), now: utc(2025, 6, 11, 3, 0), loc: newYork, w: Default, minLead: 15 * time.Minute,
			want: utc(2025, 6, 11, 12, 0), reason: ReasonNextOpening},
		{name: "MinLead 30m, session 08:30: exactly MinLead fits", due: utc(2025, 6, 11, 10, 30), session: utc(2025, 6, 11, 12, 30), now: utc(2025, 6, 11, 3, 0), loc: newYork, w: Default, minLead: 30 * time.Minute,
			want: utc(2025, 6, 11, 12, 0), reason: ReasonNextOpening},
		{name: "negative MinLead counts as zero", due: utc(2025, 6, 11, 10, 0), session: utc(2025, 6, 11, 12, 0), now: utc(2025, 6, 11, 3, 0), loc: newYork, w: Default, minLead: -time.Hour,
			reason: ReasonNoSlot},
		{name: "now 20:59:30 inside, earlier minute 20:59:00 passed -> now", due: utc(2025, 6, 11, 3, 0), session: utc(2025, 6, 11, 13, 0), now: utc(2025, 6, 11, 0, 59).Add(30 * time.Second), loc: newYork, w: Default,
			want: utc(2025, 6, 11, 0, 59).Add(30 * time.Second), reason: ReasonNextOpening},

		// Skips that are not about quiet hours.
		{name: "offset passed at booking", due: utc(2025, 6, 10, 14, 0), session: utc(2025, 6, 10, 16, 0), now: utc(2025, 6, 10, 15, 0), loc: newYork, w: Default,
			reason: ReasonOffsetPassed},
		{name: "offset passed, due in quiet hours", due: utc(2025, 6, 11, 10, 0), session: utc(2025, 6, 11, 12, 0), now: utc(2025, 6, 11, 11, 0), loc: newYork, w: Default,
			reason: ReasonOffsetPassed},
		{name: "session already started", due: utc(2025, 6, 10, 14, 0), session: utc(2025, 6, 10, 16, 0), now: utc(2025, 6, 10, 16, 0), loc: newYork, w: Default,
			reason: ReasonSessionStarted},
		{name: "zero offset", due: utc(2025, 6, 10, 16, 0), session: utc(2025, 6, 10, 16, 0), now: longAgo, loc: newYork, w: Default,
			reason: ReasonDueNotBeforeSession},

		// Daylight saving: New York.
		{name: "ny spring day due 23:30 EDT -> 20:59 EDT", due: utc(2025, 3, 10, 3, 30), session: utc(2025, 3, 11, 3, 30), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 3, 10, 0, 59), reason: ReasonMovedEarlier},
		{name: "ny spring day due 06:00 EDT -> 20:59 EST the evening before", due: utc(2025, 3, 9, 10, 0), session: utc(2025, 3, 9, 12, 0), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 3, 9, 1, 59), reason: ReasonMovedEarlier},
		{name: "ny due 06:00 EDT the day after spring -> 20:59 EDT", due: utc(2025, 3, 10, 10, 0), session: utc(2025, 3, 10, 12, 0), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 3, 10, 0, 59), reason: ReasonMovedEarlier},
		{name: "ny spring nonexistent 02:30 -> 20:59 EST", due: time.Date(2025, 3, 9, 2, 30, 0, 0, newYork), session: time.Date(2025, 3, 9, 4, 30, 0, 0, newYork), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 3, 9, 1, 59), reason: ReasonMovedEarlier},
		{name: "ny fall 01:30 EDT (first) -> 20:59 EDT", due: utc(2025, 11, 2, 5, 30), session: utc(2025, 11, 2, 14, 0), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 11, 2, 0, 59), reason: ReasonMovedEarlier},
		{name: "ny fall 01:30 EST (repeat) -> 20:59 EDT", due: utc(2025, 11, 2, 6, 30), session: utc(2025, 11, 2, 14, 0), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 11, 2, 0, 59), reason: ReasonMovedEarlier},
		{name: "ny fall day due 23:30 EST -> 20:59 EST", due: utc(2025, 11, 3, 4, 30), session: utc(2025, 11, 4, 4, 30), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 11, 3, 1, 59), reason: ReasonMovedEarlier},
		{name: "ny fall late booking 23:00 EDT for 09:00 EST", due: utc(2025, 11, 2, 12, 0), session: utc(2025, 11, 2, 14, 0), now: utc(2025, 11, 2, 3, 0), loc: newYork, w: Default,
			want: utc(2025, 11, 2, 13, 0), reason: ReasonNextOpening},
		{name: "ny spring late booking 23:00 EST for 09:00 EDT", due: utc(2025, 3, 9, 11, 0), session: utc(2025, 3, 9, 13, 0), now: utc(2025, 3, 9, 4, 0), loc: newYork, w: Default,
			want: utc(2025, 3, 9, 12, 0), reason: ReasonNextOpening},

		// London.
		{name: "london spring nonexistent 01:30 -> 20:59 GMT", due: time.Date(2025, 3, 30, 1, 30, 0, 0, london), session: time.Date(2025, 3, 30, 10, 0, 0, 0, london), now: longAgo, loc: london, w: Default,
			want: utc(2025, 3, 29, 20, 59), reason: ReasonMovedEarlier},
		{name: "london spring day 22:00 BST -> 20:59 BST", due: utc(2025, 3, 30, 21, 0), session: utc(2025, 3, 31, 21, 0), now: longAgo, loc: london, w: Default,
			want: utc(2025, 3, 30, 19, 59), reason: ReasonMovedEarlier},
		{name: "london fall 01:30 BST (first) -> 20:59 BST", due: utc(2025, 10, 26, 0, 30), session: utc(2025, 10, 26, 10, 0), now: longAgo, loc: london, w: Default,
			want: utc(2025, 10, 25, 19, 59), reason: ReasonMovedEarlier},
		{name: "london fall 01:30 GMT (repeat) -> 20:59 BST", due: utc(2025, 10, 26, 1, 30), session: utc(2025, 10, 26, 10, 0), now: longAgo, loc: london, w: Default,
			want: utc(2025, 10, 25, 19, 59), reason: ReasonMovedEarlier},
		{name: "london fall day 07:00 GMT Oct 27 -> 20:59 GMT Oct 26", due: utc(2025, 10, 27, 7, 0), session: utc(2025, 10, 27, 9, 0), now: longAgo, loc: london, w: Default,
			want: utc(2025, 10, 26, 20, 59), reason: ReasonMovedEarlier},

		// Lord Howe Island: 30-minute shift.
		{name: "lord howe spring 05:00 +11 -> 20:59 +10:30", due: utc(2025, 10, 4, 18, 0), session: utc(2025, 10, 4, 22, 0), now: longAgo, loc: lordHowe, w: Default,
			want: utc(2025, 10, 4, 10, 29), reason: ReasonMovedEarlier},
		{name: "lord howe spring nonexistent 02:15 -> 20:59 +10:30", due: time.Date(2025, 10, 5, 2, 15, 0, 0, lordHowe), session: time.Date(2025, 10, 5, 9, 0, 0, 0, lordHowe), now: longAgo, loc: lordHowe, w: Default,
			want: utc(2025, 10, 4, 10, 29), reason: ReasonMovedEarlier},
		{name: "lord howe autumn 01:45 +11 (first) -> 20:59 +11", due: utc(2025, 4, 5, 14, 45), session: utc(2025, 4, 5, 23, 0), now: longAgo, loc: lordHowe, w: Default,
			want: utc(2025, 4, 5, 9, 59), reason: ReasonMovedEarlier},
		{name: "lord howe autumn 01:45 +10:30 (repeat) -> 20:59 +11", due: utc(2025, 4, 5, 15, 15), session: utc(2025, 4, 5, 23, 0), now: longAgo, loc: lordHowe, w: Default,
			want: utc(2025, 4, 5, 9, 59), reason: ReasonMovedEarlier},
		{name: "lord howe late booking 23:00 +10:30 for 09:00 +11", due: utc(2025, 10, 4, 20, 0), session: utc(2025, 10, 4, 22, 0), now: utc(2025, 10, 4, 12, 30), loc: lordHowe, w: Default,
			want: utc(2025, 10, 4, 21, 0), reason: ReasonNextOpening},

		// Kolkata.
		{name: "kolkata 06:00 -> 20:59 previous evening", due: utc(2025, 6, 11, 0, 30), session: utc(2025, 6, 11, 2, 30), now: longAgo, loc: kolkata, w: Default,
			want: utc(2025, 6, 10, 15, 29), reason: ReasonMovedEarlier},
		{name: "kolkata 22:00 -> 20:59", due: utc(2025, 6, 10, 16, 30), session: utc(2025, 6, 11, 16, 30), now: longAgo, loc: kolkata, w: Default,
			want: utc(2025, 6, 10, 15, 29), reason: ReasonMovedEarlier},

		// Client and practice in different zones: the client's clock rules.
		{name: "practice NY, client LA: 06:30 EDT = 03:30 PDT -> 20:59 PDT the evening before",
			due: time.Date(2025, 6, 10, 6, 30, 0, 0, newYork), session: time.Date(2025, 6, 10, 8, 30, 0, 0, newYork), now: time.Date(2025, 6, 1, 9, 0, 0, 0, newYork), loc: losAngeles, w: Default,
			want: utc(2025, 6, 10, 3, 59), reason: ReasonMovedEarlier},
		{name: "same, inputs in UTC", due: utc(2025, 6, 10, 10, 30), session: utc(2025, 6, 10, 12, 30), now: longAgo, loc: losAngeles, w: Default,
			want: utc(2025, 6, 10, 3, 59), reason: ReasonMovedEarlier},
		{name: "practice NY, client LA: 11:00 EDT = 08:00 PDT inside",
			due: time.Date(2025, 6, 10, 11, 0, 0, 0, newYork), session: time.Date(2025, 6, 10, 13, 0, 0, 0, newYork), now: longAgo, loc: losAngeles, w: Default,
			want: utc(2025, 6, 10, 15, 0)},
		{name: "practice LA, client NY: 19:00 PDT = 22:00 EDT -> 20:59 EDT",
			due: time.Date(2025, 6, 10, 19, 0, 0, 0, losAngeles), session: time.Date(2025, 6, 11, 19, 0, 0, 0, losAngeles), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 6, 11, 0, 59), reason: ReasonMovedEarlier},
		{name: "practice NY, client London: 16:30 EDT = 21:30 BST -> 20:59 BST",
			due: time.Date(2025, 6, 10, 16, 30, 0, 0, newYork), session: time.Date(2025, 6, 11, 16, 30, 0, 0, newYork), now: longAgo, loc: london, w: Default,
			want: utc(2025, 6, 10, 19, 59), reason: ReasonMovedEarlier},
		{name: "practice NY, client Kolkata: 09:00 EDT = 18:30 IST inside",
			due: time.Date(2025, 6, 10, 9, 0, 0, 0, newYork), session: time.Date(2025, 6, 11, 9, 0, 0, 0, newYork), now: longAgo, loc: kolkata, w: Default,
			want: utc(2025, 6, 10, 13, 0)},
		{name: "practice London spring day, client NY not yet changed: 23:00 GMT Mar 29 = 19:00 EDT",
			due: utc(2025, 3, 29, 23, 0), session: utc(2025, 3, 30, 23, 0), now: longAgo, loc: newYork, w: Default,
			want: utc(2025, 3, 29, 23, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ReminderPolicy{Window: tt.w, MinLead: tt.minLead}.Place(tt.due, tt.session, tt.now, tt.loc)
			if tt.minLead == 0 {
				if viaFunc := PlaceReminder(tt.due, tt.session, tt.now, tt.loc, tt.w); viaFunc != got {
					t.Errorf("PlaceReminder = %+v, ReminderPolicy.Place = %+v", viaFunc, got)
				}
			}
			wantSkip := tt.want.IsZero()
			if got.Skip != wantSkip || got.Reason != tt.reason || !got.At.Equal(tt.want) {
				t.Fatalf("Place(due %s, session %s, now %s) = {At: %s, Skip: %v, Reason: %q}\nwant {At: %s, Skip: %v, Reason: %q}",
					fmtInstant(tt.due, tt.loc), fmtInstant(tt.session, tt.loc), fmtInstant(tt.now, tt.loc),
					fmtInstant(got.At, tt.loc), got.Skip, got.Reason, fmtInstant(tt.want, tt.loc), wantSkip, tt.reason)
			}
			if got.Moved != (!got.Skip && !got.At.Equal(tt.due)) {
				t.Errorf("Moved = %v with At %s and due %s", got.Moved, fmtInstant(got.At, tt.loc), fmtInstant(tt.due, tt.loc))
			}
			if !got.Skip && got.At.Location() != tt.loc {
				t.Errorf("At in %s, want the client's zone %s", got.At.Location(), tt.loc)
			}
		})
	}
}

func TestReminderPolicyValidate(t *testing.T) {
	if err := (ReminderPolicy{Window: Default, MinLead: 10 * time.Minute}).Validate(); err != nil {
		t.Errorf("valid policy: %v", err)
	}
	if err := (ReminderPolicy{}).Validate(); err == nil || !strings.HasPrefix(err.Error(), "Window:") {
		t.Errorf("zero window: %v, want an error naming Window", err)
	}
	if err := (ReminderPolicy{Window: Default, MinLead: -time.Minute}).Validate(); err == nil || !strings.HasPrefix(err.Error(), "MinLead:") {
		t.Errorf("negative MinLead: %v, want an error naming MinLead", err)
	}
}

func TestPlaceReminderPanicsOnInvalidWindow(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("PlaceReminder with the zero Window did not panic")
		}
	}()
	PlaceReminder(utc(2025, 6, 10, 14, 0), utc(2025, 6, 10, 16, 0), utc(2025, 6, 1, 0, 0), newYork, Window{})
}
