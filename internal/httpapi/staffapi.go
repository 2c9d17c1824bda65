package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/nudgehq/nudge/internal/staff"
	"github.com/nudgehq/nudge/internal/store"
)

// staffRoutes mounts login, logout and the staff account API:
//
//	POST /login                          form email, password → session cookie
//	POST /logout                         ends the session
//	POST /v1/staff                       {email, role, password?} → 201; a generated password is returned once
//	GET  /v1/staff                       every account (no hashes)
//	POST /v1/staff/{email}/disable       disables it and revokes its sessions
//	POST /v1/staff/{email}/reset-password {password?} → a generated password is returned once; sessions revoked
//
// The /v1/staff routes need the API token or an admin session.
func (s *Server) staffRoutes() {
	s.mux.HandleFunc("GET /login", s.getLogin)
	s.mux.HandleFunc("POST /login", s.postLogin)
	s.mux.HandleFunc("POST /logout", s.postLogout)
	s.mux.Handle("POST /v1/staff", s.admin(http.HandlerFunc(s.createStaff)))
	s.mux.Handle("GET /v1/staff", s.admin(http.HandlerFunc(s.listStaff)))
	s.mux.Handle("POST /v1/staff/{email}/disable", s.admin(http.HandlerFunc(s.disableStaff)))
	s.mux.Handle("POST /v1/staff/{email}/reset-password", s.admin(http.HandlerFunc(s.resetStaffPassword)))
}

type staffView struct {
	Email      string    `json:"email"`
	Role       string    `json:"role"`
	Disabled   bool      `json:"disabled"`
	DisabledAt time.Time `json:"disabled_at,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
	// Password is set only in the answer that generated it.
	Password string `json:"password,omitempty"`
}

func viewStaff(a store.StaffAccount) staffView {
	return staffView{Email: a.Email, Role: a.Role, Disabled: a.Disabled(), DisabledAt: a.DisabledAt, CreatedAt: a.CreatedAt}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// readJSON decodes a small JSON body into v; an empty body leaves v as it is.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, apiError{http.StatusBadRequest, "unreadable_body", "could not read request body", ""})
		return false
	}
	if len(raw) == 0 {
		return true
	}
	if err := json.Unmarshal(raw, v); err != nil {
		e := errBadJSON
		e.Message, e.Hint = "request body is not valid JSON: "+err.Error(), ""
		writeError(w, e)
		return false
	}
	return true
}

// newPassword returns the password to set: the one given (checked) or a
// generated one, and whether it was generated.
func (s *Server) newPassword(w http.ResponseWriter, r *http.Request, given string) (hash, generated string, ok bool) {
	pw := given
	if pw == "" {
		pw = staff.GeneratePassword()
		generated = pw
	}
	hash, err := staff.HashPassword(r.Context(), pw, s.cfg.PasswordParams)
	if errors.Is(err, staff.ErrWeakPassword) {
		writeError(w, apiError{http.StatusBadRequest, "weak_password", err.Error(), "leave password empty to have one generated"})
		return "", "", false
	}
	if err != nil {
		s.cfg.Logger.Error("hashing password", "err", err)
		writeError(w, errInternal)
		return "", "", false
	}
	return hash, generated, true
}

func (s *Server) createStaff(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email    string `json:"email"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	email, ok := staff.NormalizeEmail(req.Email)
	if !ok {
		writeError(w, apiError{http.StatusBadRequest, "invalid_email", "email must be a plain address such as ada@example.com", ""})
		return
	}
	if !staff.Role(req.Role).Valid() {
		writeError(w, apiError{http.StatusBadRequest, "invalid_role", `role must be "admin" or "staff"`, ""})
		return
	}
	hash, generated, ok := s.newPassword(w, r, req.Password)
	if !ok {
		return
	}
	a, err := s.cfg.Store.CreateStaff(r.Context(), store.StaffAccount{Email: email, Role: req.Role, PasswordHash: hash})
	if errors.Is(err, store.ErrConflict) {
		writeError(w, apiError{http.StatusConflict, "staff_exists", "a staff account with that email exists", "reset its password instead"})
		return
	}
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.audit(r, "staff.created", email, `{"role":"`+a.Role+`"}`)
	v := viewStaff(a)
	v.Password = generated
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listStaff(w http.ResponseWriter, r *http.Request) {
	accounts, err := s.cfg.Store.ListStaff(r.Context())
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := make([]staffView, 0, len(accounts))
	for _, a := range accounts {
		out = append(out, viewStaff(a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"staff": out})
}

func (s *Server) disableStaff(w http.ResponseWriter, r *http.Request) {
	email, _ := staff.NormalizeEmail(r.PathValue("email"))
	if a, _ := staff.ActorFrom(r.Context()); a.Email == email {
		writeError(w, apiError{http.StatusConflict, "disable_self", "you cannot disable your own account", "another admin (or the API token) can"})
		return
	}
	a, err := s.cfg.Store.DisableStaff(r.Context(), email)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.audit(r, "staff.disabled", email, "")
	writeJSON(w, http.StatusOK, viewStaff(a))
}

func (s *Server) resetStaffPassword(w http.ResponseWriter, r *http.Request) {
	email, _ := staff.NormalizeEmail(r.PathValue("email"))
	var req struct {
		Password string `json:"password"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if _, err := s.cfg.Store.GetStaff(r.Context(), email); err != nil {
		s.storeError(w, r, err)
		return
	}
	hash, generated, ok := s.newPassword(w, r, req.Password)
	if !ok {
		return
	}
	a, err := s.cfg.Store.SetStaffPassword(r.Context(), email, hash)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.audit(r, "staff.password_reset", email, "")
	v := viewStaff(a)
	v.Password = generated
	writeJSON(w, http.StatusOK, v)
}
