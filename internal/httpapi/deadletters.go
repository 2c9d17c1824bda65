package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

// DeadLetterReplayer puts a dead letter back on its subject, once.
type DeadLetterReplayer interface {
	Replay(ctx context.Context, id int64, by string) (store.DeadLetter, error)
}

type deadLetterView struct {
	ID         int64     `json:"id"`
	Stream     string    `json:"stream"`
	StreamSeq  uint64    `json:"stream_seq"`
	Consumer   string    `json:"consumer"`
	Subject    string    `json:"subject"`
	Key        string    `json:"key,omitempty"`
	Deliveries uint64    `json:"deliveries"`
	Reason     string    `json:"reason,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	ReplayedAt time.Time `json:"replayed_at,omitzero"`
	ReplayedBy string    `json:"replayed_by,omitempty"`
	// Data is the message as it was on the stream (JSON for nudge's own
	// messages), shown only by GET /v1/deadletters/{id}.
	Data any `json:"data,omitempty"`
}

func viewDeadLetter(d store.DeadLetter, withData bool) deadLetterView {
	v := deadLetterView{ID: d.ID, Stream: d.Stream, StreamSeq: d.StreamSeq, Consumer: d.Consumer, Subject: d.Subject,
		Key: d.Key, Deliveries: d.Deliveries, Reason: d.Reason, CreatedAt: d.CreatedAt, ReplayedAt: d.ReplayedAt, ReplayedBy: d.ReplayedBy}
	if withData {
		v.Data = rawJSONOrString(d.Data)
	}
	return v
}

func (s *Server) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	pending := r.URL.Query().Get("all") == ""
	rows, err := s.cfg.Store.ListDeadLetters(r.Context(), pending, 200)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := make([]deadLetterView, 0, len(rows))
	for _, d := range rows {
		out = append(out, viewDeadLetter(d, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"dead_letters": out})
}

func deadLetterID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, apiError{http.StatusBadRequest, "invalid_id", "dead letter ids are positive whole numbers", ""})
		return 0, false
	}
	return id, true
}

func (s *Server) getDeadLetter(w http.ResponseWriter, r *http.Request) {
	id, ok := deadLetterID(w, r)
	if !ok {
		return
	}
	d, err := s.cfg.Store.GetDeadLetter(r.Context(), id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewDeadLetter(d, true))
}

func (s *Server) replayDeadLetter(w http.ResponseWriter, r *http.Request) {
	id, ok := deadLetterID(w, r)
	if !ok {
		return
	}
	if s.cfg.DeadLetters == nil {
		writeError(w, errUnavailable)
		return
	}
	d, err := s.cfg.DeadLetters.Replay(r.Context(), id, actorName(r))
	switch {
	case errors.Is(err, store.ErrConflict):
		writeError(w, apiError{http.StatusConflict, "already_replayed", err.Error(), "a dead letter is replayed once; its outcome shows in the deliveries ledger"})
		return
	case errors.Is(err, store.ErrInvalid):
		writeError(w, apiError{http.StatusUnprocessableEntity, "not_replayable", err.Error(), ""})
		return
	case err != nil:
		s.storeError(w, r, err)
		return
	}
	s.audit(r, "deadletter.replayed", strconv.FormatInt(id, 10), "")
	writeJSON(w, http.StatusOK, viewDeadLetter(d, false))
}
