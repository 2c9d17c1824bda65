package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/staff"
)

// inboxItem is one message of GET /v1/inbox as the console shows it.
type inboxItem struct {
	ID         string    `json:"id"`
	From       string    `json:"from"`
	Body       string    `json:"body"`
	Kind       string    `json:"kind"`
	ClientID   string    `json:"client_id"`
	ReceivedAt time.Time `json:"received_at"`
	NeedsStaff bool      `json:"needs_staff"`
	Handled    bool      `json:"handled"`
	HandledBy  string    `json:"handled_by"`
	// CrisisReplyFailed: the automatic crisis reply never reached the client.
	CrisisReplyFailed bool `json:"crisis_reply_failed"`
}

func (m inboxItem) Crisis() bool { return m.Kind == "crisis" }

// listInboxItems reads up to 500 inbox messages (all of them when all is
// set, else the open ones) with open crisis items first, newest first
// within each group.
func (s *Server) listInboxItems(r *http.Request, all bool) ([]inboxItem, apiResult) {
	var out struct {
		Messages []inboxItem `json:"messages"`
	}
	path := "/v1/inbox?limit=500"
	if all {
		path += "&all=true"
	}
	res := s.callAPI(r, http.MethodGet, path, nil, &out)
	slices.SortStableFunc(out.Messages, func(a, b inboxItem) int {
		ac, bc := a.Crisis() && !a.Handled, b.Crisis() && !b.Handled
		switch {
		case ac && !bc:
			return -1
		case bc && !ac:
			return 1
		}
		return b.ReceivedAt.Compare(a.ReceivedAt)
	})
	return out.Messages, res
}

type reminderRow struct {
	reminderView
	FirstName    string
	StartsAt     time.Time
	Confirmation string // confirmed, reschedule_requested, awaiting reply, or "" when unknown
}

type todayData struct {
	Crisis          []inboxItem
	InboxAvailable  bool
	Reminders       []reminderRow
	ConfirmationAPI bool
}

func (s *Server) todayPage(w http.ResponseWriter, r *http.Request, p *page) (string, int) {
	p.Title, p.Nav = "Today", "today"
	d := todayData{}
	items, res := s.listInboxItems(r, false)
	d.InboxAvailable = !res.Missing()
	for _, m := range items {
		if m.Crisis() && !m.Handled {
			d.Crisis = append(d.Crisis, m)
		}
	}
	var rem struct {
		Reminders []reminderView `json:"reminders"`
	}
	if res := s.callAPI(r, http.MethodGet, "/v1/reminders?upcoming=1&limit=50", nil, &rem); !res.OK() {
		p.Problem = res.Problem()
	}
	names := map[string]string{}
	type sessionInfo struct {
		startsAt     time.Time
		confirmation string
		known        bool
	}
	sessions := map[string]sessionInfo{}
	for _, rv := range rem.Reminders {
		row := reminderRow{reminderView: rv}
		if _, ok := names[rv.ClientID]; !ok {
			var c struct {
				FirstName string `json:"first_name"`
			}
			s.callAPI(r, http.MethodGet, "/v1/clients/"+url.PathEscape(rv.ClientID), nil, &c)
			names[rv.ClientID] = c.FirstName
		}
		row.FirstName = names[rv.ClientID]
		si, ok := sessions[rv.SessionID]
		if !ok {
			var raw map[string]json.RawMessage
			s.callAPI(r, http.MethodGet, "/v1/sessions/"+url.PathEscape(rv.SessionID), nil, &raw)
			_ = json.Unmarshal(raw["starts_at"], &si.startsAt)
			if c, has := raw["confirmation"]; has {
				si.known = true
				var conf struct {
					State string `json:"state"`
				}
				if json.Unmarshal(c, &conf) == nil && conf.State != "" {
					si.confirmation = conf.State
				} else {
					si.confirmation = "awaiting reply"
				}
			}
			sessions[rv.SessionID] = si
		}
		row.StartsAt, row.Confirmation = si.startsAt, si.confirmation
		d.ConfirmationAPI = d.ConfirmationAPI || si.known
		d.Reminders = append(d.Reminders, row)
	}
	p.Data = d
	return "today", http.StatusOK
}

type clientsData struct {
	Q       string
	Clients []clientSummary
}

func (s *Server) clientsPage(w http.ResponseWriter, r *http.Request, p *page) (string, int) {
	p.Title, p.Nav = "Clients", "clients"
	d := clientsData{Q: strings.TrimSpace(r.URL.Query().Get("q"))}
	var out struct {
		Clients []clientSummary `json:"clients"`
	}
	if res := s.callAPI(r, http.MethodGet, "/v1/clients?limit=100&q="+url.QueryEscape(d.Q), nil, &out); !res.OK() {
		p.Problem = res.Problem()
	}
	d.Clients = out.Clients
	p.Data = d
	return "clients", http.StatusOK
}

type clientData struct {
	Client struct {
		ID               string        `json:"id"`
		FirstName        string        `json:"first_name"`
		Timezone         string        `json:"timezone"`
		Phone            string        `json:"phone"`
		Email            string        `json:"email"`
		Locale           string        `json:"locale"`
		PreferredChannel string        `json:"preferred_channel"`
		Consents         []consentView `json:"consents"`
		CarePause        *struct {
			Scope       string     `json:"scope"`
			Until       *time.Time `json:"until"`
			RequestedBy string     `json:"requested_by"`
			Since       time.Time  `json:"since"`
		} `json:"care_pause"`
	}
	// Encouragement is the client's schedule; EncouragementAPI is false
	// when this nudge does not report schedules at all.
	EncouragementAPI bool
	Encouragement    *struct {
		Schedule   string    `json:"schedule"`
		Cron       string    `json:"cron"`
		Themes     []string  `json:"themes"`
		TimeZone   string    `json:"time_zone"`
		NextFireAt time.Time `json:"next_fire_at"`
		Source     string    `json:"source"`
	}
	Ledger   []consentEntryView
	Sessions []struct {
		ID           string    `json:"id"`
		StartsAt     time.Time `json:"starts_at"`
		Version      int       `json:"version"`
		LocationKind string    `json:"location_kind"`
	}
	Deliveries []deliveryView
}

func (s *Server) clientPage(w http.ResponseWriter, r *http.Request, p *page) (string, int) {
	p.Title, p.Nav = "Client", "clients"
	id := r.PathValue("id")
	base := "/v1/clients/" + url.PathEscape(id)
	var d clientData
	var raw map[string]json.RawMessage
	res := s.callAPI(r, http.MethodGet, base, nil, &raw)
	if !res.OK() {
		p.Problem = res.Problem()
		p.Title = "Client not found"
		return "message", res.Status
	}
	b, _ := json.Marshal(raw)
	_ = json.Unmarshal(b, &d.Client)
	if enc, ok := raw["encouragement"]; ok {
		d.EncouragementAPI = true
		_ = json.Unmarshal(enc, &d.Encouragement)
	}
	p.Title = "Client " + d.Client.FirstName
	var ledger struct {
		Consents []consentEntryView `json:"consents"`
	}
	s.callAPI(r, http.MethodGet, base+"/consents", nil, &ledger)
	d.Ledger = ledger.Consents
	var sessions struct {
		Sessions []struct {
			ID           string    `json:"id"`
			StartsAt     time.Time `json:"starts_at"`
			Version      int       `json:"version"`
			LocationKind string    `json:"location_kind"`
		} `json:"sessions"`
	}
	s.callAPI(r, http.MethodGet, base+"/sessions?since="+url.QueryEscape(time.Now().Add(-30*24*time.Hour).UTC().Format(time.RFC3339)), nil, &sessions)
	d.Sessions = sessions.Sessions
	var dl struct {
		Deliveries []deliveryView `json:"deliveries"`
	}
	s.callAPI(r, http.MethodGet, "/v1/deliveries?limit=50&client_id="+url.QueryEscape(id), nil, &dl)
	d.Deliveries = dl.Deliveries
	p.Data = d
	return "client", http.StatusOK
}

func (s *Server) pauseAction(w http.ResponseWriter, r *http.Request, _ staff.Actor) {
	id := r.PathValue("id")
	back := "/clients/" + url.PathEscape(id)
	body := map[string]any{"scope": r.PostForm.Get("scope")}
	if until := strings.TrimSpace(r.PostForm.Get("until")); until != "" {
		t, err := s.clientLocalTime(r, id, until)
		if err != nil {
			s.setFlash(w, true, "Until must be a date and time, e.g. 2030-01-31 17:00.")
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
		body["until"] = t
	}
	var out struct {
		EventID string `json:"event_id"`
	}
	res := s.callAPI(r, http.MethodPost, "/v1/clients/"+url.PathEscape(id)+"/care-pause", body, &out)
	if res.OK() {
		s.waitApplied(r, out.EventID)
	}
	s.done(w, r, back, res, "Messages to this client are paused.")
}

func (s *Server) resumeAction(w http.ResponseWriter, r *http.Request, _ staff.Actor) {
	id := r.PathValue("id")
	var out struct {
		EventID string `json:"event_id"`
	}
	res := s.callAPI(r, http.MethodPost, "/v1/clients/"+url.PathEscape(id)+"/care-resume", nil, &out)
	if res.OK() {
		s.waitApplied(r, out.EventID)
	}
	s.done(w, r, "/clients/"+url.PathEscape(id), res, "Messages to this client are resumed.")
}

// clientLocalTime reads a datetime-local value on the client's own clock.
func (s *Server) clientLocalTime(r *http.Request, clientID, v string) (time.Time, error) {
	var c struct {
		Timezone string `json:"timezone"`
	}
	s.callAPI(r, http.MethodGet, "/v1/clients/"+url.PathEscape(clientID), nil, &c)
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		loc = time.UTC
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.ParseInLocation("2006-01-02T15:04", v, loc)
}

// waitApplied waits briefly for the ingest consumer to apply an event the
// console published, so the page it redirects to shows the outcome.
func (s *Server) waitApplied(r *http.Request, eventID string) {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if s.callAPI(r, http.MethodGet, "/v1/events/"+url.PathEscape(eventID)+"?source="+url.QueryEscape(staffEventSource), nil, nil).OK() {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type inboxData struct {
	Kinds    []string
	Kind     string
	All      bool
	Items    []inboxItem
	Page     int
	Pages    int
	Total    int
	PrevLink string
	NextLink string
}

const inboxPageSize = 20

func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request, p *page) (string, int) {
	p.Title, p.Nav = "Inbox", "inbox"
	q := r.URL.Query()
	d := inboxData{Kind: q.Get("kind"), All: q.Get("all") == "1"}
	items, res := s.listInboxItems(r, d.All)
	if !res.OK() {
		p.Problem = res.Problem()
		if res.Missing() {
			p.Problem = "The inbox is not available on this nudge (no SMS or email provider is configured)."
		}
	}
	seen := map[string]bool{}
	var shown []inboxItem
	for _, m := range items {
		if !seen[m.Kind] {
			seen[m.Kind] = true
			d.Kinds = append(d.Kinds, m.Kind)
		}
		if d.Kind == "" || m.Kind == d.Kind {
			shown = append(shown, m)
		}
	}
	slices.Sort(d.Kinds)
	d.Total = len(shown)
	d.Pages = max(1, (len(shown)+inboxPageSize-1)/inboxPageSize)
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = min(max(d.Page, 1), d.Pages)
	from := (d.Page - 1) * inboxPageSize
	d.Items = shown[from:min(from+inboxPageSize, len(shown))]
	link := func(n int) string {
		v := url.Values{"page": {strconv.Itoa(n)}}
		if d.Kind != "" {
			v.Set("kind", d.Kind)
		}
		if d.All {
			v.Set("all", "1")
		}
		return "/inbox?" + v.Encode()
	}
	if d.Page > 1 {
		d.PrevLink = link(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.NextLink = link(d.Page + 1)
	}
	p.Data = d
	return "inbox", http.StatusOK
}

func (s *Server) resolveAction(w http.ResponseWriter, r *http.Request, _ staff.Actor) {
	res := s.callAPI(r, http.MethodPost, "/v1/inbox/"+url.PathEscape(r.PathValue("id"))+"/resolve", nil, nil)
	back := safeNext(r.PostForm.Get("back"))
	if back == "/" && r.PostForm.Get("back") == "" {
		back = "/inbox"
	}
	s.done(w, r, back, res, "Marked as resolved.")
}

type deadLettersData struct {
	All     bool
	Letters []deadLetterView
}

func (s *Server) deadLettersPage(w http.ResponseWriter, r *http.Request, p *page) (string, int) {
	p.Title, p.Nav = "Dead letters", "deadletters"
	d := deadLettersData{All: r.URL.Query().Get("all") == "1"}
	path := "/v1/deadletters"
	if d.All {
		path += "?all=1"
	}
	var out struct {
		DeadLetters []deadLetterView `json:"dead_letters"`
	}
	if res := s.callAPI(r, http.MethodGet, path, nil, &out); !res.OK() {
		p.Problem = res.Problem()
	}
	d.Letters = out.DeadLetters
	p.Data = d
	return "deadletters", http.StatusOK
}

func (s *Server) replayAction(w http.ResponseWriter, r *http.Request, _ staff.Actor) {
	res := s.callAPI(r, http.MethodPost, "/v1/deadletters/"+url.PathEscape(r.PathValue("id"))+"/replay", nil, nil)
	s.done(w, r, "/deadletters", res, "Dead letter "+r.PathValue("id")+" was put back on its stream.")
}

type auditRow struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail"`
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, p *page) (string, int) {
	p.Title, p.Nav = "Audit", "audit"
	var out struct {
		Audit []auditRow `json:"audit"`
	}
	if res := s.callAPI(r, http.MethodGet, "/v1/audit", nil, &out); !res.OK() {
		p.Problem = res.Problem()
	}
	p.Data = out.Audit
	return "audit", http.StatusOK
}

type staffData struct {
	Staff []staffView
	// Shown is a password generated by the action that rendered this
	// page: shown once, never stored.
	ShownFor, Shown string
}

func (s *Server) staffPage(w http.ResponseWriter, r *http.Request, p *page) (string, int) {
	p.Title, p.Nav = "Staff", "staff"
	if !p.Actor.IsAdmin() {
		p.Problem = "Only an admin manages staff accounts."
		return "message", http.StatusForbidden
	}
	p.Data = s.staffList(r, p)
	return "staff", http.StatusOK
}

func (s *Server) staffList(r *http.Request, p *page) staffData {
	var out struct {
		Staff []staffView `json:"staff"`
	}
	if res := s.callAPI(r, http.MethodGet, "/v1/staff", nil, &out); !res.OK() {
		p.Problem = res.Problem()
	}
	return staffData{Staff: out.Staff}
}

// showPassword renders the staff page with a generated password, once.
func (s *Server) showPassword(w http.ResponseWriter, r *http.Request, a staff.Actor, res apiResult, v staffView, flash string) {
	if !res.OK() {
		s.done(w, r, "/staff", res, "")
		return
	}
	p := page{Title: "Staff", Nav: "staff", Actor: a, Flash: flash}
	d := s.staffList(r, &p)
	d.ShownFor, d.Shown = v.Email, v.Password
	p.Data = d
	s.render(w, http.StatusOK, "staff", p)
}

func (s *Server) addStaffAction(w http.ResponseWriter, r *http.Request, a staff.Actor) {
	var v staffView
	res := s.callAPI(r, http.MethodPost, "/v1/staff", map[string]string{"email": r.PostForm.Get("email"), "role": r.PostForm.Get("role")}, &v)
	s.showPassword(w, r, a, res, v, "Created "+v.Email+".")
}

func (s *Server) resetStaffAction(w http.ResponseWriter, r *http.Request, a staff.Actor) {
	var v staffView
	res := s.callAPI(r, http.MethodPost, "/v1/staff/"+url.PathEscape(r.PathValue("email"))+"/reset-password", nil, &v)
	s.showPassword(w, r, a, res, v, "New password set for "+v.Email+"; their sessions are ended.")
}

func (s *Server) disableStaffAction(w http.ResponseWriter, r *http.Request, _ staff.Actor) {
	res := s.callAPI(r, http.MethodPost, "/v1/staff/"+url.PathEscape(r.PathValue("email"))+"/disable", nil, nil)
	s.done(w, r, "/staff", res, "Disabled "+r.PathValue("email")+"; their sessions are ended.")
}

type outboxRow struct {
	Channel string            `json:"channel"`
	To      string            `json:"to"`
	Body    string            `json:"body"`
	Subject string            `json:"subject"`
	Headers map[string]string `json:"headers"`
	Status  string            `json:"status"`
	Time    time.Time         `json:"time"`
}

// outboxPage shows dev mode's captured messages (GET /v1/dev/outbox).
func (s *Server) outboxPage(w http.ResponseWriter, r *http.Request, p *page) (string, int) {
	p.Title, p.Nav = "Outbox", "outbox"
	var out struct {
		Messages []outboxRow `json:"messages"`
	}
	res := s.callAPI(r, http.MethodGet, "/v1/dev/outbox", nil, &out)
	if res.Missing() {
		p.Problem = "The outbox exists in dev mode only."
		return "message", http.StatusNotFound
	}
	if !res.OK() {
		p.Problem = res.Problem()
	}
	p.Data = out.Messages[:min(len(out.Messages), 100)]
	return "outbox", http.StatusOK
}
