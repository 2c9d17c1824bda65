package staff

import (
	"net/mail"
	"strings"
	"time"
)

// LockAfter failed logins in a row make an account wait before the next
// try; see LoginBackoff.
const LockAfter = 5

// Backoff bounds: the first lock lasts lockBase, each further failure
// doubles it, up to lockMax.
const (
	lockBase = 30 * time.Second
	lockMax  = 15 * time.Minute
)

// LoginBackoff is how long an account waits after its failures-th failed
// login in a row: nothing before LockAfter, then 30 s, 1 min, 2 min …
// at most 15 min. A correct password ends the backoff only once the wait
// is over (it is not even checked before).
func LoginBackoff(failures int) time.Duration {
	if failures < LockAfter {
		return 0
	}
	d := lockBase
	for i := LockAfter; i < failures && d < lockMax; i++ {
		d *= 2
	}
	return min(d, lockMax)
}

// NormalizeEmail returns the canonical form of a staff login (trimmed,
// lower case) and whether it is a plain address (local@domain, no display
// name, no spaces).
func NormalizeEmail(email string) (string, bool) {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" || len(e) > 254 || strings.Count(e, "@") != 1 {
		return e, false
	}
	a, err := mail.ParseAddress(e)
	return e, err == nil && a.Name == "" && a.Address == e && !strings.HasPrefix(e, "@") && !strings.HasSuffix(e, "@")
}
