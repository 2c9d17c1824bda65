package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

type clientView struct {
	ID               string        `json:"id"`
	FirstName        string        `json:"first_name"`
	Timezone         string        `json:"timezone"`
	Phone            string        `json:"phone,omitempty"`
	Email            string        `json:"email,omitempty"`
	Locale           string        `json:"locale,omitempty"`
	PreferredChannel vocab.Channel `json:"preferred_channel,omitempty"`
	UpdatedAt        time.Time     `json:"updated_at"`
	CreatedAt        time.Time     `json:"created_at"`
	Consents         []consentView `json:"consents"`
	// CarePause is the clinician's pause in force now, null when none.
	CarePause *carePauseView `json:"care_pause"`
	// Encouragement is the client's live encouragement schedule, null when
	// the client gets none (no schedule or no consent).
	Encouragement *encouragementView `json:"encouragement"`
}

type carePauseView struct {
	Scope       string     `json:"scope"`
	Until       *time.Time `json:"until"`
	RequestedBy string     `json:"requested_by"`
	Since       time.Time  `json:"since"`
}

type consentView struct {
	Channel        vocab.Channel `json:"channel"`
	Purpose        vocab.Purpose `json:"purpose"`
	Address        string        `json:"address,omitempty"` // the phone or email the state is for
	Active         bool          `json:"active"`
	Source         string        `json:"source"`
	WordingVersion string        `json:"wording_version,omitempty"`
	Since          time.Time     `json:"since"`
}

type sessionView struct {
	ID                   string    `json:"id"`
	ClientID             string    `json:"client_id"`
	State                string    `json:"state"`
	Version              int       `json:"version"`
	StartsAt             time.Time `json:"starts_at"`
	DurationMin          int       `json:"duration_min,omitempty"`
	ClinicianDisplayName string    `json:"clinician_display_name,omitempty"`
	LocationKind         string    `json:"location_kind,omitempty"`
	CancelReason         string    `json:"cancel_reason,omitempty"`
	UpdatedAt            time.Time `json:"updated_at"`
	// Reminders are the session's appointment reminders, soonest first.
	Reminders []reminderView `json:"reminders"`
	// Confirmation is the client's latest C or R reply, null without one.
	Confirmation *confirmationView `json:"confirmation"`
}

type confirmationView struct {
	State string    `json:"state"` // confirmed or reschedule_requested
	At    time.Time `json:"at"`
}

type deliveryView struct {
	ID             string        `json:"id"`
	IdempotencyKey string        `json:"idempotency_key"`
	ClientID       string        `json:"client_id"`
	Channel        vocab.Channel `json:"channel"`
	Purpose        vocab.Purpose `json:"purpose"`
	Template       string        `json:"template,omitempty"`
	State          string        `json:"state"`
	Reason         string        `json:"reason,omitempty"`
	ProviderID     string        `json:"provider_id,omitempty"`
	SessionID      string        `json:"session_id,omitempty"`
	SessionVersion int           `json:"session_version,omitempty"`
	Attempts       int           `json:"attempts"`
	// NotBefore is when a deferred delivery is due again (state deferred:
	// pending, waiting for quiet hours or a cadence cap to pass).
	NotBefore *time.Time `json:"not_before,omitempty"`
	// DeferredWhy says what it waits for (quiet_hours, cadence_daily_cap …).
	DeferredWhy string    `json:"deferred_why,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// storeError maps store errors to API errors: not found is 404, anything
// else is a 500 that is logged (never echoed: it may carry SQL).
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, errNotFound)
		return
	}
	s.cfg.Logger.Error("store", "path", r.URL.Path, "err", err)
	writeError(w, errInternal)
}

func (s *Server) getClient(w http.ResponseWriter, r *http.Request) {
	c, err := s.cfg.Store.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	consents, err := s.cfg.Store.Consents(r.Context(), c.ID)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	v := clientView{
		ID: c.ID, FirstName: c.FirstName, Timezone: c.Timezone, Phone: c.Phone, Email: c.Email,
		Locale: c.Locale, PreferredChannel: c.PreferredChannel, UpdatedAt: c.UpdatedAt, CreatedAt: c.CreatedAt,
		Consents: make([]consentView, 0, len(consents)),
	}
	for _, cs := range consents {
		v.Consents = append(v.Consents, consentView{cs.Channel, cs.Purpose, cs.Address, cs.Active, cs.Source, cs.WordingVersion, cs.Since})
	}
	p, err := s.cfg.Store.GetCarePause(r.Context(), c.ID)
	switch {
	case err == nil && p.InForce(time.Now()):
		v.CarePause = &carePauseView{Scope: p.Scope, RequestedBy: p.RequestedBy, Since: p.Since}
		if !p.Until.IsZero() {
			v.CarePause.Until = &p.Until
		}
	case err != nil && !errors.Is(err, store.ErrNotFound):
		s.storeError(w, r, err)
		return
	}
	if v.Encouragement, err = s.encouragementOf(r, c.ID); err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	ss, err := s.cfg.Store.GetSession(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	reminders, err := s.sessionReminders(r, ss.ID)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	v := sessionView{
		ID: ss.ID, ClientID: ss.ClientID, State: string(ss.Status), Version: ss.Version, StartsAt: ss.StartsAt,
		DurationMin: ss.DurationMin, ClinicianDisplayName: ss.ClinicianDisplayName, LocationKind: ss.LocationKind,
		CancelReason: ss.CancelReason, UpdatedAt: ss.UpdatedAt, Reminders: reminders,
	}
	switch c, err := s.cfg.Store.GetSessionConfirmation(r.Context(), ss.ID); {
	case err == nil:
		v.Confirmation = &confirmationView{State: c.State, At: c.At}
	case !errors.Is(err, store.ErrNotFound):
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.DeliveryFilter{ClientID: q.Get("client_id"), SessionID: q.Get("session_id"), State: store.DeliveryState(q.Get("state"))}
	onlyDeferred := f.State == stateDeferred
	if onlyDeferred {
		f.State = store.DeliveryPending
	}
	limit, ok := parseLimit(w, q)
	if !ok {
		return
	}
	f.Limit = limit
	rows, err := s.cfg.Store.ListDeliveries(r.Context(), f)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	deferrals, err := s.deferralsOf(r, rows)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := make([]deliveryView, 0, len(rows))
	for _, d := range rows {
		v := deliveryView{
			ID: d.ID, IdempotencyKey: d.IdempotencyKey, ClientID: d.ClientID, Channel: d.Channel, Purpose: d.Purpose,
			Template: d.Template, State: string(d.State), Reason: d.Reason, ProviderID: d.ProviderID,
			SessionID: d.SessionID, SessionVersion: d.SessionVersion, Attempts: d.Attempts,
			CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		}
		if df, ok := deferrals[d.IdempotencyKey]; ok {
			v.State, v.NotBefore, v.DeferredWhy = stateDeferred, &df.NotBefore, df.Why
		}
		if onlyDeferred && v.State != stateDeferred {
			continue
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
}

// getEvent answers what became of an event. CloudEvents identifies an
// event by source and id, so ?source= picks one; without it an id that
// several sources sent is a 409 naming them.
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	id, source := r.PathValue("id"), r.URL.Query().Get("source")
	recs, err := s.cfg.Store.EventsByID(r.Context(), id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if r.URL.Query().Has("source") {
		recs = slices.DeleteFunc(recs, func(ev store.EventRecord) bool { return ev.Source != source })
	}
	switch len(recs) {
	case 0:
		writeError(w, errNotFound)
		return
	case 1:
	default:
		sources := make([]string, 0, len(recs))
		for _, ev := range recs {
			sources = append(sources, ev.Source)
		}
		writeJSON(w, http.StatusConflict, map[string]any{
			"error": apiError{Code: "ambiguous_id", Message: fmt.Sprintf("%d sources sent an event with this id", len(recs)),
				Hint: "add ?source= with one of the sources listed"},
			"sources": sources,
		})
		return
	}
	ev := recs[0]
	writeJSON(w, http.StatusOK, map[string]any{
		"id": ev.ID, "type": ev.Type, "source": ev.Source, "time": ev.Time,
		"applied": ev.Applied, "reason": ev.Reason, "applied_at": ev.AppliedAt,
	})
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	entries, err := s.cfg.Store.ListAudit(r.Context(), 100)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	type view struct {
		Seq    int64     `json:"seq"`
		At     time.Time `json:"at"`
		Actor  string    `json:"actor"`
		Action string    `json:"action"`
		Target string    `json:"target,omitempty"`
		Detail string    `json:"detail,omitempty"`
	}
	out := make([]view, 0, len(entries))
	for _, e := range entries {
		out = append(out, view{e.Seq, e.At, e.Actor, e.Action, e.Target, e.Detail})
	}
	writeJSON(w, http.StatusOK, map[string]any{"audit": out})
}
