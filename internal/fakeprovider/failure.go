package fakeprovider

import (
	"net/http"
	"time"
)

// Failure is one injected provider failure. The zero value does nothing.
//
// A request that draws a Failure is handled in this order: when Accepted is
// set the request is first processed normally (the message is stored and its
// callbacks or events are scheduled); then the response is held back for
// Delay or until the client gives up; then the fake answers with Status (and
// the provider's error body for Code/Message), or, when Status is 0, with the
// normal response.
type Failure struct {
	// Status is the HTTP status to answer with (429, 400, 500, 503...). 0
	// answers normally, which with Delay set makes a slow but successful call.
	Status int
	// Code is the provider error code in the body. Twilio: the numeric code
	// (21610, 20429...); 0 picks the usual code for Status. SendGrid has no
	// codes and ignores it.
	Code int
	// Message overrides the error message in the body.
	Message string
	// RetryAfter is the retry hint of a 429: the Retry-After header for
	// Twilio, X-RateLimit-Reset (a Unix time) for SendGrid.
	RetryAfter time.Duration
	// Delay holds the response back this long, or until the client gives up
	// or the fake is closed.
	Delay time.Duration
	// Accepted processes the request before failing: the provider did its
	// job but the caller never learns it (the "timeout after accept" case
	// crash reconciliation exists for).
	Accepted bool
}

// hangForever is long enough that only the client's deadline or Close ends
// the wait.
const hangForever = 24 * time.Hour

// RateLimited answers 429 with a retry hint (Twilio code 20429).
func RateLimited(retryAfter time.Duration) Failure {
	return Failure{Status: http.StatusTooManyRequests, RetryAfter: retryAfter}
}

// ServerError answers with a 5xx status (500, 502, 503...).
func ServerError(status int) Failure {
	return Failure{Status: status}
}

// Timeout never answers: the request hangs until the client gives up or the
// fake is closed.
func Timeout() Failure {
	return Failure{Delay: hangForever, Status: http.StatusGatewayTimeout}
}

// Slow answers normally after d.
func Slow(d time.Duration) Failure {
	return Failure{Delay: d}
}

// LostResponse accepts the request (the message is sent) and then never
// answers, so the client times out not knowing the message went out.
func LostResponse() Failure {
	return Failure{Accepted: true, Delay: hangForever, Status: http.StatusGatewayTimeout}
}

// TwilioError answers 400 with a Twilio error code, e.g. 21610 (recipient
// unsubscribed), 21211 (invalid To), 21612, 21614, 21408.
func TwilioError(code int) Failure {
	return Failure{Status: http.StatusBadRequest, Code: code}
}

// SendGridError answers status with SendGrid's errors body carrying message.
func SendGridError(status int, message string) Failure {
	return Failure{Status: status, Message: message}
}
