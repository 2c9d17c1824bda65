package fakeprovider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Server is a fake listening on a loopback port.
type Server struct {
	// URL is the base URL to give the SDK, e.g. "http://127.0.0.1:53122".
	URL string

	srv   *http.Server
	close func()
}

// Close stops the fake's asynchronous work and then the listener.
func (s *Server) Close() error {
	s.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return s.srv.Close()
	}
	return err
}

func start(h http.Handler, closeFake func()) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakeprovider: listening on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &Server{URL: "http://" + ln.Addr().String(), srv: srv, close: closeFake}, nil
}

// normalizeRecipient makes email addresses compare case-insensitively;
// phone numbers are unchanged.
func normalizeRecipient(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}
