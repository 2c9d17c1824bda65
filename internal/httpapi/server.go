// Package httpapi is nudge's HTTP surface: event intake (POST /v1/events),
// the read API, health checks and the staff console.
//
// Every /v1 route needs `Authorization: Bearer <token>` (machines) or a
// staff session cookie from POST /login (people, through the console); see
// auth.go. Errors share one JSON shape: {"error": {"code", "message", "hint"}}.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/nudgehq/nudge/consumers/announcement"
	"github.com/nudgehq/nudge/internal/staff"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/publishers"
)

// DefaultMaxBodyBytes bounds POST /v1/events bodies (1 MiB: thousands of events).
const DefaultMaxBodyBytes = 1 << 20

// EventPublisher is the part of publishers.Publisher the API needs.
type EventPublisher interface {
	Publish(ctx context.Context, e publishers.Event) (publishers.PublishResult, error)
}

// Config wires the API to the rest of nudge.
type Config struct {
	Store     store.Store
	Publisher EventPublisher
	// APIToken authenticates API callers and the console. Required.
	APIToken string
	// MaxBodyBytes bounds event intake bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Ready reports whether the bus and store are usable (for /readyz).
	// /readyz is unauthenticated: it names the dependency of a
	// *NotReadyError and nothing else (the error itself is logged).
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	// Extra routes mounted as they are (provider webhooks verify their own
	// signatures), keyed by pattern.
	Extra map[string]http.Handler
	// ExtraAuthed routes need the API token like /v1 (dev outbox, inbox).
	ExtraAuthed map[string]http.Handler
	// Mode is shown by the console ("dev" or "serve").
	Mode string
	// Events, when set, counts intake events by type and result
	// ("accepted", "duplicate", "rejected", "unavailable") for metrics.
	Events func(typ, result string)
	// Metrics, when set, is served unauthenticated at GET /metrics, as
	// Prometheus scrapers expect; it exposes no client data.
	Metrics http.Handler
	// DeadLetters replays dead letters (POST /v1/deadletters/{id}/replay).
	DeadLetters DeadLetterReplayer
	// PublicURL is where people reach nudge. An https URL makes the
	// session cookie Secure; its origin is trusted for state-changing
	// requests from browsers (behind a proxy that rewrites Host).
	PublicURL string
	// SessionTTL is how long a console login lasts; 0 means
	// staff.DefaultSessionTTL.
	SessionTTL time.Duration
	// PasswordParams are the Argon2id costs for new password hashes; zero
	// means staff.DefaultParams (tests lower them).
	PasswordParams staff.Params
	// Announcements previews announcements and decides group members'
	// reachability (the /v1/groups and /v1/announcements routes).
	Announcements *announcement.Service
	// Encouragement, when set, tells a client's encouragement schedule
	// for GET /v1/clients/{id}.
	Encouragement EncouragementSchedules
}

// Server serves the HTTP API.
type Server struct {
	cfg     Config
	mux     *routeMux
	handler http.Handler // mux with the headers every response carries
	// cop refuses state-changing browser requests from other origins.
	cop *http.CrossOriginProtection
	// secureCookie is set when PublicURL is https.
	secureCookie bool
	logins       loginLocks
	// dummyHash is verified for unknown accounts (same time as a real one).
	dummyHash func() string
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = staff.DefaultSessionTTL
	}
	if cfg.PasswordParams == (staff.Params{}) {
		cfg.PasswordParams = staff.DefaultParams
	}
	s := &Server{cfg: cfg, mux: &routeMux{ServeMux: http.NewServeMux()}, cop: http.NewCrossOriginProtection(),
		dummyHash: sync.OnceValue(func() string { return staff.DummyHash(cfg.PasswordParams) })}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Scheme != "" && u.Host != "" {
		s.secureCookie = u.Scheme == "https"
		if err := s.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			cfg.Logger.Warn("public URL is not a usable origin", "err", err)
		}
	}
	s.routes()
	s.handler = secureHeaders(s.mux)
	return s
}

func (s *Server) routes() {
	// Event intake is for machines: people act through the console's
	// routes, which name them in the audit log.
	s.mux.Handle("POST /v1/events", s.tokenOnly(http.HandlerFunc(s.postEvents)))
	s.mux.Handle("GET /v1/events/{id}", s.auth(http.HandlerFunc(s.getEvent)))
	s.mux.Handle("GET /v1/clients/{id}", s.auth(http.HandlerFunc(s.getClient)))
	s.mux.Handle("GET /v1/sessions/{id}", s.auth(http.HandlerFunc(s.getSession)))
	s.mux.Handle("GET /v1/reminders", s.auth(http.HandlerFunc(s.listReminders)))
	s.mux.Handle("GET /v1/deliveries", s.auth(http.HandlerFunc(s.listDeliveries)))
	s.mux.Handle("GET /v1/audit", s.auth(http.HandlerFunc(s.listAudit)))
	s.mux.Handle("GET /v1/deadletters", s.auth(http.HandlerFunc(s.listDeadLetters)))
	s.mux.Handle("GET /v1/deadletters/{id}", s.auth(http.HandlerFunc(s.getDeadLetter)))
	s.mux.Handle("POST /v1/deadletters/{id}/replay", s.auth(http.HandlerFunc(s.replayDeadLetter)))
	s.staffRoutes()
	s.announcementRoutes()
	s.openAPIRoute()
	s.clientRoutes()
	s.consoleRoutes()
	healthRoutes(s.mux.ServeMux, s.cfg.Ready, s.cfg.Logger)
	if s.cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", s.cfg.Metrics)
	}
	for pattern, h := range s.cfg.Extra {
		s.mux.Handle(pattern, h)
	}
	for pattern, h := range s.cfg.ExtraAuthed {
		s.mux.Handle(pattern, s.auth(h))
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// NotReadyError says which dependency is down. /readyz, which anyone can
// reach, shows only Dependency; Err (which may name a database user, host
// or file) goes to the log.
type NotReadyError struct {
	Dependency string // "nats", "jetstream", "store"
	Err        error
}

func (e *NotReadyError) Error() string { return e.Dependency + " not ready: " + e.Err.Error() }
func (e *NotReadyError) Unwrap() error { return e.Err }
