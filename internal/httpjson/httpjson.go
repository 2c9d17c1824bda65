// Package httpjson writes JSON answers the same way for every nudge HTTP
// surface (API, webhooks, adapters), so clients meet one shape.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// Write answers status with v as indented JSON.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
