package quiethours

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Window is the allowed sending window on the client's local wall clock:
// a message may land at a local time t when Start <= t < End, compared by
// the minute (20:59:59 is inside an 08:00–21:00 window, 21:00:00 is not).
//
// A Window lies within one local day: Start < End, no overnight windows.
// Quiet hours are the complement, so "allowed 08:00–21:00" means "quiet
// 21:00–08:00". The zero Window is empty and not valid.
type Window struct {
	Start Clock // first allowed minute, 00:00–23:59
	End   Clock // first quiet minute after Start, 00:01–24:00 (exclusive)
}

// Default is nudge's sending window (invariant 6 in docs/invariants.md): 08:00 to 21:00 in
// the client's local time. Purposes may narrow it, never widen it.
var Default = Window{Start: ClockOf(8, 0), End: ClockOf(21, 0)}

// ErrInvalidWindow reports a window that is malformed, out of range, empty or
// overnight. Errors from ParseWindow and Window.Validate wrap it.
var ErrInvalidWindow = errors.New("invalid quiet-hours window")

// Validate reports whether w can be used; its errors name the field.
func (w Window) Validate() error {
	if problem := w.problem(); problem != "" {
		return fmt.Errorf("%w: %s", ErrInvalidWindow, problem)
	}
	return nil
}

func (w Window) problem() string {
	switch {
	case w.Start < 0 || w.Start >= EndOfDay:
		return fmt.Sprintf("Start %v out of range, want 00:00 to 23:59", w.Start)
	case w.Start == w.End:
		return fmt.Sprintf("Start and End are both %v, the window is empty", w.Start)
	case w.End <= 0 || w.End > EndOfDay:
		return fmt.Sprintf("End %v out of range, want 00:01 to 24:00", w.End)
	case w.Start > w.End:
		return fmt.Sprintf("Start %v is after End %v: overnight windows are not supported, a window must lie within one local day", w.Start, w.End)
	}
	return ""
}

// ParseWindow parses "HH:MM-HH:MM", for example "08:00-21:00". Spaces around
// the parts and an en dash ("08:00–21:00") are accepted. The result is
// validated: "21:00-08:00" (overnight) and "09:00-09:00" (empty) are errors.
func ParseWindow(s string) (Window, error) {
	start, end, ok := strings.Cut(s, "-")
	if !ok {
		start, end, ok = strings.Cut(s, "–")
	}
	if !ok {
		return Window{}, fmt.Errorf("%w: %q: want HH:MM-HH:MM, e.g. 08:00-21:00", ErrInvalidWindow, s)
	}
	var w Window
	var err error
	if w.Start, err = ParseClock(start); err != nil {
		return Window{}, fmt.Errorf("%w: %q: Start: %w", ErrInvalidWindow, s, err)
	}
	if w.End, err = ParseClock(end); err != nil {
		return Window{}, fmt.Errorf("%w: %q: End: %w", ErrInvalidWindow, s, err)
	}
	if problem := w.problem(); problem != "" {
		return Window{}, fmt.Errorf("%w: %q: %s", ErrInvalidWindow, s, problem)
	}
	return w, nil
}

// String formats w as "HH:MM-HH:MM", the form ParseWindow reads.
func (w Window) String() string { return w.Start.String() + "-" + w.End.String() }

// MarshalText implements encoding.TextMarshaler, so windows read and write
// as "08:00-21:00" in JSON, YAML and environment configuration.
func (w Window) MarshalText() ([]byte, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	return []byte(w.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseWindow.
func (w *Window) UnmarshalText(b []byte) error {
	parsed, err := ParseWindow(string(b))
	if err != nil {
		return err
	}
	*w = parsed
	return nil
}

// Narrow returns the intersection of w and other: a purpose's narrower window
// applied on top of the default can only remove allowed minutes. When the two
// do not overlap, or either is invalid, Narrow returns the zero Window, which
// fails Validate; check the result when loading configuration.
func (w Window) Narrow(other Window) Window {
	if w.Validate() != nil || other.Validate() != nil {
		return Window{}
	}
	n := Window{Start: max(w.Start, other.Start), End: min(w.End, other.End)}
	if n.Start >= n.End {
		return Window{}
	}
	return n
}

// Contains reports whether instant t falls inside w on the wall clock of loc,
// the client's zone. An invalid window contains nothing. loc must not be nil.
func (w Window) Contains(t time.Time, loc *time.Location) bool {
	m := minuteOfDay(t.In(loc))
	return w.Start <= m && m < w.End
}

func minuteOfDay(local time.Time) Clock {
	return ClockOf(local.Hour(), local.Minute())
}

func mustBeValid(fn string, w Window) {
	if err := w.Validate(); err != nil {
		// There is no safe answer for an empty window: every instant is quiet.
		// Returning t would send at night and returning the zero time would
		// send immediately, so fail loudly; configuration loading validates.
		panic(fmt.Errorf("quiethours.%s: %w", fn, err))
	}
}
