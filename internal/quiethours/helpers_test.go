package quiethours

import (
	"testing"
	"time"
)

// Zones used across the tests. Loading them in a helper keeps each table
// readable; the embedded tzdata makes them load on any machine.
var (
	newYork    = mustZone("America/New_York")
	losAngeles = mustZone("America/Los_Angeles")
	london     = mustZone("Europe/London")
	lordHowe   = mustZone("Australia/Lord_Howe")
	kolkata    = mustZone("Asia/Kolkata")
	havana     = mustZone("America/Havana")
	santiago   = mustZone("America/Santiago")
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// utc is an instant written in UTC. Expected values in the tables are UTC
// instants worked out by hand from the zone's offsets (see the comments), so
// a test never checks the code's wall-clock conversion with the same
// conversion.
func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func window(t *testing.T, s string) Window {
	t.Helper()
	w, err := ParseWindow(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func fmtInstant(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "zero"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z") + " (" + t.In(loc).Format("Jan 2 15:04:05 MST -07:00") + ")"
}
