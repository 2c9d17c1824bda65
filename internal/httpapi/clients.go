package httpapi

import (
	"net/http"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/publishers"
)

// clientRoutes are the client routes the console needs besides
// GET /v1/clients/{id}:
//
//	GET  /v1/clients?q=&limit=           search by id, first name, email (prefix) or phone digits
//	GET  /v1/clients/{id}/consents       the consent ledger, oldest first
//	GET  /v1/clients/{id}/sessions       booked sessions starting after ?since= (RFC 3339; default now), soonest first
//	POST /v1/clients/{id}/care-pause     {scope?, until?} → publishes client.care_paused
//	POST /v1/clients/{id}/care-resume    publishes client.care_resumed
//
// Pause and resume only publish the event, naming who asked; the ingest
// consumer decides what it changes (one rule, one place).
func (s *Server) clientRoutes() {
	s.mux.Handle("GET /v1/clients", s.auth(http.HandlerFunc(s.searchClients)))
	s.mux.Handle("GET /v1/clients/{id}/consents", s.auth(http.HandlerFunc(s.clientConsents)))
	s.mux.Handle("GET /v1/clients/{id}/sessions", s.auth(http.HandlerFunc(s.clientSessions)))
	s.mux.Handle("POST /v1/clients/{id}/care-pause", s.auth(http.HandlerFunc(s.carePause)))
	s.mux.Handle("POST /v1/clients/{id}/care-resume", s.auth(http.HandlerFunc(s.careResume)))
}

type clientSummary struct {
	ID        string    `json:"id"`
	FirstName string    `json:"first_name"`
	Timezone  string    `json:"timezone"`
	Phone     string    `json:"phone,omitempty"`
	Email     string    `json:"email,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (s *Server) searchClients(w http.ResponseWriter, r *http.Request) {
	limit, ok := parseLimit(w, r.URL.Query())
	if !ok {
		return
	}
	rows, err := s.cfg.Store.SearchClients(r.Context(), r.URL.Query().Get("q"), limit)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := make([]clientSummary, 0, len(rows))
	for _, c := range rows {
		out = append(out, clientSummary{c.ID, c.FirstName, c.Timezone, c.Phone, c.Email, c.UpdatedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"clients": out})
}

type consentEntryView struct {
	Seq            int64     `json:"seq"`
	Channel        string    `json:"channel"`
	Purpose        string    `json:"purpose"`
	Action         string    `json:"action"`
	Source         string    `json:"source"`
	WordingVersion string    `json:"wording_version,omitempty"`
	OccurredAt     time.Time `json:"occurred_at"`
	RecordedAt     time.Time `json:"recorded_at"`
}

func (s *Server) clientConsents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.cfg.Store.GetClient(r.Context(), id); err != nil {
		s.storeError(w, r, err)
		return
	}
	rows, err := s.cfg.Store.ConsentLedger(r.Context(), id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := make([]consentEntryView, 0, len(rows))
	for _, e := range rows {
		out = append(out, consentEntryView{e.Seq, string(e.Channel), string(e.Purpose), string(e.Action), e.Source, e.WordingVersion, e.OccurredAt, e.RecordedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"consents": out})
}

func (s *Server) clientSessions(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.cfg.Store.GetClient(r.Context(), id); err != nil {
		s.storeError(w, r, err)
		return
	}
	since := time.Now()
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, apiError{http.StatusBadRequest, "invalid_since", "since must be an RFC 3339 time", "e.g. 2030-01-31T00:00:00Z"})
			return
		}
		since = t
	}
	rows, err := s.cfg.Store.UpcomingSessions(r.Context(), id, since)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	type view struct {
		ID                   string    `json:"id"`
		State                string    `json:"state"`
		Version              int       `json:"version"`
		StartsAt             time.Time `json:"starts_at"`
		DurationMin          int       `json:"duration_min,omitempty"`
		ClinicianDisplayName string    `json:"clinician_display_name,omitempty"`
		LocationKind         string    `json:"location_kind,omitempty"`
	}
	out := make([]view, 0, len(rows))
	for _, ss := range rows {
		out = append(out, view{ss.ID, string(ss.Status), ss.Version, ss.StartsAt, ss.DurationMin, ss.ClinicianDisplayName, ss.LocationKind})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// carePause publishes client.care_paused for a known client, naming the
// person who asked (or "api-token").
func (s *Server) carePause(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Scope string    `json:"scope"`
		Until time.Time `json:"until"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	c, ok := s.knownClient(w, r)
	if !ok {
		return
	}
	if !req.Until.IsZero() && !req.Until.After(time.Now()) {
		writeError(w, apiError{http.StatusBadRequest, "until_past", "until must be in the future", "leave it out to pause until resumed"})
		return
	}
	data := publishers.CarePaused{ClientID: c.ID, Scope: req.Scope, Until: req.Until, RequestedBy: actorName(r)}
	s.publishStaffEvent(w, r, publishers.TypeClientCarePaused, data, "client.care_paused", c.ID)
}

func (s *Server) careResume(w http.ResponseWriter, r *http.Request) {
	c, ok := s.knownClient(w, r)
	if !ok {
		return
	}
	data := publishers.CareResumed{ClientID: c.ID, RequestedBy: actorName(r)}
	s.publishStaffEvent(w, r, publishers.TypeClientCareResumed, data, "client.care_resumed", c.ID)
}

func (s *Server) knownClient(w http.ResponseWriter, r *http.Request) (store.Client, bool) {
	c, err := s.cfg.Store.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return store.Client{}, false
	}
	return c, true
}

// staffEventSource is the CloudEvents source of events staff cause
// through the API.
const staffEventSource = "nudge/staff"

// publishStaffEvent validates and publishes one event a person asked for,
// audits it and answers 202 with its id.
func (s *Server) publishStaffEvent(w http.ResponseWriter, r *http.Request, typ string, data any, action, target string) {
	ev, err := publishers.NewEvent(typ, staffEventSource, data)
	if err == nil {
		err = ev.Validate()
	}
	if err != nil {
		writeError(w, apiError{http.StatusBadRequest, "invalid", err.Error(), ""})
		return
	}
	if _, err := s.cfg.Publisher.Publish(r.Context(), ev); err != nil {
		s.cfg.Logger.Error("publishing staff event", "type", typ, "err", err)
		writeError(w, errUnavailable)
		return
	}
	s.audit(r, action, target, `{"event_id":"`+ev.ID+`"}`)
	writeJSON(w, http.StatusAccepted, map[string]any{"event_id": ev.ID, "type": typ})
}
