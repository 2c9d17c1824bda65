package quiethours_test

import (
	"fmt"
	"time"

	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/vocab"
)

// A practice in New York reminds a client in Los Angeles two hours before an
// 08:30 (New York) session. Due at 06:30 New York time, that is 03:30 for
// the client, so the reminder moves to the client's 20:59 the evening before.
func ExamplePlaceReminder() {
	newYork, _ := time.LoadLocation("America/New_York")
	client, _ := time.LoadLocation("America/Los_Angeles")

	session := time.Date(2025, 6, 10, 8, 30, 0, 0, newYork)
	due := session.Add(-2 * time.Hour)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, newYork)

	p := quiethours.PlaceReminder(due, session, now, client, quiethours.Default)
	fmt.Println(p.At.Format("Mon Jan 2 15:04 MST"), p.Reason)
	// Output: Mon Jun 9 20:59 PDT quiet_hours_moved_earlier
}

// Booked at 23:00 for 09:00 the next morning: the 2-hour reminder (07:00)
// cannot move earlier into the past, so it goes when the window opens.
func ExampleReminderPolicy_Place() {
	client, _ := time.LoadLocation("Europe/London")
	now := time.Date(2025, 6, 10, 23, 0, 0, 0, client)
	session := time.Date(2025, 6, 11, 9, 0, 0, 0, client)

	policy := quiethours.ReminderPolicy{Window: quiethours.Default, MinLead: 30 * time.Minute}
	p := policy.Place(session.Add(-2*time.Hour), session, now, client)
	fmt.Println(p.At.Format("15:04"), p.Reason)

	// For an 08:15 session there is no allowed minute 30 minutes ahead.
	session = time.Date(2025, 6, 11, 8, 15, 0, 0, client)
	p = policy.Place(session.Add(-2*time.Hour), session, now, client)
	fmt.Println(p.Skip, p.Reason)
	// Output:
	// 08:00 quiet_hours_next_opening
	// true quiet_hours_no_slot
}

// An encouragement planned for 22:15 waits for the morning; the morning the
// clocks spring forward, 08:00 is still 08:00 on the client's wall clock.
func ExampleNextAllowed() {
	client, _ := time.LoadLocation("America/New_York")
	planned := time.Date(2025, 3, 8, 22, 15, 0, 0, client)
	fmt.Println(quiethours.NextAllowed(planned, client, quiethours.Default).Format("Mon Jan 2 15:04 MST"))
	// Output: Sun Mar 9 08:00 EDT
}

// A purpose may narrow the default window, never widen it.
func ExampleWindow_Narrow() {
	announcements, err := quiethours.ParseWindow("10:00-22:00")
	if err != nil {
		panic(err)
	}
	fmt.Println(quiethours.Default.Narrow(announcements))

	_, err = quiethours.ParseWindow("21:00-08:00")
	fmt.Println(err)
	// Output:
	// 10:00-21:00
	// invalid quiet-hours window: "21:00-08:00": Start 21:00 is after End 08:00: overnight windows are not supported, a window must lie within one local day
}

// A second encouragement on the same local day waits for the next day.
func ExampleCadence_Allow() {
	client, _ := time.LoadLocation("Asia/Kolkata")
	recent := []quiethours.Sent{
		{Purpose: vocab.Encouragement, At: time.Date(2025, 6, 10, 9, 0, 0, 0, client)},
	}
	at := time.Date(2025, 6, 10, 18, 0, 0, 0, client)

	ok, next, reason := quiethours.DefaultCadence().Allow(vocab.Encouragement, at, client, recent)
	fmt.Println(ok, next.Format("Jan 2 15:04"), reason)

	ok, _, _ = quiethours.DefaultCadence().Allow(vocab.Reminders, at, client, recent)
	fmt.Println(ok)
	// Output:
	// false Jun 11 00:00 cadence_daily_cap
	// true
}

func ExampleJournalNudgeDue() {
	for day := 1; day <= 10; day++ {
		if quiethours.JournalNudgeDue(day) {
			fmt.Print(day, " ")
		}
	}
	fmt.Println()
	// Output: 1 3 7
}
