package channel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors, wrapped inside a *ProviderError; check with errors.Is.
var (
	// ErrInvalidMessage: the message was refused before calling the
	// provider (no recipient, no text, malformed DeliveryID).
	ErrInvalidMessage = errors.New("channel: invalid message")
	// ErrUnauthorized: the provider rejected the credentials. A
	// configuration problem, not a problem with the message.
	ErrUnauthorized = errors.New("channel: provider rejected the credentials")
)

// Class says what to do about a failed send.
type Class int

const (
	// Transient failures may succeed later: retry after RetryAfter when it
	// is set, else after a backoff. If MaybeSent is set, Lookup first.
	Transient Class = iota + 1
	// Permanent failures fail again for the same message: record the
	// reason, do not retry.
	Permanent
	// RevokeConsent means the recipient told the provider to stop (Twilio
	// 21610): revoke consent on this channel, never retry.
	RevokeConsent
)

func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case RevokeConsent:
		return "revoke-consent"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// ProviderError classifies a provider failure once, where it happens, so
// callers never parse provider codes.
type ProviderError struct {
	Provider string // "twilio" or "sendgrid"
	Class    Class
	// Code is the provider's error code: Twilio's numeric code ("21610",
	// "20429"), the HTTP status for SendGrid, which has no codes. Empty
	// when no response arrived.
	Code string
	// Status is the HTTP status; 0 when no response arrived.
	Status int
	// RetryAfter is the provider's retry hint (Twilio Retry-After, SendGrid
	// X-RateLimit-Reset); always > 0 for a rate limit, 0 when there is none.
	RetryAfter time.Duration
	// MaybeSent is set when the request may have reached the provider but
	// nothing confirmed the outcome: a timeout or broken connection after
	// the request was written, or a 500/502/504. The message may have gone
	// out: Lookup before retrying, or it may be sent twice.
	MaybeSent bool
	// Message is the provider's explanation with phone numbers and email
	// addresses masked: safe to log and to store.
	Message string
	// Err is the underlying SDK or transport error. It may contain the
	// unmasked recipient; do not log it.
	Err error
}

func (e *ProviderError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s error", e.Provider, e.Class)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	if e.MaybeSent {
		b.WriteString("; the message may have been sent")
	}
	return b.String()
}

func (e *ProviderError) Unwrap() error { return e.Err }

// Classify returns err's *ProviderError. An error that is not one (it did
// not come from a Sender) is classified Transient with MaybeSent set,
// because nothing is known about it. Classify(nil) is nil.
func Classify(err error) *ProviderError {
	if err == nil {
		return nil
	}
	if pe, ok := errors.AsType[*ProviderError](err); ok {
		return pe
	}
	return &ProviderError{Class: Transient, MaybeSent: true, Message: redact(err.Error()), Err: err}
}

// transportError classifies a request that got no HTTP response.
func transportError(provider string, err error, wrote bool) *ProviderError {
	pe := &ProviderError{Provider: provider, Class: Transient, MaybeSent: wrote, Err: err}
	switch {
	case errors.Is(err, context.Canceled):
		pe.Message = "request cancelled"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		pe.Message = "request timed out"
	default:
		pe.Message = "request failed: " + redact(err.Error())
	}
	return pe
}

func isTimeout(err error) bool {
	t, ok := errors.AsType[interface {
		error
		Timeout() bool
	}](err)
	return ok && t.Timeout()
}

// statusError classifies an HTTP error status the same way for both
// providers; callers adjust Code, Message and provider-specific classes.
func statusError(provider string, status int, err error) *ProviderError {
	pe := &ProviderError{Provider: provider, Status: status, Code: strconv.Itoa(status), Err: err, Class: Permanent}
	switch {
	case status == http.StatusTooManyRequests:
		pe.Class = Transient
	case status >= 500:
		pe.Class = Transient
		// A 500, or a gateway's 502/504, may come after the provider
		// accepted the message; 503 means it was never processed.
		pe.MaybeSent = status == 500 || status == 502 || status == 504
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		pe.Err = errors.Join(ErrUnauthorized, err)
	}
	return pe
}

// minRetryAfter is the retry hint of a rate limit that gave none.
const minRetryAfter = time.Second

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(n, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
