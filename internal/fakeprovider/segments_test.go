package fakeprovider

import (
	"strings"
	"testing"
)

func TestSegments(t *testing.T) {
	for _, tc := range []struct {
		body string
		want int
	}{
		{"", 1},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1}, // extension characters cost two septets
		{strings.Repeat("€", 81), 2},
		{strings.Repeat("é", 160), 1}, // é is in the GSM-7 basic set
		{strings.Repeat("ę", 70), 1},  // ę is not: UCS-2
		{strings.Repeat("ę", 71), 2},
		{strings.Repeat("🙂", 35), 1}, // surrogate pairs count twice
		{strings.Repeat("🙂", 36), 2},
	} {
		if got := segments(tc.body); got != tc.want {
			t.Errorf("segments(%d runes of %q) = %d, want %d", len([]rune(tc.body)), []rune(tc.body + " ")[0], got, tc.want)
		}
	}
}
