package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/nudgehq/nudge/consumers/inbound"
	"github.com/nudgehq/nudge/internal/keyword"
	"github.com/nudgehq/nudge/internal/staff"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// InboxHandler serves the staff inbox: the inbound messages nudge could
// not answer by itself (free text, crisis language, a C without a session).
//
//	GET  /v1/inbox                the open inbox, newest first; ?all=true lists every message; ?limit=N (default 100, at most 500)
//	GET  /v1/inbox/{id}           one message, with its text
//	POST /v1/inbox/{id}/resolve   mark it handled; body {"staff": "alice"} names who (optional)
//
// The responses carry message text and phone numbers: the caller must put
// the handler behind staff authentication (the API token).
func (h *Handler) InboxHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(InboxPatterns[0], h.listInbox)
	mux.HandleFunc(InboxPatterns[1], h.getInbox)
	mux.HandleFunc(InboxPatterns[2], h.resolveInbox)
	return mux
}

// InboxPatterns are the routes InboxHandler serves; the caller mounts the
// handler on each (and the OpenAPI test checks they are documented).
var InboxPatterns = []string{"GET /v1/inbox", "GET /v1/inbox/{id}", "POST /v1/inbox/{id}/resolve"}

type inboxView struct {
	ID          string        `json:"id"`
	Channel     vocab.Channel `json:"channel"`
	From        string        `json:"from"`
	To          string        `json:"to,omitempty"`
	Body        string        `json:"body"`
	Kind        string        `json:"kind"`
	ClientID    string        `json:"client_id,omitempty"`
	ReceivedAt  time.Time     `json:"received_at"`
	ProcessedAt *time.Time    `json:"processed_at,omitempty"`
	NeedsStaff  bool          `json:"needs_staff"`
	Handled     bool          `json:"handled"`
	HandledBy   string        `json:"handled_by,omitempty"`
	HandledAt   *time.Time    `json:"handled_at,omitempty"`
	// CrisisReply is the state of the automatic crisis reply (crisis
	// messages only): pending, sending, sent, delivered, failed,
	// undelivered or skipped; CrisisReplyFailed flags one that never
	// reached the client, so staff reach out another way.
	CrisisReply       string `json:"crisis_reply,omitempty"`
	CrisisReplyFailed bool   `json:"crisis_reply_failed,omitempty"`
}

// view is viewInbound plus, for a crisis message, how its automatic reply
// fared in the deliveries ledger.
func (h *Handler) view(ctx context.Context, m store.InboundMessage) (inboxView, error) {
	v := viewInbound(m)
	if m.Kind != keyword.Crisis.String() {
		return v, nil
	}
	d, err := h.cfg.Store.GetDeliveryByKey(ctx, inbound.CrisisReplyKey(m.ID))
	switch {
	case errors.Is(err, store.ErrNotFound):
		v.CrisisReply = "queued"
	case err != nil:
		return v, err
	default:
		v.CrisisReply = string(d.State)
		v.CrisisReplyFailed = d.State == store.DeliveryFailed || d.State == store.DeliveryUndelivered || d.State == store.DeliverySkipped
	}
	return v, nil
}

func viewInbound(m store.InboundMessage) inboxView {
	v := inboxView{
		ID: m.ID, Channel: m.Channel, From: m.From, To: m.To, Body: m.Body, Kind: m.Kind, ClientID: m.ClientID,
		ReceivedAt: m.ReceivedAt, NeedsStaff: m.NeedsStaff, Handled: m.Handled, HandledBy: m.HandledBy,
	}
	if !m.ProcessedAt.IsZero() {
		v.ProcessedAt = &m.ProcessedAt
	}
	if !m.HandledAt.IsZero() {
		v.HandledAt = &m.HandledAt
	}
	return v
}

const maxInboxLimit = 500

func (h *Handler) listInbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.InboxFilter{NeedsStaff: true, Limit: 100}
	if all := q.Get("all"); all != "" {
		b, err := strconv.ParseBool(all)
		if err != nil {
			writeError(w, webhookError{http.StatusBadRequest, "bad_query", "all must be true or false"})
			return
		}
		f.NeedsStaff = !b
	}
	if limit := q.Get("limit"); limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > maxInboxLimit {
			writeError(w, webhookError{http.StatusBadRequest, "bad_query", "limit must be a number from 1 to 500"})
			return
		}
		f.Limit = n
	}
	msgs, err := h.cfg.Store.ListInbox(r.Context(), f)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	views := make([]inboxView, 0, len(msgs))
	for _, m := range msgs {
		v, err := h.view(r.Context(), m)
		if err != nil {
			h.storeError(w, r, err)
			return
		}
		views = append(views, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": views})
}

func (h *Handler) getInbox(w http.ResponseWriter, r *http.Request) {
	m, err := h.cfg.Store.GetInbound(r.Context(), r.PathValue("id"))
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	v, err := h.view(r.Context(), m)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// maxStaffName bounds the name recorded as who resolved a message.
const maxStaffName = 100

func (h *Handler) resolveInbox(w http.ResponseWriter, r *http.Request) {
	actor := staff.TokenActor
	// A logged-in person is named by their account; the body's "staff"
	// only names someone for machines using the API token.
	person, _ := staff.ActorFrom(r.Context())
	body, bad := readBody(w, r, 4<<10)
	if bad != nil {
		writeError(w, *bad)
		return
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		var req struct {
			Staff string `json:"staff"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, webhookError{http.StatusBadRequest, "malformed_json", `body must be {"staff": "<name>"} or empty`})
			return
		}
		name := strings.TrimSpace(req.Staff)
		if len(name) > maxStaffName || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			writeError(w, webhookError{http.StatusBadRequest, "bad_staff", "staff must be a printable name of at most 100 bytes"})
			return
		}
		if name != "" && !person.IsPerson() {
			actor = "staff:" + name
		}
	}
	if person.IsPerson() {
		actor = person.Name()
	}
	m, err := h.cfg.Store.ResolveInbound(r.Context(), r.PathValue("id"), actor)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewInbound(m))
}

// storeError maps store errors: not found is 404, anything else a logged
// 500 (never echoed: it may carry SQL).
func (h *Handler) storeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, errNotFound)
		return
	}
	h.log.Error("inbox", "path", r.URL.Path, "err", err)
	writeError(w, errInternal)
}
