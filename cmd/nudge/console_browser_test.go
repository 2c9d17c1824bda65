package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
)

// findChromium returns Debian's Chromium. Without it the test skips on a
// developer's machine and fails under CI (.ci/run installs it).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: .ci/run installs it with apt-get (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); CI runs this test")
	return ""
}

// browser is one headless Chromium with a fresh profile, driven by chromedp.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string // where screenshots go

	mu     sync.Mutex
	errors []string // console errors and exceptions (a CSP violation, a script error)
}

func newBrowser(t *testing.T) *browser {
	chrome := findChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	shots := os.Getenv("NUDGE_SCREENSHOT_DIR")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), fmt.Sprintf("nudge-console-%d", time.Now().UnixNano()))
	}
	b := &browser{t: t, ctx: ctx, shots: shots}
	// The first run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("starting chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, m.String())
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshot("failure")
		}
		cancelCtx()
		cancelAlloc()
	})
	return b
}

// keep saves a screenshot for people to look at, when NUDGE_SCREENSHOT_DIR
// asks for them (failures always save one).
func (b *browser) keep(name string) {
	if os.Getenv("NUDGE_SCREENSHOT_DIR") != "" {
		b.screenshot(name)
	}
}

// screenshot saves the page as NAME.png and logs where.
func (b *browser) screenshot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.MkdirAll(b.shots, 0o755)
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("saving screenshot: %v", err)
		return
	}
	b.t.Logf("screenshot: %s", path)
}

// check fails the step (with a screenshot) on err or on errors the page logged.
func (b *browser) check(step string, err error) {
	b.t.Helper()
	b.mu.Lock()
	logged := append([]string(nil), b.errors...)
	b.mu.Unlock()
	if err == nil && len(logged) == 0 {
		return
	}
	b.screenshot(strings.NewReplacer(" ", "-", "/", "_").Replace(step))
	if err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
	b.t.Fatalf("%s: the page logged errors: %v", step, logged)
}

// do runs the step's actions with a time limit.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	b.check(step, chromedp.Do(ctx, actions...))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	b.check("reading "+sel, err)
	return s
}

func (b *browser) value(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	b.check("reading the value of "+sel, err)
	return v
}

func (b *browser) eval(step, expr string) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
	b.check(step, err)
	return n
}

// waitJS waits until the expression is true. It evaluates it again and
// again rather than polling in the page, so a navigation meanwhile (a form
// submit) does not break the wait.
func (b *browser) waitJS(step, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			b.check(step, nil)
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	b.check(step, fmt.Errorf("timed out (last error: %v)", last))
}

// waitText waits until sel's text contains want.
func (b *browser) waitText(step, sel, want string) {
	b.t.Helper()
	b.waitJS(step, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want))
}

// TestConsoleInChromium drives the console in a real browser against
// `nudge dev`: log in with the keyboard, resolve a crisis message, see a
// confirmation, pause a client, replay a dead letter, compose → preview →
// a lint refusal → send → progress, cancel an announcement waiting for
// quiet hours to end, resume the client, add a staff account, every link
// answers, every page fits 320 px, and log out.
func TestConsoleInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary and a browser; skipped with -short")
	}
	findChromium(t)
	bin := buildNudge(t)
	dataDir, addr := t.TempDir(), freeAddr(t)
	p := startDev(t, bin, dataDir, addr)
	defer p.stop(t)
	base := "http://" + addr
	pw, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	adminPW := strings.TrimSpace(string(pw))

	// Data to work with: two clients, consent, a session, a crisis text, a
	// support group (when this nudge has groups) and a dead letter.
	now := time.Now().UTC()
	// Dee lives where it is midday now, so quiet hours let the
	// announcement through (Etc/GMT+5 is UTC-5).
	offset := 12 - now.Hour()
	if offset < -12 {
		offset += 24
	}
	deeZone := fmt.Sprintf("Etc/GMT%+d", -offset)
	if offset == 0 {
		deeZone = "UTC"
	}
	// Eve lives where it is midnight: an announcement to her waits for
	// the morning, so there is time to cancel it.
	eveOffset := offset + 12
	if eveOffset > 12 {
		eveOffset -= 24
	}
	eveZone := fmt.Sprintf("Etc/GMT%+d", -eveOffset)
	if eveOffset == 0 {
		eveZone = "UTC"
	}
	events := []any{
		event("b-c4", "client.upserted", now, map[string]any{"client_id": "c_eve", "first_name": "Eve", "timezone": eveZone, "phone": "+14155550125"}),
		event("b-k5", "consent.granted", now, map[string]any{"client_id": "c_eve", "channel": "sms", "purpose": "announcements", "source": "intake-form"}),
		event("b-g4", "group.member_added", now, map[string]any{"group_id": "g_night", "client_id": "c_eve"}),
		event("b-c3", "client.upserted", now, map[string]any{"client_id": "c_dee", "first_name": "Dee", "timezone": deeZone, "phone": "+14155550124"}),
		event("b-k3", "consent.granted", now, map[string]any{"client_id": "c_dee", "channel": "sms", "purpose": "announcements", "source": "intake-form"}),
		event("b-g3", "group.member_added", now, map[string]any{"group_id": "g_grief", "client_id": "c_dee"}),
		event("b-c1", "client.upserted", now, map[string]any{"client_id": "c_ada", "first_name": "Ada", "timezone": "Europe/London", "phone": "+14155550123"}),
		event("b-c2", "client.upserted", now, map[string]any{"client_id": "c_bo", "first_name": "Bo", "timezone": "America/New_York", "email": "bo@example.org"}),
		event("b-k1", "consent.granted", now, map[string]any{"client_id": "c_ada", "channel": "sms", "purpose": "reminders", "source": "intake-form"}),
		event("b-k2", "consent.granted", now, map[string]any{"client_id": "c_ada", "channel": "sms", "purpose": "announcements", "source": "intake-form"}),
		event("b-s1", "session.booked", now, map[string]any{"session_id": "s_ada", "client_id": "c_ada", "starts_at": now.Add(72 * time.Hour).Format(time.RFC3339)}),
		event("b-g0", "group.member_added", now, map[string]any{"group_id": "g_grief", "client_id": "c_ada"}),
		event("b-g1", "group.member_added", now, map[string]any{"group_id": "g_grief", "client_id": "c_bo"}),
	}
	if status, body := p.do(t, http.MethodPost, "/v1/events", events); status != http.StatusAccepted {
		t.Fatalf("seeding events: %d %v", status, body)
	}
	if status, body := p.do(t, http.MethodPost, "/v1/events", []any{
		event("b-g2", "group.upserted", now, map[string]any{"group_id": "g_grief", "name": "Grief circle"}),
		event("b-g5", "group.upserted", now, map[string]any{"group_id": "g_night", "name": "Night owls"}),
	}); status != http.StatusAccepted {
		t.Fatalf("group.upserted: %d %v", status, body)
	}
	waitFor(t, time.Now().Add(15*time.Second), "the seeded client", func() bool { var c map[string]any; return p.get("/v1/clients/c_bo", &c) })
	if status, body := p.do(t, http.MethodPost, "/v1/dev/inbound", map[string]string{"from": "+14155550123", "body": "I want to end it all"}); status >= 300 {
		t.Fatalf("crisis text: %d %v", status, body)
	}
	// Dee confirms her session by replying C.
	if status, body := p.do(t, http.MethodPost, "/v1/events", []any{
		event("b-s2", "session.booked", now, map[string]any{"session_id": "s_dee", "client_id": "c_dee", "starts_at": now.Add(50 * time.Hour).Format(time.RFC3339)}),
		event("b-k4", "consent.granted", now, map[string]any{"client_id": "c_dee", "channel": "sms", "purpose": "reminders", "source": "intake-form"}),
	}); status != http.StatusAccepted {
		t.Fatalf("Dee's session: %d %v", status, body)
	}
	waitFor(t, time.Now().Add(15*time.Second), "Dee's reminders", func() bool {
		var r struct{ Reminders []any }
		return p.get("/v1/reminders?upcoming=1&session_id=s_dee", &r) && len(r.Reminders) > 0
	})
	if status, body := p.do(t, http.MethodPost, "/v1/dev/inbound", map[string]string{"from": "+14155550124", "body": "C"}); status >= 300 {
		t.Fatalf("Dee's C: %d %v", status, body)
	}
	waitFor(t, time.Now().Add(15*time.Second), "Dee's confirmation", func() bool {
		var s struct {
			Confirmation *struct{ State string } `json:"confirmation"`
		}
		return p.get("/v1/sessions/s_dee", &s) && s.Confirmation != nil && s.Confirmation.State == "confirmed"
	})
	st, err := sqlite.Open(t.Context(), filepath.Join(dataDir, "nudge.db"))
	if err != nil {
		t.Fatal(err)
	}
	lost, _ := json.Marshal(event("b-lost", "client.upserted", now, map[string]any{"client_id": "c_cy", "first_name": "Cy", "timezone": "UTC"}))
	dl, _, err := st.AddDeadLetter(t.Context(), store.DeadLetter{Stream: "NUDGE_EVENTS", StreamSeq: 1 << 40, Consumer: "ingest",
		Subject: "nudge.events.client.upserted", Data: lost, Deliveries: 20, Key: "b-lost", Reason: "store unavailable"})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)

	// Log in with the keyboard only, from a crisis alert's link to the
	// inbox item; the login leads back to it.
	var crisisID string
	for _, m := range inboxMessages(p) {
		if m.Body == "I want to end it all" {
			crisisID = m.ID
		}
	}
	b.do("open the alert's link", chromedp.Navigate(base+"/inbox#msg-"+crisisID), chromedp.WaitVisible(chromedp.CSS("#email")))
	b.do("log in by keyboard",
		chromedp.SendKeys(chromedp.CSS("#email"), "admin@localhost"),
		chromedp.SendKeys(chromedp.CSS("#email"), kb.Tab),
		chromedp.SendKeys(chromedp.CSS("#password"), adminPW+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#inbox-list")))
	b.waitJS("the login leads back to the inbox item", `location.pathname === "/inbox" && location.hash === "#msg-`+crisisID+`" && !!document.getElementById("msg-`+crisisID+`")`)
	b.do("open Today", chromedp.Click(chromedp.CSS(`nav a[href="/"]`)), chromedp.WaitVisible(chromedp.CSS("#crisis-h")))
	if got := b.text("h1"); got != "Today" {
		t.Fatalf("the page is %q, want Today", got)
	}
	b.waitText("the crisis message is pinned on Today", "#crisis-list", "I want to end it all")
	b.waitText("the reminder is listed", "main", "Ada")
	b.waitText("Dee's reminder shows her confirmation", "main", "confirmed")
	b.keep("today-desktop")

	// Resolve the crisis message from Today.
	b.do("resolve the crisis message", chromedp.Click(chromedp.CSS("#crisis-list button")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	b.waitText("Today has no open crisis", "#crisis-h + p", "No open crisis messages")
	var inbox struct {
		Messages []struct {
			Body      string `json:"body"`
			HandledBy string `json:"handled_by"`
		} `json:"messages"`
	}
	p.get("/v1/inbox?all=true", &inbox)
	resolvedBy := ""
	for _, m := range inbox.Messages {
		if m.Body == "I want to end it all" {
			resolvedBy = m.HandledBy
		}
	}
	if resolvedBy != "admin@localhost" {
		t.Fatalf("the crisis message was resolved by %q, want admin@localhost", resolvedBy)
	}

	// Find a client and pause her messages.
	b.do("search clients", chromedp.Click(chromedp.CSS(`nav a[href="/clients"]`)), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "ad"+kb.Enter))
	b.waitJS("the search results", `location.search === "?q=ad" && document.readyState === "complete" && !!document.querySelector('a[href="/clients/c_ada"]') && !document.querySelector('a[href="/clients/c_bo"]')`)
	b.do("open the client", chromedp.Click(chromedp.CSS(`a[href="/clients/c_ada"]`)), chromedp.WaitVisible(chromedp.CSS("#scope")))
	b.waitText("consent history shows", "main", "intake-form")
	b.do("pause the client", chromedp.SetValue(chromedp.CSS("#scope"), "all"),
		chromedp.Click(chromedp.CSS(`#care-pause button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
	b.waitText("the page shows the pause", "#pause-state", "paused")
	b.keep("client-desktop")
	var client struct {
		CarePause *struct {
			Scope       string `json:"scope"`
			RequestedBy string `json:"requested_by"`
		} `json:"care_pause"`
	}
	p.get("/v1/clients/c_ada", &client)
	if client.CarePause == nil || client.CarePause.Scope != "all" || client.CarePause.RequestedBy != "admin@localhost" {
		t.Fatalf("care pause after the console paused her: %+v", client.CarePause)
	}

	// Replay the dead letter: the lost client arrives.
	b.do("open dead letters", chromedp.Click(chromedp.CSS(`nav a[href="/deadletters"]`)), chromedp.WaitVisible(chromedp.CSS("#deadletters")))
	b.do("replay it", chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/deadletters/%d/replay"] button`, dl.ID))), chromedp.WaitVisible(chromedp.CSS(".flash")))
	waitFor(t, time.Now().Add(15*time.Second), "the replayed client.upserted applied", func() bool { var c map[string]any; return p.get("/v1/clients/c_cy", &c) })
	var letter struct {
		ReplayedBy string `json:"replayed_by"`
	}
	p.get(fmt.Sprintf("/v1/deadletters/%d", dl.ID), &letter)
	if letter.ReplayedBy != "admin@localhost" {
		t.Fatalf("dead letter replayed by %q, want admin@localhost", letter.ReplayedBy)
	}

	// Compose → preview → send → progress.
	b.do("open announcements", chromedp.Click(chromedp.CSS(`nav a[href="/announcements"]`)), chromedp.WaitVisible(chromedp.CSS("h1")))
	{
		// A body the lint refuses: shown in the preview, refused on send,
		// and the form comes back as it was.
		const refused = "Your depression therapy group: reply CANCEL if you cannot come."
		b.do("write a refused message", chromedp.WaitVisible(chromedp.CSS("#body")), chromedp.SendKeys(chromedp.CSS("#body"), refused))
		b.waitText("the preview shows the lint", "#preview-lint", "")
		b.do("send the refused message", chromedp.Click(chromedp.CSS("#send")))
		b.waitJS("the refusal", `document.readyState === "complete" && !!document.querySelector("main > p.problem")`)
		if got := b.value("#body"); got != refused {
			t.Fatalf("after the refusal the message box holds %q, want the text as typed", got)
		}
		b.keep("compose-refused")
		b.waitJS("clear the message box", `(() => { const e = document.getElementById("body"); if (!e) return false; e.value = ""; return e.value === ""; })()`)
		b.do("write a message", chromedp.SendKeys(chromedp.CSS("#body"), "Hi from the practice: the Thursday group meets at 6pm this week."))
		b.waitText("the preview counts recipients", "#preview-recipients", "1 person will get it")
		b.waitText("the preview gives exclusions by reason", "#preview-excluded", "1 no consent")
		b.waitText("the paused client is left out", "#preview-excluded", "1 care paused")
		b.waitText("the preview counts SMS segments", "#preview", "segment")
		b.keep("compose-desktop")
		b.do("send", chromedp.Click(chromedp.CSS("#send")), chromedp.WaitVisible(chromedp.CSS("#progress")))
		b.waitText("progress reaches done", "#a-state", "done")
		if got := b.text("#a-sent"); got != "1" {
			t.Fatalf("sent %q, want 1", got)
		}
		b.keep("announcement-desktop")

		// One that waits for quiet hours to end, cancelled meanwhile.
		b.do("compose to the night group", chromedp.Navigate(base+"/announcements?group=g_night"), chromedp.WaitVisible(chromedp.CSS("#body")),
			chromedp.SendKeys(chromedp.CSS("#body"), "Hi from the practice: the group meets on Monday at 7pm."))
		b.waitText("the preview counts Eve", "#preview-recipients", "1 person will get it")
		b.do("send it", chromedp.Click(chromedp.CSS("#send")), chromedp.WaitVisible(chromedp.CSS("#cancel-form")))
		b.waitText("Eve's message waits for the morning", "#a-deferred", "1")
		b.do("cancel it", chromedp.Click(chromedp.CSS("#cancel-form button")), chromedp.WaitVisible(chromedp.CSS(".flash")))
		b.waitText("the announcement is cancelled", "#a-state", "cancelled")
		b.waitText("Eve's message is counted cancelled", "#a-cancelled", "1")
		if got := b.text("#a-sent"); got != "0" {
			t.Fatalf("after cancel, sent %q, want 0", got)
		}
	}

	// Resume the paused client.
	b.do("resume Ada", chromedp.Navigate(base+"/clients/c_ada"), chromedp.WaitVisible(chromedp.CSS("#pause-h")),
		chromedp.Click(chromedp.CSS("#care-pause button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	b.waitText("Ada is not paused", "#pause-state", "not paused")

	// An admin adds a staff account; its password is shown once.
	b.do("open staff", chromedp.Click(chromedp.CSS(`nav a[href="/staff"]`)), chromedp.WaitVisible(chromedp.CSS("#new-email")),
		chromedp.SendKeys(chromedp.CSS("#new-email"), "fay@example.org"), chromedp.Click(chromedp.CSS(`form[action="/staff"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#new-password")))
	fayPW := b.text("#new-password")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(base+"/login", url.Values{"email": {"fay@example.org"}, "password": {fayPW}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("Fay's login with the password the page showed: %d", resp.StatusCode)
	}

	// Every page and link answers for a logged-in person, and fits 320 px.
	pages := crawl(t, base, "admin@localhost", adminPW)
	b.do("narrow screen", chromedp.EmulateViewport(320, 720))
	for _, path := range pages {
		b.do("open "+path+" at 320 px", chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS("body")))
		width := b.eval("measuring "+path, `document.documentElement.scrollWidth`)
		if width > 320 {
			b.screenshot("narrow" + strings.ReplaceAll(path, "/", "_"))
			t.Errorf("%s is %d px wide on a 320 px screen", path, width)
		} else {
			b.keep("narrow" + strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "_").Replace(path))
		}
	}
	b.do("today at 320 px", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#crisis-h")))
	b.keep("today-320")
	b.do("client at 320 px", chromedp.Navigate(base+"/clients/c_ada"), chromedp.WaitVisible(chromedp.CSS("#pause-h")))
	b.keep("client-320")

	// Log out: the session ends.
	b.do("log out", chromedp.Click(chromedp.CSS(".logout button")), chromedp.WaitVisible(chromedp.CSS("#email")))
	b.do("the console asks to log in again", chromedp.Navigate(base+"/inbox"), chromedp.WaitVisible(chromedp.CSS("#email")))
}

type inboxMessage struct {
	ID        string `json:"id"`
	Body      string `json:"body"`
	HandledBy string `json:"handled_by"`
}

func inboxMessages(p *devProcess) []inboxMessage {
	var out struct {
		Messages []inboxMessage `json:"messages"`
	}
	p.get("/v1/inbox?all=true", &out)
	return out.Messages
}

var hrefRE = regexp.MustCompile(`href="([^"]+)"`)

// crawl logs in over HTTP and follows every same-site link from Today;
// each must answer 200. It returns the pages it found.
func crawl(t *testing.T, base, email, password string) []string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	seen := map[string]bool{"/": true}
	queue, pages := []string{"/"}, []string{}
	for len(queue) > 0 && len(pages) < 80 {
		path := queue[0]
		queue = queue[1:]
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		raw := make([]byte, 0, 64<<10)
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			raw = append(raw, buf[:n]...)
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
			continue
		}
		if !strings.HasPrefix(path, "/console/static/") {
			pages = append(pages, path)
		}
		for _, m := range hrefRE.FindAllStringSubmatch(string(raw), -1) {
			link := strings.ReplaceAll(m[1], "&amp;", "&")
			if strings.HasPrefix(link, "#") || strings.HasPrefix(link, "http") || seen[link] {
				continue
			}
			seen[link] = true
			queue = append(queue, link)
		}
	}
	return pages
}
