// Package channeltest is the conformance suite every channel.Sender passes,
// run against its provider's fake (package fakeprovider): the Twilio sender
// against the fake Twilio, the SendGrid sender against the fake SendGrid.
package channeltest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/vocab"
)

// Controls lets the suite steer the provider fake behind a Sender.
type Controls struct {
	// Recipient returns a valid recipient address, distinct for distinct i.
	Recipient func(i int) string
	// InvalidRecipient is an address the provider refuses as invalid.
	InvalidRecipient string
	// Sent returns the messages the provider accepted, oldest first.
	Sent func() []Sent
	// CheckRequest asserts on the exact request the provider received for m
	// (form fields, JSON body), given the Sent it produced.
	CheckRequest func(t *testing.T, m channel.Message, s Sent)

	// BreakCredentials makes the provider reject the sender's credentials.
	BreakCredentials func()
	// RateLimitNext answers the next request with a rate limit carrying
	// retryAfter.
	RateLimitNext func(retryAfter time.Duration)
	// ServerErrorNext answers the next request with a 5xx status.
	ServerErrorNext func(status int)
	// HangNext makes the next request hang until the client gives up.
	HangNext func()
	// LoseResponseNext makes the provider accept the next send and never
	// answer.
	LoseResponseNext func()
	// RevokeNext refuses the next send because the recipient revoked
	// consent with the provider (Twilio 21610). nil when the channel has no
	// such send-time error (SendGrid reports unsubscribes as events).
	RevokeNext func()
}

// Sent is a message as the provider received it.
type Sent struct {
	ProviderID string
	To         string
	Subject    string // email only
	Text       string // SMS body or email text/plain part
	HTML       string // email only
	// DeliveryRef is the delivery id as the provider carries it (SendGrid
	// custom arg, Twilio status callback URL).
	DeliveryRef string
}

// NewSender returns a Sender wired to a fresh provider fake, and the
// controls of that fake. It is called once per subtest.
type NewSender func(t *testing.T) (channel.Sender, *Controls)

// Run runs the suite.
func Run(t *testing.T, newSender NewSender) {
	tests := []struct {
		name string
		fn   func(*testing.T, channel.Sender, *Controls)
	}{
		{"SendIsCapturedExactly", testSend},
		{"InvalidMessageIsPermanent", testInvalidMessage},
		{"InvalidRecipientIsPermanent", testInvalidRecipient},
		{"BadCredentialsArePermanent", testBadCredentials},
		{"RateLimitIsTransientWithRetryAfter", testRateLimit},
		{"ServerErrorsAreTransient", testServerErrors},
		{"DeadlineIsTransient", testDeadline},
		{"CancelIsTransient", testCancel},
		{"RevokeConsent", testRevoke},
		{"LookupFindsSentNotUnsent", testLookup},
		{"LookupReconcilesLostResponse", testLostResponse},
		{"ConcurrentSends", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newSender(t)
			tc.fn(t, s, c)
		})
	}
}

// message returns the i-th test message; texts differ so that channels that
// reconcile by content can tell them apart.
func message(c *Controls, i int) channel.Message {
	return channel.Message{
		DeliveryID: fmt.Sprintf("dlv-%d-%d", i, time.Now().UnixNano()),
		To:         c.Recipient(i),
		Subject:    "A note from Harbor Therapy",
		Text:       fmt.Sprintf("Hi Sam, see you Tuesday at 3pm. Reply C to confirm. (%d)", i),
		HTML:       fmt.Sprintf("<p>Hi Sam, see you Tuesday at 3pm. (%d)</p>", i),
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// expect asserts that err is a *ProviderError of class want.
func expect(t *testing.T, err error, want channel.Class) *channel.ProviderError {
	t.Helper()
	if err == nil {
		t.Fatalf("Send succeeded, want a %s error", want)
	}
	pe, ok := errors.AsType[*channel.ProviderError](err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *channel.ProviderError", err, err)
	}
	if pe.Class != want {
		t.Fatalf("error %q has class %s, want %s", err, pe.Class, want)
	}
	if channel.Classify(err) != pe {
		t.Fatalf("Classify does not return the error's *ProviderError")
	}
	return pe
}

func testSend(t *testing.T, s channel.Sender, c *Controls) {
	m := message(c, 0)
	r, err := s.Send(ctx(t), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if r.ProviderID == "" || r.Status == "" {
		t.Fatalf("receipt %+v lacks ProviderID or Status", r)
	}
	sent := c.Sent()
	if len(sent) != 1 {
		t.Fatalf("provider received %d messages, want 1", len(sent))
	}
	got := sent[0]
	want := Sent{ProviderID: r.ProviderID, To: m.To, Text: m.Text, DeliveryRef: m.DeliveryID}
	if s.Channel() == vocab.Email {
		want.Subject, want.HTML = m.Subject, m.HTML
	}
	if got != want {
		t.Fatalf("provider received\n%+v\nwant\n%+v", got, want)
	}
	if c.CheckRequest != nil {
		c.CheckRequest(t, m, got)
	}
}

func testInvalidMessage(t *testing.T, s channel.Sender, c *Controls) {
	for name, mutate := range map[string]func(*channel.Message){
		"no recipient":      func(m *channel.Message) { m.To = "" },
		"no text":           func(m *channel.Message) { m.Text, m.HTML = "", "" },
		"no delivery id":    func(m *channel.Message) { m.DeliveryID = "" },
		"quote in delivery": func(m *channel.Message) { m.DeliveryID = `x"y` },
	} {
		m := message(c, 0)
		mutate(&m)
		_, err := s.Send(ctx(t), m)
		expect(t, err, channel.Permanent)
		if !errors.Is(err, channel.ErrInvalidMessage) {
			t.Fatalf("%s: %v is not ErrInvalidMessage", name, err)
		}
	}
	if n := len(c.Sent()); n != 0 {
		t.Fatalf("invalid messages reached the provider (%d)", n)
	}
}

func testInvalidRecipient(t *testing.T, s channel.Sender, c *Controls) {
	m := message(c, 0)
	m.To = c.InvalidRecipient
	_, err := s.Send(ctx(t), m)
	pe := expect(t, err, channel.Permanent)
	if pe.Status != 400 || pe.Message == "" {
		t.Fatalf("invalid recipient: %+v", pe)
	}
}

func testBadCredentials(t *testing.T, s channel.Sender, c *Controls) {
	c.BreakCredentials()
	_, err := s.Send(ctx(t), message(c, 0))
	pe := expect(t, err, channel.Permanent)
	if pe.Status != 401 || !errors.Is(err, channel.ErrUnauthorized) {
		t.Fatalf("bad credentials: %+v", pe)
	}
}

func testRateLimit(t *testing.T, s channel.Sender, c *Controls) {
	c.RateLimitNext(3 * time.Second)
	_, err := s.Send(ctx(t), message(c, 0))
	pe := expect(t, err, channel.Transient)
	if pe.Status != 429 || pe.RetryAfter < time.Second || pe.RetryAfter > 4*time.Second || pe.MaybeSent {
		t.Fatalf("rate limit: %+v", pe)
	}
	if _, err := s.Send(ctx(t), message(c, 1)); err != nil {
		t.Fatalf("send after the rate limit: %v", err)
	}
}

func testServerErrors(t *testing.T, s channel.Sender, c *Controls) {
	for _, tc := range []struct {
		status    int
		maybeSent bool
	}{{500, true}, {502, true}, {503, false}} {
		c.ServerErrorNext(tc.status)
		_, err := s.Send(ctx(t), message(c, 0))
		pe := expect(t, err, channel.Transient)
		if pe.Status != tc.status || pe.MaybeSent != tc.maybeSent {
			t.Fatalf("%d: %+v", tc.status, pe)
		}
	}
	if n := len(c.Sent()); n != 0 {
		t.Fatalf("provider accepted %d messages despite errors", n)
	}
}

func testDeadline(t *testing.T, s channel.Sender, c *Controls) {
	c.HangNext()
	dctx, cancel := context.WithTimeout(ctx(t), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Send(dctx, message(c, 0))
	pe := expect(t, err, channel.Transient)
	if !errors.Is(err, context.DeadlineExceeded) || !pe.MaybeSent {
		t.Fatalf("deadline: %+v (err %v); want DeadlineExceeded and MaybeSent", pe, pe.Err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Send ignored its deadline: returned after %v", d)
	}
}

func testCancel(t *testing.T, s channel.Sender, c *Controls) {
	cctx, cancel := context.WithCancel(ctx(t))
	cancel()
	_, err := s.Send(cctx, message(c, 0))
	pe := expect(t, err, channel.Transient)
	if !errors.Is(err, context.Canceled) || pe.MaybeSent {
		t.Fatalf("cancelled before sending: %+v", pe)
	}
}

func testRevoke(t *testing.T, s channel.Sender, c *Controls) {
	if c.RevokeNext == nil {
		t.Skipf("%s has no send-time revoke-consent error", s.Channel())
	}
	c.RevokeNext()
	_, err := s.Send(ctx(t), message(c, 0))
	expect(t, err, channel.RevokeConsent)
}

// lookup polls Lookup until it finds m: providers index sent messages
// asynchronously.
func lookup(t *testing.T, s channel.Sender, m channel.Message, since time.Time) channel.Receipt {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, found, err := s.Lookup(ctx(t), m, since)
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		if found {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("Lookup did not find %s", m.DeliveryID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testLookup(t *testing.T, s channel.Sender, c *Controls) {
	since := time.Now()
	sentMsg, unsent := message(c, 0), message(c, 1)
	r, err := s.Send(ctx(t), sentMsg)
	if err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, s, sentMsg, since); got.ProviderID != r.ProviderID || got.Status == "" {
		t.Fatalf("Lookup found %+v, want ProviderID %s", got, r.ProviderID)
	}
	if got, found, err := s.Lookup(ctx(t), unsent, since); err != nil || found {
		t.Fatalf("Lookup of an unsent message: %+v found=%v err=%v", got, found, err)
	}
	// Same recipient, different delivery: not the sent message either.
	other := message(c, 2)
	other.To = sentMsg.To
	if got, found, err := s.Lookup(ctx(t), other, since); err != nil || found {
		t.Fatalf("Lookup of another delivery to the same recipient: %+v found=%v err=%v", got, found, err)
	}
}

func testLostResponse(t *testing.T, s channel.Sender, c *Controls) {
	if c.LoseResponseNext == nil {
		t.Skip("the fake cannot lose a response")
	}
	since := time.Now()
	m := message(c, 0)
	c.LoseResponseNext()
	dctx, cancel := context.WithTimeout(ctx(t), 300*time.Millisecond)
	defer cancel()
	_, err := s.Send(dctx, m)
	if pe := expect(t, err, channel.Transient); !pe.MaybeSent {
		t.Fatalf("lost response without MaybeSent: %+v", pe)
	}
	r := lookup(t, s, m, since)
	sent := c.Sent()
	if len(sent) != 1 || sent[0].ProviderID != r.ProviderID {
		t.Fatalf("Lookup found %+v; provider has %+v", r, sent)
	}
}

func testConcurrent(t *testing.T, s channel.Sender, c *Controls) {
	const n = 16
	var wg sync.WaitGroup
	receipts := make([]channel.Receipt, n)
	errs := make([]error, n)
	msgs := make([]channel.Message, n)
	for i := range n {
		msgs[i] = message(c, i)
		wg.Go(func() { receipts[i], errs[i] = s.Send(ctx(t), msgs[i]) })
	}
	wg.Wait()
	ids := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("send %d: %v", i, errs[i])
		}
		if ids[receipts[i].ProviderID] {
			t.Fatalf("duplicate ProviderID %s", receipts[i].ProviderID)
		}
		ids[receipts[i].ProviderID] = true
	}
	byRef := map[string]Sent{}
	for _, s := range c.Sent() {
		byRef[s.DeliveryRef] = s
	}
	if len(byRef) != n {
		t.Fatalf("provider received %d distinct deliveries, want %d", len(byRef), n)
	}
	for i, m := range msgs {
		if got := byRef[m.DeliveryID]; got.To != m.To || got.Text != m.Text || got.ProviderID != receipts[i].ProviderID {
			t.Fatalf("delivery %s arrived as %+v", m.DeliveryID, got)
		}
	}
}
