package cron

import (
	"errors"
	"testing"
	"time"
)

func TestValidateNamesTheField(t *testing.T) {
	for expr, field := range map[string]int{
		"0 0 10 * *":           -1, // five fields
		"0 0 10 * * mon,thu 1": -1,
		"60 0 10 * * *":        0,
		"0 61 10 * * *":        1,
		"0 0 24 * * *":         2,
		"0 0 10 0 * *":         3,
		"0 0 10 * 13 *":        4,
		"0 0 10 * * funday":    5,
		"0 0 10 31 2 *":        -1, // never fires
	} {
		err := Validate(expr)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("Validate(%q) = %v, want a problem with field %d", expr, err, field)
		}
	}
	for _, ok := range []string{"0 0 10 * * mon,thu", "*/5 * * * * *", "0 30 9 * * 1-5", "0 0 8,18 * * *"} {
		if err := Validate(ok); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
}

// TestDaylightSavingKeepsTheWallClock walks a Monday/Thursday 10:00
// schedule across the spring and autumn changes in New York and London:
// every fire is at 10:00 on the client's clock, whatever the UTC offset.
func TestDaylightSavingKeepsTheWallClock(t *testing.T) {
	for _, zone := range []string{"America/New_York", "Europe/London"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		offsets := map[int]bool{}
		at := time.Date(2026, 2, 20, 0, 0, 0, 0, loc)
		for at.Before(time.Date(2026, 11, 20, 0, 0, 0, 0, loc)) {
			next, err := Next("0 0 10 * * mon,thu", loc, at)
			if err != nil {
				t.Fatal(err)
			}
			local := next.In(loc)
			if local.Hour() != 10 || local.Minute() != 0 || (local.Weekday() != time.Monday && local.Weekday() != time.Thursday) {
				t.Fatalf("%s: fire at %v, want Monday or Thursday 10:00", zone, local)
			}
			_, off := local.Zone()
			offsets[off] = true
			at = next
		}
		if len(offsets) != 2 {
			t.Errorf("%s: fires saw %d UTC offsets, want both sides of a change", zone, len(offsets))
		}
	}
	// The week the US has changed and the UK not yet: the same schedule is
	// 14:00 UTC in New York and 10:00 UTC in London.
	ny, _ := time.LoadLocation("America/New_York")
	lon, _ := time.LoadLocation("Europe/London")
	after := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	n1, _ := Next("0 0 10 * * mon,thu", ny, after)
	n2, _ := Next("0 0 10 * * mon,thu", lon, after)
	if want := time.Date(2026, 3, 16, 14, 0, 0, 0, time.UTC); !n1.Equal(want) {
		t.Errorf("New York: %v, want %v", n1.UTC(), want)
	}
	if want := time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC); !n2.Equal(want) {
		t.Errorf("London: %v, want %v", n2.UTC(), want)
	}
}

func TestFromDaysAt(t *testing.T) {
	got, err := FromDaysAt([]string{"thu", "mon"}, "10:00")
	if err != nil || got != "0 0 10 * * mon,thu" {
		t.Errorf("FromDaysAt(thu,mon 10:00) = %q, %v", got, err)
	}
	if err := Validate(got); err != nil {
		t.Errorf("the server would refuse %q: %v", got, err)
	}
	got, _ = FromDaysAt([]string{"sun", "sat"}, "07:05")
	if got != "0 5 7 * * sat,sun" {
		t.Errorf("weekend: %q", got)
	}
	for _, bad := range [][2]string{{"mon", "25:00"}, {"mon", "9:00"}, {"monday", "09:00"}, {"", "09:00"}} {
		if _, err := FromDaysAt([]string{bad[0]}, bad[1]); err == nil {
			t.Errorf("FromDaysAt(%q, %q) accepted", bad[0], bad[1])
		}
	}
	days, at, err := ParseDaysAt("mon,thu 10:00")
	if err != nil || len(days) != 2 || at != "10:00" {
		t.Errorf("ParseDaysAt = %v %q %v", days, at, err)
	}
	if _, _, err := ParseDaysAt("mon,thu"); err == nil {
		t.Error("ParseDaysAt without a time accepted")
	}
}
