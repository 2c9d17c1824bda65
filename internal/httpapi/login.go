package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/staff"
	"github.com/nudgehq/nudge/internal/store"
)

// maxLoginForm bounds the login form body.
const maxLoginForm = 8 << 10

// getLogin shows the login form.
func (s *Server) getLogin(w http.ResponseWriter, r *http.Request) {
	if a, _, ok := s.authenticate(r); ok && a.IsPerson() {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.renderLogin(w, http.StatusOK, loginPage{Next: safeNext(r.URL.Query().Get("next"))})
}

type loginPage struct {
	Email string
	Next  string
	Error string
}

// postLogin checks email and password (form fields) and starts a session.
//
// Failed logins are counted per email in the store, whether or not an
// account has it; after staff.LockAfter in a row the email must wait
// (staff.LoginBackoff) and every try, right or wrong, gets 429 with
// Retry-After without the password being checked. An unknown or disabled
// account costs the same hashing time as a wrong password and gets the
// same answer.
func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	if err := s.cop.Check(r); err != nil {
		s.renderLogin(w, http.StatusForbidden, loginPage{Error: "This form must be sent from nudge's own login page."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, http.StatusBadRequest, loginPage{Error: "The form could not be read."})
		return
	}
	email, valid := staff.NormalizeEmail(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	page := loginPage{Email: email, Next: safeNext(r.PostForm.Get("next"))}
	if !valid || password == "" {
		page.Error = "Enter your email address and password."
		s.renderLogin(w, http.StatusBadRequest, page)
		return
	}
	ctx := r.Context()
	unlock := s.logins.lock(email)
	defer unlock()

	now := time.Now()
	th, err := s.cfg.Store.LoginThrottle(ctx, email)
	if err != nil {
		s.cfg.Logger.Error("reading failed logins", "err", err)
		page.Error = "Login is unavailable right now; try again shortly."
		s.renderLogin(w, http.StatusServiceUnavailable, page)
		return
	}
	if th.LockedUntil.After(now) {
		s.renderLocked(w, page, th.LockedUntil, now)
		return
	}
	acct, err := s.cfg.Store.GetStaff(ctx, email)
	verified := false
	switch {
	case err == nil && !acct.Disabled():
		verified, err = staff.VerifyPassword(ctx, acct.PasswordHash, password)
		if err != nil {
			s.cfg.Logger.Error("verifying password", "err", err)
		}
	default:
		if err != nil && !isNotFound(err) {
			s.cfg.Logger.Error("reading staff account", "err", err)
		}
		_, _ = staff.VerifyPassword(ctx, s.dummyHash(), password)
	}
	if !verified {
		th, err := s.cfg.Store.RecordLoginFailure(ctx, email, now, staff.LoginBackoff)
		if err != nil {
			s.cfg.Logger.Error("counting failed login", "err", err)
		}
		s.cfg.Logger.Warn("failed staff login", "email", email, "failures", th.Failures)
		if th.LockedUntil.After(now) {
			if th.Failures == staff.LockAfter {
				s.auditAs(r, "system", "staff.login_locked", email, "")
			}
			s.renderLocked(w, page, th.LockedUntil, now)
			return
		}
		page.Error = "That email and password do not match an active account."
		s.renderLogin(w, http.StatusUnauthorized, page)
		return
	}

	if err := s.cfg.Store.ClearLoginFailures(ctx, email); err != nil {
		s.cfg.Logger.Warn("clearing failed logins", "err", err)
	}
	token, hash := staff.NewSessionToken()
	expires := now.Add(s.cfg.SessionTTL)
	if err := s.cfg.Store.CreateStaffSession(ctx, store.StaffSession{TokenHash: hash, Email: email, CreatedAt: now, ExpiresAt: expires}); err != nil {
		s.cfg.Logger.Error("creating staff session", "err", err)
		page.Error = "Login is unavailable right now; try again shortly."
		s.renderLogin(w, http.StatusServiceUnavailable, page)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.sessionCookieName(), Value: token, Path: "/", Expires: expires, MaxAge: int(s.cfg.SessionTTL.Seconds()),
		HttpOnly: true, Secure: s.secureCookie, SameSite: http.SameSiteStrictMode,
	})
	s.auditAs(r, email, "staff.login", email, "")
	http.Redirect(w, r, page.Next, http.StatusSeeOther)
}

func (s *Server) renderLocked(w http.ResponseWriter, page loginPage, until, now time.Time) {
	w.Header().Set("Retry-After", retryAfter(until, now))
	page.Error = "Too many failed logins for this account. Wait " + until.Sub(now).Round(time.Second).String() + " and try again."
	s.renderLogin(w, http.StatusTooManyRequests, page)
}

// postLogout ends the session: it is deleted from the store, so the
// cookie is useless even if a copy of it survives.
func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.cop.Check(r); err != nil {
		writeError(w, errCrossOrigin)
		return
	}
	if c, err := r.Cookie(s.sessionCookieName()); err == nil && c.Value != "" {
		if a, _, ok := s.authenticate(r); ok && a.IsPerson() {
			s.auditAs(r, a.Email, "staff.logout", a.Email, "")
		}
		if err := s.cfg.Store.RevokeStaffSession(r.Context(), staff.HashToken(c.Value)); err != nil {
			s.cfg.Logger.Error("revoking staff session", "err", err)
			writeError(w, errInternal)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookie, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site: a path, never a
// scheme-relative or absolute URL.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
