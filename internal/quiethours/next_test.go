package quiethours

import (
	"testing"
	"time"
)

// Transition instants used below (2025):
//
//	America/New_York   Mar 9  07:00Z  02:00 EST -> 03:00 EDT;  Nov 2 06:00Z  02:00 EDT -> 01:00 EST
//	Europe/London      Mar 30 01:00Z  01:00 GMT -> 02:00 BST;  Oct 26 01:00Z 02:00 BST -> 01:00 GMT
//	Australia/Lord_Howe Oct 5 02:00 +10:30 -> 02:30 +11 (Oct 4 15:30Z);
//	                   Apr 6 02:00 +11 -> 01:30 +10:30 (Apr 5 15:00Z)
//	America/Havana     Mar 9  05:00Z  00:00 CST -> 01:00 CDT (midnight does not exist)
//	America/Santiago   Sep 7  04:00Z  00:00 -04 -> 01:00 -03 (midnight does not exist)
//	                   Apr 6  03:00Z  00:00 -03 -> 23:00 -04 on Apr 5
//	Asia/Kolkata       +05:30, no DST.
func TestNextAllowed(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		loc  *time.Location
		w    Window
		want time.Time
	}{
		// Inside the window: t itself.
		{"ny inside", utc(2025, 6, 10, 16, 0), newYork, Default, utc(2025, 6, 10, 16, 0)},
		{"ny 08:00 exactly", utc(2025, 6, 10, 12, 0), newYork, Default, utc(2025, 6, 10, 12, 0)},
		{"ny 20:59:59", utc(2025, 6, 11, 0, 59).Add(59 * time.Second), newYork, Default, utc(2025, 6, 11, 0, 59).Add(59 * time.Second)},
		// Quiet hours: the next opening.
		{"ny 21:00 -> 08:00 next day", utc(2025, 6, 11, 1, 0), newYork, Default, utc(2025, 6, 11, 12, 0)},
		{"ny 23:45 -> 08:00", utc(2025, 6, 11, 3, 45), newYork, Default, utc(2025, 6, 11, 12, 0)},
		{"ny 00:00 -> 08:00 same day", utc(2025, 6, 11, 4, 0), newYork, Default, utc(2025, 6, 11, 12, 0)},
		{"ny 07:59:30 -> 08:00:00", utc(2025, 6, 11, 11, 59).Add(30 * time.Second), newYork, Default, utc(2025, 6, 11, 12, 0)},
		{"ny month end 22:00 Jun 30 -> Jul 1 08:00", utc(2025, 7, 1, 2, 0), newYork, Default, utc(2025, 7, 1, 12, 0)},
		{"ny year end 22:00 Dec 31 -> Jan 1 08:00 EST", utc(2026, 1, 1, 3, 0), newYork, Default, utc(2026, 1, 1, 13, 0)},

		// New York spring forward: 08:00 that morning is EDT.
		{"ny spring 21:00 EST Mar 8 -> 08:00 EDT", utc(2025, 3, 9, 2, 0), newYork, Default, utc(2025, 3, 9, 12, 0)},
		{"ny spring 01:30 EST before the gap", utc(2025, 3, 9, 6, 30), newYork, Default, utc(2025, 3, 9, 12, 0)},
		{"ny spring 03:30 EDT after the gap", utc(2025, 3, 9, 7, 30), newYork, Default, utc(2025, 3, 9, 12, 0)},
		{"ny spring nonexistent 02:30 as normalised by time.Date", time.Date(2025, 3, 9, 2, 30, 0, 0, newYork), newYork, Default, utc(2025, 3, 9, 12, 0)},
		{"ny spring day closes at 21:00 EDT", utc(2025, 3, 10, 1, 0), newYork, Default, utc(2025, 3, 10, 12, 0)},
		// New York fall back: both 01:30s wait for 08:00 EST.
		{"ny fall 22:00 EDT Nov 1 -> 08:00 EST", utc(2025, 11, 2, 2, 0), newYork, Default, utc(2025, 11, 2, 13, 0)},
		{"ny fall 01:30 EDT (first)", utc(2025, 11, 2, 5, 30), newYork, Default, utc(2025, 11, 2, 13, 0)},
		{"ny fall 01:30 EST (repeat)", utc(2025, 11, 2, 6, 30), newYork, Default, utc(2025, 11, 2, 13, 0)},
		{"ny fall day 20:59 EST inside", utc(2025, 11, 3, 1, 59), newYork, Default, utc(2025, 11, 3, 1, 59)},
		{"ny fall day 21:00 EST closed", utc(2025, 11, 3, 2, 0), newYork, Default, utc(2025, 11, 3, 13, 0)},

		// London.
		{"london spring 00:30 GMT -> 08:00 BST", utc(2025, 3, 30, 0, 30), london, Default, utc(2025, 3, 30, 7, 0)},
		{"london spring nonexistent 01:30", time.Date(2025, 3, 30, 1, 30, 0, 0, london), london, Default, utc(2025, 3, 30, 7, 0)},
		{"london 07:59 BST", utc(2025, 10, 25, 6, 59), london, Default, utc(2025, 10, 25, 7, 0)},
		{"london fall 01:30 BST (first)", utc(2025, 10, 26, 0, 30), london, Default, utc(2025, 10, 26, 8, 0)},
		{"london fall 01:30 GMT (repeat)", utc(2025, 10, 26, 1, 30), london, Default, utc(2025, 10, 26, 8, 0)},
		{"london winter 21:00 GMT", utc(2025, 12, 1, 21, 0), london, Default, utc(2025, 12, 2, 8, 0)},

		// Lord Howe Island: a 30-minute shift.
		{"lord howe spring 01:00 +10:30 -> 08:00 +11", utc(2025, 10, 4, 14, 30), lordHowe, Default, utc(2025, 10, 4, 21, 0)},
		{"lord howe spring nonexistent 02:15", time.Date(2025, 10, 5, 2, 15, 0, 0, lordHowe), lordHowe, Default, utc(2025, 10, 4, 21, 0)},
		{"lord howe autumn 21:30 +11 Apr 5 -> 08:00 +10:30", utc(2025, 4, 5, 10, 30), lordHowe, Default, utc(2025, 4, 5, 21, 30)},
		{"lord howe autumn 01:45 +11 (first)", utc(2025, 4, 5, 14, 45), lordHowe, Default, utc(2025, 4, 5, 21, 30)},
		{"lord howe autumn 01:45 +10:30 (repeat)", utc(2025, 4, 5, 15, 15), lordHowe, Default, utc(2025, 4, 5, 21, 30)},

		// Kolkata, +05:30 all year.
		{"kolkata 07:00 -> 08:00", utc(2025, 6, 10, 1, 30), kolkata, Default, utc(2025, 6, 10, 2, 30)},
		{"kolkata 21:00 -> 08:00 next day", utc(2025, 6, 10, 15, 30), kolkata, Default, utc(2025, 6, 11, 2, 30)},
		{"kolkata 20:59 inside", utc(2025, 6, 10, 15, 29), kolkata, Default, utc(2025, 6, 10, 15, 29)},
		{"kolkata UTC midnight is 05:30", utc(2025, 6, 10, 0, 0), kolkata, Default, utc(2025, 6, 10, 2, 30)},

		// The client's zone decides, whatever zone t is written in.
		{"ny 06:30 EDT for a client in LA (03:30 PDT)", time.Date(2025, 6, 10, 6, 30, 0, 0, newYork), losAngeles, Default, utc(2025, 6, 10, 15, 0)},
		{"ny 10:30 EDT for a client in LA (07:30 PDT)", time.Date(2025, 6, 10, 10, 30, 0, 0, newYork), losAngeles, Default, utc(2025, 6, 10, 15, 0)},
		{"ny 11:00 EDT for a client in LA (08:00 PDT)", time.Date(2025, 6, 10, 11, 0, 0, 0, newYork), losAngeles, Default, utc(2025, 6, 10, 15, 0)},
		{"ny 18:00 EDT for a client in London (23:00 BST)", time.Date(2025, 6, 10, 18, 0, 0, 0, newYork), london, Default, utc(2025, 6, 11, 7, 0)},
		{"london 09:00 BST for a client in NY (04:00 EDT)", time.Date(2025, 6, 10, 9, 0, 0, 0, london), newYork, Default, utc(2025, 6, 10, 12, 0)},

		// Narrower and unusual windows.
		{"per-purpose 10:00-18:00 at 09:00", utc(2025, 6, 10, 13, 0), newYork, window(t, "10:00-18:00"), utc(2025, 6, 10, 14, 0)},
		{"per-purpose 10:00-18:00 at 18:00", utc(2025, 6, 10, 22, 0), newYork, window(t, "10:00-18:00"), utc(2025, 6, 11, 14, 0)},
		{"all day is always open", utc(2025, 6, 11, 7, 0), newYork, window(t, "00:00-24:00"), utc(2025, 6, 11, 7, 0)},
		{"until midnight: 23:59:59 open", utc(2025, 6, 11, 3, 59).Add(59 * time.Second), newYork, window(t, "23:00-24:00"), utc(2025, 6, 11, 3, 59).Add(59 * time.Second)},
		{"until midnight: 00:00 waits a day", utc(2025, 6, 11, 4, 0), newYork, window(t, "23:00-24:00"), utc(2025, 6, 12, 3, 0)},
		// A window opening inside the skipped hour opens when the clock
		// jumps past it: 02:30 never shows, 03:00 EDT does.
		{"opening in the spring gap", utc(2025, 3, 9, 6, 0), newYork, window(t, "02:30-06:00"), utc(2025, 3, 9, 7, 0)},
		// A window entirely inside the skipped hour has no minute that day.
		{"window inside the spring gap", utc(2025, 3, 9, 6, 0), newYork, window(t, "02:10-02:50"), utc(2025, 3, 10, 6, 10)},
		// In the repeated hour the window opens again by the wall clock.
		{"repeated hour reopens", utc(2025, 11, 2, 5, 50), newYork, window(t, "01:15-01:45"), utc(2025, 11, 2, 6, 15)},
		// Midnight-based windows where midnight does not exist.
		{"havana day starts at 01:00 CDT", utc(2025, 3, 9, 4, 30), havana, window(t, "00:00-06:00"), utc(2025, 3, 9, 5, 0)},
		{"santiago day starts at 01:00 -03", utc(2025, 9, 7, 2, 0), santiago, window(t, "00:00-06:00"), utc(2025, 9, 7, 4, 0)},
		// Santiago falls back from midnight to 23:00: 23:00-23:30 on Apr 5
		// happens twice, and reopens at the jump back.
		{"santiago fall back across midnight reopens", utc(2025, 4, 6, 2, 45), santiago, window(t, "23:00-23:30"), utc(2025, 4, 6, 3, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NextAllowed(tt.t, tt.loc, tt.w)
			if !got.Equal(tt.want) {
				t.Fatalf("NextAllowed(%s, %s, %v) = %s, want %s", fmtInstant(tt.t, tt.loc), tt.loc, tt.w,
					fmtInstant(got, tt.loc), fmtInstant(tt.want, tt.loc))
			}
			if got.Location() != tt.loc {
				t.Errorf("result in %s, want the client's zone %s", got.Location(), tt.loc)
			}
		})
	}
}

func TestNextAllowedPanicsOnInvalidWindow(t *testing.T) {
	for _, w := range []Window{{}, {ClockOf(21, 0), ClockOf(8, 0)}, Default.Narrow(window(t, "22:00-23:00"))} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NextAllowed with %v did not panic", w)
				}
			}()
			NextAllowed(utc(2025, 6, 10, 12, 0), newYork, w)
		}()
	}
}
