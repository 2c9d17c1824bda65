package quiethours

import "testing"

func TestJournalNudgeDue(t *testing.T) {
	tests := []struct {
		missed int
		want   bool
	}{
		{-1, false}, // bad input: no nudge
		{0, false},  // journaled today
		{1, true},   // first missed day: one gentle nudge
		{2, false},  // back off
		{3, true},
		{4, false},
		{5, false},
		{6, false},
		{7, true}, // the last one
		{8, false},
		{14, false}, // paused until the client journals again: no weekly repeats
		{21, false},
		{30, false},
		{365, false},
	}
	for _, tt := range tests {
		if got := JournalNudgeDue(tt.missed); got != tt.want {
			t.Errorf("JournalNudgeDue(%d) = %v, want %v", tt.missed, got, tt.want)
		}
	}

	// However long the stretch, it brings at most three nudges; a new
	// stretch (after the client journals) starts over.
	nudges := 0
	for day := 1; day <= 1000; day++ {
		if JournalNudgeDue(day) {
			nudges++
		}
	}
	if nudges != 3 {
		t.Errorf("a 1000-day stretch brings %d nudges, want 3", nudges)
	}
}
