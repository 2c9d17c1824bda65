package httpapi

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/nudgehq/nudge/internal/httpjson"
)

// apiError is the one shape every error response has: a stable machine code,
// the HTTP status, a sentence for people and, where it helps, a hint.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

var (
	errUnauthorized = apiError{http.StatusUnauthorized, "unauthorized", "missing or invalid API token", "send Authorization: Bearer <token>; `nudge dev` prints the token at start"}
	errTooLarge     = apiError{http.StatusRequestEntityTooLarge, "body_too_large", "request body is larger than the limit", "split the batch into smaller requests"}
	errNotFound     = apiError{http.StatusNotFound, "not_found", "no such resource", ""}
	errBadJSON      = apiError{http.StatusBadRequest, "malformed_json", "request body is not valid JSON", "send one CloudEvents JSON object or an array of them"}
	errInternal     = apiError{http.StatusInternalServerError, "internal", "internal error; the request may be retried", ""}
	errUnavailable  = apiError{http.StatusServiceUnavailable, "unavailable", "event bus unavailable; nothing was accepted", "retry with the same event ids: repeats are stored once"}
)

func writeJSON(w http.ResponseWriter, status int, v any) { httpjson.Write(w, status, v) }

func writeError(w http.ResponseWriter, e apiError) {
	writeJSON(w, e.Status, map[string]any{"error": e})
}

// parseLimit reads ?limit= (1 to 1000; 0 when absent). On a bad value it
// answers 400 and returns false.
func parseLimit(w http.ResponseWriter, q url.Values) (int, bool) {
	l := q.Get("limit")
	if l == "" {
		return 0, true
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > 1000 {
		writeError(w, apiError{http.StatusBadRequest, "invalid_limit", "limit must be a whole number from 1 to 1000", ""})
		return 0, false
	}
	return n, true
}
