package unsubscribe_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nudgehq/nudge/internal/unsubscribe"
	"github.com/nudgehq/nudge/internal/vocab"
)

func TestTokenRoundTripAndForgery(t *testing.T) {
	s, err := unsubscribe.New([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	c := unsubscribe.Claim{ClientID: "c-77", Address: "ada@example.com", Purpose: vocab.Reminders, DeliveryID: "dlv_abc"}
	tok, err := s.Token(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Open(tok)
	if err != nil || got != c {
		t.Fatalf("Open = %+v, %v; want %+v", got, err, c)
	}
	// Opaque: neither the client nor the address shows in the link.
	for _, secret := range []string{"c-77", "ada", "example", "reminders"} {
		if strings.Contains(tok, secret) {
			t.Errorf("token %s shows %q", tok, secret)
		}
	}
	// Not guessable: the same claim gives another token every time.
	if again, _ := s.Token(c); again == tok {
		t.Error("two tokens for one claim are equal")
	}

	other, _ := unsubscribe.New([]byte(strings.Repeat("x", 32)))
	otherTok, _ := other.Token(c)
	flipped := []byte(tok)
	flipped[len(flipped)/2] ^= 1
	for name, bad := range map[string]string{
		"another secret": otherTok, "one character changed": string(flipped), "truncated": tok[:len(tok)-4],
		"empty": "", "garbage": "dlv_abc", "not base64": "!!!!",
	} {
		if _, err := s.Open(bad); !errors.Is(err, unsubscribe.ErrInvalidToken) {
			t.Errorf("%s: Open = %v, want ErrInvalidToken", name, err)
		}
	}
	if _, err := unsubscribe.New([]byte("short")); err == nil {
		t.Error("a short secret was accepted")
	}
	if _, err := s.Token(unsubscribe.Claim{ClientID: "c", Address: "a@b.c", Purpose: vocab.Replies}); err == nil {
		t.Error("a token for a purpose without consent was made")
	}
}
