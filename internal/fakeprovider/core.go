package fakeprovider

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// core is the machinery both fakes share: failure injection, latency, rate
// limits, asynchronous webhooks and shutdown. Its methods are promoted onto
// [Twilio] and [SendGrid].
type core struct {
	mu        sync.Mutex
	latency   time.Duration
	next      []Failure
	byTo      map[string]Failure
	perSecond float64
	limiters  map[string]*rate.Limiter
	hooks     []WebhookCall
	keep      int // messages and hooks remembered at most (0: all); the config's Keep

	closed    chan struct{}
	closeOnce sync.Once
	async     sync.WaitGroup
	client    *http.Client
}

func newCore(keep int) core {
	return core{
		keep:     keep,
		byTo:     map[string]Failure{},
		limiters: map[string]*rate.Limiter{},
		closed:   make(chan struct{}),
		// Both providers give a webhook endpoint about 15 seconds.
		client: &http.Client{Timeout: 15 * time.Second},
	}
}

// FailNext makes the next n API requests (of any kind: send, list, lookup)
// fail with f, after any failures already queued.
func (c *core) FailNext(n int, f Failure) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range n {
		c.next = append(c.next, f)
	}
}

// FailTo makes every send to recipient fail with f until ClearFailures or
// Reset. Failures queued with FailNext are drawn first.
func (c *core) FailTo(recipient string, f Failure) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byTo[normalizeRecipient(recipient)] = f
}

// ClearFailures drops every queued and per-recipient failure.
func (c *core) ClearFailures() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next = nil
	c.byTo = map[string]Failure{}
}

// SetLatency delays every API request by d (0 turns it off).
func (c *core) SetLatency(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latency = d
}

// SetRateLimit answers sends beyond perSecond per sender with 429 (0 turns
// it off). The burst is one second's worth.
func (c *core) SetRateLimit(perSecond float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.perSecond = perSecond
	c.limiters = map[string]*rate.Limiter{}
}

// Webhooks returns every status callback, event webhook and inbound webhook
// the fake has posted so far, oldest first.
func (c *core) Webhooks() []WebhookCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]WebhookCall(nil), c.hooks...)
}

// Wait blocks until every scheduled callback, event webhook and reply has
// been posted, or ctx ends.
func (c *core) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { c.async.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops scheduling webhooks, abandons pending ones, releases hung
// requests and waits for in-flight webhooks to return. The handler keeps
// answering API requests.
func (c *core) Close() {
	c.closeOnce.Do(func() { close(c.closed) })
	c.async.Wait()
}

func (c *core) resetCore() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next = nil
	c.byTo = map[string]Failure{}
	c.latency = 0
	c.perSecond = 0
	c.limiters = map[string]*rate.Limiter{}
	c.hooks = nil
}

// takeFailure draws the failure for a request: queued ones first, then the
// per-recipient one for sends (recipient != "").
func (c *core) takeFailure(recipients ...string) (Failure, bool) {
	return c.takeFailureFor(func() []string { return recipients })
}

// takeFailureFor is takeFailure for recipients that cost something to
// work out (a mail body to parse): they are asked for only when a failure
// is scripted for some recipient.
func (c *core) takeFailureFor(recipients func() []string) (Failure, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.next) > 0 {
		f := c.next[0]
		c.next = c.next[1:]
		return f, true
	}
	if len(c.byTo) == 0 {
		return Failure{}, false
	}
	for _, r := range recipients() {
		if f, ok := c.byTo[normalizeRecipient(r)]; ok {
			return f, true
		}
	}
	return Failure{}, false
}

// allow reports whether sender may send now under the rate limit, and if
// not, how long until it may.
func (c *core) allow(sender string) (bool, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.perSecond <= 0 {
		return true, 0
	}
	l, ok := c.limiters[sender]
	if !ok {
		burst := max(1, int(c.perSecond))
		l = rate.NewLimiter(rate.Limit(c.perSecond), burst)
		c.limiters[sender] = l
	}
	r := l.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return false, d
	}
	return true, 0
}

func (c *core) currentLatency() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latency
}

// stall waits d; false means the client went away or the fake closed first.
func (c *core) stall(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-c.closed:
		return false
	}
}

// sleep waits d for asynchronous work; false means the fake closed.
func (c *core) sleep(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-c.closed:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.closed:
		return false
	}
}

// goAsync runs fn in the background unless the fake is closed.
func (c *core) goAsync(fn func()) {
	select {
	case <-c.closed:
		return
	default:
	}
	c.async.Add(1)
	go func() {
		defer c.async.Done()
		fn()
	}()
}

// WebhookCall records one request the fake made to your server.
type WebhookCall struct {
	Kind   string // "status_callback", "inbound" (Twilio) or "event" (SendGrid)
	URL    string
	Header http.Header
	Body   []byte // the raw body: form-encoded (Twilio) or a JSON array (SendGrid)
	Status int    // HTTP status your server answered; 0 when the request failed
	Err    error  // transport error, if any
	Sent   time.Time
}

// post delivers a webhook and records it. The returned call carries the
// response body for callers that need it (TwiML replies).
func (c *core) post(ctx context.Context, kind, url string, header http.Header, body []byte) (WebhookCall, []byte) {
	call := WebhookCall{Kind: kind, URL: url, Header: header.Clone(), Body: body, Sent: time.Now()}
	var respBody []byte
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err == nil {
		req.Header = header.Clone()
		var resp *http.Response
		resp, err = c.client.Do(req)
		if err == nil {
			respBody, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			call.Status = resp.StatusCode
		}
	}
	call.Err = err
	c.mu.Lock()
	c.hooks = keepNewest(append(c.hooks, call), c.keep, nil)
	c.mu.Unlock()
	return call, respBody
}

// asyncContext is a context that ends when the fake closes.
func (c *core) asyncContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-c.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func randomHex(nbytes int) string {
	b := make([]byte, nbytes)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// reply is a response computed before it is written.
type reply struct {
	status int
	header http.Header
	body   any
}

func (rep reply) write(w http.ResponseWriter) {
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	writeJSON(w, rep.status, rep.body)
}

// writeJSON writes body as JSON; a nil body writes no content at all.
func writeJSON(w http.ResponseWriter, status int, body any) {
	if body == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// keepNewest drops the oldest of s beyond its newest keep (0: keeps all),
// calling forget, when set, with each before it goes. The slots are cleared
// so what they held can be collected; the backing array is replaced the
// next time append outgrows it, so dropping one element per append stays
// cheap.
func keepNewest[E any](s []E, keep int, forget func(E)) []E {
	n := len(s) - keep
	if keep <= 0 || n <= 0 {
		return s
	}
	if forget != nil {
		for _, e := range s[:n] {
			forget(e)
		}
	}
	clear(s[:n])
	return s[n:]
}
