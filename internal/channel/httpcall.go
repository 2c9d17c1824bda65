package channel

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
)

// httpCall observes the HTTP exchanges of one Send or Lookup on behalf of
// SDKs that hide them: whether a request was fully written (so the provider
// may have acted on it) and the status and headers of the last response
// (twilio-go drops the response of an error, and with it Retry-After).
type httpCall struct {
	wrote atomic.Bool

	mu     sync.Mutex
	status int
	header http.Header
}

// trace returns ctx instrumented to record when a request was written.
func (c *httpCall) trace(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				c.wrote.Store(true)
			}
		},
	})
}

func (c *httpCall) record(resp *http.Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status, c.header = resp.StatusCode, resp.Header.Clone()
}

func (c *httpCall) response() (int, http.Header) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, c.header
}

// callTransport binds the requests of one call to the caller's ctx and
// records them in call. twilio-go builds every request with
// context.Background(), so the transport is the only place the caller's
// deadline and cancellation can reach the request.
type callTransport struct {
	ctx  context.Context
	next http.RoundTripper
	call *httpCall
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req.WithContext(t.call.trace(t.ctx)))
	if resp != nil {
		t.call.record(resp)
	}
	return resp, err
}

// maxIdleConns bounds a sender's idle connections to one host: well above
// the deliver workers of a process (32 by default, 128 in the bench).
const maxIdleConns = 512

// newTransport is the connection pool a sender keeps for its lifetime.
func newTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Fan-out sends many messages to one host at once: keep a connection
	// for every call that can be in flight (one per deliver worker) rather
	// than close the ones past the default's 2 per host and 100 in all and
	// pay a new TCP and TLS handshake on the next burst. Idle ones still
	// close after IdleConnTimeout.
	tr.MaxIdleConnsPerHost = maxIdleConns
	tr.MaxIdleConns = 2 * maxIdleConns
	return tr
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
