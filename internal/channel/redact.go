package channel

import (
	"regexp"
	"strings"
)

var (
	// E.164 numbers as providers print them, also URL-encoded (%2B).
	phonePattern = regexp.MustCompile(`(\+|%2[Bb])\d{6,}`)
	emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
)

// redact masks phone numbers (all but the last two digits) and email
// addresses (all but the first character of the local part) in provider
// messages, which quote the recipient ("The 'To' number +1415... is not a
// valid phone number").
func redact(s string) string {
	s = emailPattern.ReplaceAllStringFunc(s, func(addr string) string {
		local, domain, _ := strings.Cut(addr, "@")
		return local[:1] + "***@" + domain
	})
	return phonePattern.ReplaceAllStringFunc(s, func(num string) string {
		prefix := "+"
		if !strings.HasPrefix(num, "+") {
			prefix = num[:3]
		}
		digits := num[len(prefix):]
		return prefix + strings.Repeat("*", len(digits)-2) + digits[len(digits)-2:]
	})
}
