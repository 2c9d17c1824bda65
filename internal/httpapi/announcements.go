package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/nudgehq/nudge/consumers/announcement"
	"github.com/nudgehq/nudge/internal/staff"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

// Staff announcements to support groups. Handlers validate, record and
// publish; the announce consumer decides who gets what (package
// consumers/announcement), and the preview asks the same decision function.
func (s *Server) announcementRoutes() {
	s.mux.Handle("GET /v1/groups", s.auth(http.HandlerFunc(s.listGroups)))
	s.mux.Handle("GET /v1/groups/{id}", s.auth(http.HandlerFunc(s.getGroup)))
	s.mux.Handle("POST /v1/announcements/preview", s.auth(http.HandlerFunc(s.previewAnnouncement)))
	s.mux.Handle("POST /v1/announcements", s.auth(http.HandlerFunc(s.postAnnouncement)))
	s.mux.Handle("GET /v1/announcements", s.auth(http.HandlerFunc(s.listAnnouncements)))
	s.mux.Handle("GET /v1/announcements/{id}", s.auth(http.HandlerFunc(s.getAnnouncement)))
	s.mux.Handle("POST /v1/announcements/{id}/cancel", s.auth(http.HandlerFunc(s.cancelAnnouncement)))
}

const maxAnnouncementBody = 64 << 10

var (
	errAnnouncementsOff = apiError{http.StatusServiceUnavailable, "announcements_unavailable", "announcements are not configured on this server", ""}
	errUnknownGroup     = apiError{http.StatusNotFound, "unknown_group", "no such group", "groups come from group.upserted and group.member_added events"}
)

type groupView struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	MemberCount int        `json:"member_count"`
	UpdatedAt   *time.Time `json:"updated_at,omitempty"`
}

func viewGroup(g store.Group) groupView {
	v := groupView{ID: g.ID, Name: g.Name, MemberCount: g.MemberCount}
	if !g.UpdatedAt.IsZero() {
		v.UpdatedAt = &g.UpdatedAt
	}
	return v
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	groups, err := s.cfg.Store.ListGroups(r.Context())
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := make([]groupView, 0, len(groups))
	for _, g := range groups {
		out = append(out, viewGroup(g))
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": out})
}

// getGroup shows a group and, per member, whether an announcement would
// reach them and on which channel, or why not. ?channels=sms,email
// restricts the channels like an announcement's; ?after= and ?limit= page.
func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Announcements == nil {
		writeError(w, errAnnouncementsOff)
		return
	}
	g, err := s.cfg.Store.GetGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	q := r.URL.Query()
	limit, ok := parseLimit(w, q)
	if !ok {
		return
	}
	if limit == 0 {
		limit = 500
	}
	channels, ok := parseChannels(w, q.Get("channels"))
	if !ok {
		return
	}
	members, err := s.cfg.Announcements.Members(r.Context(), g.ID, q.Get("after"), limit, channels)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if members == nil {
		members = []announcement.Reach{}
	}
	out := map[string]any{"group": viewGroup(g), "members": members}
	if len(members) == limit {
		out["next_after"] = members[len(members)-1].ClientID
	}
	writeJSON(w, http.StatusOK, out)
}

func parseChannels(w http.ResponseWriter, v string) ([]vocab.Channel, bool) {
	if v == "" {
		return nil, true
	}
	var chs []vocab.Channel
	for _, s := range strings.Split(v, ",") {
		ch := vocab.Channel(s)
		if !ch.Valid() {
			writeError(w, apiError{http.StatusBadRequest, "invalid_channels", fmt.Sprintf("channel %q is not sms or email", s), "channels=sms,email"})
			return nil, false
		}
		chs = append(chs, ch)
	}
	return chs, true
}

// announcementRequest is the body of POST /v1/announcements and its preview.
type announcementRequest struct {
	AnnouncementID     string          `json:"announcement_id,omitempty"`
	GroupID            string          `json:"group_id"`
	Body               string          `json:"body,omitempty"`
	Template           string          `json:"template,omitempty"`
	Channels           []vocab.Channel `json:"channels,omitempty"`
	Urgent             bool            `json:"urgent,omitempty"`
	UrgentReason       string          `json:"urgent_reason,omitempty"`
	LintOverrideReason string          `json:"lint_override_reason,omitempty"`
}

func (a announcementRequest) message() announcement.Message {
	return announcement.Message{Template: a.Template, Body: a.Body, Channels: a.Channels, Urgent: a.Urgent}
}

// readAnnouncement decodes and validates the request with the same rules
// as the announcement.requested event. preview skips the announcement id.
func (s *Server) readAnnouncement(w http.ResponseWriter, r *http.Request, preview bool) (announcementRequest, publishers.Event, bool) {
	var req announcementRequest
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAnnouncementBody))
	if err != nil {
		writeError(w, errTooLarge)
		return req, publishers.Event{}, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		e := errBadJSON
		e.Message, e.Hint = "request body: "+err.Error(), "send {group_id, body or template, channels?, urgent?, urgent_reason?}"
		writeError(w, e)
		return req, publishers.Event{}, false
	}
	id := req.AnnouncementID
	if preview {
		id = "preview"
	}
	ev, err := publishers.NewEvent(publishers.TypeAnnouncementRequested, "/v1/announcements", publishers.AnnouncementRequested{
		AnnouncementID: id, GroupID: req.GroupID, Template: req.Template, Body: req.Body,
		RequestedBy: requestedBy(r), Channels: req.Channels, Urgent: req.Urgent, UrgentReason: req.UrgentReason,
		LintOverrideReason: req.LintOverrideReason,
	})
	if err != nil {
		var ve *publishers.ValidationError
		fields := []publishers.FieldError{{Code: "invalid", Message: err.Error()}}
		if errors.As(err, &ve) {
			fields = ve.Fields
			for i := range fields {
				fields[i].Field = strings.TrimPrefix(fields[i].Field, "data.")
				fields[i].Message = strings.ReplaceAll(fields[i].Message, "data.", "")
			}
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error":  apiError{Code: "invalid_announcement", Message: "the announcement is invalid", Hint: "fix the fields listed"},
			"fields": fields,
		})
		return req, publishers.Event{}, false
	}
	if !preview {
		ev = ev.WithID("announcement-" + req.AnnouncementID)
	}
	if _, err := s.cfg.Store.GetGroup(r.Context(), req.GroupID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, errUnknownGroup)
		} else {
			s.storeError(w, r, err)
		}
		return req, publishers.Event{}, false
	}
	return req, ev, true
}

func (s *Server) previewAnnouncement(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Announcements == nil {
		writeError(w, errAnnouncementsOff)
		return
	}
	req, _, ok := s.readAnnouncement(w, r, true)
	if !ok {
		return
	}
	p, err := s.cfg.Announcements.Preview(r.Context(), req.GroupID, req.message())
	if errors.Is(err, announcement.ErrUnknownTemplate) {
		writeError(w, apiError{http.StatusBadRequest, "unknown_template", err.Error(), "name a template kind that exists for every channel"})
		return
	}
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// postAnnouncement records the announcement and publishes
// announcement.requested; the announce consumer fans it out. A body the
// lint refuses is answered 422 with the findings unless an admin gives a
// lint_override_reason. A repeated announcement_id sends nothing new.
func (s *Server) postAnnouncement(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Announcements == nil {
		writeError(w, errAnnouncementsOff)
		return
	}
	req, ev, ok := s.readAnnouncement(w, r, false)
	if !ok {
		return
	}
	content := s.cfg.Announcements.Content
	if req.LintOverrideReason != "" && !mayOverrideLint(r) {
		writeError(w, apiError{http.StatusForbidden, "forbidden", "only an admin may override the lint", "ask an admin, or change the wording"})
		return
	}
	if err := content.Refusal(req.message(), req.LintOverrideReason); err != nil {
		if errors.Is(err, announcement.ErrLint) {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
				"error": apiError{Code: "lint", Message: "the body reveals health details or asks for a keyword that would opt the client out",
					Hint: "reword it, or (admin) send it with lint_override_reason"},
				"lint": announcement.Findings(content.Findings(req.message())),
			})
			return
		}
		writeError(w, apiError{http.StatusBadRequest, "unknown_template", err.Error(), "name a template kind that exists for every channel"})
		return
	}
	data, _ := ev.DecodeData()
	a, created, err := s.cfg.Store.CreateAnnouncement(r.Context(), announcement.FromEvent(ev.ID, data.(publishers.AnnouncementRequested)))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if created {
		s.audit(r, "announcement.requested", a.ID, fmt.Sprintf(`{"group_id":%q}`, a.GroupID))
		for _, e := range announcement.AuditEntries(a) {
			s.audit(r, e.Action, e.Target, e.Detail)
		}
	}
	// Published even for a repeat: if the first request recorded it and
	// then lost the bus, this is its retry. The event id is derived from
	// the announcement id, and a planned announcement is never planned again.
	if _, err := s.cfg.Publisher.Publish(r.Context(), ev); err != nil {
		s.cfg.Logger.Error("publishing announcement", "announcement_id", a.ID, "err", err)
		writeError(w, errUnavailable)
		return
	}
	v, err := s.announcementView(r, a)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"announcement": v, "duplicate": !created})
}

type announcementView struct {
	ID                 string                   `json:"id"`
	GroupID            string                   `json:"group_id"`
	State              string                   `json:"state"`
	Total              int                      `json:"total"`
	Sent               int                      `json:"sent"`
	Skipped            int                      `json:"skipped"`
	Failed             int                      `json:"failed"`
	Deferred           int                      `json:"deferred"`
	Cancelled          int                      `json:"cancelled"`
	Queued             int                      `json:"queued"`
	SkippedBy          map[vocab.SkipReason]int `json:"skipped_by_reason"`
	ByChannel          map[vocab.Channel]int    `json:"by_channel"`
	RequestedBy        string                   `json:"requested_by"`
	CreatedAt          time.Time                `json:"created_at"`
	UpdatedAt          time.Time                `json:"updated_at"`
	Template           string                   `json:"template,omitempty"`
	Body               string                   `json:"body,omitempty"`
	Channels           []vocab.Channel          `json:"channels,omitempty"`
	Urgent             bool                     `json:"urgent"`
	UrgentReason       string                   `json:"urgent_reason,omitempty"`
	LintOverrideReason string                   `json:"lint_override_reason,omitempty"`
	Reason             string                   `json:"reason,omitempty"`
	CancelledBy        string                   `json:"cancelled_by,omitempty"`
}

func (s *Server) announcementView(r *http.Request, a store.Announcement) (announcementView, error) {
	t, err := s.cfg.Store.TallyAnnouncement(r.Context(), a.ID)
	if err != nil {
		return announcementView{}, err
	}
	return announcementView{
		ID: a.ID, GroupID: a.GroupID, State: string(a.State), Total: max(a.Total, t.Total),
		Sent: t.Sent, Skipped: t.Skipped, Failed: t.Failed, Deferred: t.Deferred, Cancelled: t.Cancelled, Queued: t.Queued,
		SkippedBy: t.SkippedBy, ByChannel: t.ByChannel, RequestedBy: a.RequestedBy, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
		Template: a.Template, Body: a.Body, Channels: a.Channels, Urgent: a.Urgent, UrgentReason: a.UrgentReason,
		LintOverrideReason: a.LintOverrideReason, Reason: a.Reason, CancelledBy: a.CancelledBy,
	}, nil
}

func (s *Server) listAnnouncements(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := parseLimit(w, q)
	if !ok {
		return
	}
	if limit == 0 {
		limit = 50
	}
	list, err := s.cfg.Store.ListAnnouncements(r.Context(), store.AnnouncementFilter{
		GroupID: q.Get("group_id"), State: store.AnnouncementState(q.Get("state")), Limit: limit})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := make([]announcementView, 0, len(list))
	for _, a := range list {
		v, err := s.announcementView(r, a)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"announcements": out})
}

func (s *Server) getAnnouncement(w http.ResponseWriter, r *http.Request) {
	a, err := s.cfg.Store.GetAnnouncement(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	v, err := s.announcementView(r, a)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// cancelAnnouncement stops every recipient not yet sent: those not yet
// queued and those deferred at once, those on the bus when the deliverer
// reaches them. Cancelling twice is harmless; a finished announcement
// cannot be cancelled (409).
func (s *Server) cancelAnnouncement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, changed, err := s.cfg.Store.CancelAnnouncement(r.Context(), id, requestedBy(r), "staff")
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if !changed && a.State == store.AnnouncementDone {
		writeError(w, apiError{http.StatusConflict, "already_done", "the announcement has finished; nothing is left to cancel", ""})
		return
	}
	if changed {
		s.audit(r, "announcement.cancelled", id, "")
	}
	v, err := s.announcementView(r, a)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// requestedBy names the caller in announcements and the audit log: the
// staff member's email, or "api-token".
func requestedBy(r *http.Request) string { return actorName(r) }

// mayOverrideLint reports whether the caller may send a body the lint
// refuses: admins, and the API token (the operator's key).
func mayOverrideLint(r *http.Request) bool {
	a, ok := staff.ActorFrom(r.Context())
	return ok && a.IsAdmin()
}
