package cron

import (
	"fmt"
	"strings"
	"time"
)

// FieldNames are the six fields of an expression, in order.
var FieldNames = [6]string{"second", "minute", "hour", "day of month", "month", "day of week"}

var fieldBounds = [6]bounds{seconds, minutes, hours, dom, months, dow}

// FieldError is a problem with one field of an expression.
type FieldError struct {
	Field   int    // 0-based index into FieldNames; -1 for the whole expression
	Message string // the server's words
}

func (e *FieldError) Error() string {
	if e.Field < 0 {
		return e.Message
	}
	return fmt.Sprintf("%s field: %s", FieldNames[e.Field], e.Message)
}

// Validate checks expr the way the server will when the schedule is
// published: six space-separated fields, seconds first, each within its
// range, and a fire time within five years. The predefined @daily, @hourly
// … and @every/@at forms are not accepted here: nudge's recurring
// schedules are always written out.
func Validate(expr string) error {
	fields := strings.Fields(expr)
	if len(fields) != 6 {
		return &FieldError{Field: -1, Message: fmt.Sprintf("want 6 fields (second minute hour day-of-month month day-of-week), got %d", len(fields))}
	}
	for i, f := range fields {
		if _, err := getField(f, fieldBounds[i]); err != nil {
			return &FieldError{Field: i, Message: err.Error()}
		}
	}
	if _, err := parseCron(expr, time.UTC, time.Now().UnixNano()); err != nil {
		return &FieldError{Field: -1, Message: err.Error()}
	}
	return nil
}

// Next is the first fire time of expr strictly after after, on the wall
// clock of loc, as the server computes it.
func Next(expr string, loc *time.Location, after time.Time) (time.Time, error) {
	return parseCron(expr, loc, after.UnixNano())
}

// weekdayNames are the day-of-week names the server reads.
var weekdayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// FromDaysAt writes "these weekdays at HH:MM" as the 6-field expression
// the server runs: days "mon","thu" at "10:00" is "0 0 10 * * mon,thu".
// Days are listed in week order, each once.
func FromDaysAt(days []string, at string) (string, error) {
	t, err := time.Parse("15:04", at)
	if err != nil || len(at) != 5 {
		return "", fmt.Errorf("at %q: want HH:MM on a 24-hour clock", at)
	}
	if len(days) == 0 {
		return "", fmt.Errorf("days: none given, want e.g. mon,thu")
	}
	var names []string
	for _, want := range weekdayNames {
		for _, d := range days {
			if strings.EqualFold(strings.TrimSpace(d), want) {
				names = append(names, want)
				break
			}
		}
	}
	if len(names) != len(days) {
		return "", fmt.Errorf("days %v: want distinct names among mon, tue, wed, thu, fri, sat, sun", days)
	}
	// Sunday last reads more naturally in the week nudge's users know.
	if names[0] == "sun" {
		names = append(names[1:], "sun")
	}
	return fmt.Sprintf("0 %d %d * * %s", t.Minute(), t.Hour(), strings.Join(names, ",")), nil
}

// ParseDaysAt reads the practice's default schedule as written in
// NUDGE_ENCOURAGEMENT_SCHEDULE, "mon,thu 10:00", into days and at.
func ParseDaysAt(s string) (days []string, at string, err error) {
	d, a, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return nil, "", fmt.Errorf("schedule %q: want days and a time, e.g. \"mon,thu 10:00\"", s)
	}
	days = strings.Split(d, ",")
	at = strings.TrimSpace(a)
	if _, err := FromDaysAt(days, at); err != nil {
		return nil, "", fmt.Errorf("schedule %q: %w", s, err)
	}
	return days, at, nil
}
