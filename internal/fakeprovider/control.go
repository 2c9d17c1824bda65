package fakeprovider

import (
	"encoding/json"
	"net/http"
	"time"
)

// failRequest is the body of POST /_fake/fail.
type failRequest struct {
	Count        int    `json:"count"` // default 1; ignored when To is set
	To           string `json:"to"`    // fail every send to this recipient instead
	Status       int    `json:"status"`
	Code         int    `json:"code"`
	Message      string `json:"message"`
	RetryAfterMS int    `json:"retry_after_ms"`
	DelayMS      int    `json:"delay_ms"`
	Accepted     bool   `json:"accepted"`
}

func (c *core) handleFail(w http.ResponseWriter, r *http.Request) {
	var req failRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	f := Failure{
		Status: req.Status, Code: req.Code, Message: req.Message, Accepted: req.Accepted,
		RetryAfter: time.Duration(req.RetryAfterMS) * time.Millisecond,
		Delay:      time.Duration(req.DelayMS) * time.Millisecond,
	}
	if req.To != "" {
		c.FailTo(req.To, f)
	} else {
		c.FailNext(max(req.Count, 1), f)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *core) handleClearFailures(w http.ResponseWriter, _ *http.Request) {
	c.ClearFailures()
	w.WriteHeader(http.StatusNoContent)
}

func (c *core) handleWebhooks(w http.ResponseWriter, _ *http.Request) {
	type call struct {
		Kind   string    `json:"kind"`
		URL    string    `json:"url"`
		Body   string    `json:"body"`
		Status int       `json:"status"`
		Err    string    `json:"error,omitempty"`
		Sent   time.Time `json:"sent"`
	}
	out := []call{}
	for _, h := range c.Webhooks() {
		c := call{Kind: h.Kind, URL: h.URL, Body: string(h.Body), Status: h.Status, Sent: h.Sent}
		if h.Err != nil {
			c.Err = h.Err.Error()
		}
		out = append(out, c)
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *core) controlRoutes(mux *http.ServeMux, messages func() []CapturedMessage, reset func()) {
	mux.HandleFunc("GET /_fake/messages", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, messages())
	})
	mux.HandleFunc("GET /_fake/webhooks", c.handleWebhooks)
	mux.HandleFunc("POST /_fake/fail", c.handleFail)
	mux.HandleFunc("POST /_fake/clear-failures", c.handleClearFailures)
	mux.HandleFunc("POST /_fake/reset", func(w http.ResponseWriter, _ *http.Request) {
		reset()
		w.WriteHeader(http.StatusNoContent)
	})
}

func (t *Twilio) controlRoutes() {
	t.core.controlRoutes(t.mux, t.Messages, t.Reset)
	t.mux.HandleFunc("POST /_fake/outcome", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			To        string `json:"to"`
			Status    string `json:"status"`
			ErrorCode int    `json:"error_code"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		t.SetOutcome(req.To, SMSOutcome{Status: req.Status, ErrorCode: req.ErrorCode})
		w.WriteHeader(http.StatusNoContent)
	})
	t.mux.HandleFunc("POST /_fake/inbound", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ URL, From, To, Body string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := t.Inbound(r.Context(), req.URL, req.From, req.To, req.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *SendGrid) controlRoutes() {
	s.core.controlRoutes(s.mux, s.Messages, s.Reset)
	s.mux.HandleFunc("POST /_fake/outcome", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ To, Event string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.SetOutcome(req.To, req.Event); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("GET /_fake/public-key", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(s.PublicKey()))
	})
}
