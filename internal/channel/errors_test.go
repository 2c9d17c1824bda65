package channel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"The 'To' number +14155550123 is not a valid phone number.":            "The 'To' number +*********23 is not a valid phone number.",
		`Get "https://api.twilio.com/...Messages.json?To=%2B14155550123": EOF`: `Get "https://api.twilio.com/...Messages.json?To=%2B*********23": EOF`,
		"Does not contain a valid address: sam.smith@example.com":              "Does not contain a valid address: s***@example.com",
		"error 21211 at 2010-04-01 for AC0123456789abcdef":                     "error 21211 at 2010-04-01 for AC0123456789abcdef",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":     0,
		"7":    7 * time.Second,
		"-3":   0,
		"soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestClassify(t *testing.T) {
	if Classify(nil) != nil {
		t.Fatal("Classify(nil) != nil")
	}
	pe := &ProviderError{Provider: "twilio", Class: RevokeConsent, Code: "21610", Status: 400, Message: "Attempt to send to unsubscribed recipient"}
	wrapped := fmt.Errorf("delivering d1: %w", pe)
	if Classify(wrapped) != pe {
		t.Fatal("Classify does not unwrap")
	}
	if got := pe.Error(); got != "twilio: revoke-consent error 21610 (HTTP 400): Attempt to send to unsubscribed recipient" {
		t.Fatalf("Error() = %q", got)
	}
	unknown := Classify(errors.New("boom"))
	if unknown.Class != Transient || !unknown.MaybeSent {
		t.Fatalf("unknown error: %+v", unknown)
	}
	rl := &ProviderError{Provider: "sendgrid", Class: Transient, Code: "429", Status: 429, Message: "too many requests", RetryAfter: 2 * time.Second}
	if got := rl.Error(); got != "sendgrid: transient error 429 (HTTP 429): too many requests; retry after 2s" {
		t.Fatalf("Error() = %q", got)
	}
	te := transportError("twilio", fmt.Errorf("Post: %w", context.DeadlineExceeded), true)
	if !errors.Is(te, context.DeadlineExceeded) || te.Error() != "twilio: transient error: request timed out; the message may have been sent" {
		t.Fatalf("transport error: %q", te.Error())
	}
	if Class(0).String() != "Class(0)" {
		t.Fatal(Class(0).String())
	}
}
