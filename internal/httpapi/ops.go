package httpapi

import (
	"context"
	"net/http"
)

// Ops serves the operational endpoints alone — GET /metrics (when metrics
// is not nil), /healthz and /readyz — for `--metrics-listen`, so a
// scraper and the orchestrator's probes reach them on an address that is
// not published with the API.
func Ops(ready func(context.Context) error, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	healthRoutes(mux, ready)
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	return mux
}

func healthRoutes(mux *http.ServeMux, ready func(context.Context) error) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			if err := ready(r.Context()); err != nil {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
