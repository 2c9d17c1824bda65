package httpapi_test

import (
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The console's CSP forbids inline code; the templates must not need it.
func TestConsoleTemplatesHaveNoInlineCode(t *testing.T) {
	inline := []*regexp.Regexp{
		regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`), // a script with a body
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`javascript:`),
	}
	err := filepath.WalkDir("console", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAll(b, -1) {
			if !strings.Contains(string(tag), ` src="/console/static/`) {
				t.Errorf("%s loads a script that is not nudge's own file: %s", path, tag)
			}
		}
		for _, re := range inline {
			if m := re.Find(b); m != nil {
				t.Errorf("%s has inline code the CSP forbids: %q", path, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestConsolePagesNeedALoginAndCarryTheCSP(t *testing.T) {
	e := newStaffEnv(t, "")
	e.addStaff(t, "ada@example.com", "staff", "a long enough password")
	for _, path := range []string{"/", "/clients", "/inbox", "/deadletters", "/audit", "/announcements", "/staff"} {
		r := e.do(t, "GET", path, "", "", "", "")
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
			t.Errorf("GET %s without a session: %d to %q, want a redirect to the login", path, r.StatusCode, r.Header.Get("Location"))
		}
	}
	ada := sessionCookie(t, e.login(t, "ada@example.com", "a long enough password")).Value
	for _, path := range []string{"/", "/clients", "/inbox", "/deadletters", "/audit", "/announcements", "/login"} {
		r := e.do(t, "GET", path, ada, "", "", "")
		csp := r.Header.Get("Content-Security-Policy")
		if path == "/login" {
			if r.StatusCode != http.StatusSeeOther {
				t.Errorf("GET /login with a session: %d, want a redirect", r.StatusCode)
			}
			continue
		}
		if r.StatusCode != http.StatusOK || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			body, _ := io.ReadAll(r.Body)
			t.Errorf("GET %s: %d, CSP %q\n%s", path, r.StatusCode, csp, body)
		}
	}
	// Staff is for admins.
	if r := e.do(t, "GET", "/staff", ada, "", "", ""); r.StatusCode != http.StatusForbidden {
		t.Errorf("GET /staff as staff: %d, want 403", r.StatusCode)
	}
	// A console form posted from another site is refused.
	if r := e.do(t, "POST", "/deadletters/1/replay", ada, "https://evil.example", "application/x-www-form-urlencoded", ""); r.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin console form: %d, want 403", r.StatusCode)
	}
}
