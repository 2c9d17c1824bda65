package publishers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Examples quoted in messages, so every message shows the form expected.
const (
	examplePhone    = "+14155550123"
	exampleTime     = "2026-12-01T10:00:00-05:00"
	exampleTimezone = "America/New_York"
)

// dataReader reads the members of an event's data object for one type's
// rules. Each accessor records the field as known (anything not asked for is
// an unknown field) and reports problems instead of stopping, so every
// problem in the data is found in one pass.
type dataReader struct {
	p      *problems
	fields map[string]json.RawMessage
	known  map[string]bool
}

func (r *dataReader) add(name, code, message string) { r.p.add("data."+name, code, message) }

// lookup returns a member's raw value; absent and null are both "not given".
func (r *dataReader) lookup(name string, required bool) (json.RawMessage, bool) {
	r.known[name] = true
	raw, ok := r.fields[name]
	if !ok || jsonKind(raw) == "null" {
		if required {
			r.add(name, CodeRequired, "is required")
		}
		return nil, false
	}
	return raw, true
}

// str returns a string member. ok is false when the member is absent, null,
// not a string (reported), or required but blank (reported).
func (r *dataReader) str(name string, required bool) (string, bool) {
	raw, given := r.lookup(name, required)
	if !given {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		r.add(name, CodeInvalidType, "must be a string, not "+jsonKind(raw))
		return "", false
	}
	if required && strings.TrimSpace(s) == "" {
		r.add(name, CodeRequired, "must not be empty")
		return "", false
	}
	return s, true
}

// id reads an identifier (client_id, session_id, ...).
func (r *dataReader) id(name string, required bool) string {
	s, ok := r.str(name, required)
	if ok {
		checkID(r.p, "data."+name, s, required)
	}
	return s
}

// text reads free text. An empty optional text counts as absent.
func (r *dataReader) text(name string, required bool, max int, multiline bool) string {
	s, ok := r.str(name, required)
	if ok && s != "" {
		checkText(r.p, "data."+name, s, max, multiline)
	}
	return s
}

func (r *dataReader) enum(name string, required bool, allowed ...string) string {
	s, ok := r.str(name, required)
	if ok && !slices.Contains(allowed, s) {
		r.add(name, CodeInvalidValue, fmt.Sprintf("%s is not one of %s", quote(s), strings.Join(allowed, ", ")))
	}
	return s
}

// phone reads an E.164 number. Messages mask the digits (invariant 8 in docs/invariants.md: they
// are logged) but keep the shape, which is usually what is wrong.
func (r *dataReader) phone(name string) {
	s, ok := r.str(name, false)
	if !ok {
		return
	}
	shown := quote(maskPhone(s))
	if !strings.HasPrefix(s, "+") {
		r.add(name, CodeInvalidFormat, fmt.Sprintf("%s is not an E.164 number: it must start with + and the country code (expected like %s)", shown, examplePhone))
		return
	}
	var num *phonenumbers.PhoneNumber
	var err error
	if len(s) <= 32 { // E.164 is at most 15 digits; don't parse a novel
		num, err = phonenumbers.Parse(s, "")
	}
	if num == nil || err != nil {
		r.add(name, CodeInvalidFormat, fmt.Sprintf("%s is not an E.164 number (expected like %s)", shown, examplePhone))
		return
	}
	if phonenumbers.Format(num, phonenumbers.E164) != s {
		r.add(name, CodeInvalidFormat, fmt.Sprintf("%s is not in E.164 form: + and digits only, no spaces, dashes or brackets (expected like %s)", shown, examplePhone))
		return
	}
	if !phonenumbers.IsValidNumber(num) {
		r.add(name, CodeInvalidFormat, fmt.Sprintf("%s is not a valid number for its country code (expected like %s)", shown, examplePhone))
	}
}

// email reads a bare address; display names ("Jane <jane@...>") are refused
// because the address is used as-is as the SendGrid recipient.
func (r *dataReader) email(name string) {
	s, ok := r.str(name, false)
	if !ok {
		return
	}
	if n := utf8.RuneCountInString(s); n > 254 { // RFC 5321 path limit
		r.add(name, CodeTooLong, fmt.Sprintf("is %d characters; the limit is 254", n))
		return
	}
	addr, err := mail.ParseAddress(s)
	switch {
	case err != nil:
		r.add(name, CodeInvalidFormat, fmt.Sprintf("%s is not an email address (expected like name@example.com)", quote(maskEmail(s))))
	case addr.Name != "" || addr.Address != s:
		r.add(name, CodeInvalidFormat, fmt.Sprintf("%s must be a bare address like name@example.com, without a display name or angle brackets", quote(maskEmail(s))))
	}
}

func (r *dataReader) timezone(name string) {
	s, ok := r.str(name, true)
	if !ok {
		return
	}
	if s == "Local" { // LoadLocation accepts it, but it means "wherever nudge runs"
		r.add(name, CodeInvalidValue, fmt.Sprintf(`"Local" is not allowed: name the client's IANA time zone (expected like %s)`, exampleTimezone))
		return
	}
	if _, err := time.LoadLocation(s); err != nil {
		r.add(name, CodeInvalidValue, fmt.Sprintf("%s is not an IANA time zone (expected like %s)", quote(s), exampleTimezone))
	}
}

// localeTag is a pragmatic BCP 47 shape: language, then subtags.
var localeTag = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

func (r *dataReader) locale(name string) {
	s, ok := r.str(name, false)
	if ok && (len(s) > 35 || !localeTag.MatchString(s)) {
		r.add(name, CodeInvalidFormat, fmt.Sprintf("%s is not a BCP 47 language tag (expected like en-US)", quote(s)))
	}
}

// timestamp reads an RFC 3339 time. It parses the string itself rather than
// relying on time.Time's JSON decoding so the rule is explicit: an offset
// ("Z" or "+hh:mm") is mandatory, because a local time without one is
// ambiguous and a reminder at the wrong hour is worse than none.
func (r *dataReader) timestamp(name string, required bool) time.Time {
	s, ok := r.str(name, required)
	if !ok {
		return time.Time{}
	}
	t, err := parseTimestamp(s)
	if err != nil {
		r.add(name, CodeInvalidFormat, err.Error())
	}
	return t
}

func parseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s is not an RFC 3339 time with an offset (expected like %s or 2026-12-01T15:00:00Z)", quote(s), exampleTime)
	}
	return t, nil
}

func (r *dataReader) date(name string) {
	s, ok := r.str(name, true)
	if !ok {
		return
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		r.add(name, CodeInvalidFormat, fmt.Sprintf("%s is not a calendar date in YYYY-MM-DD form (expected like 2026-12-01)", quote(s)))
	}
}

// integer reads a whole number within [min, max].
func (r *dataReader) integer(name string, min, max int64, unit string) {
	raw, given := r.lookup(name, false)
	if !given {
		return
	}
	if jsonKind(raw) != "number" {
		r.add(name, CodeInvalidType, "must be a whole number, not "+jsonKind(raw))
		return
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		r.add(name, CodeInvalidValue, fmt.Sprintf("must be between %d and %d%s", min, max, unit))
	case err != nil:
		r.add(name, CodeInvalidType, fmt.Sprintf("must be a whole number, not %s", quote(string(raw))))
	case n < min || n > max:
		r.add(name, CodeInvalidValue, fmt.Sprintf("is %d; it must be between %d and %d%s", n, min, max, unit))
	}
}

func (r *dataReader) boolean(name string) bool {
	raw, given := r.lookup(name, false)
	if given && jsonKind(raw) != "boolean" {
		r.add(name, CodeInvalidType, "must be true or false, not "+jsonKind(raw))
		return false
	}
	return given && string(raw) == "true"
}

// enumList reads an optional, non-empty list of distinct enum values;
// omitted says what leaving it out means.
func (r *dataReader) enumList(name, omitted string, allowed ...string) {
	raw, given := r.lookup(name, false)
	if !given {
		return
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		r.add(name, CodeInvalidType, "must be an array of strings, not "+jsonKind(raw))
		return
	}
	if len(list) == 0 {
		r.add(name, CodeInvalidValue, "must name at least one of "+strings.Join(allowed, ", ")+" (omit it "+omitted+")")
		return
	}
	seen := map[string]bool{}
	for i, item := range list {
		elem := fmt.Sprintf("%s[%d]", name, i)
		var s string
		if err := json.Unmarshal(item, &s); err != nil {
			r.add(elem, CodeInvalidType, "must be a string, not "+jsonKind(item))
			continue
		}
		switch {
		case !slices.Contains(allowed, s):
			r.add(elem, CodeInvalidValue, fmt.Sprintf("%s is not one of %s", quote(s), strings.Join(allowed, ", ")))
		case seen[s]:
			r.add(elem, CodeInvalidValue, fmt.Sprintf("%s is listed twice", quote(s)))
		}
		seen[s] = true
	}
}

// maskPhone hides all but the last two digits and keeps punctuation, so the
// producer sees the shape of what was wrong without the number being logged.
func maskPhone(s string) string {
	digits := 0
	for _, c := range s {
		if unicode.IsDigit(c) {
			digits++
		}
	}
	var b strings.Builder
	seen := 0
	for _, c := range s {
		switch {
		case unicode.IsDigit(c):
			if seen++; seen <= digits-2 {
				c = '*'
			}
		case unicode.IsLetter(c):
			c = '*'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// maskEmail hides letters and digits before the last "@" and keeps the
// domain, which is where most typos are.
func maskEmail(s string) string {
	at := strings.LastIndex(s, "@")
	local, domain := s, ""
	if at >= 0 {
		local, domain = s[:at], s[at:]
	}
	masked := strings.Map(func(c rune) rune {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			return '*'
		}
		return c
	}, local)
	return masked + domain
}
