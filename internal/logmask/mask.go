// Package logmask keeps phone numbers, email addresses (PRODUCT.md
// invariant 8 in docs/invariants.md) and credentials out of nudge's logs: Handler wraps any
// slog.Handler and masks them in the message, in every attribute — strings, errors, groups,
// structs logged with slog.Any — and in attributes added with WithAttrs.
//
// A phone number keeps its leading "+", its first digits (country code and
// the start of the national number: up to four, always leaving at least
// five hidden) and its last two digits: "+14155550123" becomes
// "+1415*****23".
// An email keeps the first character of the local part and the domain:
// "jane.doe@example.com" becomes "j***@example.com".
package logmask

import (
	"regexp"
	"strings"
)

// Emails, also URL-encoded (%40) as they appear in logged query strings.
var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// String returns s with credentials (see [Credentials]), phone numbers and
// email addresses masked. It
// returns s itself, without allocating, when there is nothing to mask.
func String(s string) string {
	s = Credentials(s)
	hasAt, digits := scan(s)
	if hasAt {
		s = maskEmails(s)
	}
	if digits >= 7 {
		s = maskPhones(s)
	}
	return s
}

// scan is the cheap test run on every string: an email needs an "@" (or
// "%40"), a phone number at least seven digits.
func scan(s string) (hasAt bool, digits int) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '@':
			hasAt = true
		case c == '%' && i+2 < len(s) && s[i+1] == '4' && s[i+2] == '0':
			hasAt = true
		}
	}
	return hasAt, digits
}

func maskEmails(s string) string {
	return emailPattern.ReplaceAllStringFunc(s, func(addr string) string {
		sep := "@"
		i := strings.IndexByte(addr, '@')
		if i < 0 {
			sep = "%40"
			i = strings.Index(addr, sep)
		}
		if i <= 0 {
			return addr
		}
		return addr[:1] + "***" + sep + addr[i+len(sep):]
	})
}

// Phone numbers come in three shapes:
//   - international: "+" (or URL-encoded "%2B") and 7–15 digits, with
//     spaces, dots, dashes or parentheses between them: "+14155550123",
//     "+1 (415) 555-0123", "+44 20 7946 0958", "%2B14155550123";
//   - North American formatted: "(415) 555-0123", "415-555-0123",
//     "415.555.0123", "1-415-555-0123";
//   - a bare run of 10–15 digits: "4155550123".
//
// A hand-written scanner finds them: it checks the characters around a
// candidate (Go regexps have no look-behind) so that dates, times, IP
// addresses, decimals, versions and ids stay intact, and it is an order of
// magnitude faster than the equivalent regexp on digit-heavy lines.
func maskPhones(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		start, end := i, findPhone(s, i)
		if end < 0 {
			i++
			continue
		}
		if end == 0 {
			// Not a phone: skip the rest of this digit run so no match
			// starts in its middle.
			i++
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			continue
		}
		if last == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:start])
		writeMaskedPhone(&b, s[start:end])
		last, i = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// findPhone reports whether a phone number starts at s[i]: its end, 0 when
// a digit run starts there that is not one, or -1 when no candidate
// starts there at all.
func findPhone(s string, i int) int {
	var prev byte
	if i > 0 {
		prev = s[i-1]
	}
	c := s[i]
	switch {
	case c == '+':
		if isDigit(prev) {
			return -1
		}
		return international(s, i, i+1)
	case c == '%' && len(s) >= i+4 && s[i+1] == '2' && (s[i+2] == 'B' || s[i+2] == 'b'):
		return international(s, i, i+3)
	case c == '(' || isDigit(c):
		if isAlnum(prev) || prev == '_' || prev == '.' || prev == '-' || prev == '/' || prev == '+' {
			if isDigit(c) {
				return 0
			}
			return -1
		}
		if end := northAmerican(s, i); end > 0 && rightBoundary(s, end) {
			return end
		}
		if isDigit(c) {
			n := digitRun(s, i)
			if n >= 10 && n <= 15 && rightBoundary(s, i+n) {
				return i + n
			}
			return 0
		}
	}
	return -1
}

// international matches an optional "(" and 7–15 digits from s[j], at
// most two separators (space . - ( )) between digits.
func international(s string, i, j int) int {
	if j < len(s) && s[j] == '(' {
		j++
	}
	if j >= len(s) || !isDigit(s[j]) {
		return -1
	}
	digits, end := 0, j
	for j < len(s) {
		if isDigit(s[j]) {
			digits++
			j++
			end = j
			continue
		}
		seps := 0
		for j < len(s) && seps <= 2 && isPhoneSep(s[j]) {
			j++
			seps++
		}
		if seps == 0 || seps > 2 || j >= len(s) || !isDigit(s[j]) {
			break
		}
	}
	if digits < 7 || digits > 15 || !rightBoundary(s, end) {
		return -1
	}
	return end
}

// northAmerican matches [1[sep]](ddd)[ ]ddd-dddd or [1[sep]]ddd-ddd-dddd
// with "-", "." or " " as the separator.
func northAmerican(s string, i int) int {
	j := i
	if j+1 < len(s) && s[j] == '1' && !isDigit(s[j+1]) && s[j+1] != '(' {
		j++
		if isNASep(s[j]) {
			j++
		}
	} else if j+1 < len(s) && s[j] == '1' && s[j+1] == '(' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '(':
		if digitRun(s, j+1) != 3 || j+4 >= len(s) || s[j+4] != ')' {
			return -1
		}
		j += 5
		if j < len(s) && s[j] == ' ' {
			j++
		}
	case digitRun(s, j) == 3 && j+3 < len(s) && isNASep(s[j+3]):
		j += 4
	default:
		return -1
	}
	if digitRun(s, j) != 3 || j+3 >= len(s) || !isNASep(s[j+3]) {
		return -1
	}
	j += 4
	if digitRun(s, j) != 4 {
		return -1
	}
	return j + 4
}

// rightBoundary rejects a match that continues as something else: a word,
// an id, a decimal ("…0123.5"), a time ("…:30"), a path.
func rightBoundary(s string, end int) bool {
	if end >= len(s) {
		return true
	}
	n := s[end]
	if isAlnum(n) || n == '_' {
		return false
	}
	if (n == '.' || n == '-' || n == ':' || n == '/') && end+1 < len(s) && isAlnum(s[end+1]) {
		return false
	}
	return true
}

func digitRun(s string, i int) int {
	n := 0
	for i+n < len(s) && isDigit(s[i+n]) {
		n++
	}
	return n
}

func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isPhoneSep(c byte) bool { return c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' }
func isNASep(c byte) bool    { return c == ' ' || c == '.' || c == '-' }

// writeMaskedPhone writes the number's prefix ("+", "%2B" or nothing),
// its first digits, a star per hidden digit and its last two digits.
// At least five digits are always hidden.
func writeMaskedPhone(b *strings.Builder, num string) {
	switch {
	case strings.HasPrefix(num, "+"):
		b.WriteByte('+')
	case len(num) > 3 && num[0] == '%':
		b.WriteString(num[:3])
		num = num[3:]
	}
	var digits [20]byte
	n := 0
	for i := 0; i < len(num) && n < len(digits); i++ {
		if c := num[i]; c >= '0' && c <= '9' {
			digits[n] = c
			n++
		}
	}
	head := min(4, n-2-5)
	if head < 0 {
		head = 0
	}
	tail := 2
	b.Write(digits[:head])
	for range n - head - tail {
		b.WriteByte('*')
	}
	b.Write(digits[n-tail : n])
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
