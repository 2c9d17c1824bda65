package httpapi

import (
	_ "embed"
	"net/http"
	"slices"
)

// OpenAPI is the OpenAPI 3.1 document of every /v1 route, served at
// GET /openapi.json. TestOpenAPICoversRoutes holds it to the routes the
// server registers, and checks its examples against its schemas.
//
//go:embed openapi.json
var OpenAPI []byte

func (s *Server) openAPIRoute() {
	s.mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(OpenAPI)
	})
}

// routeMux is a ServeMux that remembers its patterns, so the OpenAPI test
// derives the registered routes from the router itself.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, f)
}

// Routes returns the patterns the server registered, in order.
func (s *Server) Routes() []string { return slices.Clone(s.mux.patterns) }
