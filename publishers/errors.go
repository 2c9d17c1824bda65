package publishers

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidEvent is the sentinel every validation failure matches, so callers
// (the HTTP ingest, the CLI) can map it to a 4xx without knowing the details:
//
//	if errors.Is(err, publishers.ErrInvalidEvent) { ... 400 ... }
var ErrInvalidEvent = errors.New("invalid event")

// Stable machine codes for [FieldError.Code]. Producers branch on these, so
// they never change meaning; new codes may be added.
const (
	CodeMalformedJSON  = "malformed_json"  // the body is not JSON at all
	CodeRequired       = "required"        // missing, null or empty
	CodeInvalidType    = "invalid_type"    // wrong JSON type (e.g. number where a string belongs)
	CodeInvalidFormat  = "invalid_format"  // right type, wrong shape (E.164, RFC 3339, YYYY-MM-DD ...)
	CodeInvalidValue   = "invalid_value"   // well-formed but not allowed (enum, range, contradiction)
	CodeTooLong        = "too_long"        // exceeds a length limit
	CodeUnknownType    = "unknown_type"    // type is not in the catalogue
	CodeNotAccepted    = "not_accepted"    // type exists but nudge emits it; producers cannot submit it
	CodeUnknownField   = "unknown_field"   // attribute or data field nudge does not know
	CodeDuplicateField = "duplicate_field" // the same key appears twice in one JSON object
	CodeTooManyErrors  = "too_many_errors" // the list was cut at MaxFieldErrors
)

// MaxFieldErrors bounds the problems reported for one event, so a hostile
// body with a hundred thousand bad keys costs little to reject.
const MaxFieldErrors = 100

// FieldError names one problem with one field of an event.
type FieldError struct {
	// Field is a JSON path into the event: "id", "time", "data.phone".
	// It is "" for problems with the body as a whole (malformed JSON).
	Field string `json:"field"`
	// Code is one of the Code* constants.
	Code string `json:"code"`
	// Message is a human explanation meant for the producer's developer. It
	// never contains a full phone number or email address (invariant 8 in docs/invariants.md:
	// these messages end up in logs).
	Message string `json:"message"`
}

// Error renders the problem as "field: message".
func (f FieldError) Error() string {
	if f.Field == "" {
		return f.Message
	}
	return f.Field + ": " + f.Message
}

// ValidationError collects every problem found in one event, so a producer
// fixes them all in one round trip rather than one per attempt.
type ValidationError struct {
	Fields []FieldError `json:"fields"`
}

// Error lists all problems, separated by "; ".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid event: ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Error())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidEvent) true for every ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidEvent }

// problems accumulates FieldErrors while validating.
type problems []FieldError

func (p *problems) add(field, code, message string) {
	switch {
	case len(*p) > MaxFieldErrors:
		return
	case len(*p) == MaxFieldErrors:
		field, code, message = "", CodeTooManyErrors, fmt.Sprintf("more than %d problems; fix these and try again", MaxFieldErrors)
	}
	*p = append(*p, FieldError{Field: field, Code: code, Message: message})
}

// has reports whether field already has a problem, so a later check does not
// pile a second, less precise complaint on the same field.
func (p problems) has(field string) bool {
	for _, f := range p {
		if f.Field == field {
			return true
		}
	}
	return false
}

// err returns nil when there are no problems. The explicit nil matters: a nil
// *ValidationError stored in an error interface would not compare equal to nil.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Fields: p}
}
