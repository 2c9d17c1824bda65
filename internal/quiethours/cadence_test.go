package quiethours

import (
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

func TestDefaultCadence(t *testing.T) {
	c := DefaultCadence()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[vocab.Purpose]int{vocab.Encouragement: 1, vocab.Journal: 1, vocab.Announcements: 2}
	if len(c.MaxPerDay) != len(want) || c.MaxPerWeek != 7 {
		t.Fatalf("DefaultCadence() = %+v", c)
	}
	for p, n := range want {
		if c.MaxPerDay[p] != n {
			t.Errorf("MaxPerDay[%q] = %d, want %d", p, c.MaxPerDay[p], n)
		}
	}
	// Each call returns its own map: a caller tweaking one cannot change the default.
	c.MaxPerDay[vocab.Encouragement] = 5
	if DefaultCadence().MaxPerDay[vocab.Encouragement] != 1 {
		t.Error("DefaultCadence shares its map between calls")
	}
}

func TestCadenceValidate(t *testing.T) {
	tests := []struct {
		c     Cadence
		field string
	}{
		{DefaultCadence(), ""},
		{Cadence{MaxPerWeek: 3}, ""},
		{Cadence{}, "MaxPerWeek"},
		{Cadence{MaxPerWeek: -1}, "MaxPerWeek"},
		{Cadence{MaxPerWeek: 7, MaxPerDay: map[vocab.Purpose]int{"journal": -1}}, `MaxPerDay["journal"]`},
		{Cadence{MaxPerWeek: 7, MaxPerDay: map[vocab.Purpose]int{"journal": 1, "announcements": 0}}, `MaxPerDay["announcements"]`},
	}
	for _, tt := range tests {
		err := tt.c.Validate()
		if (tt.field == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), tt.field)) {
			t.Errorf("%+v.Validate() = %v, want error naming %q", tt.c, err, tt.field)
		}
	}
}

func TestCadenceAllow(t *testing.T) {
	def := DefaultCadence()
	sends := func(purpose vocab.Purpose, ats ...time.Time) []Sent {
		var out []Sent
		for _, at := range ats {
			out = append(out, Sent{Purpose: purpose, At: at})
		}
		return out
	}
	join := func(parts ...[]Sent) []Sent {
		var out []Sent
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	// Seven non-urgent sends, one a day at 10:00 EDT, Jun 3 to Jun 9.
	week := join(
		sends(vocab.Encouragement, utc(2025, 6, 3, 14, 0), utc(2025, 6, 5, 14, 0), utc(2025, 6, 7, 14, 0)),
		sends(vocab.Journal, utc(2025, 6, 4, 14, 0), utc(2025, 6, 6, 14, 0)),
		sends(vocab.Announcements, utc(2025, 6, 8, 14, 0), utc(2025, 6, 9, 14, 0)),
	)
	tests := []struct {
		name    string
		c       Cadence
		purpose vocab.Purpose
		at      time.Time
		loc     *time.Location
		recent  []Sent
		ok      bool
		next    time.Time // when !ok
		reason  string
		// heldAgain: still held at next (a cap of 0 holds every day).
		heldAgain bool
	}{
		{name: "nothing sent", c: def, purpose: vocab.Encouragement, at: utc(2025, 6, 10, 14, 0), loc: newYork, ok: true},
		{name: "reminders exempt from everything", c: def, purpose: vocab.Reminders, at: utc(2025, 6, 10, 14, 0), loc: newYork,
			recent: join(week, sends(vocab.Reminders, utc(2025, 6, 10, 12, 0), utc(2025, 6, 10, 13, 0)), sends(vocab.Encouragement, utc(2025, 6, 10, 13, 0))), ok: true},
		{name: "reminders exempt with a zero cap", c: Cadence{MaxPerDay: map[vocab.Purpose]int{vocab.Reminders: 0}, MaxPerWeek: 1}, purpose: vocab.Reminders, at: utc(2025, 6, 10, 14, 0), loc: newYork,
			recent: week, ok: true},

		// Daily cap on the client's local calendar day.
		{name: "second encouragement the same NY day, across UTC midnight", c: def, purpose: vocab.Encouragement,
			at: utc(2025, 6, 11, 0, 0), loc: newYork, // 20:00 EDT Jun 10
			recent: sends(vocab.Encouragement, utc(2025, 6, 10, 13, 0)), // 09:00 EDT Jun 10
			next:   utc(2025, 6, 11, 4, 0), reason: ReasonDailyCap},     // 00:00 EDT Jun 11
		{name: "previous NY evening is another day, same UTC day", c: def, purpose: vocab.Encouragement,
			at: utc(2025, 6, 10, 12, 0), loc: newYork, // 08:00 EDT Jun 10
			recent: sends(vocab.Encouragement, utc(2025, 6, 10, 3, 30)), // 23:30 EDT Jun 9
			ok:     true},
		{name: "same instants in Kolkata are one day", c: def, purpose: vocab.Encouragement,
			at: utc(2025, 6, 10, 12, 0), loc: kolkata, // 17:30 IST Jun 10
			recent: sends(vocab.Encouragement, utc(2025, 6, 10, 3, 30)), // 09:00 IST Jun 10
			next:   utc(2025, 6, 10, 18, 30), reason: ReasonDailyCap},   // 00:00 IST Jun 11
		{name: "per purpose: journal today does not block encouragement", c: def, purpose: vocab.Encouragement, at: utc(2025, 6, 10, 20, 0), loc: newYork,
			recent: sends(vocab.Journal, utc(2025, 6, 10, 13, 0)), ok: true},
		{name: "announcements: second of the day allowed", c: def, purpose: vocab.Announcements, at: utc(2025, 6, 10, 20, 0), loc: newYork,
			recent: sends(vocab.Announcements, utc(2025, 6, 10, 13, 0)), ok: true},
		{name: "announcements: third of the day held", c: def, purpose: vocab.Announcements, at: utc(2025, 6, 10, 20, 0), loc: newYork,
			recent: sends(vocab.Announcements, utc(2025, 6, 10, 13, 0), utc(2025, 6, 10, 15, 0)),
			next:   utc(2025, 6, 11, 4, 0), reason: ReasonDailyCap},
		{name: "purpose without a daily cap", c: def, purpose: "newsletter", at: utc(2025, 6, 10, 20, 0), loc: newYork,
			recent: sends("newsletter", utc(2025, 6, 10, 13, 0), utc(2025, 6, 10, 14, 0), utc(2025, 6, 10, 15, 0)), ok: true},
		{name: "daily cap 0 holds every day", c: Cadence{MaxPerDay: map[vocab.Purpose]int{vocab.Announcements: 0}, MaxPerWeek: 7}, purpose: vocab.Announcements, at: utc(2025, 6, 10, 20, 0), loc: newYork,
			next: utc(2025, 6, 11, 4, 0), reason: ReasonDailyCap, heldAgain: true},
		{name: "send later the same day counts too", c: def, purpose: vocab.Encouragement, at: utc(2025, 6, 10, 13, 0), loc: newYork,
			recent: sends(vocab.Encouragement, utc(2025, 6, 10, 20, 0)), next: utc(2025, 6, 11, 4, 0), reason: ReasonDailyCap},

		// Local days across daylight saving.
		{name: "ny spring day (23 h): 00:30 EST and 22:00 EDT are one day", c: def, purpose: vocab.Journal,
			at: utc(2025, 3, 10, 2, 0), loc: newYork, recent: sends(vocab.Journal, utc(2025, 3, 9, 5, 30)),
			next: utc(2025, 3, 10, 4, 0), reason: ReasonDailyCap}, // 00:00 EDT Mar 10
		{name: "ny fall day (25 h): 01:30 EDT and 23:30 EST are one day", c: def, purpose: vocab.Journal,
			at: utc(2025, 11, 3, 4, 30), loc: newYork, recent: sends(vocab.Journal, utc(2025, 11, 2, 5, 30)),
			next: utc(2025, 11, 3, 5, 0), reason: ReasonDailyCap}, // 00:00 EST Nov 3
		{name: "havana: midnight skipped, the day starts at 01:00 CDT", c: def, purpose: vocab.Encouragement,
			at: utc(2025, 3, 9, 2, 0), loc: havana, // 21:00 CST Mar 8
			recent: sends(vocab.Encouragement, utc(2025, 3, 8, 16, 0)), // 11:00 CST Mar 8
			next:   utc(2025, 3, 9, 5, 0), reason: ReasonDailyCap},
		{name: "santiago: midnight falls back to 23:00, the day starts at the second midnight", c: def, purpose: vocab.Encouragement,
			at: utc(2025, 4, 5, 23, 0), loc: santiago, // 20:00 -03 Apr 5
			recent: sends(vocab.Encouragement, utc(2025, 4, 5, 13, 0)), // 10:00 -03 Apr 5
			next:   utc(2025, 4, 6, 4, 0), reason: ReasonDailyCap},     // 00:00 -04 Apr 6
		{name: "santiago: the repeated 23:30 is still Apr 5", c: def, purpose: vocab.Encouragement,
			at: utc(2025, 4, 6, 3, 30), loc: santiago, // 23:30 -04 Apr 5
			recent: sends(vocab.Encouragement, utc(2025, 4, 5, 13, 0)),
			next:   utc(2025, 4, 6, 4, 0), reason: ReasonDailyCap},
		{name: "lord howe: 30-minute spring day", c: def, purpose: vocab.Encouragement,
			at: utc(2025, 10, 5, 9, 0), loc: lordHowe, // 20:00 +11 Oct 5
			recent: sends(vocab.Encouragement, utc(2025, 10, 4, 14, 0)), // 00:30 +10:30 Oct 5
			next:   utc(2025, 10, 5, 13, 0), reason: ReasonDailyCap},    // 00:00 +11 Oct 6

		// Weekly cap, rolling.
		{name: "seven in the last week: held until the oldest ages out", c: def, purpose: vocab.Encouragement, at: utc(2025, 6, 10, 12, 0), loc: newYork,
			recent: week, next: utc(2025, 6, 10, 14, 0), reason: ReasonWeeklyCap}, // Jun 3 14:00Z + 168 h
		{name: "eight in the last week: held until two age out", c: def, purpose: vocab.Encouragement, at: utc(2025, 6, 10, 12, 0), loc: newYork,
			recent: join(week, sends(vocab.Journal, utc(2025, 6, 5, 18, 0))), next: utc(2025, 6, 11, 14, 0), reason: ReasonWeeklyCap},
		{name: "a send exactly a week ago has aged out", c: def, purpose: vocab.Encouragement, at: utc(2025, 6, 10, 14, 0), loc: newYork,
			recent: week, ok: true},
		{name: "a send a week less a second ago still counts", c: def, purpose: vocab.Encouragement, at: utc(2025, 6, 10, 14, 0).Add(-time.Second), loc: newYork,
			recent: week, next: utc(2025, 6, 10, 14, 0), reason: ReasonWeeklyCap},
		{name: "six plus reminders is fine: reminders do not count", c: def, purpose: vocab.Encouragement, at: utc(2025, 6, 10, 14, 0), loc: newYork,
			recent: join(week[1:], sends(vocab.Reminders, utc(2025, 6, 9, 12, 0), utc(2025, 6, 10, 12, 0), utc(2025, 6, 10, 13, 0))), ok: true},
		{name: "no weekly cap when MaxPerWeek is 0", c: Cadence{MaxPerDay: def.MaxPerDay}, purpose: vocab.Encouragement, at: utc(2025, 6, 10, 14, 0), loc: newYork,
			recent: join(week, week), ok: true},
		{name: "rolling week is 168 hours across fall back", c: Cadence{MaxPerWeek: 1}, purpose: vocab.Encouragement,
			at: utc(2025, 11, 4, 16, 0), loc: newYork, recent: sends(vocab.Journal, utc(2025, 11, 1, 16, 0)), // 12:00 EDT Nov 1
			next: utc(2025, 11, 8, 16, 0), reason: ReasonWeeklyCap}, // 11:00 EST Nov 8

		// Both caps: next is the later, reason names it.
		{name: "daily cap binds later than weekly", c: def, purpose: vocab.Encouragement, at: utc(2025, 6, 11, 0, 0), loc: newYork,
			recent: join(sends(vocab.Encouragement, utc(2025, 6, 10, 13, 0)), sends(vocab.Journal, utc(2025, 6, 4, 2, 0), utc(2025, 6, 5, 2, 0), utc(2025, 6, 6, 2, 0), utc(2025, 6, 7, 2, 0), utc(2025, 6, 8, 2, 0), utc(2025, 6, 9, 2, 0))),
			next:   utc(2025, 6, 11, 4, 0), reason: ReasonDailyCap}, // weekly frees at Jun 11 02:00Z
		{name: "weekly cap binds later than daily", c: def, purpose: vocab.Encouragement, at: utc(2025, 6, 11, 0, 0), loc: newYork,
			recent: join(sends(vocab.Encouragement, utc(2025, 6, 10, 13, 0)), sends(vocab.Journal, utc(2025, 6, 4, 10, 0), utc(2025, 6, 5, 2, 0), utc(2025, 6, 6, 2, 0), utc(2025, 6, 7, 2, 0), utc(2025, 6, 8, 2, 0), utc(2025, 6, 9, 2, 0))),
			next:   utc(2025, 6, 11, 10, 0), reason: ReasonWeeklyCap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, next, reason := tt.c.Allow(tt.purpose, tt.at, tt.loc, tt.recent)
			if ok != tt.ok || reason != tt.reason {
				t.Fatalf("Allow = %v, %s, %q; want %v, %s, %q", ok, fmtInstant(next, tt.loc), reason, tt.ok, fmtInstant(tt.next, tt.loc), tt.reason)
			}
			want := tt.next
			if ok {
				want = tt.at
			}
			if !next.Equal(want) {
				t.Fatalf("next = %s, want %s", fmtInstant(next, tt.loc), fmtInstant(want, tt.loc))
			}
			if ok {
				return
			}
			if next.Location() != tt.loc {
				t.Errorf("next in %s, want %s", next.Location(), tt.loc)
			}
			// Allowed at next, as long as nothing else is sent meanwhile.
			if tt.heldAgain {
				if ok, _, _ := tt.c.Allow(tt.purpose, next, tt.loc, tt.recent); ok {
					t.Errorf("allowed at next %s", fmtInstant(next, tt.loc))
				}
				return
			}
			if ok, n, r := tt.c.Allow(tt.purpose, next, tt.loc, tt.recent); ok == tt.heldAgain {
				t.Errorf("still held at next %s: %s, %q", fmtInstant(next, tt.loc), fmtInstant(n, tt.loc), r)
			}
			// And held a moment before.
			if ok, _, _ := tt.c.Allow(tt.purpose, next.Add(-time.Second), tt.loc, tt.recent); ok {
				t.Errorf("allowed a second before next %s", fmtInstant(next, tt.loc))
			}
		})
	}
}
