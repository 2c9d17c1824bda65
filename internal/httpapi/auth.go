package httpapi

import (
	"crypto/subtle"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nudgehq/nudge/internal/staff"
	"github.com/nudgehq/nudge/internal/store"
)

// Who may call what:
//
//   - machines send `Authorization: Bearer <API token>`; the token may do
//     everything an admin may (it is the operator's key);
//   - people log in (POST /login) and carry a session cookie; role staff
//     may read everything, announce, pause and resume clients, resolve the
//     inbox and replay dead letters; role admin may also manage staff and
//     override the announcement lint;
//   - a state-changing request carried by a session cookie must come from
//     nudge's own pages: a cross-site request (Sec-Fetch-Site, or an
//     Origin that is neither this host nor PublicURL) is refused with 403.
//
// The actor travels in the request context (staff.ActorFrom) so handlers
// name the person in the audit log.

var (
	errForbidden   = apiError{http.StatusForbidden, "forbidden", "your role may not do this", "ask an admin"}
	errCrossOrigin = apiError{http.StatusForbidden, "cross_origin", "cross-origin request refused", "state-changing requests with a session must come from nudge's own pages"}
	errTokenOnly   = apiError{http.StatusForbidden, "token_only", "this route is for machines with the API token", "staff act through the console's routes"}
)

// sessionCookieName is the cookie's name; with Secure it carries the
// __Host- prefix, which browsers only accept from https with Path=/ and no
// Domain, so no other site or subdomain can plant it.
func (s *Server) sessionCookieName() string {
	if s.secureCookie {
		return "__Host-nudge_session"
	}
	return "nudge_session"
}

// authenticate finds who the request acts for. A request with an
// Authorization header is judged on it alone; otherwise the session
// cookie counts. viaSession tells which one it was.
func (s *Server) authenticate(r *http.Request) (a staff.Actor, viaSession, ok bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		// The scheme name is case-insensitive (RFC 9110): "bearer" works too.
		scheme, got, _ := strings.Cut(strings.TrimSpace(h), " ")
		found := strings.EqualFold(scheme, "Bearer")
		want := []byte(s.cfg.APIToken)
		// Constant time, so the token cannot be guessed byte by byte.
		if found && len(want) > 0 && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) == 1 {
			return staff.Token, false, true
		}
		return staff.Actor{}, false, false
	}
	c, err := r.Cookie(s.sessionCookieName())
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return staff.Actor{}, false, false
	}
	_, acct, err := s.cfg.Store.StaffSession(r.Context(), staff.HashToken(c.Value), time.Now())
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.cfg.Logger.Error("reading staff session", "err", err)
		}
		return staff.Actor{}, true, false
	}
	return staff.Actor{Email: acct.Email, Role: staff.Role(acct.Role)}, true, true
}

// auth lets through the API token and live staff sessions (any role),
// refusing cross-origin state changes made with a session.
func (s *Server) auth(next http.Handler) http.Handler {
	return s.authWith(next, func(staff.Actor) bool { return true }, errForbidden)
}

// admin is auth for routes only admins (and the API token) may call.
func (s *Server) admin(next http.Handler) http.Handler {
	return s.authWith(next, staff.Actor.IsAdmin, apiError{http.StatusForbidden, "forbidden", "only an admin may do this", "ask an admin"})
}

// tokenOnly is for machine routes: the API token, never a session.
func (s *Server) tokenOnly(next http.Handler) http.Handler {
	return s.authWith(next, func(a staff.Actor) bool { return !a.IsPerson() }, errTokenOnly)
}

func (s *Server) authWith(next http.Handler, allowed func(staff.Actor) bool, refused apiError) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, viaSession, ok := s.authenticate(r)
		if !ok {
			writeError(w, errUnauthorized)
			return
		}
		if viaSession {
			if err := s.cop.Check(r); err != nil {
				writeError(w, errCrossOrigin)
				return
			}
		}
		if !allowed(a) {
			writeError(w, refused)
			return
		}
		next.ServeHTTP(w, r.WithContext(staff.WithActor(r.Context(), a)))
	})
}

// actorName names who a request acts for in the audit log.
func actorName(r *http.Request) string {
	if a, ok := staff.ActorFrom(r.Context()); ok {
		return a.Name()
	}
	return staff.TokenActor
}

// loginLocks serialises login attempts per email within this process, so
// a burst of parallel guesses cannot all pass the backoff check before
// the first failure is counted.
type loginLocks struct {
	mu    sync.Mutex
	held  map[string]*sync.Mutex
	users map[string]int
}

func (l *loginLocks) lock(email string) (unlock func()) {
	l.mu.Lock()
	if l.held == nil {
		l.held, l.users = map[string]*sync.Mutex{}, map[string]int{}
	}
	m := l.held[email]
	if m == nil {
		m = &sync.Mutex{}
		l.held[email] = m
	}
	l.users[email]++
	l.mu.Unlock()
	m.Lock()
	return func() {
		m.Unlock()
		l.mu.Lock()
		if l.users[email]--; l.users[email] == 0 {
			delete(l.held, email)
			delete(l.users, email)
		}
		l.mu.Unlock()
	}
}

// retryAfter is the Retry-After value for a lock ending at until.
func retryAfter(until, now time.Time) string {
	return strconv.Itoa(int(math.Ceil(until.Sub(now).Seconds())))
}
