package bench

import (
	"testing"
	"time"
)

// TestRunRemindersSmoke follows a handful of reminders through the real
// scheduler, deliverer and store to the fake Twilio. It asserts what the
// run did (each reminder at the provider once, sent in the ledger, never
// planned after its due time), never how fast.
func TestRunRemindersSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline and waits for the reminders to fall due; skipped with -short")
	}
	res, err := RunReminders(t.Context(), ReminderConfig{
		Store: "sqlite", ProviderLatency: time.Millisecond, SyncAlways: true, Workers: 4, Schedulers: 4,
		Pending: 50, Fire: 6, FireSpread: 2 * time.Second, Offset: 5 * time.Minute, // planned up to 5 s early
	})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Fire
	if !f.OK() || f.Arrived != 6 || f.Outcomes["sent"] != 6 {
		t.Errorf("fire: %+v", f)
	}
	if f.FiredLatest > 0 || f.FiredEarliest < -5*time.Second {
		t.Errorf("planned %v to %v from due, want within 5 s before it", f.FiredEarliest, f.FiredLatest)
	}
	if res.Pending.Reminders != 50 || res.Pending.Rate <= 0 || res.RawBefore <= 0 || res.RawAfter <= 0 {
		t.Errorf("pending %+v, raw %v / %v", res.Pending, res.RawBefore, res.RawAfter)
	}
}
