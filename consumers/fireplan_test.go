package consumers

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// noon keeps every fire time in these tests well inside the default window.
var planNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func planFixture(t *testing.T, cfg ReminderConfig, clients int) *schedFixture {
	t.Helper()
	cfg.Offsets = ReminderOffsets{2 * time.Hour}
	f := newSchedFixture(t, planNow, cfg)
	for i := range clients {
		f.client(t, store.Client{ID: fmt.Sprintf("c%d", i), Timezone: "UTC", Phone: fmt.Sprintf("+1415555%04d", i)})
	}
	return f
}

// fireTimes books n sessions starting at starts and returns each reminder's
// fire time by session.
func (f *schedFixture) fireTimes(t *testing.T, n int, starts time.Time) map[string]time.Time {
	t.Helper()
	for i := range n {
		f.book(t, fmt.Sprintf("S%d", i), fmt.Sprintf("c%d", i), starts, "in_person")
	}
	out := map[string]time.Time{}
	for _, s := range f.bus.byKey() {
		out[s.n.SessionID] = s.at
	}
	return out
}

func TestFirePlanSpreadsUnpacedRemindersEarlierNeverLater(t *testing.T) {
	f := planFixture(t, ReminderConfig{}, 50)
	starts := planNow.Add(6 * time.Hour)
	due := starts.Add(-2 * time.Hour)
	got := f.fireTimes(t, 50, starts)
	distinct := map[time.Time]bool{}
	for id, at := range got {
		if at.After(due.Add(-fireMargin)) || at.Before(due.Add(-DefaultReminderSpread)) {
			t.Errorf("%s fires at %v, want within %v before due %v", id, at, DefaultReminderSpread, due)
		}
		if at.Nanosecond() != 0 {
			t.Errorf("%s fires at %v, not on a whole second", id, at)
		}
		distinct[at] = true
	}
	if len(distinct) < 20 {
		t.Errorf("50 reminders due together fire in only %d distinct seconds", len(distinct))
	}

	// Scheduling again (a redelivered event, a profile update) picks the
	// same times: the schedule is replaced by an identical one.
	for i := range 50 {
		if err := f.rs.Sync(t.Context(), fmt.Sprintf("S%d", i), false); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range f.bus.byKey() {
		if !s.at.Equal(got[s.n.SessionID]) {
			t.Errorf("%s moved from %v to %v when scheduled again", s.n.Key, got[s.n.SessionID], s.at)
		}
	}
}

func TestFirePlanNeverBeforeNowAndNotForShortOffsets(t *testing.T) {
	// Due in 30 s: at most 29 s earlier, never in the past.
	f := planFixture(t, ReminderConfig{}, 20)
	starts := planNow.Add(2*time.Hour + 30*time.Second)
	for id, at := range f.fireTimes(t, 20, starts) {
		if at.Before(planNow.Add(time.Second)) || at.After(starts.Add(-2*time.Hour)) {
			t.Errorf("%s fires at %v: before now %v or after due", id, at, planNow)
		}
	}

	// At most a sixtieth of the offset early: offsets of seconds (tests,
	// demos) fire on time, as every reminder does with a negative Spread.
	for _, c := range []struct {
		cfg    ReminderConfig
		offset time.Duration
		want   time.Duration
	}{
		{ReminderConfig{}, 48 * time.Hour, DefaultReminderSpread},
		{ReminderConfig{}, 30 * time.Minute, 30 * time.Second},
		{ReminderConfig{}, 10 * time.Second, 0},
		{ReminderConfig{Spread: -1}, 48 * time.Hour, 0},
		{ReminderConfig{Spread: 10 * time.Minute}, 48 * time.Hour, 10 * time.Minute},
	} {
		if got := c.cfg.spreadFor(c.offset); got != c.want {
			t.Errorf("spread for %v with Spread %v = %v, want %v", c.offset, c.cfg.Spread, got, c.want)
		}
	}
}

func TestFirePlanFitsPacedRemindersInTheRate(t *testing.T) {
	for _, rate := range []float64{1, 0.5, 3} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			const n = 30
			f := planFixture(t, ReminderConfig{Rates: map[string]float64{string(vocab.SMS): rate}}, n)
			starts := planNow.Add(6 * time.Hour)
			due := starts.Add(-2 * time.Hour)
			got := f.fireTimes(t, n, starts)
			var times []time.Time
			for id, at := range got {
				if at.After(due.Add(-fireMargin)) {
					t.Errorf("%s fires at %v, after due %v minus the margin", id, at, due)
				}
				times = append(times, at)
			}
			slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
			// Never more than the rate allows in any window, and packed
			// right up to the due time: the earliest is as late as it can be.
			width := time.Second
			if rate < 1 {
				width = time.Duration(1/rate) * time.Second
			}
			perWidth := max(1, int(rate*width.Seconds()))
			for i := perWidth; i < len(times); i++ {
				if times[i].Sub(times[i-perWidth]) < width {
					t.Errorf("%d reminders within %v around %v, the rate allows %d", perWidth+1, width, times[i], perWidth)
				}
			}
			if need := time.Duration(float64(n)/rate*float64(time.Second)) + fireMargin + width; due.Sub(times[0]) > need {
				t.Errorf("the earliest fires %v before due, want at most %v", due.Sub(times[0]), need)
			}

			// Planned again, each keeps its room.
			for i := range n {
				if err := f.rs.Sync(t.Context(), fmt.Sprintf("S%d", i), false); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range f.bus.byKey() {
				if !s.at.Equal(got[s.n.SessionID]) {
					t.Errorf("%s moved from %v to %v when planned again", s.n.Key, got[s.n.SessionID], s.at)
				}
			}
		})
	}
}

func TestFirePlanPacedWithoutRoomFiresAtDue(t *testing.T) {
	// Due in 10 s at 1/s: room for about 8 before due; the rest go at due
	// and queue in the pacer (their expiry still bounds them).
	f := planFixture(t, ReminderConfig{Rates: map[string]float64{string(vocab.SMS): 1}}, 15)
	starts := planNow.Add(2*time.Hour + 10*time.Second)
	due := starts.Add(-2 * time.Hour)
	early, atDue := 0, 0
	for id, at := range f.fireTimes(t, 15, starts) {
		switch {
		case at.Equal(due):
			atDue++
		case at.Before(due) && !at.Before(planNow.Add(time.Second)):
			early++
		default:
			t.Errorf("%s fires at %v: after due %v or before now", id, at, due)
		}
	}
	if early != 8 || atDue != 7 {
		t.Errorf("%d early and %d at due, want 8 and 7", early, atDue)
	}
}

func TestFiredEarlyReminderIsNotScheduledAgain(t *testing.T) {
	f := planFixture(t, ReminderConfig{}, 1)
	starts := planNow.Add(6 * time.Hour)
	f.book(t, "S0", "c0", starts, "in_person")
	key := ReminderKey("S0", 1, 2*time.Hour, "sms")
	at := f.bus.byKey()[key].at
	published := f.bus.published

	// Between its (early) fire time and its due time the client switches
	// to email: the reminder has gone; no second one on email.
	f.now = at.Add(time.Second)
	f.client(t, store.Client{ID: "c0", Timezone: "UTC", Phone: "+14155550000", Email: "c0@example.org", PreferredChannel: "email"})
	if err := f.rs.ClientChanged(t.Context(), "c0"); err != nil {
		t.Fatal(err)
	}
	if f.bus.published != published {
		t.Errorf("%d schedules published after the reminder fired, want none", f.bus.published-published)
	}
	rows := f.reminders(t, "S0")
	if len(rows) != 1 || rows[key].State != store.ReminderScheduled {
		t.Errorf("reminders after the change: %+v", rows)
	}
}
