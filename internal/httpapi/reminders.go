package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// reminderView is one appointment reminder as staff see it. State merges
// the scheduler's decision with what happened when it fired:
//
//	scheduled  a message schedule fires it at fire_at (reason: how quiet
//	           hours placed it, e.g. quiet_hours_moved_earlier)
//	sending    fired, being delivered
//	sent       the provider accepted it
//	skipped    not sent: reason says why (offset_passed, quiet_hours_no_slot,
//	           cancelled, moved, session_started, expired, no_consent …)
//	failed     the provider refused it; reason says why
//	cancelled  withdrawn before it fired (cancelled, moved, channel_changed)
type reminderView struct {
	Key            string        `json:"key"`
	SessionID      string        `json:"session_id"`
	SessionVersion int           `json:"session_version"`
	ClientID       string        `json:"client_id"`
	Offset         string        `json:"offset"`
	Channel        vocab.Channel `json:"channel"`
	FireAt         time.Time     `json:"fire_at"`
	State          string        `json:"state"`
	Reason         string        `json:"reason,omitempty"`
	UpdatedAt      time.Time     `json:"updated_at"`
}

// newReminderView merges r with its ledger row d (nil when it has none).
func newReminderView(r store.Reminder, d *store.Delivery, now time.Time) reminderView {
	v := reminderView{
		Key: r.Key, SessionID: r.SessionID, SessionVersion: r.SessionVersion, ClientID: r.ClientID,
		Offset: vocab.OffsetLabel(r.Offset), Channel: r.Channel, FireAt: r.FireAt,
		State: string(r.State), Reason: r.Reason, UpdatedAt: r.UpdatedAt,
	}
	if d != nil {
		v.Reason, v.UpdatedAt = d.Reason, d.UpdatedAt
		switch d.State {
		case store.DeliverySent, store.DeliveryDelivered:
			v.State = "sent"
		case store.DeliverySkipped:
			v.State = "skipped"
		case store.DeliveryFailed, store.DeliveryUndelivered:
			v.State = "failed"
		default:
			v.State = "sending"
		}
		return v
	}
	if r.State == store.ReminderScheduled && !r.NotAfter.IsZero() && now.After(r.NotAfter) {
		// Fired (or due) but never reached the deliverer before it
		// expired: its message outlived its TTL on the stream.
		v.State, v.Reason = "skipped", string(vocab.SkipExpired)
	}
	return v
}

// sessionReminders lists a session's reminders with their outcome.
func (s *Server) sessionReminders(r *http.Request, sessionID string) ([]reminderView, error) {
	rows, err := s.cfg.Store.ListReminders(r.Context(), store.ReminderFilter{SessionID: sessionID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	ledger, err := s.cfg.Store.ListDeliveries(r.Context(), store.DeliveryFilter{SessionID: sessionID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	byKey := map[string]*store.Delivery{}
	for i := range ledger {
		byKey[ledger[i].IdempotencyKey] = &ledger[i]
	}
	now := time.Now()
	out := make([]reminderView, 0, len(rows))
	for _, rm := range rows {
		out = append(out, newReminderView(rm, byKey[rm.Key], now))
	}
	return out, nil
}

// listReminders serves GET /v1/reminders: ?upcoming=1 for reminders still
// scheduled to fire (soonest first), ?session_id=, ?state=, ?limit=.
func (s *Server) listReminders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.ReminderFilter{SessionID: q.Get("session_id"), State: store.ReminderState(q.Get("state"))}
	if up, _ := strconv.ParseBool(q.Get("upcoming")); up {
		f.State, f.FireAfter = store.ReminderScheduled, time.Now()
	}
	limit, ok := parseLimit(w, q)
	if !ok {
		return
	}
	f.Limit = limit
	rows, err := s.cfg.Store.ListReminders(r.Context(), f)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	now := time.Now()
	out := make([]reminderView, 0, len(rows))
	for _, rm := range rows {
		var d *store.Delivery
		if !rm.FireAt.After(now) {
			if got, err := s.cfg.Store.GetDeliveryByKey(r.Context(), rm.Key); err == nil {
				d = &got
			}
		}
		out = append(out, newReminderView(rm, d, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"reminders": out})
}
