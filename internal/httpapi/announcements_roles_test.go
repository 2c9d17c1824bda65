package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nudgehq/nudge/consumers/announcement"
	"github.com/nudgehq/nudge/internal/httpapi"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/templates"
)

// TestAnnouncementLintOverrideNeedsAdmin: a body the lint refuses is a 422
// with the findings; only an admin (or the API token) may send it anyway
// with a reason, which is audited under their name.
func TestAnnouncementLintOverrideNeedsAdmin(t *testing.T) {
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/nudge.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tmpl, err := templates.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := &announcement.Service{Store: st, Audience: announcement.Audience{Store: st},
		Content: announcement.Content{Templates: tmpl, Lint: templates.DefaultLintConfig()}}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: st, Publisher: &recorder{}, APIToken: "secret",
		PasswordParams: cheapParams, Announcements: svc}))
	t.Cleanup(srv.Close)
	e := &staffEnv{srv: srv, st: st}
	if _, err := st.ApplyGroupUpsert(t.Context(), store.EventRef{ID: "g", Type: "group.upserted", Source: "t", Time: time.Now()},
		store.Group{ID: "g1", Name: "circle"}); err != nil {
		t.Fatal(err)
	}
	e.addStaff(t, "ada@example.com", "staff", "a long enough password")
	e.addStaff(t, "root@example.com", "admin", "another long password")
	ada := sessionCookie(t, e.login(t, "ada@example.com", "a long enough password")).Value
	root := sessionCookie(t, e.login(t, "root@example.com", "another long password")).Value
	same := srv.URL
	bad := `{"announcement_id":"%s","group_id":"g1","body":"Our depression group meets Tuesday."%s}`
	post := func(cookie, id, extra string) *http.Response {
		return e.do(t, "POST", "/v1/announcements", cookie, same, "application/json", fmt.Sprintf(bad, id, extra))
	}
	if r := post(ada, "a1", ""); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("lint-failing body = %d, want 422", r.StatusCode)
	} else {
		var body struct{ Lint []struct{ Rule string } }
		decode(t, r, &body)
		if len(body.Lint) != 1 || body.Lint[0].Rule != templates.RuleHealthWord {
			t.Errorf("lint findings = %+v", body.Lint)
		}
	}
	if r := post(ada, "a1", `,"lint_override_reason":"I checked"`); r.StatusCode != http.StatusForbidden {
		t.Errorf("staff override = %d, want 403", r.StatusCode)
	}
	if r := post(root, "a1", `,"lint_override_reason":"reviewed with the client group"`); r.StatusCode != http.StatusAccepted {
		t.Fatalf("admin override = %d, want 202", r.StatusCode)
	}
	a, err := st.GetAnnouncement(t.Context(), "a1")
	if err != nil || a.RequestedBy != "root@example.com" || a.LintOverrideReason == "" {
		t.Errorf("announcement = %+v, %v", a, err)
	}
	var audit struct {
		Audit []struct{ Actor, Action, Target, Detail string } `json:"audit"`
	}
	decode(t, e.do(t, "GET", "/v1/audit", "", "", "", "", "Authorization", "Bearer secret"), &audit)
	found := false
	for _, r := range audit.Audit {
		found = found || r.Action == "announcement.lint_override" && r.Actor == "root@example.com" && r.Target == "a1" && r.Detail == "reviewed with the client group"
	}
	if !found {
		t.Errorf("no audit row names the admin's override: %+v", audit.Audit)
	}
	// The API token is the operator's key: it may override too.
	r := e.do(t, "POST", "/v1/announcements", "", "", "application/json", fmt.Sprintf(bad, "a2", `,"lint_override_reason":"ops"`), "Authorization", "Bearer secret")
	if r.StatusCode != http.StatusAccepted {
		t.Errorf("API token override = %d, want 202", r.StatusCode)
	}
}
