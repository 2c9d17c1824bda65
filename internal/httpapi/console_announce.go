package httpapi

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/staff"
)

// The Groups & announcements pages read /v1/groups and /v1/announcements.
// On a nudge without those routes the pages say so instead of pretending.

type consoleGroup struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	MemberCount int    `json:"member_count"`
}

type consoleAnnouncement struct {
	ID                 string         `json:"id"`
	GroupID            string         `json:"group_id"`
	State              string         `json:"state"`
	Total              int            `json:"total"`
	Sent               int            `json:"sent"`
	Skipped            int            `json:"skipped"`
	Failed             int            `json:"failed"`
	Deferred           int            `json:"deferred"`
	Cancelled          int            `json:"cancelled"`
	Queued             int            `json:"queued"`
	SkippedBy          map[string]int `json:"skipped_by_reason"`
	RequestedBy        string         `json:"requested_by"`
	CreatedAt          time.Time      `json:"created_at"`
	Body               string         `json:"body"`
	Template           string         `json:"template"`
	Channels           []string       `json:"channels"`
	Urgent             bool           `json:"urgent"`
	UrgentReason       string         `json:"urgent_reason"`
	LintOverrideReason string         `json:"lint_override_reason"`
	CancelledBy        string         `json:"cancelled_by"`
}

// Finished reports a state nothing changes any more.
func (a consoleAnnouncement) Finished() bool { return a.State == "done" || a.State == "cancelled" }

// Settled counts recipients with a final outcome.
func (a consoleAnnouncement) Settled() int { return a.Sent + a.Skipped + a.Failed + a.Cancelled }

type announcementsData struct {
	Available     bool
	Groups        []consoleGroup
	GroupNames    map[string]string
	Announcements []consoleAnnouncement
	GroupID       string
	// Draft is the compose form as sent, kept when sending failed.
	Draft announcementDraft
}

type announcementDraft struct {
	ID, Body, UrgentReason, LintOverrideReason string
	Urgent                                     bool
	Channels                                   map[string]bool
}

func (s *Server) announcementsPage(w http.ResponseWriter, r *http.Request, p *page) (string, int) {
	p.Data = s.announcementsData(r, p, r.URL.Query().Get("group"))
	return "announcements", http.StatusOK
}

func (s *Server) announcementsData(r *http.Request, p *page, groupID string) announcementsData {
	p.Title, p.Nav = "Groups & announcements", "announcements"
	d := announcementsData{GroupID: groupID, GroupNames: map[string]string{}}
	var groups struct {
		Groups []consoleGroup `json:"groups"`
	}
	res := s.callAPI(r, http.MethodGet, "/v1/groups", nil, &groups)
	if res.Missing() {
		return d
	}
	d.Available = true
	if !res.OK() {
		p.Problem = res.Problem()
	}
	d.Groups = groups.Groups
	for _, g := range d.Groups {
		d.GroupNames[g.ID] = g.Name
	}
	var list struct {
		Announcements []consoleAnnouncement `json:"announcements"`
	}
	if res := s.callAPI(r, http.MethodGet, "/v1/announcements?limit=50", nil, &list); !res.OK() && p.Problem == "" {
		p.Problem = res.Problem()
	}
	d.Announcements = list.Announcements
	return d
}

// sendAnnouncementAction posts the compose form to POST /v1/announcements
// with a new announcement id (the form carries it, so a double submit
// sends once) and goes to its progress page.
func (s *Server) sendAnnouncementAction(w http.ResponseWriter, r *http.Request, a staff.Actor) {
	f := r.PostForm
	id := strings.TrimSpace(f.Get("announcement_id"))
	if id == "" {
		id = newAnnouncementID()
	}
	body := map[string]any{"announcement_id": id, "group_id": f.Get("group_id")}
	if t := strings.TrimSpace(f.Get("template")); t != "" {
		body["template"] = t
	} else {
		body["body"] = f.Get("body")
	}
	if chs := f["channels"]; len(chs) > 0 {
		body["channels"] = chs
	}
	if f.Get("urgent") != "" {
		body["urgent"] = true
		body["urgent_reason"] = f.Get("urgent_reason")
	}
	if reason := strings.TrimSpace(f.Get("lint_override_reason")); reason != "" {
		body["lint_override_reason"] = reason
	}
	res := s.callAPI(r, http.MethodPost, "/v1/announcements", body, nil)
	if !res.OK() {
		// Show the form again as it was, with why it was refused (the
		// lint's findings), so nothing typed is lost.
		p := page{Actor: a}
		d := s.announcementsData(r, &p, f.Get("group_id"))
		d.Draft = announcementDraft{ID: id, Body: f.Get("body"), Urgent: f.Get("urgent") != "",
			UrgentReason: f.Get("urgent_reason"), LintOverrideReason: f.Get("lint_override_reason"), Channels: map[string]bool{}}
		for _, ch := range f["channels"] {
			d.Draft.Channels[ch] = true
		}
		var lint struct {
			Lint []struct {
				Message string `json:"message"`
			} `json:"lint"`
			Fields []struct {
				Message string `json:"message"`
			} `json:"fields"`
		}
		_ = json.Unmarshal(res.Body, &lint)
		msgs := []string{res.Problem()}
		for _, l := range lint.Lint {
			msgs = append(msgs, l.Message)
		}
		for _, l := range lint.Fields {
			msgs = append(msgs, l.Message)
		}
		p.Problem = strings.Join(msgs, " — ")
		p.Data = d
		s.render(w, http.StatusOK, "announcements", p) // a page for people: the problem is on it
		return
	}
	s.done(w, r, "/announcements/"+url.PathEscape(id), res, "Announcement accepted: it is going out.")
}

// newAnnouncementID is a fresh announcement id: "ann_" and 16 base32
// characters.
func newAnnouncementID() string { return "ann_" + strings.ToLower(rand.Text()[:16]) }

type announcementData struct {
	A     consoleAnnouncement
	Group consoleGroup
}

func (s *Server) announcementPage(w http.ResponseWriter, r *http.Request, p *page) (string, int) {
	p.Title, p.Nav = "Announcement", "announcements"
	var d announcementData
	res := s.callAPI(r, http.MethodGet, "/v1/announcements/"+url.PathEscape(r.PathValue("id")), nil, &d.A)
	if !res.OK() {
		p.Problem = res.Problem()
		if res.Missing() {
			p.Problem = "Announcements are not available on this nudge yet."
		}
		return "message", res.Status
	}
	var g struct {
		Group consoleGroup `json:"group"`
	}
	s.callAPI(r, http.MethodGet, "/v1/groups/"+url.PathEscape(d.A.GroupID)+"?limit=1", nil, &g)
	d.Group = g.Group
	p.Data = d
	return "announcement", http.StatusOK
}

func (s *Server) cancelAnnouncementAction(w http.ResponseWriter, r *http.Request, _ staff.Actor) {
	id := r.PathValue("id")
	res := s.callAPI(r, http.MethodPost, "/v1/announcements/"+url.PathEscape(id)+"/cancel", nil, nil)
	s.done(w, r, "/announcements/"+url.PathEscape(id), res, "Cancelled: nobody else will get it.")
}

type groupData struct {
	Group   consoleGroup
	Members []struct {
		ClientID  string `json:"client_id"`
		FirstName string `json:"first_name"`
		Reachable bool   `json:"reachable"`
		Channel   string `json:"channel"`
		Reason    string `json:"reason"`
	}
	NextAfter string
}

func (s *Server) groupPage(w http.ResponseWriter, r *http.Request, p *page) (string, int) {
	p.Title, p.Nav = "Group", "announcements"
	var out struct {
		Group   consoleGroup `json:"group"`
		Members []struct {
			ClientID  string `json:"client_id"`
			FirstName string `json:"first_name"`
			Reachable bool   `json:"reachable"`
			Channel   string `json:"channel"`
			Reason    string `json:"reason"`
		} `json:"members"`
		NextAfter string `json:"next_after"`
	}
	path := "/v1/groups/" + url.PathEscape(r.PathValue("id")) + "?limit=200"
	if after := r.URL.Query().Get("after"); after != "" {
		path += "&after=" + url.QueryEscape(after)
	}
	res := s.callAPI(r, http.MethodGet, path, nil, &out)
	if !res.OK() {
		p.Problem = res.Problem()
		if res.Missing() {
			p.Problem = "Groups are not available on this nudge yet."
		}
		return "message", res.Status
	}
	p.Title = "Group " + out.Group.Name
	p.Data = groupData{Group: out.Group, Members: out.Members, NextAfter: out.NextAfter}
	return "group", http.StatusOK
}
