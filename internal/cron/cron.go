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
