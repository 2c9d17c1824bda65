package vocab_test

import (
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/vocab"
)

func TestPurposes(t *testing.T) {
	for _, p := range vocab.ConsentPurposes() {
		if !p.Consentable() || !p.Valid() {
			t.Errorf("%s: consentable %v, valid %v", p, p.Consentable(), p.Valid())
		}
	}
	// Replies answer a client's own message: no consent is ever recorded
	// for them, so a revocation under "replies" must be refused.
	if vocab.Replies.Consentable() || !vocab.Replies.Valid() {
		t.Error("replies must be valid but not consentable")
	}
	if vocab.Purpose("reminder").Valid() || vocab.Channel("fax").Valid() {
		t.Error("misspelt words must be invalid")
	}
}

func TestOffsetLabel(t *testing.T) {
	for d, want := range map[time.Duration]string{
		48 * time.Hour: "48h", 2 * time.Hour: "2h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s", 10 * time.Second: "10s",
	} {
		if got := vocab.OffsetLabel(d); got != want {
			t.Errorf("OffsetLabel(%v) = %q, want %q", d, got, want)
		}
	}
}
