package templates

import (
	"testing"
	"time"
)

func TestFormatWhen(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC) // 3 PM in New York, 9 PM in Madrid
	for _, c := range []struct {
		loc    *time.Location
		locale string
		want   string
	}{
		{ny, "en", "Thu, Dec 3 at 3:00 PM"},
		{ny, "en-US", "Thu, Dec 3 at 3:00 PM"},
		{ny, "", "Thu, Dec 3 at 3:00 PM"},
		{ny, "fr", "Thu, Dec 3 at 3:00 PM"},
		{ny, "es", "jueves 3 de diciembre a las 15:00"},
		{ny, "es-MX", "jueves 3 de diciembre a las 15:00"},
		{madrid, "es", "jueves 3 de diciembre a las 21:00"},
		{nil, "en", "Thu, Dec 3 at 8:00 PM"},
	} {
		if got := FormatWhen(start, c.loc, c.locale); got != c.want {
			t.Errorf("FormatWhen(%v, %q) = %q, want %q", c.loc, c.locale, got, c.want)
		}
	}
	// The client's day, not UTC's: 23:30 on Saturday in New York is
	// Sunday in UTC.
	late := time.Date(2026, 3, 1, 4, 30, 0, 0, time.UTC)
	if got, want := FormatWhen(late, ny, "es"), "sábado 28 de febrero a las 23:30"; got != want {
		t.Errorf("late evening: %q, want %q", got, want)
	}
}
