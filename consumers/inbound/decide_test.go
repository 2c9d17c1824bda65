package inbound

import (
	"testing"

	"github.com/nudgehq/nudge/internal/keyword"
)

// FuzzDecide: whatever a client texts, crisis language and unanswered
// messages reach the staff inbox (invariant 9 in docs/invariants.md), in every state the sender
// may be in.
func FuzzDecide(f *testing.F) {
	for _, s := range []string{"STOP", "I want to die", "YES", "C", "can we move friday?", "HOPE"} {
		f.Add(s, false, false)
	}
	f.Fuzz(func(t *testing.T, body string, optedOut, hasSession bool) {
		p := &decision{msg: Message{Body: body}, res: keyword.Classify(body), optedOut: optedOut, hasSession: hasSession}
		p.decide()
		if p.res.Kind == keyword.Crisis && !p.needsStaff {
			t.Fatalf("crisis message %q kept out of the staff inbox", body)
		}
		if p.res.Kind == keyword.Unknown && !p.needsStaff {
			t.Fatalf("unanswered message %q kept out of the staff inbox", body)
		}
		if p.res.Kind == keyword.Confirm && p.res.Keyword == "YES" && optedOut {
			t.Fatalf("a YES after an opt-out was taken as a confirmation")
		}
	})
}
