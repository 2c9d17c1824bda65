package sqlstore

import (
	"fmt"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// invalid builds an error matching store.ErrInvalid.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{store.ErrInvalid}, args...)...)
}

// required fails for the first empty value; pairs are name, value.
func required(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return invalid("%s is empty", pairs[i])
		}
	}
	return nil
}

func validChannel(ch vocab.Channel) error {
	if ch.Valid() {
		return nil
	}
	return invalid("unknown channel %q", ch)
}

// validPurpose is strict on purpose: a revoke recorded under a misspelt
// purpose would silently leave the real consent active.
func validPurpose(p vocab.Purpose) error {
	if p.Consentable() {
		return nil
	}
	return invalid("unknown purpose %q", p)
}
