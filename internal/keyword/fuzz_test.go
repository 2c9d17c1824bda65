package keyword

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzClassify checks properties every classification must keep: it never
// panics, the kind is a known one, a decided kind names its keyword, only
// Crisis carries a second opt-out, surrounding white space changes nothing,
// and an ASCII message means the same in upper and lower case. The seed
// corpus lives in testdata/fuzz/FuzzClassify.
func FuzzClassify(f *testing.F) {
	for _, seed := range []string{"STOP", "c", "please stop texting me", "I'll stop by", "quiero morir"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got := Classify(body)
		if got.Kind < Unknown || got.Kind > Crisis {
			t.Fatalf("Classify(%q) kind %d out of range", body, got.Kind)
		}
		if (got.Kind == Unknown) != (got.Keyword == "") {
			t.Fatalf("Classify(%q) = %+v: keyword must be set exactly when the kind is known", body, got)
		}
		if got.AlsoOptOut != (got.OptOutKeyword != "") || (got.AlsoOptOut && got.Kind != Crisis) {
			t.Fatalf("Classify(%q) = %+v: AlsoOptOut only on Crisis, with its keyword", body, got)
		}
		if padded := Classify(" \t" + body + "\n "); padded != got {
			t.Fatalf("Classify(%q) = %+v, but padded with white space %+v", body, got, padded)
		}
		if isASCII(body) {
			upper, lower := Classify(strings.ToUpper(body)), Classify(strings.ToLower(body))
			if upper.Kind != got.Kind || lower.Kind != got.Kind {
				t.Fatalf("Classify(%q) = %v, upper case %v, lower case %v", body, got.Kind, upper.Kind, lower.Kind)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
