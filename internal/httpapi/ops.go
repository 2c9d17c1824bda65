package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// Ops serves the operational endpoints alone — GET /metrics (when metrics
// is not nil), /healthz and /readyz — for `--metrics-listen`, so a
// scraper and the orchestrator's probes reach them on an address that is
// not published with the API.
func Ops(ready func(context.Context) error, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	healthRoutes(mux, ready, slog.Default())
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	return mux
}

// healthRoutes serves /healthz and /readyz. Both are unauthenticated, so
// /readyz names only the dependency of a *NotReadyError that is down; the
// error itself (which may name a database user, host or file) is logged.
func healthRoutes(mux *http.ServeMux, ready func(context.Context) error, log *slog.Logger) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			if err := ready(r.Context()); err != nil {
				log.Warn("not ready", "err", err)
				body := map[string]string{"status": "unavailable"}
				var nr *NotReadyError
				if errors.As(err, &nr) {
					body["unavailable"] = nr.Dependency
				}
				writeJSON(w, http.StatusServiceUnavailable, body)
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
