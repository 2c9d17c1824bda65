package quiethours

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Clock is a time of day on the client's wall clock, in minutes since local
// midnight: 0 is 00:00, 1439 is 23:59. EndOfDay (1440, written "24:00") is
// valid only as a Window's End, meaning "until midnight".
//
// A Clock is not an instant: on a daylight-saving transition day a given
// Clock may happen once, twice (the repeated hour in autumn) or not at all
// (the skipped hour in spring). Turning one into an instant is this
// package's job; see NextAllowed.
type Clock int

// EndOfDay is the exclusive End of a window that runs until midnight.
const EndOfDay Clock = 24 * 60

// ErrInvalidClock reports a time of day that is malformed or out of range.
var ErrInvalidClock = errors.New("invalid time of day")

// ClockOf returns the Clock for hour:minute. It does not validate; see
// Window.Validate.
func ClockOf(hour, minute int) Clock { return Clock(hour*60 + minute) }

// Hour is the hour part, 0–24.
func (c Clock) Hour() int { return int(c) / 60 }

// Minute is the minute part, 0–59.
func (c Clock) Minute() int { return int(c) % 60 }

// String formats c as "HH:MM" ("24:00" for EndOfDay).
func (c Clock) String() string {
	if c < 0 || c > EndOfDay {
		return fmt.Sprintf("Clock(%d)", int(c))
	}
	return fmt.Sprintf("%02d:%02d", c.Hour(), c.Minute())
}

// ParseClock parses "HH:MM" or "H:MM" on a 24-hour clock, 00:00 to 24:00.
// "24:00" is accepted here; Window.Validate allows it only as an End.
func ParseClock(s string) (Clock, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 || !digits(hh) || !digits(mm) {
		return 0, fmt.Errorf("%w: %q: want HH:MM on a 24-hour clock, e.g. 08:00", ErrInvalidClock, s)
	}
	h, _ := strconv.Atoi(hh)
	m, _ := strconv.Atoi(mm)
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%w: %q: out of range, want 00:00 to 24:00", ErrInvalidClock, s)
	}
	return ClockOf(h, m), nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
