package httpapi

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/nudgehq/nudge/internal/staff"
)

//go:embed console/*.html
var consoleFiles embed.FS

//go:embed console/static
var consoleStatic embed.FS

//go:embed console/index.html
var consoleHTML string

var consoleTmpl = template.Must(template.New("console").Parse(consoleHTML))

// consolePages are the server-rendered pages: each is layout.html plus its
// own file, which defines "content".
var consolePages = func() map[string]*template.Template {
	pages := map[string]*template.Template{}
	names, _ := fs.Glob(consoleFiles, "console/*.html")
	for _, n := range names {
		base := n[len("console/") : len(n)-len(".html")]
		if base == "layout" || base == "index" {
			continue
		}
		pages[base] = template.Must(template.New(base).Funcs(consoleFuncs).ParseFS(consoleFiles, "console/layout.html", n))
	}
	return pages
}()

var consoleFuncs = template.FuncMap{}

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

// console serves the staff console: a single page that asks for the API
// token once (kept in the tab's sessionStorage, never in a cookie) and
// calls the same /v1 API as every other client.
func (s *Server) console(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	w.Header().Set("X-Frame-Options", "DENY")
	_ = consoleTmpl.Execute(w, map[string]any{"Mode": s.cfg.Mode, "Dev": s.cfg.Mode == "dev"})
}

// consoleStaticHandler serves the console's CSS and JS.
func consoleStaticHandler() http.Handler {
	sub, _ := fs.Sub(consoleStatic, "console/static")
	return http.StripPrefix("/console/static/", http.FileServerFS(sub))
}
