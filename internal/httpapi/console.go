package httpapi

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/staff"
)

// The console is server-rendered: each page handler reads what it shows
// through the same /v1 API machines use (dispatched in-process with the
// person's session, so roles and audit apply unchanged), renders it with
// html/template, and small scripts (console/static/console.js) add live
// preview and progress. Actions are plain forms that post to the page's own
// route, which calls the /v1 route and redirects back with a message.

//go:embed console/*.html
var consoleFiles embed.FS

//go:embed console/static
var consoleStatic embed.FS

// consolePages are the pages: each is layout.html plus its own file,
// which defines "content".
var consolePages = func() map[string]*template.Template {
	pages := map[string]*template.Template{}
	names, _ := fs.Glob(consoleFiles, "console/*.html")
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "console/"), ".html")
		if base == "layout" {
			continue
		}
		pages[base] = template.Must(template.New(base).Funcs(consoleFuncs).ParseFS(consoleFiles, "console/layout.html", n))
	}
	return pages
}()

var consoleFuncs = template.FuncMap{
	// when renders a time for people (UTC; the script shows it in the
	// browser's zone); iso is the machine form for <time datetime>.
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("Mon 2 Jan 2006 15:04 UTC")
	},
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"path":  url.PathEscape,
	"query": url.QueryEscape,
}

// consoleCSP allows only nudge's own scripts and styles: no inline code,
// no handlers in attributes, no framing.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// page is what every console template receives.
type page struct {
	Title   string
	Nav     string
	Mode    string
	Actor   staff.Actor
	Flash   string
	Problem string
	Data    any
}

func (s *Server) consoleRoutes() {
	s.mux.Handle("GET /console/static/", consoleStaticHandler())
	s.mux.Handle("GET /{$}", s.pageRoute(s.todayPage))
	s.mux.Handle("GET /clients", s.pageRoute(s.clientsPage))
	s.mux.Handle("GET /clients/{id}", s.pageRoute(s.clientPage))
	s.mux.Handle("POST /clients/{id}/pause", s.actionRoute(s.pauseAction))
	s.mux.Handle("POST /clients/{id}/resume", s.actionRoute(s.resumeAction))
	s.mux.Handle("GET /announcements", s.pageRoute(s.announcementsPage))
	s.mux.Handle("POST /announcements", s.actionRoute(s.sendAnnouncementAction))
	s.mux.Handle("GET /announcements/{id}", s.pageRoute(s.announcementPage))
	s.mux.Handle("POST /announcements/{id}/cancel", s.actionRoute(s.cancelAnnouncementAction))
	s.mux.Handle("GET /groups/{id}", s.pageRoute(s.groupPage))
	s.mux.Handle("GET /inbox", s.pageRoute(s.inboxPage))
	s.mux.Handle("POST /inbox/{id}/resolve", s.actionRoute(s.resolveAction))
	s.mux.Handle("GET /deadletters", s.pageRoute(s.deadLettersPage))
	s.mux.Handle("POST /deadletters/{id}/replay", s.actionRoute(s.replayAction))
	s.mux.Handle("GET /audit", s.pageRoute(s.auditPage))
	s.mux.Handle("GET /outbox", s.pageRoute(s.outboxPage))
	s.mux.Handle("GET /staff", s.pageRoute(s.staffPage))
	s.mux.Handle("POST /staff", s.actionRoute(s.addStaffAction))
	s.mux.Handle("POST /staff/{email}/disable", s.actionRoute(s.disableStaffAction))
	s.mux.Handle("POST /staff/{email}/reset", s.actionRoute(s.resetStaffAction))
}

// consoleStaticHandler serves the console's CSS and JS.
func consoleStaticHandler() http.Handler {
	sub, _ := fs.Sub(consoleStatic, "console/static")
	files := http.StripPrefix("/console/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// pageRoute serves a page to a logged-in person; anyone else goes to the
// login page and comes back after.
func (s *Server) pageRoute(h func(w http.ResponseWriter, r *http.Request, p *page) (string, int)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, _, ok := s.authenticate(r)
		if !ok || !a.IsPerson() {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		r = r.WithContext(staff.WithActor(r.Context(), a))
		p := &page{Actor: a}
		p.Flash, p.Problem = readFlash(w, r)
		name, status := h(w, r, p)
		if name == "" {
			return // the handler answered itself
		}
		s.render(w, status, name, *p)
	})
}

// actionRoute runs a form action of a logged-in person: cross-origin
// posts are refused, then the action calls the API and redirects.
func (s *Server) actionRoute(h func(w http.ResponseWriter, r *http.Request, a staff.Actor)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.cop.Check(r); err != nil {
			s.render(w, http.StatusForbidden, "message", page{Title: "Refused", Problem: "This form must be sent from nudge's own pages."})
			return
		}
		a, _, ok := s.authenticate(r)
		if !ok || !a.IsPerson() {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			s.render(w, http.StatusBadRequest, "message", page{Title: "Bad form", Actor: a, Problem: "The form could not be read."})
			return
		}
		h(w, r.WithContext(staff.WithActor(r.Context(), a)), a)
	})
}

// render writes a console page with the security headers every page has.
func (s *Server) render(w http.ResponseWriter, status int, name string, p page) {
	t, ok := consolePages[name]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	p.Mode = s.cfg.Mode
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.cfg.Logger.Error("rendering console page", "page", name, "err", err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	setPageHeaders(w)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

func (s *Server) renderLogin(w http.ResponseWriter, status int, lp loginPage) {
	s.render(w, status, "login", page{Title: "Log in", Data: lp})
}

// apiResult is the answer of an in-process API call.
type apiResult struct {
	Status int
	Body   []byte
	// Err is the API's error, when Status is not 2xx.
	Err apiError
}

// OK reports a 2xx answer.
func (a apiResult) OK() bool { return a.Status >= 200 && a.Status < 300 }

// Missing reports that the route does not exist on this nudge (an API
// another part of nudge has not shipped), as opposed to a missing item.
func (a apiResult) Missing() bool { return a.Status == http.StatusNotFound && a.Err.Code == "" }

// Problem is a sentence for the page when the call failed.
func (a apiResult) Problem() string {
	if a.Err.Message != "" {
		msg := strings.ToUpper(a.Err.Message[:1]) + a.Err.Message[1:]
		if a.Err.Hint != "" {
			msg += " (" + a.Err.Hint + ")"
		}
		return msg
	}
	return fmt.Sprintf("The server answered %d.", a.Status)
}

// callAPI runs an /v1 request in-process as the person of r (their
// session cookie goes along, so the route's own auth and role checks
// apply) and decodes a JSON answer into out.
func (s *Server) callAPI(r *http.Request, method, path string, in, out any) apiResult {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return apiResult{Status: http.StatusInternalServerError, Err: errInternal}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, path, body)
	if err != nil {
		return apiResult{Status: http.StatusInternalServerError, Err: errInternal}
	}
	if req.Body == nil {
		req.Body = http.NoBody // as for a request the server read: handlers may read it
	}
	req.Host = r.Host
	req.RemoteAddr = r.RemoteAddr
	if c := r.Header.Get("Cookie"); c != "" {
		req.Header.Set("Cookie", c)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &capture{header: http.Header{}, status: http.StatusOK}
	s.mux.ServeHTTP(rec, req)
	res := apiResult{Status: rec.status, Body: rec.body.Bytes()}
	if !res.OK() {
		var e struct {
			Error apiError `json:"error"`
		}
		_ = json.Unmarshal(res.Body, &e)
		res.Err = e.Error
		return res
	}
	if out != nil {
		if err := json.Unmarshal(res.Body, out); err != nil {
			s.cfg.Logger.Error("console: decoding API answer", "path", path, "err", err)
			return apiResult{Status: http.StatusInternalServerError, Err: errInternal}
		}
	}
	return res
}

// capture is the ResponseWriter of in-process API calls.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (c *capture) Header() http.Header { return c.header }
func (c *capture) Write(b []byte) (int, error) {
	c.wrote = true
	return c.body.Write(b)
}
func (c *capture) WriteHeader(code int) {
	if !c.wrote {
		c.status, c.wrote = code, true
	}
}

// Flash messages survive one redirect in a short-lived cookie.
const flashCookie = "nudge_flash"

func (s *Server) setFlash(w http.ResponseWriter, problem bool, msg string) {
	kind := "ok"
	if problem {
		kind = "problem"
	}
	if len(msg) > 600 {
		msg = msg[:600]
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(kind + "|" + msg)),
		Path: "/", MaxAge: 60, HttpOnly: true, Secure: s.secureCookie, SameSite: http.SameSiteStrictMode})
}

func readFlash(w http.ResponseWriter, r *http.Request) (flash, problem string) {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return "", ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return "", ""
	}
	kind, msg, _ := strings.Cut(string(raw), "|")
	if kind == "problem" {
		return "", msg
	}
	return msg, ""
}

// done redirects back to a page with a message: the outcome of an action.
func (s *Server) done(w http.ResponseWriter, r *http.Request, to string, res apiResult, okMsg string) {
	if res.OK() {
		s.setFlash(w, false, okMsg)
	} else {
		s.setFlash(w, true, res.Problem())
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
