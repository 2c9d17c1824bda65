package keyword

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// words normalises an inbound message and splits it into words, so that
// every way of typing a keyword compares equal:
//
//   - compatibility forms fold to plain ones (fullwidth "ＳＴＯＰ" is "stop");
//   - accents are stripped ("envíes" is "envies", "sí" is "si");
//   - case is folded;
//   - apostrophes join ("don't" and "don’t" are "dont");
//   - invisible format characters vanish (a zero-width space cannot split
//     "STOP" in two);
//   - anything else that is not a letter or digit separates words, so
//     punctuation, emoji and white space around a keyword do not matter.
func words(body string) []string {
	var out []string
	var w strings.Builder
	flush := func() {
		if w.Len() > 0 {
			out = append(out, w.String())
			w.Reset()
		}
	}
	for _, r := range norm.NFKD.String(body) {
		switch {
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Cf, r), isApostrophe(r):
			// dropped: accents, invisible formatting, apostrophes
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			w.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return out
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', '‘', 'ʼ', '`', '′':
		return true
	}
	return false
}
