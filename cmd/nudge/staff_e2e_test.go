package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStaffCommands: dev mode makes an admin on its first start and prints
// its login; `nudge staff` adds, lists, resets and disables accounts over
// the API, and the console login follows.
func TestStaffCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildNudge(t)
	dataDir, addr := t.TempDir(), freeAddr(t)
	p := startDev(t, bin, dataDir, addr)
	defer p.stop(t)

	pw, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatalf("dev mode saved no admin password: %v", err)
	}
	adminPW := strings.TrimSpace(string(pw))
	if !strings.Contains(p.stdout.String(), "log in as admin@localhost, password "+adminPW) {
		t.Fatalf("the banner does not print the admin login:\n%s", p.stdout.String())
	}
	login := func(email, password string) int {
		t.Helper()
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.PostForm("http://"+addr+"/login", url.Values{"email": {email}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := login("admin@localhost", adminPW); got != http.StatusSeeOther {
		t.Fatalf("admin login: %d", got)
	}

	cli := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--server", "http://"+addr, "--data-dir", dataDir)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("nudge %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := cli("a piped secret password\n", "staff", "add", "Ada@Example.com", "--role", "staff")
	if !strings.Contains(out, "created ada@example.com (staff)") || strings.Contains(out, "password:") {
		t.Fatalf("staff add with a piped password:\n%s", out)
	}
	if got := login("ada@example.com", "a piped secret password"); got != http.StatusSeeOther {
		t.Fatalf("login with the piped password: %d", got)
	}
	out = cli("", "staff", "add", "bo@example.com", "--role", "admin")
	_, generated, ok := strings.Cut(out, "password: ")
	if !ok {
		t.Fatalf("staff add without stdin printed no password:\n%s", out)
	}
	generated, _, _ = strings.Cut(generated, "\n")
	if got := login("bo@example.com", generated); got != http.StatusSeeOther {
		t.Fatalf("login with the generated password: %d", got)
	}
	out = cli("", "staff", "list")
	for _, want := range []string{"admin@localhost", "ada@example.com", "bo@example.com", "staff", "admin"} {
		if !strings.Contains(out, want) {
			t.Fatalf("staff list lacks %q:\n%s", want, out)
		}
	}
	// Only admins override the announcement lint.
	now := time.Now().UTC()
	if status, body := p.do(t, http.MethodPost, "/v1/events", []any{event("st-g1", "group.upserted", now, map[string]any{"group_id": "g1", "name": "Thursday group"})}); status != http.StatusAccepted {
		t.Fatalf("group.upserted: %d %v", status, body)
	}
	waitFor(t, time.Now().Add(15*time.Second), "the group", func() bool { var g map[string]any; return p.get("/v1/groups/g1", &g) })
	override := func(email, password string) int {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.PostForm("http://"+addr+"/login", url.Values{"email": {email}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		body := `{"announcement_id":"a-` + strings.Split(email, "@")[0] + `","group_id":"g1","body":"Your therapy for depression continues Thursday","lint_override_reason":"clinic-approved wording"}`
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/announcements", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://"+addr)
		resp, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := override("ada@example.com", "a piped secret password"); got != http.StatusForbidden {
		t.Fatalf("staff overriding the lint: %d, want 403", got)
	}
	if got := override("bo@example.com", generated); got != http.StatusAccepted {
		t.Fatalf("admin overriding the lint: %d, want 202", got)
	}

	out = cli("", "staff", "reset", "ada@example.com")
	if !strings.Contains(out, "password: ") {
		t.Fatalf("staff reset printed no password:\n%s", out)
	}
	if got := login("ada@example.com", "a piped secret password"); got != http.StatusUnauthorized {
		t.Fatalf("login with the old password after reset: %d", got)
	}
	cli("", "staff", "disable", "bo@example.com")
	if got := login("bo@example.com", generated); got != http.StatusUnauthorized {
		t.Fatalf("login of a disabled account: %d", got)
	}
	if out := cli("", "staff", "list"); !strings.Contains(out, "disabled") {
		t.Fatalf("staff list does not show the disabled account:\n%s", out)
	}
}
