package httpapi

import (
	"net/http"
	"time"
)

// Timeouts and limits of nudge's HTTP servers. A client that trickles its
// headers or body (slowloris) is cut off after ReadTimeout instead of
// holding a connection and a goroutine for ever; an idle keep-alive
// connection is closed after IdleTimeout.
//
// There is no write timeout on the whole response: a batch of events waits
// for one PubAck per event, and a slow bus would turn a write deadline into
// a connection cut after the events were accepted, which the producer could
// not tell from a failure. The handlers bound their own work instead
// (JetStream's publish timeout, the store's context).
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second // headers and body: 1 MiB needs only ≈ 35 kB/s
	IdleTimeout       = 90 * time.Second
	MaxHeaderBytes    = 64 << 10
	// OpsWriteTimeout bounds whole responses of the ops listener
	// (--metrics-listen: /metrics, /healthz, /readyz), whose answers are
	// small and quick.
	OpsWriteTimeout = 30 * time.Second
)

// NewHTTPServer returns an http.Server for h with nudge's timeouts and
// header limit. Every listener nudge opens (API, ops) uses it.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// secureHeaders marks every response as not to be sniffed into another
// content type nor cached: API answers carry client data and the console
// page is behind the token.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
