package httpapi

import (
	_ "embed"
	"html/template"
	"net/http"
)

//go:embed console/index.html
var consoleHTML string

var consoleTmpl = template.Must(template.New("console").Parse(consoleHTML))

// console serves the staff console: a single page that asks for the API
// token once (kept in the tab's sessionStorage, never in a cookie) and
// calls the same /v1 API as every other client.
func (s *Server) console(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	w.Header().Set("X-Frame-Options", "DENY")
	_ = consoleTmpl.Execute(w, map[string]any{"Mode": s.cfg.Mode, "Dev": s.cfg.Mode == "dev"})
}
